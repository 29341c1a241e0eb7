package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// A filter with fewer candidates than a segment has blocks (a few users' rows) visits the
// blocks the candidates are in, found from the index's bitmap, and finds what the reference
// evaluator does: candidates scattered over a day's blocks, in one block, or none.
func TestFewCandidatesAreFoundInTheirBlocks(t *testing.T) {
	// Days of about 450 rows a segment, 7 blocks; 1,500 users: a user's rows are a few a day.
	f := getFixtureOf(t, 3000, 64, 5, 1500)
	r := rand.New(rand.NewPCG(5, 5))
	for i := range 300 {
		k := 1 + r.IntN(4)
		var terms []string
		for range k {
			terms = append(terms, fmt.Sprintf("userId eq '%s'", f.events[r.IntN(len(f.events))]["userId"]))
		}
		if i%5 == 0 {
			terms = append(terms, "userId eq '00000000-0000-4000-8000-999999999999'") // nowhere
		}
		filter := strings.Join(terms, " or ")
		if i%3 == 0 {
			filter = "(" + filter + ") and isInteractive eq true"
		}
		want := sortedCopy(refIDs(t, f, filter))
		got := sortedCopy(matchIDs(t, f.src, filter, false))
		if !slices.Equal(want, got) {
			t.Fatalf("filter %q: %d rows, reference %d\nfirst diff: %s", filter, len(got), len(want), firstDiff(want, got))
		}
		// Pages and counts take the same path.
		res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: filter, Count: true})
		if err != nil || res.Count != int64(len(want)) || len(res.Rows) != len(want) {
			t.Fatalf("filter %q: count %d, %d rows (%v), want %d", filter, res.Count, len(res.Rows), err, len(want))
		}
	}
}
