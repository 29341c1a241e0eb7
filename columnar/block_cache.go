package columnar

import (
	"container/list"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// BlockCache keeps decoded column blocks in memory up to a byte budget. Decoding a block means
// zstd-decompressing its buffers; warm queries should run at memory speed instead.
//
// Eviction is least recently used first, and admission is by frequency (as TinyLFU's): once
// the cache is full, a block decoded again is cached only if it has been asked for more often
// than each block it would evict. Plain LRU gets no hit at all when a page is read again and
// again whose blocks do not all fit (a 1,000-row page of full rows from 30 daily segments is
// about 130 MB of decoded blocks against the default 128 MiB): each block evicts the one the
// next run asks for first. With admission the cache keeps what it holds of such a page and
// the page's other blocks are decoded each time, and one large scan does not flush what
// smaller queries use. Counts are halved every few cache-sizes of requests, so a workload
// that changes takes over the cache.
type BlockCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	lru     *list.List
	entries map[blockKey]*list.Element
	hits    int64
	misses  int64

	freq     map[blockKey]uint8 // requests for blocks not cached (a cached one counts in its entry)
	requests int                // since the last aging
	colSize  map[int]int64      // the size of the last block of each column offered (getForRows)
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
	freq uint8 // requests since the last aging
}

// NewBlockCache returns a cache holding at most budget bytes of decoded blocks.
func NewBlockCache(budget int64) *BlockCache {
	return &BlockCache{budget: budget, lru: list.New(), entries: map[blockKey]*list.Element{}, freq: map[blockKey]uint8{}, colSize: map[int]int64{}}
}

// agingPeriod is how many requests pass between halvings of the counts: ten times the blocks
// the cache holds (at least 4,096), as TinyLFU's sample size.
func (c *BlockCache) agingPeriod() int { return max(4096, 10*len(c.entries)) }

// tick counts a request and halves every count once per aging period. Called with mu held.
func (c *BlockCache) tick() {
	if c.requests++; c.requests < c.agingPeriod() {
		return
	}
	c.requests = 0
	for k, f := range c.freq {
		if f /= 2; f == 0 {
			delete(c.freq, k)
		} else {
			c.freq[k] = f
		}
	}
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*cacheEntry).freq /= 2
	}
}

func saturatingInc(f uint8) uint8 { return f + uint8(1-f/255) }

// holds says whether the cache holds block of col, without counting a request: a read asks
// before it reads a block's columns, to read those it must decode side by side.
func (c *BlockCache) holds(s *Segment, col, block int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[blockKey{s, col, block}]
	return ok
}

func (c *BlockCache) get(s *Segment, col, block int) arrow.Array {
	a, _ := c.getForRows(s, col, block)
	return a
}

// getForRows is get for a read of a few of the block's rows. On a miss, whole says whether to
// decode the block whole and put it, rather than read the rows only (a sparse read, which is
// not cached): when the block has been asked for before and the cache would take it (it has
// room, or the block has been asked for more often than the least recently used one). A page
// read once (scattered rows from hundreds of blocks) is read sparsely and leaves the cache as
// it was; a small page read again and again (one sign-in by id, one user's day) is cached
// from its second read and then costs no decoding.
func (c *BlockCache) getForRows(s *Segment, col, block int) (a arrow.Array, whole bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick()
	k := blockKey{s, col, block}
	e, ok := c.entries[k]
	if !ok {
		f := saturatingInc(c.freq[k])
		c.freq[k] = f
		c.misses++
		if f < 2 {
			return nil, false
		}
		// As put will decide, for a block the size of this column's last one.
		_, admit := c.admits(f, c.colSize[col])
		return nil, admit
	}
	c.hits++
	c.lru.MoveToFront(e)
	ce := e.Value.(*cacheEntry)
	ce.freq = saturatingInc(ce.freq)
	ce.arr.Retain()
	return ce.arr, false
}

func (c *BlockCache) put(s *Segment, col, block int, a arrow.Array) {
	size := ArrayBytes(a.Data())
	c.mu.Lock()
	defer c.mu.Unlock()
	k := blockKey{s, col, block}
	c.colSize[col] = size
	if _, ok := c.entries[k]; ok {
		return
	}
	f := c.freq[k]
	victims, ok := c.admits(f, size)
	if !ok {
		return
	}
	for _, e := range victims {
		c.evict(e)
	}
	delete(c.freq, k)
	a.Retain()
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, arr: a, size: size, freq: f})
	c.used += size
}

// admits says whether a block of size bytes asked for f times would be cached, and which blocks
// it would evict: least recently used first, each must have been asked for less often than it
// (ties keep what is cached). Called with mu held.
func (c *BlockCache) admits(f uint8, size int64) (victims []*list.Element, ok bool) {
	if size > c.budget {
		return nil, false
	}
	need := c.used + size - c.budget
	for e := c.lru.Back(); need > 0 && e != nil; e = e.Prev() {
		ce := e.Value.(*cacheEntry)
		if ce.freq >= f {
			return nil, false
		}
		victims = append(victims, e)
		need -= ce.size
	}
	return victims, true
}

func (c *BlockCache) evict(e *list.Element) {
	ce := e.Value.(*cacheEntry)
	c.lru.Remove(e)
	delete(c.entries, ce.key)
	if ce.freq > 0 {
		c.freq[ce.key] = ce.freq // its count outlives it, as TinyLFU's does
	}
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
	for k := range c.freq {
		if k.seg == s {
			delete(c.freq, k) // a closed segment's counts would keep it alive
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
