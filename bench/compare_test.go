package bench

import (
	"strings"
	"testing"
	"time"
)

// The cross-check is what makes a fast wrong answer fail the run.
func TestCrossCheckCatchesEveryKindOfMismatch(t *testing.T) {
	app := func(s string) *string { return &s }
	ours := []QueryStat{
		{ID: "Q1", Count: 3, IDsHash: "aa", Properties: "all"},
		{ID: "Q6", Count: 10},
		{ID: "Q8", Count: 2, Rows: []AppCount{{App: app("Teams"), Failures: 5}, {App: nil, Failures: 1}}},
	}
	peer := func(mut func(*PeerQueries)) *PeerQueries {
		p := &PeerQueries{Queries: []PeerQuery{
			{ID: "Q1", Count: 3, IDsHash: "aa", Columns: "all"},
			{ID: "Q6", Count: 10},
			{ID: "Q8", Count: 2, Rows: []AppCount{{App: app("Teams"), Failures: 5}, {App: nil, Failures: 1}}},
		}}
		if mut != nil {
			mut(p)
		}
		return p
	}
	if err := crossCheck(ours, peer(nil)); err != nil {
		t.Fatalf("identical answers rejected: %v", err)
	}
	f := func(what string, mut func(*PeerQueries)) {
		t.Helper()
		err := crossCheck(ours, peer(mut))
		if err == nil || !strings.Contains(err.Error(), "disagree") {
			t.Fatalf("%s: not caught (%v)", what, err)
		}
	}
	f("count", func(p *PeerQueries) { p.Queries[1].Count = 11 })
	f("page order", func(p *PeerQueries) { p.Queries[0].IDsHash = "bb" })
	f("page columns", func(p *PeerQueries) { p.Queries[0].Columns = "id,createdDateTime" })
	f("aggregation row", func(p *PeerQueries) { p.Queries[2].Rows[0].Failures = 4 })
	f("aggregation key", func(p *PeerQueries) { p.Queries[2].Rows[1].App = app("Outlook") })
	f("missing query", func(p *PeerQueries) { p.Queries = p.Queries[:2] })
}

func TestParamsFilterQuotesAndDates(t *testing.T) {
	p := Params{UPN: "o'brien@contoso.com", CorrelationID: "c", Now: time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)}
	got := p.Filter(Query{Graph: "userPrincipalName eq '{upn}' and createdDateTime ge {now-7d}"})
	want := "userPrincipalName eq 'o''brien@contoso.com' and createdDateTime ge 2026-11-24T02:03:04Z"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// The side-by-side table has a line for every query of the suite, warm and cold, full rows and
// their two-column twins, and says what cold means.
func TestReportHasEveryVariant(t *testing.T) {
	r := &Results{Events: 50_000, Threads: 2, Runs: 1, Cold: ColdMethod,
		Ingest: []IngestStat{{Threads: 2, EventsPerSec: 1000}}, Peer: &PeerLoad{EventsPerSecond: 900}, PeerQueries: &PeerQueries{}}
	for i, q := range Suite {
		ms := float64(i + 1)
		r.Queries = append(r.Queries, QueryStat{ID: q.ID, WarmMs: ms, ColdMs: 10 * ms})
		r.PeerQueries.Queries = append(r.PeerQueries.Queries, PeerQuery{ID: q.ID, WarmMs: 2 * ms, ColdMs: 20 * ms})
	}
	r.Compare = compare(r)
	byMeasure := map[string]CompareRow{}
	for _, c := range r.Compare {
		byMeasure[c.Measure] = c
	}
	// The goals: full rows and Q1's cold have them; the two-column twins are reported
	// beside them without goals of their own, and so is Q10's cold.
	for m, goal := range map[string]float64{
		"Q1 flagged, newest 1,000 full rows (warm)": 10, "Q1 (cold)": 3,
		"Q4 one user, 7 days, full rows (warm)": 10, "Q10 newest 1,000 full rows, unfiltered (warm)": 10,
		"Q5 correlationId (warm)": 20, "Q8 top-10 failing apps, 48 h (warm)": 2, "Q11 (cold)": 3,
		"Q1 (2 cols) flagged, newest 1,000 (warm)": 0, "Q1 (2 cols) (cold)": 0,
		"Q4 (2 cols) one user, 7 days (warm)": 0, "Q4 (2 cols) (cold)": 0,
		"Q10 (2 cols) newest 1,000, unfiltered (warm)": 0, "Q10 (2 cols) (cold)": 0, "Q10 (cold)": 0,
	} {
		c, ok := byMeasure[m]
		if !ok {
			t.Errorf("no line %q", m)
			continue
		}
		if c.Ratio != 2 || c.Goal != goal || c.Met != (goal <= 2) {
			t.Errorf("%q: ratio %g, goal %g (met %v); want goal %g", m, c.Ratio, c.Goal, c.Met, goal)
		}
	}
	if want := 2 + 2*len(Suite) + 1; len(r.Compare) != want {
		t.Errorf("%d lines, want %d", len(r.Compare), want)
	}
	md := r.Markdown()
	if !strings.Contains(md, "| Q1 (2 cols) flagged, newest 1,000 (warm) | 2.00 | 4.00 | ms | 2.00x | – |  |") ||
		!strings.Contains(md, "| Q1 (cold) | 10.0 | 20.0 | ms | 2.00x | ≥3x | **missed** |") ||
		!strings.Contains(md, "Cold, for both engines: the "+ColdMethod) {
		t.Fatalf("markdown:\n%s", md)
	}
}

// Runs made before full rows put their Q1, Q4 and Q10 figures on the two-column lines of the
// growth table, and its note says their cold was not the page-cache-dropping kind.
func TestGrowthPutsOlderPagesOnTheTwoColumnLines(t *testing.T) {
	dir := t.TempDir()
	old := &Results{Events: 5_000_000, Threads: 2, Date: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Compare: []CompareRow{
		{Measure: "Q1 flagged, newest 1,000 (warm)", Unit: "ms", Authlake: 4, DuckDB: 5, Ratio: 1.25},
		{Measure: "Q1 (cold)", Unit: "ms", Authlake: 800, DuckDB: 100, Ratio: 0.125},
		{Measure: "Q10 newest 1,000, unfiltered (warm)", Unit: "ms", Authlake: 5, DuckDB: 10, Ratio: 2},
		{Measure: "Q11 high risk, 30 days, count (warm)", Unit: "ms", Authlake: 1, DuckDB: 2, Ratio: 2},
	}}
	cur := &Results{Events: 1_000_000, Threads: 2, Date: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), Cold: ColdMethod, Queries: []QueryStat{{ID: "Q1", Properties: "all"}}, Compare: []CompareRow{
		{Measure: "Q1 flagged, newest 1,000 full rows (warm)", Unit: "ms", Authlake: 10, DuckDB: 20, Ratio: 2},
		{Measure: "Q1 (cold)", Unit: "ms", Authlake: 30, DuckDB: 60, Ratio: 2},
		{Measure: "Q1 (2 cols) flagged, newest 1,000 (warm)", Unit: "ms", Authlake: 3, DuckDB: 4, Ratio: 4.0 / 3},
		{Measure: "Q1 (2 cols) (cold)", Unit: "ms", Authlake: 9, DuckDB: 18, Ratio: 2},
		{Measure: "Q10 newest 1,000 full rows, unfiltered (warm)", Unit: "ms", Authlake: 10, DuckDB: 20, Ratio: 2},
		{Measure: "Q10 (2 cols) newest 1,000, unfiltered (warm)", Unit: "ms", Authlake: 3, DuckDB: 6, Ratio: 2},
		{Measure: "Q11 high risk, 30 days, count (warm)", Unit: "ms", Authlake: 1, DuckDB: 2, Ratio: 2},
	}}
	g, err := LoadGrowth([]string{writeResults(t, dir, old), writeResults(t, dir, cur)})
	if err != nil {
		t.Fatal(err)
	}
	md := g.Markdown()
	for _, line := range []string{
		"| Q1 flagged, newest 1,000 full rows (warm), ms | 10.0 vs 20.0 = 2.00x | – |\n| Q1 (cold), ms | 30.0 vs 60.0 = 2.00x | – |\n" +
			"| Q1 (2 cols) flagged, newest 1,000 (warm), ms",
		"| Q1 (2 cols) flagged, newest 1,000 (warm), ms | 3.00 vs 4.00 = 1.33x | 4.00 vs 5.00 = 1.25x |",
		"| Q1 (2 cols) (cold), ms | 9.00 vs 18.0 = 2.00x | 800.0 vs 100.0 = 0.12x |",
		"| Q10 (2 cols) newest 1,000, unfiltered (warm), ms | 3.00 vs 6.00 = 2.00x | 5.00 vs 10.0 = 2.00x |",
		"| Q11 high risk, 30 days, count (warm), ms | 1.00 vs 2.00 = 2.00x | 1.00 vs 2.00 = 2.00x |",
		"Cold figures of the 5M run(s) were measured before cold runs dropped",
	} {
		if !strings.Contains(md, line) {
			t.Errorf("no %q in\n%s", line, md)
		}
	}
}
