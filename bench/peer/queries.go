package main

import (
	"fmt"
	"strings"
	"time"
)

// queryKind says what a query returns and therefore how its result is reported.
type queryKind string

const (
	kindPage  queryKind = "page"  // id + createdDateTime rows, newest first; count = rows returned
	kindCount queryKind = "count" // one count(*); count = that value
	kindTop   queryKind = "top"   // (app, failures) rows; count = rows returned
)

// querySpec is one benchmark query: the Graph $filter authlake runs and the SQL DuckDB runs.
// Placeholders in Graph are resolved by graphFilter; Args names the bound SQL parameters in order.
type querySpec struct {
	ID    string
	Kind  queryKind
	Graph string // $filter; {upn} {cid} {now-7d} {now-48h} {now-30d} are substituted
	Top   int    // Graph $top (page size); 0 = no paging (count/aggregation)
	SQL   string
	Args  []string // parameter names, see params.args
}

// Shared SQL fragments. Pages are newest first, ties broken by id descending, as authlake pages.
const (
	page1000 = "\nORDER BY createdDateTime DESC, id DESC\nLIMIT 1000"
	pageCols = "SELECT id, createdDateTime FROM signins\n"
)

// suite is the query suite, identical in meaning on both engines. Semantics chosen:
//   - Graph compares userPrincipalName case-insensitively: lower(col) = lower(?).
//   - startswith on appDisplayName is case-insensitive in Graph: starts_with(lower(col), lower(?))
//     (not ILIKE, whose pattern would need the % and _ of the argument escaped).
//   - Other string equalities (correlationId, countryOrRegion, riskLevelDuringSignIn, the
//     signInEventTypes element) are exact, as the values are canonical in stored events.
//   - "ne 0" is SQL <> 0: a row with a null errorCode matches neither engine (Graph rows always
//     carry status.errorCode).
//   - Time windows have only a lower bound, exactly like the Graph filter; now comes from the
//     params file and "7 days" is 168 h of UTC.
//   - The Graph list API's implicit "interactive sign-ins only" default is not applied: both
//     engines evaluate the filter as written.
var suite = []querySpec{
	{ID: "Q1", Kind: kindPage, Top: 1000,
		Graph: "flaggedForReview eq true",
		SQL:   pageCols + "WHERE flaggedForReview" + page1000},
	{ID: "Q2", Kind: kindPage, Top: 1000,
		Graph: "flaggedForReview eq true and userPrincipalName eq '{upn}'",
		SQL:   pageCols + "WHERE flaggedForReview AND lower(userPrincipalName) = lower(?)" + page1000,
		Args:  []string{"upn"}},
	{ID: "Q3", Kind: kindPage, Top: 1000,
		Graph: "flaggedForReview eq true and userPrincipalName eq '{upn}' and createdDateTime ge {now-7d}",
		SQL:   pageCols + "WHERE flaggedForReview AND lower(userPrincipalName) = lower(?) AND createdDateTime >= ?" + page1000,
		Args:  []string{"upn", "now-7d"}},
	{ID: "Q4", Kind: kindPage, Top: 1000,
		Graph: "userPrincipalName eq '{upn}' and createdDateTime ge {now-7d}",
		SQL:   pageCols + "WHERE lower(userPrincipalName) = lower(?) AND createdDateTime >= ?" + page1000,
		Args:  []string{"upn", "now-7d"}},
	{ID: "Q5", Kind: kindPage, // all rows: every page
		Graph: "correlationId eq '{cid}'",
		SQL:   pageCols + "WHERE correlationId = ?\nORDER BY createdDateTime DESC, id DESC",
		Args:  []string{"cid"}},
	{ID: "Q6", Kind: kindCount,
		Graph: "status/errorCode eq 50126 and location/countryOrRegion eq 'RU'",
		SQL:   "SELECT count(*) FROM signins\nWHERE status.errorCode = 50126 AND location.countryOrRegion = 'RU'"},
	{ID: "Q7", Kind: kindCount,
		Graph: "startswith(appDisplayName,'Microsoft')",
		SQL:   "SELECT count(*) FROM signins\nWHERE starts_with(lower(appDisplayName), lower('Microsoft'))"},
	{ID: "Q8", Kind: kindTop,
		Graph: "status/errorCode ne 0 and createdDateTime ge {now-48h}  (group by appDisplayName, top 10 by count desc, name asc)",
		SQL: "SELECT appDisplayName AS app, count(*) AS failures FROM signins\n" +
			"WHERE status.errorCode <> 0 AND createdDateTime >= ?\n" +
			"GROUP BY appDisplayName\nORDER BY failures DESC, app ASC NULLS LAST\nLIMIT 10",
		Args: []string{"now-48h"}},
	{ID: "Q9", Kind: kindCount,
		Graph: "signInEventTypes/any(t: t eq 'nonInteractiveUser') and status/errorCode ne 0",
		SQL:   "SELECT count(*) FROM signins\nWHERE list_contains(signInEventTypes, 'nonInteractiveUser') AND status.errorCode <> 0"},
	{ID: "Q10", Kind: kindPage, Top: 1000,
		Graph: "",
		SQL:   strings.TrimSuffix(pageCols, "\n") + page1000},
	{ID: "Q11", Kind: kindCount,
		Graph: "riskLevelDuringSignIn eq 'high' and createdDateTime ge {now-30d}",
		SQL:   "SELECT count(*) FROM signins\nWHERE riskLevelDuringSignIn = 'high' AND createdDateTime >= ?",
		Args:  []string{"now-30d"}},
}

// params are the data-dependent inputs shared by both engines (the --params file).
type params struct {
	UPN           string    `json:"upn"`
	CorrelationID string    `json:"correlationId"`
	Now           time.Time `json:"now"`
}

// windows derived from Now; exact multiples of 24 h in UTC.
func (p params) since(d time.Duration) time.Time { return p.Now.Add(-d).UTC() }

func (p params) args(names []string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		switch n {
		case "upn":
			out[i] = p.UPN
		case "cid":
			out[i] = p.CorrelationID
		case "now-7d":
			out[i] = p.since(7 * 24 * time.Hour)
		case "now-48h":
			out[i] = p.since(48 * time.Hour)
		case "now-30d":
			out[i] = p.since(30 * 24 * time.Hour)
		default:
			panic("BUG: unknown query parameter " + n)
		}
	}
	return out
}

// graphFilter resolves the placeholders of a Graph $filter: strings are OData-quoted (a quote is
// doubled), date-times are unquoted RFC 3339 UTC literals, as Graph requires.
func (p params) graphFilter(f string) string {
	odata := func(s string) string { return strings.ReplaceAll(s, "'", "''") }
	r := strings.NewReplacer(
		"{upn}", odata(p.UPN),
		"{cid}", odata(p.CorrelationID),
		"{now-7d}", p.since(7*24*time.Hour).Format(time.RFC3339),
		"{now-48h}", p.since(48*time.Hour).Format(time.RFC3339),
		"{now-30d}", p.since(30*24*time.Hour).Format(time.RFC3339),
	)
	return r.Replace(f)
}

func (p params) validate() error {
	if p.UPN == "" || p.CorrelationID == "" || p.Now.IsZero() {
		return fmt.Errorf("params need upn, correlationId and now (got %+v)", p)
	}
	return nil
}

// pickParamsSQL chooses the params from the loaded data deterministically:
//   - upn: the (lower-cased) UPN with the most flagged sign-ins in the last 7 days before now,
//     then the most flagged sign-ins overall, so that Q2, Q3 and Q4 all select rows when the
//     data allows it;
//   - correlationId: the one shared by the most events (a multi-step flow);
//   - now: the newest createdDateTime.
//
// Ties go to the smallest value.
const (
	pickUPNSQL = "SELECT lower(userPrincipalName) AS u FROM signins\n" +
		"WHERE flaggedForReview AND userPrincipalName IS NOT NULL\n" +
		"GROUP BY u ORDER BY\n" +
		"  count(*) FILTER (WHERE createdDateTime >= (SELECT max(createdDateTime) FROM signins) - INTERVAL 168 HOUR) DESC,\n" +
		"  count(*) DESC, u ASC\n" +
		"LIMIT 1"
	pickCIDSQL = "SELECT correlationId FROM signins\n" +
		"WHERE correlationId IS NOT NULL AND correlationId <> ''\n" +
		"GROUP BY correlationId HAVING count(*) > 1 ORDER BY count(*) DESC, correlationId ASC LIMIT 1"
	pickNowSQL = "SELECT max(createdDateTime) FROM signins"
)
