package query

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/cpu"
)

// Request is one list query, in Graph's terms.
type Request struct {
	Filter string
	// Where is a typed predicate ANDed with Filter (see Pred): internal callers build their
	// conditions from Go values instead of quoting them into Filter text.
	Where     Pred
	OrderBy   string // "" = createdDateTime desc
	Top       int    // 0 = 1000; the caller caps
	SkipToken string
	Select    []string // property names, case-insensitive; nil = all
	Count     bool
	// CountOnly answers only the count (Result.Count): no page is found, decoded or encoded.
	// A count whose filter the indexes answer exactly then reads no column at all.
	CountOnly bool
	Apply     string
	Version   columnar.Version // 0 = beta
	// HideEvolvedEnums writes evolvable enum members past their sentinel as the sentinel, for
	// clients that did not ask for them (columnar.EncodeOptions.HideEvolved).
	HideEvolvedEnums bool
	// Risk, when set, overlays Identity Protection's risk on the rows written; the caller binds
	// it to the tenant of the query (columnar.EncodeOptions.Risk).
	Risk columnar.RiskLookup
	// DefaultInteractiveOnly applies Graph's rule: when the filter has no
	// signInEventTypes/any(...) term, only rows whose signInEventTypes contains
	// 'interactiveUser' are listed.
	DefaultInteractiveOnly bool
	Explain                bool
	// Visit, when set, receives the page's rows as typed columns and Result.Rows stays nil: no
	// JSON is written for in-process callers to parse again. i is the row's place in the page;
	// rows arrive grouped by the block they are in, not in page order. b holds the Select'ed
	// columns (all when Select is nil) and is valid only during the call; read it with a
	// columnar.RowView. Version, HideEvolvedEnums and Risk, which adapt the JSON, do not apply.
	Visit func(i int, b *columnar.Batch, row int) error

	// Now is the clock now() in the filter reads (nil: time.Now). The engine passes its own.
	Now func() time.Time
	// MaxGroups bounds the groups an $apply may make (0: DefaultMaxGroups; negative: no bound,
	// for in-process callers that hold the groups themselves); past it the query fails with
	// ErrTooManyGroups instead of growing memory and the response without bound.
	MaxGroups int

	noIndex bool // tests: no index probes and no zone maps
}

// Result is one page.
type Result struct {
	Rows      [][]byte // each row as Graph JSON, projected by Select (nil with Request.Visit)
	PageRows  int      // the rows of the page (len(Rows), or the rows visited)
	SkipToken string   // "" on the last page
	Count     int64    // -1 unless Request.Count
	Groups    []Group  // for Apply
	Explain   *Explain
}

// DefaultMaxGroups is Request.MaxGroups when it is 0.
const DefaultMaxGroups = 100_000

// DefaultTop is the page size when Request.Top is 0 (Graph's default and maximum).
const DefaultTop = 1000

const interactiveFilter = "signInEventTypes/any(t: t eq 'interactiveUser')"

// Run executes req over src.
func Run(ctx context.Context, s *columnar.Schema, src Source, req Request) (*Result, error) {
	start := time.Now()
	ex := &Explain{wantProbes: req.Explain}
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	version := req.Version
	if version == 0 {
		version = columnar.Beta
	}
	if req.Apply != "" {
		groups, err := runApply(ctx, s, src, req, ex)
		if err != nil {
			return nil, err
		}
		res := &Result{Groups: groups, Count: -1}
		if req.Explain {
			res.Explain = ex
		}
		return res, nil
	}
	f, err := compileRequest(s, req)
	if err != nil {
		return nil, err
	}
	keys, orderText, err := parseOrderBy(s, req.OrderBy, version)
	if err != nil {
		return nil, err
	}
	proj, projCols, err := projection(s, req.Select, version)
	if err != nil {
		return nil, err
	}
	if req.Top < 0 {
		return nil, fmt.Errorf("invalid $top %d: must not be negative", req.Top)
	}
	top := req.Top
	if top == 0 {
		top = DefaultTop
	}
	hash := queryHash(f.text, orderText)
	var cursor *rowKey
	if req.SkipToken != "" {
		if cursor, err = decodeCursor(req.SkipToken, hash, len(keys)); err != nil {
			return nil, err
		}
	}
	ex.Filter, ex.OrderBy = f.text, orderText
	ex.stage("compile", start)

	idCol, ok := s.Lookup("id")
	if !ok || idCol.Kind != columnar.KindGUID {
		return nil, errors.New("query: the table has no GUID id column to page by")
	}
	if req.CountOnly {
		t0 := time.Now()
		cc := &counter{}
		sc := &scanner{f: f, noIndex: req.noIndex, ex: ex, now: now().UnixNano()}
		if err := sc.run(ctx, src, cc); err != nil {
			return nil, err
		}
		ex.stage("count", t0)
		res := &Result{Count: cc.n}
		if req.Explain {
			res.Explain = ex
		}
		return res, nil
	}
	t0 := time.Now()
	tn := newTopN(keys, top+1, cursor, idCol, !req.noIndex)
	sc := &scanner{f: f, noIndex: req.noIndex, ex: ex, now: now().UnixNano(), newestFirst: len(keys) > 0 && keys[0].desc}
	if err := sc.run(ctx, src, tn); err != nil {
		return nil, err
	}
	ex.stage("scan", t0)

	t1 := time.Now()
	entries := tn.sorted()
	res := &Result{Count: -1}
	if len(entries) > top {
		entries = entries[:top]
		res.SkipToken = encodeCursor(&entries[top-1].key, hash)
	}
	if req.Risk != nil && !slices.Contains(projCols, idCol.Index) {
		projCols = append(projCols, idCol.Index) // the overlay is found by id, selected or not
	}
	res.PageRows = len(entries)
	if req.Visit != nil {
		err = visitPage(ctx, nil, s, entries, projCols, req.Visit) // the caller's fn may query: no token held
	} else {
		opts := columnar.EncodeOptions{Version: version, HideEvolved: req.HideEvolvedEnums, Risk: req.Risk}
		res.Rows, err = materialize(ctx, sc.cpu, s, entries, proj, projCols, opts)
	}
	if err != nil {
		return nil, err
	}
	ex.stage("encode", t1)

	if req.Count {
		t2 := time.Now()
		cex := &Explain{wantProbes: req.Explain}
		cc := &counter{}
		csc := &scanner{f: f, noIndex: req.noIndex, ex: cex, now: sc.now}
		if err := csc.run(ctx, src, cc); err != nil {
			return nil, err
		}
		res.Count = cc.n
		ex.CountPass = cex
		ex.stage("count", t2)
	}
	if req.Explain {
		res.Explain = ex
	}
	return res, nil
}

// projection maps $select to the encoder's projection and the columns to read.
func projection(s *columnar.Schema, sel []string, version columnar.Version) (columnar.Projection, []int, error) {
	var proj columnar.Projection
	if sel != nil || version == columnar.V1 {
		proj = columnar.Projection{}
	}
	want := func(p *columnar.Property) bool {
		v := columnar.Beta | columnar.V1
		if p.Column != nil {
			v = p.Column.Version
		} else {
			v = p.Object.Version
		}
		return version != columnar.V1 || v&columnar.V1 != 0
	}
	if sel == nil && proj != nil {
		for i := range s.Properties {
			if want(&s.Properties[i]) {
				proj[s.Properties[i].Name] = true
			}
		}
	}
	for _, name := range sel {
		name = strings.TrimSpace(name)
		found := false
		for i := range s.Properties {
			p := &s.Properties[i]
			if strings.EqualFold(p.Name, name) && want(p) {
				proj[p.Name], found = true, true
				break
			}
		}
		if !found {
			var names []string
			for i := range s.Properties {
				names = append(names, s.Properties[i].Name)
			}
			return nil, nil, &Error{Pos: posOne, Msg: "unknown property '" + name + "' in $select", Hint: suggest(name, names)}
		}
	}
	var cols []int
	var addObj func(o *columnar.Object)
	addObj = func(o *columnar.Object) {
		for _, m := range o.Members {
			if m.Column != nil {
				cols = append(cols, m.Column.Index)
			} else {
				addObj(m.Object)
			}
		}
	}
	for i := range s.Properties {
		p := &s.Properties[i]
		if proj != nil && !proj[p.Name] {
			continue
		}
		if p.Column != nil {
			cols = append(cols, p.Column.Index)
		} else {
			addObj(p.Object)
		}
	}
	cols = append(cols, s.Extras())
	return proj, cols, nil
}

// materialize encodes the selected rows, reading each block once with only the
// projected columns (late materialization). The rows are written one after another into
// chunks of at least pageChunk bytes (each row used to start from an empty buffer and regrow
// several times).
func materialize(ctx context.Context, pool *cpu.Pool, s *columnar.Schema, entries []*topEntry, proj columnar.Projection, cols []int, opts columnar.EncodeOptions) ([][]byte, error) {
	rows := make([][]byte, len(entries))
	blocks := pageBlocks(entries)
	var done, bytes atomic.Int64 // rows encoded, and their bytes, over all workers
	encode := func() func(i int, batch *columnar.Batch, row int) error {
		var (
			enc   columnar.Encoder
			chunk []byte
		)
		enc.SetOptions(opts)
		return func(i int, batch *columnar.Batch, row int) error {
			if n, b := int(done.Load()), int(bytes.Load()); n > 0 && cap(chunk)-len(chunk) < 2*b/n {
				// No more than the rest of the page needs (rows as big as the average so far,
				// and a quarter more): a page of a few rows allocated and zeroed a quarter
				// megabyte (a third of "correlationId eq", six rows).
				avg := b / n
				chunk = make([]byte, 0, min(max(pageChunk, 4*avg), max(len(entries)-n, 1)*avg*5/4+2*avg))
			}
			start := len(chunk)
			var err error
			if chunk, err = enc.AppendJSON(chunk, batch, row, proj); err != nil {
				return err
			}
			// Capped: a caller's append to a row copies it. A row that outgrew its chunk moved
			// with it; the rows before it keep the old chunk.
			rows[i] = chunk[start:len(chunk):len(chunk)]
			bytes.Add(int64(len(rows[i])))
			done.Add(1)
			return nil
		}
	}
	// A page whose rows are spread over many blocks (one application's newest sign-ins on a
	// day sorted by user: one or two rows in each of hundreds of blocks) decodes every projected
	// column of each, and a page of many rows in a block or two (the flagged or newest 1,000)
	// is mostly JSON to write and dictionary pages to read: either way the work is shared by as
	// many workers as the CPU pool has tokens, each with its own encoder, each row into its own
	// place, a block's rows split between workers where there are too few blocks to go round.
	workers := min(max(len(blocks)/minBlocksPerWorker, len(entries)/minRowsPerWorker), max(pool.Size(), 1), maxWorkers)
	if workers < 2 {
		if err := visitBlocks(ctx, pool, s, entries, cols, blocks, nil, encode()); err != nil {
			return nil, err
		}
		return rows, nil
	}
	blocks = splitBlocks(blocks, len(entries), workers)
	var next atomic.Int64
	err := runWorkers(ctx, workers, func(ctx context.Context, _ int) error {
		return visitBlocks(ctx, pool, s, entries, cols, blocks, &next, encode())
	})
	if err != nil {
		// Pieces left unvisited when a worker failed: their blocks are released here (every
		// worker has returned).
		for _, b := range blocks {
			if sh := b.shared; sh != nil && sh.release != nil {
				sh.release()
				sh.release = nil
			}
		}
		return nil, err
	}
	return rows, nil
}

// minBlocksPerWorker and minRowsPerWorker are the fewest blocks and rows a page has per
// materializing worker: a page of one user's few rows is encoded where it is found.
const (
	minBlocksPerWorker = 4
	minRowsPerWorker   = 256
)

// pageBlock is one block a page's rows are in, and the page's entries there (or some of them,
// when the block's rows are split between workers: shared).
type pageBlock struct {
	u      unitRef
	block  int
	rows   []int
	shared *sharedBlock
}

// sharedBlock is a block whose rows are split between workers: read once, by the first piece to
// need it, for all of them (rows), and released by the last. A Batch is read-only once bound,
// and segment dictionaries are safe for concurrent use.
type sharedBlock struct {
	rows    []int
	once    sync.Once
	batch   *columnar.Batch
	take    []int
	release func()
	err     error
	left    atomic.Int32
}

// splitBlocks splits the rows of blocks into pieces of about a quarter of each worker's share
// of the page's rows (at least minRowsPerWorker/4), so that workers end together.
func splitBlocks(blocks []pageBlock, rows, workers int) []pageBlock {
	piece := max(minRowsPerWorker/4, rows/(4*workers))
	var out []pageBlock
	for _, b := range blocks {
		if len(b.rows) <= piece {
			out = append(out, b)
			continue
		}
		sh := &sharedBlock{rows: b.rows}
		for lo := 0; lo < len(b.rows); lo += piece {
			out = append(out, pageBlock{u: b.u, block: b.block, rows: b.rows[lo:min(lo+piece, len(b.rows))], shared: sh})
			sh.left.Add(1)
		}
	}
	return out
}

// pageBlocks groups a page's entries by block, in the order the page first meets each.
func pageBlocks(entries []*topEntry) []pageBlock {
	type blockKey struct {
		u     unitRef
		block int
	}
	at := map[blockKey]int{}
	var out []pageBlock
	for i, e := range entries {
		k := blockKey{e.u, e.block}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, pageBlock{u: e.u, block: e.block})
		}
		out[j].rows = append(out[j].rows, i)
	}
	return out
}

// visitBlocks visits blocks in turn, or with next, the blocks next hands out (shared by
// workers), each holding a CPU token of pool for its decode and fn's work on its rows.
func visitBlocks(ctx context.Context, pool *cpu.Pool, s *columnar.Schema, entries []*topEntry, cols []int, blocks []pageBlock, next *atomic.Int64, fn func(i int, b *columnar.Batch, row int) error) error {
	var pace cpu.Pace // one worker's
	for k := 0; ; k++ {
		if next != nil {
			k = int(next.Add(1)) - 1
		}
		if k >= len(blocks) {
			return nil
		}
		if err := pool.Acquire(ctx); err != nil {
			return err
		}
		err := visitBlock(s, entries, cols, blocks[k], fn)
		pool.ReleasePaced(&pace)
		if err != nil {
			return err
		}
	}
}

// visitPage reads each block the page's rows are in once, with only the columns cols (late
// materialization), and calls fn for each of its rows there, block by block. With a pool, each
// block (its decode and fn's work on its rows) holds a CPU token (internal/cpu).
func visitPage(ctx context.Context, pool *cpu.Pool, s *columnar.Schema, entries []*topEntry, cols []int, fn func(i int, b *columnar.Batch, row int) error) error {
	return visitBlocks(ctx, pool, s, entries, cols, pageBlocks(entries), nil, fn)
}

// visitBlock calls fn for the rows of b, reading its block (or, for a piece of a shared block,
// taking the block the first piece read).
func visitBlock(s *columnar.Schema, entries []*topEntry, cols []int, b pageBlock, fn func(i int, b *columnar.Batch, row int) error) error {
	sh := b.shared
	if sh == nil {
		batch, take, release, err := readPageBlock(s, entries, cols, b.u, b.block, b.rows)
		if err != nil {
			return err
		}
		defer release()
		if err := visitRows(entries, batch, take, b.rows, fn); err != nil {
			return err
		}
		return batch.Err()
	}
	sh.once.Do(func() { sh.batch, sh.take, sh.release, sh.err = readPageBlock(s, entries, cols, b.u, b.block, sh.rows) })
	if sh.err != nil {
		return sh.err
	}
	err := visitRows(entries, sh.batch, sh.take, b.rows, fn)
	if sh.left.Add(-1) == 0 {
		if err == nil {
			err = sh.batch.Err()
		}
		sh.release()
		sh.release = nil
	}
	return err
}

// readPageBlock reads block of u with the columns cols for the page's entries rows there: for
// those rows only when they are few (take, ascending), else whole.
func readPageBlock(s *columnar.Schema, entries []*topEntry, cols []int, u unitRef, block int, rows []int) (batch *columnar.Batch, take []int, release func(), err error) {
	if u.seg != nil {
		if take = sparseRows(entries, rows, u.seg.Seg.BlockLen(block)); take != nil {
			batch, release, err = u.seg.Seg.BlockRows(block, cols, take)
		} else {
			batch, release, err = u.seg.Seg.BlockBatch(block, cols)
		}
	} else {
		// As a segment's block is read; cols has the extras column (projection adds it), which
		// NewBatch's Only kept whatever was asked.
		batch, release, err = columnar.BatchColumns(s, u.rec, cols)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	// The dictionary pages of the page's values, read side by side before the rows are
	// written (one after another as they were written, they were most of a cold page's time).
	if take == nil {
		use := make([]int, len(rows))
		for k, i := range rows {
			use[k] = entries[i].row
		}
		batch.Prefetch(use)
	} else {
		batch.Prefetch(allRows(len(take)))
	}
	return batch, take, release, nil
}

// allRows is 0, 1, …, n-1.
func allRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// visitRows calls fn for the page's entries rows in batch, a block read whole or for the rows
// take.
func visitRows(entries []*topEntry, batch *columnar.Batch, take []int, rows []int, fn func(i int, b *columnar.Batch, row int) error) error {
	for _, i := range rows {
		row := entries[i].row
		if take != nil {
			row, _ = slices.BinarySearch(take, row)
		}
		if err := fn(i, batch, row); err != nil {
			return err
		}
	}
	return nil
}

// sparseShare is the largest share of a block a page reads for its rows only (a sparse read:
// columnar.Segment.BlockRows), as 1/sparseShare: a page with more of the block's rows decodes
// it whole, through the block cache, as the newest or flagged rows and one user's day, which
// lie together, are read again and again.
const sparseShare = 16

// sparseRows returns the block rows of a page's entries rows, ascending and once each, when
// they are few enough in a block of blockLen rows for a sparse read; else nil.
func sparseRows(entries []*topEntry, rows []int, blockLen int) []int {
	if len(rows)*sparseShare > blockLen {
		return nil
	}
	take := make([]int, len(rows))
	for k, i := range rows {
		take[k] = entries[i].row
	}
	slices.Sort(take)
	return slices.Compact(take)
}

// pageChunk is the least a page's rows are encoded into at a time. A full page is megabytes;
// as one buffer left to append's growth (1.25x past 256 elements) it was copied and zeroed at
// every step, 44% of a warm 1,000-row full page, and as one buffer sized up front its fresh
// pages faulted in at once (30%). Rows of a few kilobytes in chunks of a quarter megabyte
// waste at most a row's size per chunk.
const pageChunk = 256 << 10

type topEntry struct {
	key   rowKey
	u     unitRef
	block int
	row   int
}

// topN keeps the first limit rows in query order in a bounded max-heap (the worst row
// on top), so that a page costs O(rows · log limit) and only limit keys are copied.
type topN struct {
	keys    []sortKey
	order   func(a, b *rowKey) int // compareKeys(keys, …), specialised (keyOrder)
	limit   int
	cursor  *rowKey
	idCol   *columnar.Column
	h       []*topEntry
	scratch rowKey
	cols_   []int
	zones   bool
	zcache  map[*Segment]*index.ZoneMap[int64]
	shared  *sharedBound // with the other workers of the query
}

// sharedBound is the first-key time bound the workers of one query learn from each other: a
// worker whose heap is full knows the page's worst row is no worse than its own worst, so every
// worker may skip what is worse. Each worker filling its own heap first read twice the days a
// newest-first page needs (a flagged page read half of a 2M-event database).
type sharedBound struct{ lo, hi atomic.Int64 }

func newSharedBound() *sharedBound {
	b := &sharedBound{}
	b.lo.Store(-1 << 63)
	b.hi.Store(1<<63 - 1)
	return b
}

// raise sets lo to at least v; lower sets hi to at most v.
func (b *sharedBound) raise(v int64) {
	for cur := b.lo.Load(); v > cur && !b.lo.CompareAndSwap(cur, v); cur = b.lo.Load() {
	}
}

func (b *sharedBound) lower(v int64) {
	for cur := b.hi.Load(); v < cur && !b.hi.CompareAndSwap(cur, v); cur = b.hi.Load() {
	}
}

func newTopN(keys []sortKey, limit int, cursor *rowKey, idCol *columnar.Column, zones bool) *topN {
	t := &topN{keys: keys, order: keyOrder(keys), limit: limit, cursor: cursor, idCol: idCol, zones: zones, shared: newSharedBound(),
		scratch: rowKey{parts: make([]keyPart, len(keys))}, zcache: map[*Segment]*index.ZoneMap[int64]{}}
	t.cols_ = append(t.cols_, idCol.Index)
	for _, k := range keys {
		if !slices.Contains(t.cols_, k.col.Index) {
			t.cols_ = append(t.cols_, k.col.Index)
		}
	}
	return t
}

func (t *topN) Len() int           { return len(t.h) }
func (t *topN) Less(i, j int) bool { return t.order(&t.h[i].key, &t.h[j].key) > 0 }
func (t *topN) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topN) Push(x any)         { t.h = append(t.h, x.(*topEntry)) }
func (t *topN) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topN) cols() []int      { return t.cols_ }
func (t *topN) countOnly() bool  { return false }
func (t *topN) addCount(n int64) { panic("BUG: addCount on topN") }

// timeBounds returns the range of first-key times that can still enter the page: rows
// after the cursor and before the current worst row. ok=false when the first key is not
// a time column.
func (t *topN) timeBounds() (lo, hi int64, ok bool) {
	if len(t.keys) == 0 || t.keys[0].col.Kind != columnar.KindTime {
		return 0, 0, false
	}
	lo, hi = -1<<63, 1<<63-1
	desc := t.keys[0].desc
	bound := func(p keyPart, after bool) {
		// after: rows must come after p in query order.
		if p.null {
			return
		}
		if desc == after {
			hi = min(hi, p.i)
		} else {
			lo = max(lo, p.i)
		}
	}
	if t.cursor != nil {
		bound(t.cursor.parts[0], true)
	}
	if len(t.h) == t.limit {
		if w := t.h[0].key.parts[0]; !w.null {
			if desc {
				t.shared.raise(w.i)
			} else {
				t.shared.lower(w.i)
			}
		}
	}
	return max(lo, t.shared.lo.Load()), min(hi, t.shared.hi.Load()), true
}

func (t *topN) skipSegment(s *Segment) bool {
	lo, hi, ok := t.timeBounds()
	if !ok || t.keys[0].col.Name != "createdDateTime" || s.Seg.Meta.Rows == 0 {
		return false
	}
	return s.Seg.Meta.MaxTime < lo || s.Seg.Meta.MinTime > hi
}

func (t *topN) skipBlock(s *Segment, block int) bool {
	if !t.zones || s.Index == nil {
		return false
	}
	lo, hi, ok := t.timeBounds()
	if !ok || (lo == -1<<63 && hi == 1<<63-1) {
		return false
	}
	zm, cached := t.zcache[s]
	if !cached {
		if s.Index.Has(t.keys[0].col.Name, index.KindZoneMapInt64) {
			zm, _ = s.Index.ZoneMapInt64(t.keys[0].col.Name)
		}
		t.zcache[s] = zm
	}
	if zm == nil || block >= zm.Blocks() || zm.Nulls[block] != 0 {
		return false
	}
	return zm.Max[block] < lo || zm.Min[block] > hi
}

func (t *topN) visit(u unitRef, block int, b *columnar.Batch, sel []uint64) error {
	k := &t.scratch
	// Fast path for the usual first key, createdDateTime (never null): a row whose time is
	// strictly worse than the heap's worst row, or strictly before the cursor, cannot enter
	// the page, and is rejected from the raw column without building its key.
	var times []int64
	desc := false
	if len(t.keys) > 0 && t.keys[0].col.Name == "createdDateTime" && t.keys[0].col.Kind == columnar.KindTime && b.Valid(t.keys[0].col.Index, 0) {
		times, desc = b.Int64s(t.keys[0].col.Index), t.keys[0].desc
	}
	// A memtable chunk's rows are in order of arrival, mostly of time: for the newest first
	// they are taken last first, so that the page's bound tightens at once instead of each
	// row displacing the worst in turn.
	backwards := desc && u.rec != nil
	for wi := range sel {
		w := wi
		if backwards {
			w = len(sel) - 1 - wi
		}
		for m := sel[w]; m != 0; {
			var j int
			if backwards {
				j = 63 - bits.LeadingZeros64(m)
				m &^= 1 << j
			} else {
				j = bitsTrailing(m)
				m &= m - 1
			}
			r := w*64 + j
			if times != nil {
				v := times[r]
				if len(t.h) == t.limit {
					if worst := t.h[0].key.parts[0].i; desc && v < worst || !desc && v > worst {
						continue
					}
				}
				if t.cursor != nil && !t.cursor.parts[0].null {
					if c := t.cursor.parts[0].i; desc && v > c || !desc && v < c {
						continue
					}
				}
			}
			for i, sk := range t.keys {
				k.parts[i] = partOf(b, sk.col, r)
			}
			copy(k.id[:], b.Bytes(t.idCol.Index, r))
			if t.cursor != nil && t.order(k, t.cursor) <= 0 {
				continue
			}
			if len(t.h) == t.limit {
				if t.order(k, &t.h[0].key) >= 0 {
					continue
				}
				e := t.h[0]
				e.key.parts = append(e.key.parts[:0], k.parts...)
				e.key.id = k.id
				e.key.keep()
				e.u, e.block, e.row = u, block, r
				heap.Fix(t, 0)
				continue
			}
			e := &topEntry{key: rowKey{parts: slices.Clone(k.parts), id: k.id}, u: u, block: block, row: r}
			e.key.keep()
			heap.Push(t, e)
		}
	}
	return nil
}

func (t *topN) fork() consumer {
	f := newTopN(t.keys, t.limit, t.cursor, t.idCol, t.zones)
	f.shared = t.shared
	return f
}

// merge offers the rows of another worker's heap to this one.
func (t *topN) merge(o consumer) {
	for _, e := range o.(*topN).h {
		if len(t.h) < t.limit {
			heap.Push(t, e)
		} else if t.order(&e.key, &t.h[0].key) < 0 {
			t.h[0] = e
			heap.Fix(t, 0)
		}
	}
}

func (t *topN) sorted() []*topEntry {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b *topEntry) int { return t.order(&a.key, &b.key) })
	return out
}

// counter counts selected rows.
type counter struct{ n int64 }

func (c *counter) cols() []int                  { return nil }
func (c *counter) skipSegment(*Segment) bool    { return false }
func (c *counter) skipBlock(*Segment, int) bool { return false }
func (c *counter) countOnly() bool              { return true }
func (c *counter) addCount(n int64)             { c.n += n }
func (c *counter) fork() consumer               { return &counter{} }
func (c *counter) merge(o consumer)             { c.n += o.(*counter).n }
func (c *counter) visit(_ unitRef, _ int, _ *columnar.Batch, sel []uint64) error {
	c.n += int64(popcount(sel))
	return nil
}
