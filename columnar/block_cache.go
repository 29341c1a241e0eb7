package columnar

import (
	"container/list"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// BlockCache keeps decoded column blocks in memory up to a byte budget, least recently used
// first out. Decoding a block means zstd-decompressing its buffers; warm queries should run at
// memory speed instead.
type BlockCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	lru     *list.List
	entries map[blockKey]*list.Element
	hits    int64
	misses  int64
}

type blockKey struct {
	seg   *Segment
	col   int
	block int
}

type cacheEntry struct {
	key  blockKey
	arr  arrow.Array
	size int64
}

// NewBlockCache returns a cache holding at most budget bytes of decoded blocks.
func NewBlockCache(budget int64) *BlockCache {
	return &BlockCache{budget: budget, lru: list.New(), entries: map[blockKey]*list.Element{}}
}

func (c *BlockCache) get(s *Segment, col, block int) arrow.Array {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[blockKey{s, col, block}]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	c.lru.MoveToFront(e)
	a := e.Value.(*cacheEntry).arr
	a.Retain()
	return a
}

func (c *BlockCache) put(s *Segment, col, block int, a arrow.Array) {
	size := ArrayBytes(a.Data())
	if size > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := blockKey{s, col, block}
	if _, ok := c.entries[k]; ok {
		return
	}
	a.Retain()
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, arr: a, size: size})
	c.used += size
	for c.used > c.budget {
		c.evict(c.lru.Back())
	}
}

func (c *BlockCache) evict(e *list.Element) {
	ce := e.Value.(*cacheEntry)
	c.lru.Remove(e)
	delete(c.entries, ce.key)
	c.used -= ce.size
	ce.arr.Release()
}

func (c *BlockCache) dropSegment(s *Segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if k.seg == s {
			c.evict(e)
		}
	}
}

// Stats returns the bytes held and the hit and miss counts.
func (c *BlockCache) Stats() (used, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.hits, c.misses
}

// ArrayBytes is the size of an array's buffers, children and dictionary (counted in full even
// when shared): what holding it in memory costs at most.
func ArrayBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, ch := range d.Children() {
		n += ArrayBytes(ch)
	}
	// The dictionary is shared by every block of a column; count it once per block anyway, a
	// conservative overestimate that keeps the budget honest.
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		n += ArrayBytes(dict)
	}
	return n
}

// RecordBytes is ArrayBytes summed over a record batch's columns: what a memtable chunk costs.
func RecordBytes(r arrow.RecordBatch) int64 {
	var n int64
	for _, c := range r.Columns() {
		n += ArrayBytes(c.Data())
	}
	return n
}
