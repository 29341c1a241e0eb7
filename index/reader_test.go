package index

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

func openBytes(t testing.TB, data []byte) *Reader {
	t.Helper()
	rd, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	return rd
}

func TestRoundTripAgainstReference(t *testing.T) {
	f := func(seed uint64, rows uint32, blockRows int) {
		t.Helper()
		s := newRefSegment(seed, rows, blockRows)
		rd := openBytes(t, s.build())
		if rd.Rows() != rows {
			t.Fatalf("Rows() = %d, want %d", rd.Rows(), rows)
		}
		for _, p := range s.probes() {
			got, err := p.run(rd)
			if err != nil {
				t.Fatalf("seed %d rows %d: %s: %s", seed, rows, p.name, err)
			}
			if got != p.want {
				t.Fatalf("seed %d rows %d: %s:\n got %s\nwant %s", seed, rows, p.name, got, p.want)
			}
		}
	}
	f(1, 1, 1)
	f(2, 7, 3)
	f(3, 100, 16)
	f(4, 1000, 64)
	f(5, 5000, 1000)
	f(6, 70_000, 65_536) // two roaring containers, partial last block
	f(7, 140_000, 65_536)
}

func TestEmptySegment(t *testing.T) {
	b := NewBuilder(0)
	if err := b.AddCodes("user", nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.AddKeys("id", 1, func(uint32) ([]byte, bool) { panic("no rows") }); err != nil {
		t.Fatal(err)
	}
	if err := b.AddZoneMapInt64("t", 65536, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	rd := openBytes(t, b.Marshal(nil))
	bm, err := rd.Codes("user", 0)
	if err != nil || !bm.IsEmpty() {
		t.Fatalf("Codes on empty segment: %v, %v", bm, err)
	}
	bm, err = rd.Keys("id", []byte("x"))
	if err != nil || !bm.IsEmpty() {
		t.Fatalf("Keys on empty segment: %v, %v", bm, err)
	}
	zm, err := rd.ZoneMapInt64("t")
	if err != nil || zm.Blocks() != 0 || len(zm.PruneRange(-1, 1)) != 0 {
		t.Fatalf("zone map on empty segment: %+v, %v", zm, err)
	}
}

func TestDirectoryQueries(t *testing.T) {
	s := newRefSegment(9, 500, 100)
	rd := openBytes(t, s.build())
	wantCols := []string{"app", "createdDateTime", "flaggedForReview", "id", "riskScore", "status/errorCode", "user"}
	if got := rd.Columns(); !slices.Equal(got, wantCols) {
		t.Fatalf("Columns() = %q, want %q", got, wantCols)
	}
	f := func(column string, kind Kind, want bool) {
		t.Helper()
		if got := rd.Has(column, kind); got != want {
			t.Fatalf("Has(%q, %s) = %v, want %v", column, kind, got, want)
		}
	}
	f("user", KindCodes, true)
	f("user", KindKeys, false)
	f("id", KindKeys, true)
	f("status/errorCode", KindInt32, true)
	f("createdDateTime", KindZoneMapInt64, true)
	f("nope", KindCodes, false)

	secs := rd.Sections()
	if len(secs) != 7 {
		t.Fatalf("%d sections, want 7", len(secs))
	}
	end := int64(headerLen)
	for _, sec := range secs {
		if sec.Offset != end || sec.Length <= 0 {
			t.Fatalf("section %+v not contiguous after %d", sec, end)
		}
		end += sec.Length
	}
	if _, err := rd.Codes("nope", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Codes on missing column: %v, want ErrNotFound", err)
	}
	if _, err := rd.Bools("user", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Bools on a codes column: %v, want ErrNotFound", err)
	}
	vals, err := rd.Int32Values("status/errorCode")
	if err != nil || !slices.Equal(vals, []int32{-7, 0, 50074, 50126, 50140, 1 << 30}) {
		t.Fatalf("Int32Values = %v, %v", vals, err)
	}
	card, err := rd.Cardinality("app")
	if err != nil || card != s.appCard {
		t.Fatalf("Cardinality = %d, %v; want %d", card, err, s.appCard)
	}
}

// Returned bitmaps are copy-on-write views: mutating one must not change the sidecar.
func TestProbeResultsAreSafeToMutate(t *testing.T) {
	s := newRefSegment(11, 70_000, 65_536)
	rd := openBytes(t, s.build())
	before, _ := rd.Codes("app", 2)
	want := before.ToArray()
	before.AddRange(0, 70_000)
	before.RemoveRange(0, 35_000)
	other, _ := rd.Codes("app", 3)
	other.And(before)
	again, err := rd.Codes("app", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.ToArray(), want) {
		t.Fatalf("probe changed after mutating an earlier result")
	}
}

func TestConcurrentProbes(t *testing.T) {
	s := newRefSegment(12, 3000, 512)
	rd := openBytes(t, s.build())
	ps := s.probes()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ps {
				p := ps[(i+g*37)%len(ps)]
				got, err := p.run(rd)
				if err != nil || got != p.want {
					errs <- p.name
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Fatalf("concurrent probe %s failed", name)
	}
}

func TestKeysReturnsSupersetAndAppendKeyRows(t *testing.T) {
	rows := uint32(1000)
	b := NewBuilder(rows)
	key := func(r uint32) []byte { return []byte{byte(r % 10)} }
	if err := b.AddKeys("ip", 1, func(r uint32) ([]byte, bool) { return key(r), r%7 != 0 }); err != nil {
		t.Fatal(err)
	}
	rd := openBytes(t, b.Marshal(nil))
	for k := byte(0); k < 10; k++ {
		want := rowsWhere(rows, func(r uint32) bool { return r%7 != 0 && r%10 == uint32(k) })
		got, err := rd.AppendKeyRows([]uint32{42}, "ip", []byte{k})
		if err != nil || got[0] != 42 || !slices.Equal(got[1:], want) {
			t.Fatalf("AppendKeyRows(%d) = %v, %v; want 42 then %v", k, got, err, want)
		}
		bm, err := rd.Keys("ip", []byte{k})
		if err != nil || !slices.Equal(bm.ToArray(), want) {
			t.Fatalf("Keys(%d) = %v, %v", k, bm, err)
		}
	}
}

// A key indexed by blocks comes back as every row of each block that holds its hash, the last
// block cut at the segment's end, in the bitmap (ranges) and in the row list alike.
func TestKeysReturnsWholeBlocks(t *testing.T) {
	const rows, blockRows = 1000, 64
	b := NewBuilder(rows)
	key := func(r uint32) []byte { return []byte{byte(r % 251)} }
	if err := b.AddKeys("cid", blockRows, func(r uint32) ([]byte, bool) { return key(r), r%3 != 0 }); err != nil {
		t.Fatal(err)
	}
	rd := openBytes(t, b.Marshal(nil))
	for k := range byte(251) {
		blocks := map[uint32]bool{}
		for r := uint32(0); r < rows; r++ {
			if r%3 != 0 && r%251 == uint32(k) {
				blocks[r/blockRows] = true
			}
		}
		bm, err := rd.Keys("cid", []byte{k})
		if err != nil {
			t.Fatal(err)
		}
		list, err := rd.AppendKeyRows(nil, "cid", []byte{k})
		if err != nil || !slices.Equal(bm.ToArray(), list) {
			t.Fatalf("key %d: Keys %v, AppendKeyRows %v (%v)", k, bm.ToArray(), list, err)
		}
		for blk := range blocks { // hash collisions may add blocks, never drop one
			lo, hi := blk*blockRows, min((blk+1)*blockRows, rows)
			in := bm.Rank(hi - 1) // rows <= hi-1
			if lo > 0 {
				in -= bm.Rank(lo - 1)
			}
			if in != uint64(hi-lo) {
				t.Fatalf("key %d: block %d [%d, %d) not whole in %v", k, blk, lo, hi, bm.ToArray())
			}
		}
		bm.Iterate(func(r uint32) bool {
			if bm.Contains(r/blockRows*blockRows) && (r+1)%blockRows != 0 && r+1 < rows && !bm.Contains(r+1) {
				t.Fatalf("key %d: a partial block around row %d", k, r)
			}
			return true
		})
	}
}

func TestBuilderRejectsBadInput(t *testing.T) {
	f := func(add func(b *Builder) error) {
		t.Helper()
		b := NewBuilder(4)
		if err := b.AddCodes("dup", []uint32{0, 0, 0, 0}, 9, 1); err != nil {
			t.Fatal(err)
		}
		if err := add(b); !errors.Is(err, ErrInvalidInput) {
			t.Fatalf("got %v, want ErrInvalidInput", err)
		}
	}
	f(func(b *Builder) error { return b.AddCodes("c", []uint32{0, 1}, 9, 2) })
	f(func(b *Builder) error { return b.AddCodes("c", []uint32{0, 1, 2, 5}, 9, 3) })
	f(func(b *Builder) error { return b.AddCodes("dup", []uint32{0, 0, 0, 0}, 9, 1) })
	f(func(b *Builder) error { return b.AddCodes("", []uint32{0, 0, 0, 0}, 9, 1) })
	f(func(b *Builder) error { return b.AddInt32Values("i", []int32{1}, nil) })
	f(func(b *Builder) error { return b.AddZoneMapInt64("z", 0, nil, nil, nil) })
	f(func(b *Builder) error { return b.AddZoneMapInt64("z", 2, []int64{1}, []int64{1}, []uint32{0}) })
	f(func(b *Builder) error {
		return b.AddZoneMapInt64("z", 2, []int64{5, 1}, []int64{1, 1}, []uint32{0, 0})
	})
	f(func(b *Builder) error {
		return b.AddZoneMapInt64("z", 2, []int64{1, 1}, []int64{1, 1}, []uint32{0, 3})
	})
	f(func(b *Builder) error {
		nan := []float64{0, 0}
		nan[0] = nan[0] / nan[1]
		return b.AddZoneMapFloat64("z", 2, nan, []float64{1, 1}, []uint32{0, 0})
	})
}

func TestZoneMapPruning(t *testing.T) {
	zm := ComputeZoneMap([]int64{5, 1, 9, 9, 20, 30, 7}, func(r uint32) bool { return r != 6 }, 2)
	f := func(lo, hi int64, want []int) {
		t.Helper()
		if got := zm.PruneRange(lo, hi); !slices.Equal(got, want) {
			t.Fatalf("PruneRange(%d, %d) = %v, want %v", lo, hi, got, want)
		}
	}
	f(0, 100, []int{0, 1, 2})
	f(2, 3, []int{0})
	f(6, 8, nil)
	f(9, 9, []int{1})
	f(10, 19, nil)
	f(21, 29, []int{2})
	f(7, 7, nil) // the 7 is null
	if !zm.AllNull(3) || zm.BlockLen(3) != 1 {
		t.Fatalf("last block: AllNull %v BlockLen %d", zm.AllNull(3), zm.BlockLen(3))
	}
}

func TestAllRows(t *testing.T) {
	f := func(n uint32) {
		t.Helper()
		bm := AllRows(n)
		if bm.GetCardinality() != uint64(n) || (n > 0 && bm.Maximum() != n-1) {
			t.Fatalf("AllRows(%d): cardinality %d", n, bm.GetCardinality())
		}
	}
	f(0)
	f(1)
	f(65_537)
	f(3_000_000)
}

func TestBlockWordsRoundTrip(t *testing.T) {
	f := func(rows []uint32, blockStart, blockRows uint32) {
		t.Helper()
		bm := roaring.BitmapOf(rows...)
		words := AppendBlockWords([]uint64{7}, bm, blockStart, blockRows)
		if words[0] != 7 || len(words) != 1+int((blockRows+63)/64) {
			t.Fatalf("AppendBlockWords: prefix %d, %d words", words[0], len(words))
		}
		words = words[1:]
		var want []uint32
		for _, r := range rows {
			if r >= blockStart && uint64(r) < uint64(blockStart)+uint64(blockRows) {
				want = append(want, r)
			}
		}
		for j := uint32(0); j < blockRows; j++ {
			got := words[j/64]>>(j%64)&1 == 1
			if got != slices.Contains(want, blockStart+j) {
				t.Fatalf("bit %d = %v", j, got)
			}
		}
		back := roaring.New()
		OrBlockWords(back, words, blockStart)
		if !slices.Equal(back.ToArray(), sortedCopy(want)) && !(len(want) == 0 && back.IsEmpty()) {
			t.Fatalf("OrBlockWords: got %v, want %v", back.ToArray(), want)
		}
	}
	f(nil, 0, 65_536)
	f([]uint32{0, 1, 63, 64, 65_535, 65_536}, 0, 65_536)
	f([]uint32{0, 1, 63, 64, 65_535, 65_536, 131_071, 131_072}, 65_536, 65_536)
	f([]uint32{10, 99, 100, 163, 164, 200}, 100, 64)
	f([]uint32{10, 99, 100, 163, 164, 200}, 100, 65) // partial last word
	f([]uint32{5, 1_000_000}, 999_990, 100)
	dense := make([]uint32, 0, 70_000)
	for r := uint32(60_000); r < 130_000; r++ {
		dense = append(dense, r)
	}
	f(dense, 65_536, 65_536)
}

// A trusted reader (no roaring Validate) answers exactly as a checking one, and still rejects a
// corrupted section by its CRC.
func TestOpenTrustedAnswersAlike(t *testing.T) {
	s := newRefSegment(12, 70_000, 65_536)
	raw := s.build()
	checked := openBytes(t, raw)
	trusted, err := OpenTrusted(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for code := uint32(0); code < 8; code++ {
		a, errA := checked.Codes("app", code)
		b, errB := trusted.Codes("app", code)
		if (errA == nil) != (errB == nil) || (errA == nil && !a.Equals(b)) {
			t.Fatalf("code %d: checked %v/%v, trusted %v/%v", code, a, errA, b, errB)
		}
	}
	bad := append([]byte(nil), raw...)
	for _, sec := range checked.Sections() {
		if sec.Column == "app" {
			bad[sec.Offset+sec.Length/2] ^= 0x40
		}
	}
	// Each probe either fails or answers as before: a damaged posting is never served.
	rd, err := OpenTrusted(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		return
	}
	card, err := checked.Cardinality("app")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for code := uint32(0); code <= card; code++ {
		want, _ := checked.Codes("app", code)
		got, err := rd.Codes("app", code)
		if code == card {
			want, _ = checked.CodesNull("app")
			got, err = rd.CodesNull("app")
		}
		switch {
		case err != nil:
			failed++
		case !got.Equals(want):
			t.Fatalf("code %d: a trusted reader served a damaged posting: %d rows, want %d", code, got.GetCardinality(), want.GetCardinality())
		}
	}
	if failed == 0 {
		t.Fatal("no probe of the damaged section failed")
	}
}

// A writer that hashes keys as it goes (AddKeyHashes) writes the same sidecar as one that
// hands over the keys (AddKeys), and bad row lists are refused.
func TestAddKeyHashesIsAddKeys(t *testing.T) {
	const rows = 5000
	key := func(r uint32) ([]byte, bool) {
		if r%7 == 3 {
			return nil, false // no key
		}
		if r%11 == 0 {
			return []byte{}, true // an empty key is a key
		}
		return []byte(fmt.Sprintf("token-%d", r%1234)), true
	}
	a := NewBuilder(rows)
	if err := a.AddKeys("uniqueTokenIdentifier", 1, key); err != nil {
		t.Fatal(err)
	}
	var hashes []uint64
	var list []uint32
	for r := uint32(0); r < rows; r++ {
		if k, ok := key(r); ok {
			hashes, list = append(hashes, KeyHash(k)), append(list, r)
		}
	}
	b := NewBuilder(rows)
	if err := b.AddKeyHashes("uniqueTokenIdentifier", 1, hashes, list); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Marshal(nil), b.Marshal(nil)) {
		t.Fatal("AddKeyHashes wrote another sidecar than AddKeys")
	}
	for _, c := range []struct {
		name   string
		hashes []uint64
		rows   []uint32
	}{
		{"lengths differ", []uint64{1, 2}, []uint32{0}},
		{"rows out of order", []uint64{1, 2}, []uint32{5, 4}},
		{"a row twice", []uint64{1, 2}, []uint32{4, 4}},
		{"a row past the end", []uint64{1}, []uint32{rows}},
	} {
		if err := NewBuilder(rows).AddKeyHashes("id", 1, c.hashes, c.rows); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
