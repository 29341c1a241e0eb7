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
		{ID: "Q1", Count: 3, IDsHash: "aa"},
		{ID: "Q6", Count: 10},
		{ID: "Q8", Count: 2, Rows: []AppCount{{App: app("Teams"), Failures: 5}, {App: nil, Failures: 1}}},
	}
	peer := func(mut func(*PeerQueries)) *PeerQueries {
		p := &PeerQueries{Queries: []PeerQuery{
			{ID: "Q1", Count: 3, IDsHash: "aa"},
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
