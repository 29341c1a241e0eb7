package query

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// guidEq against comparing every candidate row's Value with bytes.Equal: blocks of any length
// (a short last block), arrays that are slices of a longer one (an offset), the GUID present
// in several rows, and candidates as none, scattered rows, full words and a block's every row.
func TestGUIDEqMatchesValueByValue(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		n := 1 + r.IntN(4096)
		skip := r.IntN(70)
		var g [16]byte
		for j := range g {
			g[j] = byte(r.IntN(4)) // few distinct bytes: near misses in either word
		}
		b := array.NewFixedSizeBinaryBuilder(memory.NewGoAllocator(), &arrow.FixedSizeBinaryType{ByteWidth: 16})
		for range skip + n {
			v := g
			if r.IntN(8) != 0 {
				v[r.IntN(16)] ^= byte(1 + r.IntN(3))
			}
			b.Append(v[:])
		}
		whole := b.NewFixedSizeBinaryArray()
		a := array.NewSlice(whole, int64(skip), int64(skip+n)).(*array.FixedSizeBinary)
		nw := (n + 63) / 64
		var cand []uint64
		switch i % 4 {
		case 1: // scattered rows and full words
			cand = make([]uint64, nw)
			for w := range cand {
				switch r.IntN(3) {
				case 0:
					cand[w] = ^uint64(0)
				case 1:
					cand[w] = r.Uint64() & r.Uint64()
				}
			}
		case 2: // the whole block, as a keys probe names it
			cand = make([]uint64, nw)
			for w := range cand {
				cand[w] = ^uint64(0)
			}
		case 3:
			cand = make([]uint64, nw)
		}
		got := make([]uint64, nw)
		scanned := guidEq(a, g, cand, got, n)
		want := make([]uint64, nw)
		compared := 0
		for row := range n {
			if cand != nil && cand[row/64]&(1<<(row%64)) == 0 {
				continue
			}
			compared++
			if bytes.Equal(a.Value(row), g[:]) {
				want[row/64] |= 1 << (row % 64)
			}
		}
		for w := range want {
			if got[w] != want[w] {
				t.Fatalf("case %d (%d rows, offset %d): word %d is %064b, want %064b", i, n, skip, w, got[w], want[w])
			}
		}
		if scanned != compared {
			t.Fatalf("case %d: compared %d rows, say %d", i, compared, scanned)
		}
		a.Release()
		whole.Release()
		b.Release()
	}
}
