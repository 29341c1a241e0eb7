package bench

import (
	"fmt"
	"strings"
	"time"
)

// Kind says what a query returns.
type Kind string

const (
	KindPage  Kind = "page"  // rows newest first; compared by count and the ids' hash
	KindCount Kind = "count" // one number
	KindTop   Kind = "top"   // (app, failures) rows
)

// Query is one query of the suite: the Graph $filter authlake runs. bench/peer/queries.go holds
// the same table with the SQL DuckDB runs; the two are kept in step by the cross-check.
type Query struct {
	ID    string
	Kind  Kind
	Graph string // {upn} {cid} {now-7d} {now-48h} {now-30d} are substituted
	Top   int    // page size; 0 = every page
	Goal  float64
	What  string
}

// Suite is the query suite of the benchmark issue, the queries admins run.
var Suite = []Query{
	{ID: "Q1", Kind: KindPage, Top: 1000, Goal: 20, What: "flagged, newest 1,000", Graph: "flaggedForReview eq true"},
	{ID: "Q2", Kind: KindPage, Top: 1000, Goal: 20, What: "flagged + user", Graph: "flaggedForReview eq true and userPrincipalName eq '{upn}'"},
	{ID: "Q3", Kind: KindPage, Top: 1000, Goal: 20, What: "flagged + user + 7 days", Graph: "flaggedForReview eq true and userPrincipalName eq '{upn}' and createdDateTime ge {now-7d}"},
	{ID: "Q4", Kind: KindPage, Top: 1000, Goal: 20, What: "one user, 7 days", Graph: "userPrincipalName eq '{upn}' and createdDateTime ge {now-7d}"},
	{ID: "Q5", Kind: KindPage, Goal: 20, What: "correlationId", Graph: "correlationId eq '{cid}'"},
	{ID: "Q6", Kind: KindCount, Goal: 2, What: "50126 from RU, count", Graph: "status/errorCode eq 50126 and location/countryOrRegion eq 'RU'"},
	{ID: "Q7", Kind: KindCount, Goal: 1, What: "startswith app, count", Graph: "startswith(appDisplayName,'Microsoft')"},
	{ID: "Q8", Kind: KindTop, Goal: 2, What: "top-10 failing apps, 48 h", Graph: "status/errorCode ne 0 and createdDateTime ge {now-48h}"},
	{ID: "Q9", Kind: KindCount, Goal: 2, What: "non-interactive failures, count", Graph: "signInEventTypes/any(t: t eq 'nonInteractiveUser') and status/errorCode ne 0"},
	{ID: "Q10", Kind: KindPage, Top: 1000, Goal: 1, What: "newest 1,000, unfiltered", Graph: ""},
	{ID: "Q11", Kind: KindCount, Goal: 2, What: "high risk, 30 days, count", Graph: "riskLevelDuringSignIn eq 'high' and createdDateTime ge {now-30d}"},
}

// Params are the data-dependent inputs both engines use (the peer's --params file).
type Params struct {
	UPN           string    `json:"upn"`
	CorrelationID string    `json:"correlationId"`
	Now           time.Time `json:"now"`
}

// check refuses given inputs with a part missing: a zero now or an empty UPN would not fail
// any query, only make them match nothing, and the run would report fast empty answers.
func (p Params) check() error {
	var missing []string
	if p.UPN == "" {
		missing = append(missing, "upn")
	}
	if p.CorrelationID == "" {
		missing = append(missing, "correlationId")
	}
	if p.Now.IsZero() {
		missing = append(missing, "now")
	}
	if len(missing) > 0 {
		return fmt.Errorf("params: %s missing", strings.Join(missing, ", "))
	}
	return nil
}

// Filter resolves a query's placeholders: strings OData-quoted, times unquoted RFC 3339.
func (p Params) Filter(q Query) string {
	odata := func(s string) string { return strings.ReplaceAll(s, "'", "''") }
	since := func(d time.Duration) string { return p.Now.Add(-d).UTC().Format(time.RFC3339) }
	return strings.NewReplacer(
		"{upn}", odata(p.UPN), "{cid}", odata(p.CorrelationID),
		"{now-7d}", since(7*24*time.Hour), "{now-48h}", since(48*time.Hour), "{now-30d}", since(30*24*time.Hour),
	).Replace(q.Graph)
}
