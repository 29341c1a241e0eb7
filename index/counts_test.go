package index

import (
	"math/rand/v2"
	"testing"
)

// TestCodesCountIsTheCardinality: CodesCount and CodesNullCount answer what Codes and
// CodesNull's cardinalities do, for a section small enough to remember its counts and one too
// large to, on first asking and again (remembered), and a code past the dictionary has none.
func TestCodesCountIsTheCardinality(t *testing.T) {
	const rows = 50_000
	r := rand.New(rand.NewPCG(7, 11))
	b := NewBuilder(rows)
	for _, c := range []struct {
		name  string
		codes uint32
	}{{"app", 40}, {"edge", countMemoPostings - 1}, {"past", countMemoPostings}, {"user", countMemoPostings + 100}} {
		codes := make([]uint32, rows)
		for i := range codes {
			codes[i] = r.Uint32N(c.codes + 1) // c.codes is the null code
			if c.codes > 1000 && i%7 != 0 {
				codes[i] = uint32(i/97) % c.codes // runs, as a segment sorted by user has
			}
		}
		if err := b.AddCodes(c.name, codes, c.codes, c.codes); err != nil {
			t.Fatal(err)
		}
	}
	rd := openBytes(t, b.Marshal(nil))
	for _, col := range []string{"app", "edge", "past", "user"} {
		card, err := rd.Cardinality(col)
		if err != nil {
			t.Fatal(err)
		}
		for pass := range 2 {
			var total uint64
			for code := range card + 2 {
				bm, err := rd.Codes(col, code)
				if err != nil {
					t.Fatal(err)
				}
				n, err := rd.CodesCount(col, code)
				if err != nil {
					t.Fatal(err)
				}
				if want := bm.GetCardinality(); n != want {
					t.Fatalf("%s pass %d: CodesCount(%d) = %d, want %d", col, pass, code, n, want)
				}
				if code < card {
					total += n
				}
			}
			nulls, err := rd.CodesNull(col)
			if err != nil {
				t.Fatal(err)
			}
			n, err := rd.CodesNullCount(col)
			if err != nil {
				t.Fatal(err)
			}
			if n != nulls.GetCardinality() || total+n != rows {
				t.Fatalf("%s pass %d: null count %d (bitmap %d), codes %d, rows %d", col, pass, n, nulls.GetCardinality(), total, rows)
			}
		}
		kept := rd.sections[rd.find(col, KindCodes)].counts.n
		if small := card+1 <= countMemoPostings; small != (kept != nil) {
			t.Fatalf("%s: %d postings, counts kept: %v", col, card+1, kept != nil)
		}
	}
}
