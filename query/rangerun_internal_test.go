package query

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// rangeRun joins adjacent ranges and adds the rest as they are: the same bitmap as adding
// every range to roaring, with empty ranges, gaps and runs of blocks.
func TestRangeRunMatchesAddRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		var rr rangeRun
		want := roaring.New()
		at := uint64(r.IntN(100))
		for range r.IntN(30) {
			if r.IntN(3) == 0 {
				at += uint64(r.IntN(5000)) // a gap
			}
			n := uint64(r.IntN(3) * 4096 / 2)
			rr.add(at, at+n)
			want.AddRange(at, at+n)
			at += n
		}
		if got := rr.bitmap(); !got.Equals(want) {
			t.Fatalf("case %d: got %v, want %v", i, got, want)
		}
	}
}
