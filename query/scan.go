package query

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/cpu"
)

// unitRef names where a selected row lives, for late materialization.
type unitRef struct {
	seg *Segment          // nil for a memtable chunk
	rec arrow.RecordBatch // memtable chunk
}

// consumer receives the selected rows of each block. The scanner reads the columns the
// filter's residual needs plus cols().
type consumer interface {
	cols() []int
	// skipSegment and skipBlock let top-N skip data that cannot enter the page.
	skipSegment(s *Segment) bool
	skipBlock(s *Segment, block int) bool
	visit(u unitRef, block int, b *columnar.Batch, sel []uint64) error
	// addCount is called instead of visit when a segment's answer is exact from the
	// index alone and countOnly() is true.
	countOnly() bool
	addCount(n int64)
}

type scanner struct {
	f           *Filter
	noIndex     bool
	ex          *Explain
	now         int64
	newestFirst bool
	cpu         *cpu.Pool // set by run from the Source
	pace        cpu.Pace  // this worker's (each worker scans with its own copy)
	// values holds the answers of dictionary predicates by value over the memtable chunks
	// this worker scanned (nil until its first): each chunk has a dictionary of its own.
	values valueTruths
	// memCols are the columns a memtable chunk is bound with (set by run).
	memCols []int
}

// predCols appends the batch columns p reads. Generic predicates over GUID columns also
// read the extras column, where non-GUID text of a GUID column lives.
func predCols(p pred, s *columnar.Schema, dst []int) []int {
	add := func(i int) {
		if !slices.Contains(dst, i) {
			dst = append(dst, i)
		}
	}
	switch p := p.(type) {
	case *pLogic:
		for _, k := range p.kids {
			dst = predCols(k, s, dst)
		}
	case *pNot:
		dst = predCols(p.x, s, dst)
	case *pDict:
		add(p.col.Index)
	case *pCmp:
		add(p.col.Index)
	case *pBare:
		add(p.col.Index)
	case *pGeneric:
		for _, c := range p.cols {
			add(c.Index)
			if c.Kind == columnar.KindGUID {
				add(s.Extras())
			}
		}
	}
	return dst
}

// forker is a consumer that can be split across workers and merged back.
type forker interface {
	consumer
	fork() consumer
	merge(consumer)
}

// workItem is one segment or one memtable chunk.
type workItem struct {
	day int32
	seg *Segment
	rec arrow.RecordBatch
}

// maxWorkers bounds scan parallelism (GOMAXPROCS at most).
var maxWorkers = runtime.GOMAXPROCS(0)

func (sc *scanner) run(ctx context.Context, src Source, c consumer) error {
	if !cpu.IsInteractive(ctx) { // interactive work runs on the P the pool keeps free
		sc.cpu = src.pool()
	}
	// The columns a memtable chunk is bound with: a segment's block is read with these
	// (scanner.segment). Workers share them (a fork reads what its parent reads).
	sc.memCols = predCols(sc.f.pred, sc.f.schema, slices.Clone(c.cols()))
	days := src.Days
	var items []workItem
	for i := range days {
		d := &days[i]
		if sc.newestFirst {
			d = &days[len(days)-1-i]
		}
		if sc.newestFirst {
			// A day's memtable holds what came after its segments, and its chunks come in
			// order of arrival: the latest chunk first. Taken oldest first, each chunk's rows
			// displaced the page's worst one by one (a tenth of a loaded server's CPU in heap
			// fixes, its memtable of a hundred chunks of 1,000 rows).
			for i := len(d.Mem) - 1; i >= 0; i-- {
				items = append(items, workItem{rec: d.Mem[i]})
			}
		}
		for si := range d.Segments {
			items = append(items, workItem{day: d.Day, seg: &d.Segments[si]})
		}
		if !sc.newestFirst {
			for _, rec := range d.Mem {
				items = append(items, workItem{rec: rec})
			}
		}
	}
	defer func() { sc.ex.IndexOnly = sc.ex.Segments > 0 && !sc.ex.segResidual }()
	f, ok := c.(forker)
	workers := min(maxWorkers, len(items))
	if !ok || workers < 2 {
		return sc.runItems(ctx, items, nil, c)
	}
	// Workers pull items in order (newest first for a descending time order, so that
	// top-N bounds tighten early), each with its own consumer and counters; the results
	// are merged in worker order. The feeder stops when the scan returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan workItem)
	go func() {
		defer close(next)
		for _, it := range items {
			select {
			case next <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	subs := make([]*scanner, workers)
	cons := make([]consumer, workers)
	for w := range workers {
		sub := *sc
		sub.ex = &Explain{wantProbes: sc.ex.wantProbes}
		sub.values = nil // a worker's own
		subs[w], cons[w] = &sub, f.fork()
	}
	err := runWorkers(ctx, workers, func(ctx context.Context, w int) error {
		return subs[w].runItems(ctx, nil, next, cons[w])
	})
	for w := range workers {
		sc.ex.add(subs[w].ex)
		f.merge(cons[w])
	}
	slices.SortStableFunc(sc.ex.Probes, func(a, b ProbeStat) int {
		if a.Day != b.Day {
			return cmp3(int64(a.Day), int64(b.Day))
		}
		return cmp3(int64(a.Segment), int64(b.Segment))
	})
	return err
}

// runItems scans items (or, when items is nil, what arrives on next).
func (sc *scanner) runItems(ctx context.Context, items []workItem, next <-chan workItem, c consumer) error {
	var words []uint64
	do := func(it workItem) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if it.rec != nil {
			if err := sc.cpu.Acquire(ctx); err != nil {
				return err
			}
			defer sc.cpu.ReleasePaced(&sc.pace)
			return sc.mem(it.rec, c)
		}
		s := it.seg
		sc.ex.Segments++
		sc.ex.Blocks += s.Seg.NumBlocks()
		if c.skipSegment(s) {
			sc.ex.SegPruned++
			return nil
		}
		var err error
		if words, err = sc.segment(ctx, it.day, s, c, words); err != nil {
			return fmt.Errorf("segment %d: %w", s.ID, err)
		}
		return nil
	}
	if next == nil {
		for _, it := range items {
			if err := do(it); err != nil {
				return err
			}
		}
		return nil
	}
	for it := range next {
		if err := do(it); err != nil {
			// Drain so the feeder can finish once the context is canceled.
			for range next {
			}
			return err
		}
	}
	return nil
}

// probeSegment returns the candidate rows (nil = all) and the residual predicate (nil =
// the candidates are exactly the answer). For a count (countOnly, no hidden rows) whose
// conjuncts the index answers exactly, one of them a dictionary predicate and the others true
// on every row (a time window covering the segment's day), it returns instead how many rows
// match, from the postings' counts: count is -1 otherwise.
func (sc *scanner) probeSegment(day int32, s *Segment, unit *unitState, countOnly bool) (cand *roaring.Bitmap, residual pred, count int64, err error) {
	p := sc.f.pred
	if sc.noIndex || s.Index == nil {
		return nil, p, -1, nil
	}
	pr := &prober{seg: s.Seg, idx: s.Index, unit: unit, rows: uint32(s.Seg.Meta.Rows), explain: sc.ex.wantProbes}
	defer func() {
		for _, n := range pr.notes {
			n.Segment, n.Day = s.ID, day
			sc.ex.Probes = append(sc.ex.Probes, n)
		}
	}()
	// Probe the conjuncts one by one so that those answered exactly drop out of the
	// residual.
	kids := []pred{p}
	if l, ok := p.(*pLogic); ok && l.and {
		kids = l.kids // time comparisons first (lower)
	}
	// A count leaves its dictionary conjunct for last: it may then be counted, not probed.
	var counted *pDict
	countable := countOnly && (s.Hidden == nil || s.Hidden.IsEmpty())
	if countable {
		for i, k := range kids {
			if d, ok := k.(*pDict); ok {
				counted = d
				kids = append(slices.Clone(kids[:i]), kids[i+1:]...)
				break
			}
		}
	}
	// Every conjunct is probed first and the answers intersected after, smallest first:
	// intersecting two large postings (an error code's and the interactive event type's, run
	// containers roaring turns into bitmaps container by container) cost 2 ms a 3.3M-row segment
	// where a small one (a country's) would have cut both down to nothing. An empty answer
	// still ends the probing at once.
	var rs []pred
	var got []probeRes
	all := true // every answer is every row, known without counting
	for _, k := range kids {
		r, ok := probeConjunct(pr, k)
		if pr.err != nil {
			return nil, nil, -1, pr.err
		}
		if !ok {
			rs = append(rs, k)
			continue
		}
		if !r.exact {
			rs = append(rs, k)
		}
		if noRow(r.t, r.not, pr.rows) {
			// No row can match the conjunction: the other conjuncts need not be probed (nor
			// evaluated).
			return roaring.New(), nil, -1, nil
		}
		all = all && r.all
		got = append(got, r)
	}
	if counted != nil {
		if len(rs) == 0 && all {
			if n, ok := pr.dictCount(counted); ok {
				return nil, nil, int64(n), nil
			}
		}
		if pr.err != nil {
			return nil, nil, -1, pr.err
		}
		switch r, ok := pr.probe(counted); {
		case pr.err != nil:
			return nil, nil, -1, pr.err
		case !ok:
			rs = append(rs, counted)
		default:
			if !r.exact {
				rs = append(rs, counted)
			}
			got = append(got, r)
		}
	}
	// Smallest first; the answers that exclude rows last, to subtract from what is left. (A
	// run container's cardinality is a sum over its runs: each is taken once.)
	type sized struct {
		r probeRes
		n uint64
	}
	order := make([]sized, len(got))
	for i, r := range got {
		order[i] = sized{r, math.MaxUint64}
		if r.t != nil {
			order[i].n = r.t.GetCardinality()
		}
	}
	slices.SortStableFunc(order, func(a, b sized) int { return cmp.Compare(a.n, b.n) })
	conj := newConjunction(pr.rows)
	for i, o := range order {
		r := o.r
		if countable && len(rs) == 0 && i == len(order)-1 {
			// The count of the last intersection, without making it.
			return nil, nil, int64(conj.countWith(r)), nil
		}
		conj.and(r)
		if conj.empty() {
			return conj.bitmap(pr), nil, -1, nil
		}
	}
	cand = conj.bitmap(pr)
	switch len(rs) {
	case 0:
		return cand, nil, -1, nil
	case 1:
		return cand, rs[0], -1, nil
	}
	return cand, &pLogic{and: true, kids: rs}, -1, nil
}

// probeConjunct probes a top-level conjunct of a segment's filter. A comparison may then
// answer with the rows it excludes (probeRes.not, see conjunction); nested predicates never do.
func probeConjunct(pr *prober, k pred) (probeRes, bool) {
	if _, ok := k.(*pCmp); !ok {
		return pr.probe(k)
	}
	pr.excluding = true
	r, ok := pr.probe(k)
	pr.excluding = false
	if ok && r.t == nil && !r.not.IsEmpty() && r.not.Maximum() >= pr.rows {
		// A posting past the segment's rows (a sidecar of another segment): the rows of the
		// segment it leaves, as the probe answers when not asked to exclude, so that no count
		// subtracts rows the segment does not have.
		r.t, r.not = pr.rest(r.not, nil), nil
	}
	return r, ok
}

func (sc *scanner) segment(ctx context.Context, day int32, s *Segment, c consumer, words []uint64) ([]uint64, error) {
	unit := &unitState{sorted: true, now: sc.now}
	if err := sc.cpu.Acquire(ctx); err != nil {
		return words, err
	}
	cand, residual, count, err := sc.probeSegment(day, s, unit, c.countOnly())
	sc.cpu.ReleasePaced(&sc.pace)
	if err != nil {
		return words, err
	}
	if count >= 0 {
		sc.ex.RowsMatched += count
		c.addCount(count)
		return words, nil
	}
	if s.Hidden != nil && !s.Hidden.IsEmpty() {
		if cand == nil {
			cand = roaring.New()
			cand.AddRange(0, uint64(s.Seg.Meta.Rows))
		}
		cand = roaring.AndNot(cand, s.Hidden)
	}
	if cand != nil && cand.IsEmpty() { // the index leaves no row: every block is pruned
		sc.ex.BlocksPrunedZone += s.Seg.NumBlocks()
		return words, nil
	}
	if residual == nil && cand != nil && c.countOnly() {
		n := int64(cand.GetCardinality())
		sc.ex.RowsMatched += n
		c.addCount(n)
		return words, nil
	}
	cols := c.cols()
	if residual != nil {
		cols = predCols(residual, sc.f.schema, slices.Clone(cols))
	}
	nb := s.Seg.NumBlocks()
	br := s.Seg.Meta.BlockRows
	// The candidates as one dense bitmap of the segment's rows, a block's words a slice of it
	// when blocks start on a word (they do: blockRows is a multiple of 64): one pass over
	// the bitmap instead of an intersection, a shift and their allocations a block.
	dense := cand != nil && br > 0 && br%64 == 0 && (cand.IsEmpty() || uint64(cand.Maximum()) < uint64(s.Seg.Meta.Rows))
	// Fewer candidates than blocks (a needle: an id, a correlation id, a user's few rows) are
	// visited in the blocks they are in, found from the bitmap: clearing and filling the dense
	// bitmap of a 300,000-row segment and testing every block's words for none was a third of
	// a warm correlation-id lookup over 30 days.
	var only []int // the blocks to visit, ascending; nil: every block
	if cand != nil && br > 0 {
		if only = candidateBlocks(cand, br, nb/4); only != nil {
			dense = false
			sc.ex.BlocksPrunedZone += nb - len(only)
		}
	}
	if dense {
		nw := (s.Seg.Meta.Rows + 63) / 64
		words = slices.Grow(words[:0], nw)[:nw]
		clear(words)
		cand.WriteDenseTo(words)
	}
	for k := 0; k < nb; k++ {
		b := k
		if only != nil {
			if k >= len(only) {
				break
			}
			b = only[k]
		}
		if err := ctx.Err(); err != nil {
			return words, err
		}
		n := s.Seg.BlockLen(b)
		nw := (n + 63) / 64
		var candWords []uint64
		if cand != nil {
			if dense {
				candWords = words[b*br/64 : b*br/64+nw]
			} else {
				words = index.AppendBlockWords(words[:0], cand, uint32(b*br), uint32(n))
				candWords = words
			}
			if isZero(candWords) {
				sc.ex.BlocksPrunedZone++
				continue
			}
		}
		if c.skipBlock(s, b) {
			sc.ex.BlocksPrunedTopN++
			continue
		}
		// One token per block: the decode, the residual and the visit are the unit of work
		// that passes through the CPU pool (internal/cpu).
		if err := sc.cpu.Acquire(ctx); err != nil {
			return words, err
		}
		batch, release, err := s.Seg.BlockBatch(b, cols)
		if err != nil {
			sc.cpu.ReleasePaced(&sc.pace)
			return words, err
		}
		sc.ex.BlocksRead++
		sel := candWords
		if residual != nil {
			be := &blockEval{b: batch, n: n, nw: nw, unit: unit, cand: candWords}
			t, _ := be.eval(residual)
			if candWords != nil {
				for i := range t {
					t[i] &= candWords[i]
				}
			}
			sel = t
			sc.ex.RowsScanned += be.rowsScanned
			sc.ex.segResidual = true
		} else if sel == nil {
			sel = allWords(n)
		}
		sc.ex.RowsMatched += int64(popcount(sel))
		err = c.visit(unitRef{seg: s}, b, batch, sel)
		if err == nil {
			err = batch.Err()
		}
		release()
		sc.cpu.ReleasePaced(&sc.pace)
		if err != nil {
			return words, err
		}
	}
	return words, nil
}

func (sc *scanner) mem(rec arrow.RecordBatch, c consumer) error {
	n := int(rec.NumRows())
	sc.ex.MemChunks++
	sc.ex.MemRows += int64(n)
	if n == 0 {
		return nil
	}
	batch, release, err := columnar.BatchColumns(sc.f.schema, rec, sc.memCols)
	if err != nil {
		return fmt.Errorf("memtable chunk: %w", err)
	}
	defer release() // consumers keep no batch past visit, as with a segment's blocks
	if sc.values == nil {
		sc.values = valueTruths{}
	}
	unit := &unitState{now: sc.now, values: sc.values}
	be := &blockEval{b: batch, n: n, nw: (n + 63) / 64, unit: unit}
	t, _ := be.eval(sc.f.pred)
	sc.ex.RowsScanned += be.rowsScanned
	sc.ex.RowsMatched += int64(popcount(t))
	return c.visit(unitRef{rec: rec}, 0, batch, t)
}

// candidateBlocks lists the blocks of br rows the rows of cand are in, ascending, or nil when
// they are more than most (a scan of the dense bitmap is then cheaper).
func candidateBlocks(cand *roaring.Bitmap, br, most int) []int {
	only := []int{}
	it := cand.Iterator()
	for it.HasNext() {
		b := int(it.Next()) / br
		if len(only) == most {
			return nil
		}
		only = append(only, b)
		// The next block's first row: a keys probe's candidates are whole blocks of rows.
		it.AdvanceIfNeeded(uint32(min((b+1)*br, 1<<32-1)))
	}
	return only
}

func isZero(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return false
		}
	}
	return true
}

func allWords(n int) []uint64 {
	w := make([]uint64, (n+63)/64)
	fill(w)
	if r := n % 64; r != 0 {
		w[len(w)-1] = (1 << r) - 1
	}
	return w
}
