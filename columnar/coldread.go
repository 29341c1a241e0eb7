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
// one after another, as the rows were written, they were most of a cold page's time; here they
// are made side by side, as far as the CPU pool has room (sideBySide).

// coldReads is the most cold reads made at once.
const coldReads = 8

// sideBySide calls fn(k) for each k in [0, n): in the calling goroutine, and beside it in one
// more goroutine for each token the CPU pool (internal/cpu) has spare, up to coldReads in all.
// Each read also decodes what it read (zstd, checks), which is heavy work: the pool promises
// interactive requests that no more heavy goroutines run than it has tokens, and a block read
// that widened into 8 decoding goroutines under its caller's one token broke that promise. On
// an idle machine the reads still go side by side; on a busy one they run where they are.
func sideBySide(n int, fn func(k int)) {
	pool := cpu.Default()
	extra := 0
	for extra < min(coldReads, n)-1 && pool.TryAcquire() {
		extra++
	}
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
	for range extra {
		wg.Go(func() {
			defer pool.Release()
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
	errs := make([]error, len(cold))
	sideBySide(len(cold), func(k int) {
		i := cold[k]
		c, a, err := s.cachedBlock(cols[i], b, take)
		got[i], errs[k] = columnBlock{c, a}, err
	})
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	return got, nil
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
	sideBySide(len(needs), func(k int) {
		for _, i := range needs[k].pages {
			needs[k].d.page(i)
		}
	})
}
