package columnar

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/internal/cpu"
)

// Reading what neither the block cache nor the segment's loaded pages hold. Each such read of a
// cold file waits for the disk, and a page of full rows makes hundreds of them: a frame table
// and a frame for each of ~70 columns, and a few windows of each large dictionary's pages. Made
// one after another, as the rows were written, they were most of a cold page's time. Here the
// reads are made first, side by side and without CPU tokens (readSideBySide: a read waits for
// the disk and checks a CRC), and what they read is decoded after, as far as the CPU pool has
// spare tokens (sideBySide: zstd and every row's checks are heavy work).

// coldReads is the most cold reads made at once.
const coldReads = 8

// sideBySide calls fn(k) for each k in [0, n): in the calling goroutine, and beside it in one
// more goroutine for each token the CPU pool (internal/cpu) has spare, up to coldReads in all.
// The pool promises interactive requests that no more heavy goroutines run than it has tokens;
// a block read that widened into 8 decoding goroutines under its caller's one token broke that
// promise. On an idle machine the work goes side by side; on a busy one it runs where it is.
func sideBySide(n int, fn func(k int)) {
	pool := cpu.Default()
	extra := 0
	for extra < min(coldReads, n)-1 && pool.TryAcquire() {
		extra++
	}
	fanOut(n, extra, pool.Release, fn)
}

// readSideBySide calls fn(k) for each k in [0, n), up to coldReads at once, taking no CPU
// token: fn must be reading (waiting for the disk), not decoding.
func readSideBySide(n int, fn func(k int)) {
	fanOut(n, min(coldReads, n)-1, func() {}, fn)
}

// fanOut calls fn(k) for each k in [0, n) in the calling goroutine and extra more, calling done
// as each of those ends.
func fanOut(n, extra int, done func(), fn func(k int)) {
	var next atomic.Int32
	work := func() {
		for {
			k := int(next.Add(1)) - 1
			if k >= n {
				return
			}
			fn(k)
		}
	}
	var wg sync.WaitGroup
	for range max(0, extra) {
		wg.Go(func() {
			defer done()
			work()
		})
	}
	work()
	wg.Wait()
}

// columnBlock is a column's block as cachedBlock returns it.
type columnBlock struct {
	c *segColumn
	a arrow.Array
}

// minColdColumns is the fewest columns a block read reads side by side.
const minColdColumns = 4

// blockColumns returns block b of each column in cols (its rows take, if not nil), in cols'
// order: those the cache holds at once, the others read and decoded up to coldReads at a time.
// On error nothing is held.
func (s *Segment) blockColumns(b int, cols []int, take []int) ([]columnBlock, error) {
	got := make([]columnBlock, len(cols))
	fail := func(err error) ([]columnBlock, error) {
		for _, g := range got {
			if g.a != nil {
				g.a.Release()
			}
		}
		return nil, err
	}
	// The cold ones, unless there are too few columns for reading side by side to pay for
	// asking the cache first (a count's filter column or two, a page of ids).
	var cold []int // positions in cols
	isCold := []bool(nil)
	if len(cols) >= minColdColumns {
		for i, idx := range cols {
			if s.cache == nil || !s.cache.holds(s, idx, b) {
				cold = append(cold, i)
			}
		}
		if len(cold) >= 2 {
			isCold = make([]bool, len(cols))
			for _, i := range cold {
				isCold[i] = true
			}
		} else {
			cold = nil
		}
	}
	for i, idx := range cols {
		if isCold != nil && isCold[i] {
			continue
		}
		c, a, err := s.cachedBlock(idx, b, take)
		if err != nil {
			return fail(err)
		}
		got[i] = columnBlock{c, a}
	}
	if len(cold) == 0 {
		return got, nil
	}
	frames := s.readCold(b, cols, cold)
	errs := make([]error, len(cold))
	sideBySide(len(cold), func(k int) {
		i := cold[k]
		c, a, err := s.cachedBlockFrame(cols[i], b, take, frames[k])
		got[i], errs[k] = columnBlock{c, a}, err
	})
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	return got, nil
}

// readCold reads block b's frame of each column cols[cold[k]] (and its frame table on first
// use), up to coldReads at once, and returns them by k: nil where there was nothing to read or
// the read failed (the decode reads it again and reports the error). These goroutines take no
// CPU token: each waits for the disk and checks a CRC, while the decoding that follows (zstd,
// every row's checks) runs under tokens (sideBySide). On a machine whose tokens are all held,
// a cold block's ~70 reads still wait for the disk side by side, not one after another.
func (s *Segment) readCold(b int, cols, cold []int) [][]byte {
	frames := make([][]byte, len(cold))
	if s.open() != nil {
		return frames
	}
	readSideBySide(len(cold), func(k int) {
		c := s.stored(cols[cold[k]])
		if c == nil || c.load(s) != nil || c.refs == nil || c.constant() {
			return // nothing stored, a failed or whole-region load, or constant codes: nothing to read
		}
		if f, err := c.readFrame(s, 1+b); err == nil {
			frames[k] = f
		}
	})
	return frames
}

// Prefetch loads the dictionary pages that the values of rows (rows of the batch) are in, the
// columns side by side, so that writing the rows finds them loaded. A page that fails to load
// is reported by Err, as when a value asks for it.
func (b *Batch) Prefetch(rows []int) {
	type need struct {
		d     *segDict
		pages []int
	}
	var needs []need
	for idx := range b.cols {
		c := &b.cols[idx]
		d := c.dict.seg
		if !c.present || d == nil || c.codes == nil {
			continue
		}
		var pages []int
		var seen map[int]bool
		for _, r := range rows {
			if !b.Valid(idx, r) {
				continue
			}
			code := c.codes[r]
			if code < 0 || int(code) >= d.n {
				continue // a code the decoder refused cannot be here; value reports it if it is
			}
			i := int(code >> d.shift)
			if d.pages[i].Load() != nil || seen[i] {
				continue
			}
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[i] = true
			pages = append(pages, i)
		}
		if len(pages) > 0 {
			slices.Sort(pages) // windows in file order
			needs = append(needs, need{d, pages})
		}
	}
	// A dictionary whose pages the rows need from as many windows as page would read one by
	// one before reading it whole is read whole first, the dictionaries side by side (reads);
	// then the pages are decoded within the CPU pool's spare tokens.
	var whole []*segDict
	for _, n := range needs {
		if n.d.c.refs != nil && len(n.d.pages) > 1 && windows(n.pages) >= dictWindowsBeforeWhole {
			whole = append(whole, n.d)
		}
	}
	readSideBySide(len(whole), func(k int) { whole[k].readWhole() })
	sideBySide(len(needs), func(k int) {
		for _, i := range needs[k].pages {
			needs[k].d.page(i)
		}
	})
}

// windows is how many read windows (dictReadPages aligned pages) the sorted pages fall in.
func windows(pages []int) int {
	n, last := 0, -1
	for _, i := range pages {
		if w := i / dictReadPages; w != last {
			n, last = n+1, w
		}
	}
	return n
}
