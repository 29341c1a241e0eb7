package query

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// A conjunction is empty when its candidates are, or when what it excludes is every row.
func TestConjunctionEmpty(t *testing.T) {
	exclude := func(rows ...uint32) probeRes { return probeRes{not: roaring.BitmapOf(rows...)} }
	for _, tc := range []struct {
		name string
		and  []probeRes
		want bool
	}{
		{"nothing probed", nil, false},
		{"some rows excluded", []probeRes{exclude(0, 2)}, false},
		{"every row excluded", []probeRes{exclude(0, 1, 2, 3)}, true},
		{"every row excluded in two probes", []probeRes{exclude(0, 1), exclude(2, 3)}, true},
		{"candidates left", []probeRes{{t: roaring.BitmapOf(1)}, exclude(0)}, false},
		{"candidates excluded", []probeRes{{t: roaring.BitmapOf(1)}, exclude(1)}, true},
		{"no candidate", []probeRes{{t: roaring.New()}}, true},
	} {
		c := newConjunction(4)
		for _, r := range tc.and {
			c.and(r)
		}
		if got := c.empty(); got != tc.want {
			t.Errorf("%s: empty %v, want %v", tc.name, got, tc.want)
		}
	}
}
