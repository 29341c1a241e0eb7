package query_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// TestNonGUIDLiteralOnAGUIDColumn: an id cut short or mistyped is answered from each segment's
// footer when the column holds only GUIDs there (no row scanned), and where some rows kept text
// that is not a GUID (originalRequestId "") those rows are still found; every answer is the
// reference evaluator's.
func TestNonGUIDLiteralOnAGUIDColumn(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	id := f.events[7]["id"].(string)
	for _, tc := range []struct {
		filter string
		probed bool // every segment answers from its footer
	}{
		{"id eq '" + id[:8] + "'", true},
		{"id ne 'x'", true},
		{"correlationId eq 'not-a-guid'", true},
		{"not (correlationId eq 'x') and flaggedForReview eq true", true},
		{"originalRequestId eq ''", false},
		{"originalRequestId ne ''", false},
	} {
		res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: tc.filter, Select: []string{"id"}, Top: 100000, Count: true, Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(refIDs(t, f, tc.filter))); res.Count != want {
			t.Errorf("%s: %d rows, the reference %d", tc.filter, res.Count, want)
		}
		footer := 0
		for _, p := range res.Explain.Probes {
			if strings.Contains(p.Probe, "holds only GUIDs") {
				footer++
			}
		}
		segs := res.Explain.Segments - res.Explain.SegPruned
		if tc.probed && (footer != segs || !res.Explain.IndexOnly) {
			t.Errorf("%s: %d of %d segments answered from the footer (index only: %t); want every one, no segment row scanned", tc.filter, footer, segs, res.Explain.IndexOnly)
		}
		if !tc.probed && footer == segs {
			t.Errorf("%s: every segment answered from its footer, but some hold text that is not a GUID", tc.filter)
		}
	}
}
