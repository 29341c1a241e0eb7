package columnar

import (
	"maps"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// cacheBlock is a 1 KiB int64 block standing for a decoded column block.
func cacheBlock(t *testing.T) *array.Int64 {
	t.Helper()
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(make([]int64, 128), nil)
	a := b.NewInt64Array()
	t.Cleanup(a.Release)
	return a
}

// read asks c for block i of seg as Segment.Block does (get, and put on a miss), and reports
// whether it was a hit.
func read(c *BlockCache, seg *Segment, i int, a *array.Int64) bool {
	if got := c.get(seg, 0, i); got != nil {
		got.Release()
		return true
	}
	c.put(seg, 0, i, a)
	return false
}

// TestBlockCacheAdmission counts hits, it does not time anything:
//   - a page read again and again whose blocks are twice the cache keeps half of them cached
//     (least-recently-used alone evicted each block before its next read: no hit at all);
//   - one large scan does not flush blocks that are read often;
//   - a workload that changes takes the cache over once counts have aged.
func TestBlockCacheAdmission(t *testing.T) {
	a := cacheBlock(t)
	size := ArrayBytes(a.Data())
	const fit = 64
	seg, other := &Segment{}, &Segment{}

	c := NewBlockCache(fit * size)
	hits := 0
	for pass := range 6 {
		for i := range 2 * fit {
			if read(c, seg, i, a) && pass > 0 {
				hits++
			}
		}
	}
	if want := 5 * fit; hits != want { // every later pass hits the half that was admitted
		t.Fatalf("a loop over twice the cache got %d hits in 5 passes; want %d", hits, want)
	}

	// A hot set read very often (its counts saturate), then one scan of ten times the cache:
	// the hot set stays.
	c = NewBlockCache(fit * size)
	for range 300 {
		for i := range fit {
			read(c, seg, i, a)
		}
	}
	for i := range 10 * fit {
		read(c, other, i, a)
	}
	for i := range fit {
		if !read(c, seg, i, a) {
			t.Fatalf("block %d of the hot set was evicted by a single scan", i)
		}
	}

	// The workload moves to other blocks: once the hot set's counts have aged below theirs
	// (a few aging periods), they are the cached ones.
	took := -1
	for pass := range 8 * c.agingPeriod() / fit {
		n := 0
		for i := range fit {
			if read(c, other, i, a) {
				n++
			}
		}
		if n == fit {
			took = pass
			break
		}
	}
	if took < 0 {
		t.Fatalf("a new working set of the cache's size never became the cached one")
	}
	if used, _, _ := c.Stats(); used > fit*size {
		t.Fatalf("the cache holds %d bytes over its budget of %d", used, fit*size)
	}
}

// readRows asks c for block i of seg as a sparse read does (Segment.BlockRows): a hit, a
// whole decode that is put, or a sparse read that leaves the cache alone. It says which.
func readRows(c *BlockCache, seg *Segment, i int, a *array.Int64) string {
	got, whole := c.getForRows(seg, 0, i)
	switch {
	case got != nil:
		got.Release()
		return "hit"
	case whole:
		c.put(seg, 0, i, a)
		return "whole"
	}
	return "sparse"
}

// TestBlockCacheForRows counts what reads of a few rows do: a block read once is read sparsely
// and not cached; read again, it is decoded whole and cached, then hit. A page of scattered
// rows read once leaves the cache as it was; read again and again, it fills what is free of the
// cache and the rest of its blocks stay sparse (they are asked for no more often than those
// cached), instead of decoding whole blocks the cache cannot take.
func TestBlockCacheForRows(t *testing.T) {
	a := cacheBlock(t)
	size := ArrayBytes(a.Data())
	const fit = 64
	seg := &Segment{}
	c := NewBlockCache(fit * size)
	var got []string
	for range 3 {
		got = append(got, readRows(c, seg, 0, a))
	}
	if want := []string{"sparse", "whole", "hit"}; !slices.Equal(got, want) {
		t.Fatalf("one block read three times: %v, want %v", got, want)
	}

	// A block larger than the cache is never decoded whole for a few rows: put would refuse it.
	small := NewBlockCache(size / 2)
	got = got[:0]
	for range 4 {
		got = append(got, readRows(small, seg, 0, a))
	}
	if want := []string{"sparse", "whole", "sparse", "sparse"}; !slices.Equal(got, want) {
		t.Fatalf("a block larger than the cache read four times: %v, want %v (only the first whole read, which learns its size)", got, want)
	}

	c = NewBlockCache(fit * size)
	count := map[string]int{}
	for i := range 10 * fit {
		count[readRows(c, seg, i, a)]++
	}
	if used, _, _ := c.Stats(); count["sparse"] != 10*fit || used != 0 {
		t.Fatalf("a page read once over ten times the cache: %v, %d bytes cached", count, used)
	}
	for pass := range 4 {
		count = map[string]int{}
		for i := range 10 * fit {
			count[readRows(c, seg, i, a)]++
		}
		var want map[string]int
		switch pass {
		case 0: // the first blocks fill the cache, then the rest stay sparse
			want = map[string]int{"whole": fit, "sparse": 9 * fit}
		default:
			want = map[string]int{"hit": fit, "sparse": 9 * fit}
		}
		if !maps.Equal(count, want) {
			t.Fatalf("pass %d over a page ten times the cache: %v, want %v", pass+2, count, want)
		}
	}
}
