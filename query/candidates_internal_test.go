package query

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// candidateBlocks against listing the block of every candidate row: scattered rows, whole
// blocks (a keys probe's candidates), a last short block, and the bound on how many it lists.
func TestCandidateBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		br := 64 * (1 + r.IntN(80))
		rows := 1 + r.IntN(40*br)
		cand := roaring.New()
		for range r.IntN(12) {
			if r.IntN(2) == 0 {
				cand.Add(uint32(r.IntN(rows)))
				continue
			}
			b := r.IntN((rows + br - 1) / br)
			cand.AddRange(uint64(b*br), uint64(min((b+1)*br, rows)))
		}
		var want []int
		cand.Iterate(func(x uint32) bool {
			if b := int(x) / br; len(want) == 0 || want[len(want)-1] != b {
				want = append(want, b)
			}
			return true
		})
		most := r.IntN(8)
		got := candidateBlocks(cand, br, most)
		switch {
		case len(want) > most && got != nil:
			t.Fatalf("case %d: %d blocks, at most %d wanted: got %v", i, len(want), most, got)
		case len(want) <= most && (got == nil || !slices.Equal(got, want)):
			t.Fatalf("case %d (blocks of %d): got %v, want %v", i, br, got, want)
		}
	}
}
