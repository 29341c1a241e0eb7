package columnar

import (
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
