package index

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestRunListRoundTrip: a posting of a few runs is written as a run list, shorter than its
// roaring form, and reads back as the same rows; one of many scattered rows stays roaring.
func TestRunListRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for c := range 2000 {
		bm := roaring.New()
		for range 1 + rng.IntN(4) {
			s := uint64(rng.IntN(1 << 20))
			bm.AddRange(s, s+1+uint64(rng.IntN(200)))
		}
		if c%10 == 0 {
			bm.Add(0)
		}
		bm.RunOptimize()
		limit := int(bm.GetSerializedSizeInBytes())
		b, ok := appendRunList(nil, bm, limit)
		if !ok || len(b) >= limit {
			t.Fatalf("%v: run list %v, %d bytes, roaring %d", bm, ok, len(b), limit)
		}
		got, err := decodePosting(b, 1<<21, true)
		if err != nil || !got.Equals(bm) {
			t.Fatalf("%v read back as %v (%v)", bm, got, err)
		}
	}
	one := roaring.New()
	one.AddRange(1000, 1017) // one user's 17 sign-ins of a day
	one.RunOptimize()
	b, _ := appendRunList(nil, one, int(one.GetSerializedSizeInBytes()))
	t.Logf("one run: %d bytes, roaring %d", len(b), one.GetSerializedSizeInBytes())
	if len(b) > 5 {
		t.Errorf("one run takes %d bytes", len(b))
	}
	scattered := roaring.New()
	for i := range uint32(300) {
		scattered.Add(i * 300) // gaps of two varint bytes: roaring's array of 2-byte values is smaller
	}
	scattered.RunOptimize()
	if _, ok := appendRunList(nil, scattered, int(scattered.GetSerializedSizeInBytes())); ok {
		t.Error("300 scattered rows written as runs")
	}
}

// TestRunListRefusesOtherSpellings: what the writer never writes is refused.
func TestRunListRefusesOtherSpellings(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"no runs", []byte{runListTag, 0}},
		{"a run touching the one before", []byte{runListTag, 2, 0, 3, 0, 1}},
		{"a run past the rows", []byte{runListTag, 1, 90, 20}},
		{"bytes after the runs", []byte{runListTag, 1, 0, 0, 0}},
		{"a truncated run", []byte{runListTag, 2, 0, 1}},
		{"more runs than rows", []byte{runListTag, 120}},
	} {
		if bm, err := decodePosting(c.b, 100, true); err == nil {
			t.Errorf("%s: read as %v", c.name, bm)
		}
	}
}

// FuzzRunList: whatever run list the reader accepts holds rows of the segment only and is
// written back as the same bytes.
func FuzzRunList(f *testing.F) {
	f.Add([]byte{runListTag, 1, 5, 16}, uint32(100))
	f.Add([]byte{runListTag, 2, 0, 0, 3, 9}, uint32(20))
	f.Fuzz(func(t *testing.T, b []byte, rows uint32) {
		rows %= 1 << 24
		bm, err := decodeRunList(b, rows)
		if err != nil {
			return
		}
		if bm.IsEmpty() || bm.Maximum() >= rows {
			t.Fatalf("%x: rows %v of a segment of %d", b, bm, rows)
		}
		again, ok := appendRunList(nil, bm, len(b)+1)
		if !ok || string(again) != string(b) {
			t.Fatalf("%x read as %v, written as %x (%v)", b, bm, again, ok)
		}
	})
}

// TestPostingsKeepManyRunsAsRoaring: the writer stores a posting of a few runs as a run list
// and one of many runs (which a run list would rebuild run by run) as roaring.
func TestPostingsKeepManyRunsAsRoaring(t *testing.T) {
	few, many := roaring.New(), roaring.New()
	few.AddRange(100, 117)
	for i := range uint64(2000) {
		many.AddRange(i*50, i*50+3)
	}
	few.RunOptimize()
	many.RunOptimize()
	p := marshalPostingsGrouped(nil, nil, []*roaring.Bitmap{few, many, roaring.New()})
	ps, err := openPostingsGrouped(bytes.NewReader(p), 0, int64(len(p)), 200_000, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []*roaring.Bitmap{few, many} {
		got, err := ps.bitmap(i)
		if err != nil || !got.Equals(want) {
			t.Fatalf("posting %d: %v", i, err)
		}
	}
	area, rec := p[ps.areaAt:], p[ps.tableAt:]
	if area[0] != runListTag {
		t.Errorf("one run stored as %#x, not a run list", area[0])
	}
	first := getLen(rec[8:], ps.w)
	if second := area[align8(first):]; second[0] == runListTag {
		t.Error("2,000 runs stored as a run list")
	}
}

// TestRunListReadsAsRoaringBuildsIt: run lists of many runs, runs across 65,536-row chunks and
// whole chunks read back as the bitmap roaring builds from the same runs (the reader writes
// roaring's serialization of run containers itself).
func TestRunListReadsAsRoaringBuildsIt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows = 1 << 23
	for c := range 60 {
		want := roaring.New()
		at := uint64(rng.IntN(1000))
		for range 1 + rng.IntN(1500) {
			l := uint64(1 + rng.IntN(50))
			if rng.IntN(20) == 0 {
				l = uint64(1 + rng.IntN(200_000)) // across chunks, or a whole one
			}
			if at+l > rows {
				break
			}
			want.AddRange(at, at+l)
			at += l + 1 + uint64(rng.IntN(3000))
		}
		if c == 0 {
			want = roaring.New()
			want.AddRange(0, rows) // every row: whole chunks of 65,536
		}
		b, ok := appendRunList(nil, want, 1<<30)
		if !ok {
			t.Fatalf("case %d: no run list", c)
		}
		got, err := decodeRunList(b, rows)
		if err != nil || !got.Equals(want) || got.GetCardinality() != want.GetCardinality() {
			t.Fatalf("case %d: %d runs read back as %d rows (%v), want %d", c, want.GetSerializedSizeInBytes(), got.GetCardinality(), err, want.GetCardinality())
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
	}
}

// TestRunMemoKeepsLongRunLists: a posting stored as a long run list (an application's rows on a
// day sorted by user) is decoded once and kept within the Resident: later probes get equal
// bitmaps that their callers may change without changing what the next probe gets; a
// Resident too small for it keeps nothing and every probe decodes it; Release gives it back.
func TestRunMemoKeepsLongRunLists(t *testing.T) {
	const rows = 1 << 20
	codes := make([]uint32, rows)
	for r := range codes {
		if r%100 < 40 { // 10,486 runs of 40 rows: a run list of ~21 KB, roaring's ~42 KB
			codes[r] = 1
		}
	}
	b := NewBuilder(rows)
	if err := b.AddCodes("app", codes, ^uint32(0), 2); err != nil {
		t.Fatal(err)
	}
	data := b.Marshal(nil)
	want := roaring.New()
	for r := range uint32(rows) {
		if codes[r] == 1 {
			want.Add(r)
		}
	}
	probe := func(rd *Reader) *roaring.Bitmap {
		t.Helper()
		bm, err := rd.Codes("app", 1)
		if err != nil || !bm.Equals(want) {
			t.Fatalf("posting: %v (%d rows, want %d)", err, bm.GetCardinality(), want.GetCardinality())
		}
		return bm
	}
	memo := func(rd *Reader) *runMemo {
		ps, err := rd.postings("app", KindCodes)
		if err != nil {
			t.Fatal(err)
		}
		return &ps.(pagedPostings).probes().runs
	}

	res := NewResident(1 << 30)
	rd, _ := openResident(data, res)
	first := probe(rd)
	if n := len(memo(rd).byPosting); n != 1 || res.Used() == 0 {
		t.Fatalf("%d postings kept, %d bytes resident; want the long run list", n, res.Used())
	}
	first.Add(1<<20 - 1) // the caller's copy
	first.RemoveRange(0, 1000)
	second := probe(rd)
	second.Flip(0, rows)
	probe(rd)
	// Probes at once, each changing its copy (the race detector's test run checks the clones).
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 5 {
				bm, err := rd.Codes("app", 1)
				if err != nil || !bm.Equals(want) {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				bm.Add(uint32(g))
			}
		})
	}
	wg.Wait()
	rd.Release()
	if used := res.Used(); used != 0 {
		t.Fatalf("%d bytes resident after Release", used)
	}

	small := NewResident(1 << 10)
	rd, _ = openResident(data, small)
	for range 3 {
		probe(rd)
	}
	if n := len(memo(rd).byPosting); n != 0 || small.Used() != 0 {
		t.Fatalf("a 1 KB Resident keeps %d postings, %d bytes", n, small.Used())
	}
}
