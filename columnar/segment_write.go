package columnar

import (
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// BlockVisitor sees each block of each column of a segment being written, a column's blocks in
// segment row order (columns from several goroutines at once); the engine uses it to build the
// index sidecar from the same data without a second read. The array is valid during the call
// only.
type BlockVisitor func(col, block int, a arrow.Array) error

// WriteSegment writes the merged rows to path as a segment file: to a temporary file first,
// fsync'd, then renamed into place (and the directory fsync'd), so a crash never leaves a
// partial segment under the final name. visit, when non-nil, sees each column's blocks.
//
// Columns are gathered and compressed in parallel and written in order as they are done, each
// compressed block by block as the merge produces it: a write holds the compressed regions of
// the columns not yet written, never a decoded column whole.
func WriteSegment(fsys vfs.FS, path string, tenant string, day int32, m *Merged, visit BlockVisitor) (*SegmentMeta, error) {
	meta := &SegmentMeta{Tenant: tenant, Day: day, Rows: m.Rows, BlockRows: m.BlockRows,
		MinTime: m.MinTime, MaxTime: m.MaxTime, Created: time.Now().UnixNano()}
	ncols := m.Schema.NumColumns()
	metas := make([]ColumnMeta, ncols)

	// Written beside its place and renamed over it once synced (fsutil.AtomicFile): a crash
	// leaves the whole segment or none of it.
	f, err := fsutil.CreateAtomic(fsys, path, 0o644, false)
	if err != nil {
		return nil, err
	}
	var hdr [segHeaderLen]byte
	copy(hdr[:], segMagic)
	hdr[6] = SegmentVersion
	if _, err := f.Write(hdr[:]); err != nil {
		f.Abort()
		return nil, err
	}

	type done struct {
		col    int
		region []byte
		cm     ColumnMeta
		err    error
	}
	shares := newSiblingShares(m.Schema)
	var (
		wg      sync.WaitGroup
		next    = make(chan int)
		results = make(chan done)
		quit    = make(chan struct{})
	)
	// As many encoders as the CPU pool has tokens, not GOMAXPROCS: a server runs with a P
	// more for its requests (cpu.ReserveNetworkP), which encoders (they take no tokens) would
	// otherwise fill.
	workers := runtime.GOMAXPROCS(0)
	if n := cpu.Default().Size(); n > 0 {
		workers = min(workers, n)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for col := range next {
				region, cm, err := encodeColumn(m, col, visit, shares)
				select {
				case results <- done{col, region, cm, err}:
				case <-quit:
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for col := 0; col < ncols; col++ {
			select {
			case next <- col:
			case <-quit:
				return
			}
		}
	}()
	stop := func() {
		close(quit)
		wg.Wait()
		shares.release()
	}
	pending := map[int]done{}
	off := uint64(segHeaderLen)
	for written := 0; written < ncols; {
		d := <-results
		if d.err != nil {
			stop()
			f.Abort()
			return nil, d.err
		}
		pending[d.col] = d
		for d, ok := pending[written]; ok; d, ok = pending[written] {
			delete(pending, written)
			d.cm.Offset = off
			if _, err := f.Write(d.region); err != nil {
				stop()
				f.Abort()
				return nil, err
			}
			off += uint64(len(d.region))
			metas[written] = d.cm
			written++
		}
	}
	stop()
	meta.Columns = metas
	if _, err := f.Write(appendFooter(nil, meta.marshal(nil), SegmentVersion)); err != nil {
		f.Abort()
		return nil, err
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	return meta, nil
}

// encodeColumn gathers column col of m block by block, shows each block to visit, and
// compresses it: the column's region (frame table, then frames: frame 0 a dictionary's page
// fences, then the blocks, then a dictionary's pages).
func encodeColumn(m *Merged, col int, visit BlockVisitor, shares siblingShares) ([]byte, ColumnMeta, error) {
	name, kind := ExtrasColumn, KindExtras
	var (
		sibling, times *Column
		tokens         bool
	)
	if col < len(m.Schema.Columns) {
		c := m.Schema.Columns[col]
		name, kind, sibling, times, tokens = c.Name, c.Kind, c.Sibling, c.Times, c.Tokens
	}
	cm := ColumnMeta{Name: name, Kind: kind}
	frames := make([][]byte, 1, m.NumBlocks()+1)
	frames[0] = []byte{}
	var dict arrow.Array // written as pages after the blocks
	defer func() {
		if dict != nil {
			dict.Release()
		}
	}()
	share := shares[col] // col's blocks, for the column that repeats it
	defer share.close()
	err := m.columnBlocks(col, &blockBufs, func(i int, b arrow.Array) error {
		defer b.Release()
		if visit != nil {
			if err := visit(col, i, b); err != nil {
				return err
			}
		}
		share.put(i, b)
		traits := encodeTraits{tokens: tokens, blockDict: kind == KindExtras}
		for _, src := range []struct {
			c  *Column
			to *arrow.Array
		}{{sibling, &traits.sib}, {times, &traits.times}} {
			if src.c == nil {
				continue
			}
			a, err := shares[src.c.Index].take(i)
			if err != nil {
				return err
			}
			defer a.Release()
			*src.to = a
		}
		cm.Nulls += uint64(b.NullN())
		stored := b
		if d, ok := b.(*array.Dictionary); ok {
			if i == 0 { // every block shares one dictionary
				cm.DictLen = uint64(d.Dictionary().Len())
				dict = d.Dictionary()
				dict.Retain()
			}
			stored = d.Indices()
		}
		f, err := encodeFrameV4(kind, stored, int(cm.DictLen), traits, m.BetterCompression)
		if err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
		frames = append(frames, f)
		return nil
	})
	if err != nil {
		return nil, cm, fmt.Errorf("column %s: %w", name, err)
	}
	if dict != nil {
		// A dictionary of more than one page keeps its page fences in frame 0 (dictfence.go).
		if dict.Len() > DictPageValues {
			str, ok := dict.(*array.String)
			if !ok {
				return nil, cm, fmt.Errorf("column %s: dictionary of %s, want utf8", name, dict.DataType())
			}
			f, err := encodeFences(str, m.BetterCompression)
			if err != nil {
				return nil, cm, fmt.Errorf("column %s: dictionary fences: %w", name, err)
			}
			frames[0] = f
		}
		// The dictionary's pages of DictPageValues values, each its own frame, after the blocks.
		for lo := 0; lo < dict.Len(); lo += DictPageValues {
			page := array.NewSlice(dict, int64(lo), int64(min(lo+DictPageValues, dict.Len())))
			f, err := encodeFrameV4(KindText, page, 0, encodeTraits{guidPage: true}, m.BetterCompression)
			page.Release()
			if err != nil {
				return nil, cm, fmt.Errorf("column %s: dictionary: %w", name, err)
			}
			frames = append(frames, f)
		}
	}
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	region := appendFrameTableV3(make([]byte, 0, size+len(frames)*8+8), frames)
	cm.Table = uint64(len(region))
	cm.CRC = crc32.Checksum(region, castagnoli) // the table's; each frame has its own
	for _, f := range frames {
		region = append(region, f...)
	}
	cm.Length = uint64(len(region))
	return region, cm, nil
}

// siblingShares hand each block of a column others are encoded against (a Sibling, a Times
// column) from the goroutine that gathers it to those encoding the columns that refer to it,
// keyed by the source's index. The source's blocks are kept until every referring column took
// them: the writer dispatches columns in order, the source first, and with one worker it is
// encoded whole before the others start (at most 16 bytes a row, within a merge's per-row
// margin, mergeRowBytes in package engine).
type siblingShares map[int]*blockShare

func newSiblingShares(s *Schema) siblingShares {
	shares := siblingShares{}
	add := func(src *Column) {
		b := shares[src.Index]
		if b == nil {
			b = &blockShare{blocks: map[int]*sharedBlock{}}
			b.cond = sync.NewCond(&b.mu)
			shares[src.Index] = b
		}
		b.takers++
	}
	for _, c := range s.Columns {
		if c.Sibling != nil {
			add(c.Sibling)
		}
		if c.Times != nil {
			add(c.Times)
		}
	}
	return shares
}

// blockShare is one source column's blocks in flight. A nil *blockShare does nothing.
type blockShare struct {
	mu     sync.Mutex
	cond   *sync.Cond
	takers int // columns that take each block
	blocks map[int]*sharedBlock
	done   bool // the source's gather ended: a block not here now never comes
}

type sharedBlock struct {
	a    arrow.Array
	left int // takers yet to take it
}

func (b *blockShare) put(i int, a arrow.Array) {
	if b == nil {
		return
	}
	a.Retain()
	b.mu.Lock()
	b.blocks[i] = &sharedBlock{a, b.takers}
	b.mu.Unlock()
	b.cond.Broadcast()
}

// take waits for block i; the caller releases it.
func (b *blockShare) take(i int) (arrow.Array, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if sb, ok := b.blocks[i]; ok {
			if sb.left--; sb.left == 0 {
				delete(b.blocks, i)
			} else {
				sb.a.Retain()
			}
			return sb.a, nil
		}
		if b.done {
			return nil, fmt.Errorf("sibling column ended before block %d", i)
		}
		b.cond.Wait()
	}
}

// close marks the source's gather over, whether it succeeded or not: a take of a block that
// is not there then fails instead of waiting. Blocks left untaken are dropped by release.
func (b *blockShare) close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// release drops the blocks left (a write that failed before the repeating column took them).
func (s siblingShares) release() {
	for _, b := range s {
		b.mu.Lock()
		for i, sb := range b.blocks {
			sb.a.Release()
			delete(b.blocks, i)
		}
		b.mu.Unlock()
	}
}
