package query_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// A segment's Hidden rows are not part of the source on any path: lists (with and without index
// probes), counts answered from the index alone, and aggregates.
func TestHiddenRowsAreNotInTheSource(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	idCol, _ := columnar.SignIns.Lookup("id")
	hidden := map[string]bool{}
	var src query.Source
	for _, d := range f.src.Days {
		qd := query.Day{Day: d.Day, Mem: d.Mem}
		for _, s := range d.Segments {
			bm := roaring.New()
			for b := 0; b < s.Seg.NumBlocks(); b++ {
				batch, release, err := s.Seg.BlockBatch(b, []int{idCol.Index})
				if err != nil {
					t.Fatal(err)
				}
				for r := 0; r < batch.Rows; r++ {
					if row := b*s.Seg.Meta.BlockRows + r; row%3 == 0 {
						bm.Add(uint32(row))
						hidden[columnar.FormatGUID(batch.Bytes(idCol.Index, r))] = true
					}
				}
				release()
			}
			s.Hidden = bm
			qd.Segments = append(qd.Segments, s)
		}
		src.Days = append(src.Days, qd)
	}
	if len(hidden) == 0 {
		t.Fatal("the fixture has no segments")
	}
	for _, filter := range []string{"", "flaggedForReview eq true", "status/errorCode ne 0", "startswith(appDisplayName,'Microsoft')"} {
		var want []string
		for _, id := range refIDs(t, f, filter) {
			if !hidden[strings.ToLower(id)] {
				want = append(want, strings.ToLower(id))
			}
		}
		slices.Sort(want)
		for _, noIdx := range []bool{false, true} {
			req := query.Request{Filter: filter, Top: 400, Select: []string{"id"}}
			if noIdx {
				query.WithoutIndexes(&req)
			}
			got := walkPages(t, src, req)
			for i := range got {
				got[i] = strings.ToLower(got[i])
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%q (no index %v): %d rows, want %d", filter, noIdx, len(got), len(want))
			}
		}
		res, err := query.Run(context.Background(), columnar.SignIns, src, query.Request{Filter: filter, Count: true, Top: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != int64(len(want)) {
			t.Fatalf("%q: count %d, want %d", filter, res.Count, len(want))
		}
		groups, err := query.Aggregate(context.Background(), columnar.SignIns, src, filter, []string{"appDisplayName"},
			[]query.Agg{{Op: query.AggCount, Alias: "n"}})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, g := range groups {
			c, _ := g.Values["n"].(int64)
			n += c
		}
		if n != int64(len(want)) {
			t.Fatalf("%q: groups count %d, want %d", filter, n, len(want))
		}
	}
}
