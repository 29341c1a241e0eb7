package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/query/syntax"
)

// filterGen produces random filters from a small grammar over the fixture's columns:
// comparisons on every column kind (including nested paths), and/or/not, in, string
// functions, lambdas, null literals, arithmetic and dates.
type filterGen struct {
	r      *rand.Rand
	events []map[string]any
}

func (g *filterGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *filterGen) cmpOp() string { return g.pick("eq", "ne", "gt", "ge", "lt", "le") }

func (g *filterGen) caseVariant(s string) string {
	switch g.r.IntN(4) {
	case 0:
		return strings.ToUpper(s[:1]) + s[1:]
	case 1:
		return strings.ToLower(s)
	}
	return s
}

func (g *filterGen) event() map[string]any { return g.events[g.r.IntN(len(g.events))] }

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *filterGen) when() string {
	t := fixedNow.Add(-time.Duration(g.r.Int64N(int64(80 * time.Hour))))
	switch g.r.IntN(3) {
	case 0:
		return t.Format("2006-01-02")
	case 1:
		return t.UTC().Format(time.RFC3339)
	}
	return t.Add(time.Duration(g.r.IntN(1000)) * time.Millisecond).Format(time.RFC3339Nano)
}

func (g *filterGen) atom() string {
	switch g.r.IntN(35) {
	case 0:
		return g.caseVariant("flaggedForReview") + " eq " + g.pick("true", "false", "null")
	case 1:
		return g.pick("isInteractive", "not isInteractive", "deviceDetail/isCompliant eq true", "flaggedForReview ne true")
	case 2:
		return "status/errorCode " + g.cmpOp() + " " + g.pick("0", "50126", "53003", "70043", "99", "-1")
	case 3:
		return "status/errorCode " + g.pick("add 1 gt 50000", "mod 2 eq 0", "sub 50000 lt 0", "mul 2 ge 100000", "div 10 eq 5012", "eq null", "ne null", "in (0, 50126)", "in (53003)")
	case 4:
		return "processingTimeInMilliseconds " + g.cmpOp() + " " + fmt.Sprint(g.r.IntN(2000))
	case 5:
		return "autonomousSystemNumber " + g.pick("eq", "ne") + " " + fmt.Sprint(8000+g.r.IntN(5))
	case 6:
		return "location/geoCoordinates/latitude " + g.cmpOp() + " " + g.pick("45.5", "50", "null", "-3.25e1")
	case 7, 8:
		return "createdDateTime " + g.cmpOp() + " " + g.when()
	case 9:
		upn := fmt.Sprintf("user%02d@contoso.com", g.r.IntN(32))
		return g.caseVariant("userPrincipalName") + " " + g.pick("eq", "eq", "ne") + " " + quote(g.pick(upn, strings.ToUpper(upn), "user@contoso.com"))
	case 10:
		return "startswith(userPrincipalName," + quote(g.pick("user1", "USER", "user0", "u")) + ")"
	case 11:
		return "appDisplayName " + g.pick("eq", "ne", "gt", "lt") + " " + quote(apps[g.r.IntN(len(apps))])
	case 12:
		return g.pick("startswith", "contains", "endswith") + "(appDisplayName," + quote(g.pick("Microsoft", "o", "App", "Teams", "'")) + ")"
	case 13:
		return "tolower(appDisplayName) eq " + quote(g.pick("azure portal", "Azure Portal", "microsoft teams"))
	case 14:
		return "length(appDisplayName) " + g.cmpOp() + " " + fmt.Sprint(10+g.r.IntN(12))
	case 15:
		return "appDisplayName in (" + quote(apps[g.r.IntN(len(apps))]) + "," + quote(apps[g.r.IntN(len(apps))]) + ")"
	case 16:
		return "location/city eq " + quote(cities[g.r.IntN(len(cities))])
	case 17:
		return "location/countryOrRegion " + g.pick("eq", "ne") + " " + quote(g.pick("US", "GB", "", "CH"))
	case 18:
		return "startswith(deviceDetail/browser," + quote(g.pick("Edge", "Chrome", "Rich")) + ")"
	case 19:
		return g.caseVariant("riskState") + " eq " + quote(g.caseVariant(g.pick("atRisk", "none", "dismissed"))) + g.pick("", " or riskState eq null")
	case 20:
		return "riskLevelDuringSignIn in (" + quote(g.caseVariant(risks[g.r.IntN(len(risks))])) + "," + quote(risks[g.r.IntN(len(risks))]) + ")"
	case 21:
		return "conditionalAccessStatus " + g.pick("eq", "ne") + " " + quote(g.caseVariant(caStatus[g.r.IntN(3)]))
	case 22:
		id, _ := g.event()["correlationId"].(string)
		// An id cut short is not a GUID: it can equal only a value that was not one either.
		return "correlationId " + g.pick("eq", "ne") + " " + quote(g.pick(id, strings.ToUpper(id), "00000000-0000-0000-0000-000000000000", id[:8]))
	case 23:
		id, _ := g.event()["id"].(string)
		return "id " + g.pick("eq", "ne") + " " + g.pick(id, quote(id), quote(id[:8]), "'x'")
	case 24:
		return "originalRequestId " + g.pick("eq ''", "ne ''", "eq null")
	case 25:
		return "signInEventTypes/any(t: t " + g.pick("eq", "ne") + " " + quote(g.caseVariant(g.pick("interactiveUser", "nonInteractiveUser", "servicePrincipal"))) + ")"
	case 26:
		return g.pick("signInEventTypes/any()", "not signInEventTypes/any()", "signInEventTypes/all(x: x eq 'interactiveUser')")
	case 27:
		return "appliedConditionalAccessPolicies/any(p: p/result eq " + quote(results[g.r.IntN(len(results))]) + ")"
	case 28:
		return g.pick("appliedConditionalAccessPolicies/any(p: p/result eq 'success' and p/displayName eq 'Policy 1')",
			"appliedConditionalAccessPolicies/all(p: p/result ne 'failure')", "appliedConditionalAccessPolicies/any()",
			"appliedConditionalAccessPolicies/any(p: p/enforcedGrantControls/any(c: c eq 'Mfa'))")
	case 29:
		return g.pick("userDisplayName eq null", "userDisplayName ne null", "null eq null", "status/errorCode gt null", "true", "false")
	case 30:
		return "year(createdDateTime) eq 2026 and day(createdDateTime) " + g.cmpOp() + " " + fmt.Sprint(20+g.r.IntN(4))
	case 31:
		return "concat(userDisplayName, ' x') eq " + quote(fmt.Sprintf("User %02d x", g.r.IntN(30)))
	case 32:
		return g.pick("-status/errorCode lt -50000", "status/errorCode eq 50000 add 126")
	case 33:
		return "createdDateTime " + g.pick("add duration'P1D'", "sub duration'PT6H30M'") + " " + g.cmpOp() + " " + g.when()
	default:
		return "ipAddress eq " + quote(fmt.Sprintf("10.0.%d.%d", g.r.IntN(4), g.r.IntN(8)))
	}
}

func (g *filterGen) expr(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.atom()
	}
	switch g.r.IntN(5) {
	case 0:
		return "not (" + g.expr(depth-1) + ")"
	case 1:
		return "(" + g.expr(depth-1) + ") or (" + g.expr(depth-1) + ")"
	default:
		return g.expr(depth-1) + " and " + g.expr(depth-1)
	}
}

func refIDs(t testing.TB, f *fixture, filter string) []string {
	t.Helper()
	var ids []string
	if strings.TrimSpace(filter) == "" {
		for _, ev := range f.events {
			ids = append(ids, ev["id"].(string))
		}
		return ids
	}
	e, err := syntax.ParseFilter(filter)
	if err != nil {
		t.Fatalf("reference parse %q: %v", filter, err)
	}
	for i, ev := range f.lower {
		if refMatch(e, ev) {
			ids = append(ids, f.events[i]["id"].(string))
		}
	}
	return ids
}

func runAll(t testing.TB, src query.Source, req query.Request) (*query.Result, []string) {
	t.Helper()
	req.Top = 100000
	if req.Select == nil {
		req.Select = []string{"id"}
	}
	res, err := query.Run(context.Background(), columnar.SignIns, src, req)
	if err != nil {
		t.Fatalf("Run(%q): %v", req.Filter, err)
	}
	return res, idsOf(res.Rows)
}

// countOnly checks a CountOnly run of filter against the reference's count.
func countOnly(t *testing.T, f *fixture, filter string, want int) {
	t.Helper()
	co, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: filter, CountOnly: true})
	if err != nil || co.Count != int64(want) || len(co.Rows) != 0 {
		t.Fatalf("filter %q: CountOnly %v rows %d (%v), want %d", filter, co.Count, len(co.Rows), err, want)
	}
}

func TestDifferentialRandomFilters(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	g := &filterGen{r: rand.New(rand.NewPCG(42, 9)), events: f.events}
	n := 2000
	if testing.Short() || raceEnabled {
		n = 400
	}
	nonEmpty := 0
	for i := range n {
		filter := g.expr(3)
		want := sortedCopy(refIDs(t, f, filter))
		var got []string
		if i%10 == 0 {
			// The full path: ordering, top-N, encoding and $count.
			req := query.Request{Filter: filter, Count: true}
			var res *query.Result
			res, got = runAll(t, f.src, req)
			if res.Count != int64(len(want)) {
				t.Fatalf("filter %q: $count %d, want %d", filter, res.Count, len(want))
			}
			// The count alone, with no page built, agrees.
			co, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: filter, CountOnly: true})
			if err != nil || co.Count != int64(len(want)) || len(co.Rows) != 0 {
				t.Fatalf("filter %q: CountOnly %v rows %d (%v), want %d", filter, co.Count, len(co.Rows), err, len(want))
			}
		} else {
			got = matchIDs(t, f.src, filter, false)
			countOnly(t, f, filter, len(want))
		}
		// A count of a dictionary conjunct beside a time window covering every segment (which
		// the postings' counts answer) and the filter, which may narrow it in any way.
		if i%10 == 5 { // more of these in TestCountOnlyFromPostingCounts
			wrapped := "createdDateTime ge " + fixedNow.Add(-30*24*time.Hour).Format("2006-01-02") + " and appDisplayName eq " + quote(apps[i/10%len(apps)]) + " and (" + filter + ")"
			countOnly(t, f, wrapped, len(refIDs(t, f, wrapped)))
		}
		if !slices.Equal(want, sortedCopy(got)) {
			t.Fatalf("filter %q: %d rows, reference %d\nfirst diff: %s", filter, len(got), len(want), firstDiff(want, sortedCopy(got)))
		}
		if len(want) > 0 {
			nonEmpty++
		}
		// Metamorphic: no indexes or zone maps; the normalized text.
		if i%4 == 0 {
			if got2 := matchIDs(t, f.src, filter, true); !slices.Equal(sortedCopy(got), sortedCopy(got2)) {
				t.Fatalf("filter %q: %d rows with indexes, %d without", filter, len(got), len(got2))
			}
			e, _ := syntax.ParseFilter(filter)
			if got3 := matchIDs(t, f.src, syntax.String(e), false); !slices.Equal(sortedCopy(got), sortedCopy(got3)) {
				t.Fatalf("filter %q: normalized form %q gives %d rows, not %d", filter, syntax.String(e), len(got3), len(got))
			}
		}
	}
	if nonEmpty < n/4 {
		t.Fatalf("only %d of %d random filters matched anything: the generator is too selective", nonEmpty, n)
	}
}

func matchIDs(t testing.TB, src query.Source, filter string, noIndex bool) []string {
	t.Helper()
	ids, err := query.MatchIDs(context.Background(), columnar.SignIns, src, filter, noIndex)
	if err != nil {
		t.Fatalf("filter %q: %v", filter, err)
	}
	return ids
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i >= len(a):
			return "extra " + b[i]
		case i >= len(b):
			return "missing " + a[i]
		case a[i] != b[i]:
			return "want " + a[i] + " got " + b[i]
		}
	}
	return ""
}

func mustParse(t testing.TB, s string) syntax.Expr {
	t.Helper()
	e, err := syntax.ParseFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDifferentialManyDictionaryPages runs random filters, and checks full rows' dictionary
// values, on segments whose user dictionaries span several pages (500 users: 8 pages of
// columnar.DictPageValues), where a query reads pages as its codes ask for them: probes
// binary-search them, case-insensitive matches search their spellings, pages show values.
func TestDifferentialManyDictionaryPages(t *testing.T) {
	f := getFixtureOf(t, 3000, 256, 5, 500)
	g := &filterGen{r: rand.New(rand.NewPCG(43, 9)), events: f.events}
	n := 300
	if testing.Short() {
		n = 100
	}
	for range n {
		filter := g.expr(3)
		want := sortedCopy(refIDs(t, f, filter))
		if got := sortedCopy(matchIDs(t, f.src, filter, false)); !slices.Equal(want, got) {
			t.Fatalf("filter %q: %d rows, reference %d\nfirst diff: %s", filter, len(got), len(want), firstDiff(want, got))
		}
	}
	// One user's rows, case-insensitively, and every row's dictionary values in full pages.
	byID := map[string]map[string]any{}
	for _, ev := range f.events {
		byID[ev["id"].(string)] = ev
	}
	for _, filter := range []string{"userPrincipalName eq 'USER417@contoso.com'", "userId eq '00000000-0000-4000-8000-000000000123'", ""} {
		res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: filter, Top: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 0 || filter == "" && len(res.Rows) != len(f.events) {
			t.Fatalf("filter %q: %d rows", filter, len(res.Rows))
		}
		for _, row := range res.Rows {
			var m map[string]any
			if err := json.Unmarshal(row, &m); err != nil {
				t.Fatal(err)
			}
			ev := byID[m["id"].(string)]
			for _, k := range []string{"userPrincipalName", "userId", "userDisplayName", "ipAddress", "appDisplayName"} {
				if fmt.Sprint(m[k]) != fmt.Sprint(ev[k]) {
					t.Fatalf("filter %q: row %s has %s %v, stored %v", filter, m["id"], k, m[k], ev[k])
				}
			}
		}
	}
}

// TestCountOnlyFromPostingCounts: counts that the postings' counts may answer (a dictionary
// conjunct, the rest true on every row of a segment) agree with the reference, also where an
// or of ands narrows them: an and under an or once passed on its first kid's "every row" (a
// time window covering the segment), and the dictionary conjunct was counted over all rows.
func TestCountOnlyFromPostingCounts(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	early := fixedNow.Add(-30 * 24 * time.Hour).Format("2006-01-02")
	for _, filter := range []string{
		"appDisplayName eq 'Microsoft Teams' and ((createdDateTime ge 2026-11-19 and status/errorCode eq 0) or (createdDateTime ge 2026-11-19 and status/errorCode eq 50126))",
		"appDisplayName eq 'Microsoft Teams' and ((createdDateTime ge 2026-11-19 and userPrincipalName eq 'user01@contoso.com') or false)",
		"appDisplayName eq 'Microsoft Teams' and ((true and status/errorCode eq 0) or false)",
	} {
		countOnly(t, f, filter, len(refIDs(t, f, filter)))
	}
	g := &filterGen{r: rand.New(rand.NewPCG(5, 3)), events: f.events}
	for i := range 300 {
		cover := "createdDateTime " + g.pick("ge "+early, "gt "+early, "ne "+early, "ge "+g.when())
		filter := "appDisplayName " + g.pick("eq", "ne") + " " + quote(apps[i%len(apps)]) + " and " + cover
		switch i % 3 {
		case 1:
			filter += " and ((" + cover + " and " + g.atom() + ") or (" + g.atom() + "))"
		case 2:
			filter += " and not (" + g.expr(2) + ")"
		}
		countOnly(t, f, filter, len(refIDs(t, f, filter)))
	}
}

// TestNeConjuncts: an int32 "ne" conjunct answers with the rows it excludes (conjunction), so
// these combine it with other exact, inexact and unprobeable conjuncts, first and last, alone,
// twice and nested, for counts and pages alike, against the reference (the fixture has rows
// with a null status).
func TestNeConjuncts(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	early := fixedNow.Add(-30 * 24 * time.Hour).Format("2006-01-02")
	id := f.events[7]["correlationId"].(string)
	for _, filter := range []string{
		"flaggedForReview eq true and status/errorCode ne 0",
		"status/errorCode ne 0 and flaggedForReview eq true",
		"flaggedForReview eq true and status/errorCode ne 0 and status/errorCode ne 50126",
		"status/errorCode ne 0",
		"status/errorCode ne 99999",
		"status/errorCode ne 5000000000",
		"isInteractive and status/errorCode ne 0",
		"status/errorCode ne 0 and isInteractive",
		"status/errorCode eq 50126 and status/errorCode ne 0",
		"status/errorCode ne 0 and status/errorCode eq 0",
		"status/errorCode ne 0 and status/errorCode ne 50126",
		"status/errorCode ne 0 and status/errorCode ne 50126 and isInteractive",
		"isInteractive and status/errorCode ne 0 and status/errorCode ne 50126",
		"status/errorCode ne 0 and appDisplayName eq 'Microsoft Teams'",
		"createdDateTime ge " + early + " and status/errorCode ne 0 and appDisplayName eq 'Microsoft Teams'",
		"createdDateTime ge " + early + " and status/errorCode ne 0",
		"createdDateTime ge 2026-11-20 and status/errorCode ne 0",
		"status/errorCode ne 0 and status/errorCode ne 50126 and appDisplayName ne 'Microsoft Teams'",
		"correlationId eq '" + id + "' and status/errorCode ne 0",
		"status/errorCode ne 0 and correlationId eq '" + id + "'",
		"location/geoCoordinates/latitude gt 45 and status/errorCode ne 0",
		"status/errorCode ne 0 and location/geoCoordinates/latitude gt 45",
		"not (status/errorCode ne 0)",
		"isInteractive and (status/errorCode ne 0 or status/errorCode ne 50126)",
		"isInteractive and not (status/errorCode ne 0 and isInteractive)",
		"status/errorCode ne 0 and status/errorCode ge 0",
		"status/errorCode ne 0 and status/errorCode ne null",
	} {
		want := refIDs(t, f, filter)
		countOnly(t, f, filter, len(want))
		got := sortedCopy(matchIDs(t, f.src, filter, false))
		if w := sortedCopy(want); !slices.Equal(w, got) {
			t.Fatalf("filter %q: %d rows, reference %d: %s", filter, len(got), len(w), firstDiff(w, got))
		}
	}
}
