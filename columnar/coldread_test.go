package columnar

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// pageJSON encodes every row of block b of seg, all columns, read through BlockBatch (take nil)
// or BlockRows.
func pageJSON(t *testing.T, seg *Segment, b int, take []int) []string {
	t.Helper()
	all := make([]int, SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	var (
		batch   *Batch
		release func()
		err     error
	)
	if take == nil {
		batch, release, err = seg.BlockBatch(b, all)
	} else {
		batch, release, err = seg.BlockRows(b, all, take)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows := seg.BlockLen(b)
	if take != nil {
		rows = len(take)
	}
	var enc Encoder
	out := make([]string, rows)
	for r := range out {
		j, err := enc.AppendJSON(nil, batch, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[r] = string(j)
	}
	if err := batch.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sparseOf is the rows of take within a block of n rows.
func sparseOf(take []int, n int) []int {
	var out []int
	for _, r := range take {
		if r < n {
			out = append(out, r)
		}
	}
	return out
}

// A block's columns that the cache does not hold are read side by side (blockColumns): the
// rows are those of a read of one column after another, whole or sparse, cold or half cached,
// and every buffer is released.
func TestColdColumnsReadSideBySide(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 2000), 512)
	open := func(cache *BlockCache, mem memory.Allocator) *Segment {
		seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, cache, mem)
		if err != nil {
			t.Fatal(err)
		}
		return seg
	}
	defer func(n int) { coldReads = n }(coldReads)
	coldReads = 1
	ref := open(nil, memory.DefaultAllocator)
	defer ref.Close()
	take := []int{1, 7, 100, 101, 300, 463}
	var want, wantSparse [][]string
	for b := range ref.NumBlocks() {
		want = append(want, pageJSON(t, ref, b, nil))
		wantSparse = append(wantSparse, pageJSON(t, ref, b, sparseOf(take, ref.BlockLen(b))))
	}

	coldReads = 8
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cache := NewBlockCache(64 << 20)
	seg := open(cache, mem)
	for round := range 3 { // cold, then from the cache, then half from it
		for b := range seg.NumBlocks() {
			if round == 2 && b%2 == 0 {
				cache.dropSegment(seg)
			}
			got := pageJSON(t, seg, b, nil)
			if strings.Join(got, "\n") != strings.Join(want[b], "\n") {
				t.Fatalf("round %d block %d: rows read side by side differ from one column after another", round, b)
			}
			sparse := pageJSON(t, seg, b, sparseOf(take, seg.BlockLen(b)))
			if strings.Join(sparse, "\n") != strings.Join(wantSparse[b], "\n") {
				t.Fatalf("round %d block %d: sparse rows read side by side differ", round, b)
			}
		}
	}
	seg.Close()
	cache.dropSegment(seg)
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated after the segment closed", left)
	}
}

// A column that fails to read fails the block whichever columns are read beside it, and what
// the others decoded is released.
func TestColdColumnErrorReleasesTheOthers(t *testing.T) {
	path, meta := writeTestSegment(t, t.TempDir(), sparseEvents(t, 1500), 512)
	// Damage the middle of one stored column's region: its frames, not its frame table.
	var name string
	for _, c := range meta.Columns {
		if c.Name == "correlationId" {
			name = c.Name
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw[c.Offset+c.Length/3] ^= 0xff
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if name == "" {
		t.Fatal("no correlationId column")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, NewBlockCache(64<<20), mem)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	failed := 0
	for b := range seg.NumBlocks() {
		_, release, err := seg.BlockBatch(b, all)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("block %d: %v, want an error naming %s", b, err, name)
			}
			failed++
			continue
		}
		release()
	}
	if failed == 0 {
		t.Fatal("no block failed: the damage was not read")
	}
	seg.Close()
	seg.cache.dropSegment(seg)
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated", left)
	}
}

// Prefetch loads the dictionary pages of the rows asked for, and only the pages a row of them
// needs: writing those rows then reads nothing more, and shows the values of the whole
// dictionary.
func TestPrefetchLoadsThePagesOfTheRows(t *testing.T) {
	seg, path, upn := manyUsersSegment(t, 5000)
	all := make([]int, SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	b := 7
	batch, release, err := seg.BlockBatch(b, all)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows := []int{0, 3, 40, 41, 63}
	want := map[int]bool{}
	for _, r := range rows {
		want[int(batch.Code(upn, r))>>dictPageShift] = true
	}
	if loaded, _, _ := loadedPages(seg, upn); loaded != 0 {
		t.Fatalf("%d pages loaded before Prefetch", loaded)
	}
	batch.Prefetch(rows)
	d := seg.cols[upn].pages
	for i := range d.pages {
		if want[i] && d.pages[i].Load() == nil {
			t.Fatalf("page %d of a row asked for is not loaded", i)
		}
	}
	reads := 0
	for _, c := range seg.cols {
		if c != nil && c.pages != nil {
			reads += int(c.pages.reads.Load())
		}
	}
	if reads == 0 {
		t.Fatal("Prefetch read nothing")
	}
	ref, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	refBatch, refRelease, err := ref.BlockBatch(b, all)
	if err != nil {
		t.Fatal(err)
	}
	defer refRelease()
	var enc Encoder
	for _, r := range rows {
		got, err1 := enc.AppendJSON(nil, batch, r, nil)
		exp, err2 := enc.AppendJSON(nil, refBatch, r, nil)
		if err1 != nil || err2 != nil || string(got) != string(exp) {
			t.Fatalf("row %d after Prefetch:\n%s\nwant\n%s\n(%v, %v)", r, got, exp, err1, err2)
		}
	}
	after := 0
	for _, c := range seg.cols {
		if c != nil && c.pages != nil {
			after += int(c.pages.reads.Load())
		}
	}
	if after != reads {
		t.Fatalf("writing the rows read %d more times after Prefetch", after-reads)
	}
	if err := batch.Err(); err != nil {
		t.Fatal(err)
	}
}
