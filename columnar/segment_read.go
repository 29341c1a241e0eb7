package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// Segment is an open segment file. Columns are read, checksummed and decoded lazily, on first
// use; decoded blocks go through a shared, size-bounded cache. Safe for concurrent use.
//
// A segment opened with OpenSegmentLazy has not even opened its file: Meta holds what the
// caller's catalog knows (everything but Columns), and the file is opened and its footer read and
// checked against that on the first read of a column (or Columns). A database then opens in time
// independent of its number of segments, and a query opens only the segments it reads.
type Segment struct {
	Path   string
	Meta   *SegmentMeta // for a lazy segment, without Columns (see Columns)
	schema *Schema
	size   int64
	cache  *BlockCache
	mem    memory.Allocator

	fs     vfs.FS
	mu     sync.Mutex  // guards the opening of a lazy segment, and closed
	ready  atomic.Bool // f, cols and columns are set
	closed bool
	f      vfs.File
	cols   []*segColumn // by schema column index; nil = not in this segment
	// columns is the footer's column list (Meta.Columns of an eagerly opened segment).
	columns []ColumnMeta
	// dictBytes is what the dictionaries queries have loaded hold (DictionaryBytes).
	dictBytes atomic.Int64
}

// DictionaryBytes is the memory held by the dictionaries the segment keeps loaded: each
// dictionary column's, from the first query that needs it until the segment closes. Not
// bounded by a budget (docs/memory.md says what that costs).
func (s *Segment) DictionaryBytes() int64 { return s.dictBytes.Load() }

type segColumn struct {
	meta   *ColumnMeta
	ver    byte // the segment's format version: 4 frames are raw Arrow buffers, 2 and 3 IPC streams
	once   sync.Once
	err    error
	frames [][]byte   // version 2: the region's frames (0: dictionary or empty; 1+i: block i)
	refs   []frameRef // version 3: where each frame is, read and checked on its own use
	// pages is the dictionary of a dictionary kind, read page by page as queries' codes ask for
	// values and kept while the segment is open (set with the frame table).
	pages *segDict
	// ahead is the file's bytes from aheadAt read with the frame table (a dictionary with page
	// fences: dictfence.go), kept until the fences are taken from them.
	ahead   []byte
	aheadAt int64
	// checked has a bit for each block whose frame a decode checked whole and accepted (set
	// with the frame table): a later sparse read of the block checks only what it takes
	// (decodeTraits.checked). Each read still checks the frame's CRC.
	checked []atomic.Uint64
	// dict is the whole dictionary, made on the first read that wants an Arrow dictionary array
	// (Block: exports, version copies) and kept while the segment is open. Queries read pages
	// (BlockBatch); merges decode their own copy (SegmentUnits), let go of column by column.
	dictOnce sync.Once
	dictErr  error
	dict     arrow.Array
}

// CorruptError reports a checksum or structure failure in a segment. It is never retried and
// never papered over: the data is not served.
type CorruptError struct {
	Path string
	What string
}

func (e *CorruptError) Error() string { return "segment " + e.Path + ": " + e.What }

// OpenSegment opens path and validates its header, trailer and footer. Column regions are
// verified when first read. cache may be nil (no caching).
func OpenSegment(fsys vfs.FS, path string, s *Schema, cache *BlockCache) (*Segment, error) {
	return OpenSegmentAlloc(fsys, path, s, cache, memory.DefaultAllocator)
}

// OpenSegmentAlloc is OpenSegment with the allocator decoded blocks are built with (tests use
// memory.NewCheckedAllocator to prove every buffer is released).
func OpenSegmentAlloc(fsys vfs.FS, path string, s *Schema, cache *BlockCache, mem memory.Allocator) (*Segment, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	seg, err := openSegmentFile(f, path, s, cache)
	if err != nil {
		f.Close()
		return nil, err
	}
	seg.mem, seg.fs, seg.columns = mem, fsys, seg.Meta.Columns
	seg.ready.Store(true)
	return seg, nil
}

// OpenSegmentLazy returns the segment at path without reading the file: known is what the
// caller's catalog recorded of it when it was written (its footer's fields but Columns), size
// its file size. The footer is read on first use, and one that disagrees with known is a
// CorruptError then. f is the file already open, or nil to open it then too: a reader beside a
// writer that may delete the file (after a compaction) holds it open from the start, as its
// snapshot of the database.
func OpenSegmentLazy(fsys vfs.FS, path string, s *Schema, cache *BlockCache, known SegmentMeta, size int64, f vfs.File) *Segment {
	known.Columns = nil
	return &Segment{Path: path, Meta: &known, schema: s, size: size, cache: cache, mem: memory.DefaultAllocator, fs: fsys, f: f}
}

// errClosed is the error of a read of a closed lazy segment that never opened its file.
var errClosed = errors.New("segment is closed")

// open opens a lazy segment's file, once.
func (s *Segment) open() error {
	if s.ready.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return nil
	}
	if s.closed {
		return fmt.Errorf("segment %s: %w", s.Path, errClosed)
	}
	f := s.f
	if f == nil {
		var err error
		if f, err = s.fs.Open(s.Path); err != nil {
			return err
		}
		s.f = f // closed by Close, whether the footer proves good or not
	}
	full, err := openSegmentFile(f, s.Path, s.schema, s.cache)
	if err != nil {
		return err
	}
	k, m := s.Meta, full.Meta
	if m.Tenant != k.Tenant || m.Day != k.Day || m.Rows != k.Rows || m.BlockRows != k.BlockRows || m.MinTime != k.MinTime || m.MaxTime != k.MaxTime || full.size != s.size {
		return &CorruptError{Path: s.Path, What: fmt.Sprintf("footer says tenant %s day %d rows %d of %d per block, times %d to %d, %d bytes; the catalog says %s %d %d %d %d %d %d",
			m.Tenant, m.Day, m.Rows, m.BlockRows, m.MinTime, m.MaxTime, full.size, k.Tenant, k.Day, k.Rows, k.BlockRows, k.MinTime, k.MaxTime, s.size)}
	}
	s.cols, s.columns = full.cols, m.Columns
	s.ready.Store(true)
	return nil
}

// Columns is the footer's list of column regions (it opens a lazy segment).
func (s *Segment) Columns() ([]ColumnMeta, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.columns, nil
}

func openSegmentFile(f vfs.File, path string, s *Schema, cache *BlockCache) (*Segment, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	corrupt := func(format string, args ...any) error {
		return &CorruptError{Path: path, What: fmt.Sprintf(format, args...)}
	}
	if size < segHeaderLen+segTrailerLen {
		return nil, corrupt("file of %d bytes is too short", size)
	}
	// The header, and the trailer with the footer before it, in two reads side by side.
	var hdr [segHeaderLen]byte
	tail, err := fsutil.ReadEnds(f, size, hdr[:], segTailRead)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", path, err)
	}
	if string(hdr[:6]) != segMagic {
		return nil, corrupt("bad header magic")
	}
	if hdr[6] == 0 || hdr[6] > SegmentVersion {
		return nil, corrupt("format version %d is newer than this build supports (%d)", hdr[6], SegmentVersion)
	}
	tr := tail[len(tail)-segTrailerLen:]
	if string(tr[9:]) != segTrailerMagic {
		return nil, corrupt("bad trailer magic (truncated or not a segment)")
	}
	if tr[8] != hdr[6] {
		return nil, corrupt("header says format version %d, trailer %d", hdr[6], tr[8])
	}
	flen := binary.LittleEndian.Uint32(tr[0:4])
	fcrc := binary.LittleEndian.Uint32(tr[4:8])
	if flen > maxFooterLen || int64(flen) > size-segHeaderLen-segTrailerLen {
		return nil, corrupt("footer length %d is out of range", flen)
	}
	var footer []byte
	if before := len(tail) - segTrailerLen; int(flen) <= before {
		footer = tail[before-int(flen) : before]
	} else {
		footer = make([]byte, flen)
		if _, err := f.ReadAt(footer, size-segTrailerLen-int64(flen)); err != nil {
			return nil, err
		}
	}
	if crc32.Checksum(footer, castagnoli) != fcrc {
		return nil, corrupt("footer checksum mismatch")
	}
	meta, err := unmarshalSegmentMeta(footer, uint64(size-segTrailerLen-int64(flen)))
	if err != nil {
		return nil, corrupt("%v", err)
	}
	if footer[0] != hdr[6] {
		return nil, corrupt("header says format version %d, footer %d", hdr[6], footer[0])
	}
	seg := &Segment{Path: path, Meta: meta, schema: s, f: f, size: size, cache: cache, cols: make([]*segColumn, s.NumColumns())}
	for i := range meta.Columns {
		cm := &meta.Columns[i]
		idx := -1
		if cm.Name == ExtrasColumn {
			idx = s.Extras()
		} else if c, ok := s.byName[cm.Name]; ok {
			if c.Kind != cm.Kind {
				return nil, corrupt("column %s is stored as %s but the schema says %s", cm.Name, cm.Kind, c.Kind)
			}
			idx = c.Index
		}
		if idx >= 0 {
			seg.cols[idx] = &segColumn{meta: cm, ver: hdr[6]}
		}
	}
	return seg, nil
}

// Close releases the file. Blocks already handed out stay valid.
func (s *Segment) Close() error {
	s.mu.Lock()
	s.closed = true
	opened, f := s.ready.Load(), s.f
	s.mu.Unlock()
	if s.cache != nil {
		s.cache.dropSegment(s)
	}
	if !opened {
		if f != nil {
			return f.Close()
		}
		return nil
	}
	for _, c := range s.cols {
		if c == nil {
			continue
		}
		if c.dict != nil {
			c.dict.Release()
		}
		if c.pages != nil {
			c.pages.release()
		}
	}
	return s.f.Close()
}

// Size is the file size in bytes.
func (s *Segment) Size() int64 { return s.size }

// NumBlocks is the number of blocks.
func (s *Segment) NumBlocks() int { return s.Meta.NumBlocks() }

// BlockLen is the number of rows in block b.
func (s *Segment) BlockLen(b int) int {
	return min(s.Meta.BlockRows, s.Meta.Rows-b*s.Meta.BlockRows)
}

func (c *segColumn) load(s *Segment) error {
	c.once.Do(func() {
		corrupt := func(format string, args ...any) {
			c.err = &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s: ", c.meta.Name) + fmt.Sprintf(format, args...)}
		}
		// Version 3 reads the frame table only (its CRC is the footer's), then each frame on
		// its first use; version 2 reads and checks the whole region.
		size := c.meta.Length
		if c.meta.Table > 0 {
			size = c.meta.Table
		}
		buf := make([]byte, size+c.fenceAhead())
		if _, err := s.f.ReadAt(buf, int64(c.meta.Offset)); err != nil && err != io.EOF {
			c.err = fmt.Errorf("segment %s: column %s: %w", s.Path, c.meta.Name, err)
			return
		}
		buf, c.ahead, c.aheadAt = buf[:size:size], buf[size:], int64(c.meta.Offset+size)
		if len(c.ahead) == 0 {
			c.ahead = nil
		}
		if crc32.Checksum(buf, castagnoli) != c.meta.CRC {
			corrupt("checksum mismatch (region at %d, %d bytes checked)", c.meta.Offset, size)
			return
		}
		nframes := 0
		if c.meta.Table > 0 {
			start := int64(c.meta.Offset + c.meta.Table)
			refs, err := parseFrameTableV3(buf, start, int64(c.meta.Offset+c.meta.Length))
			if err != nil {
				corrupt("%v", err)
				return
			}
			c.refs, nframes = refs, len(refs)
			c.keepAhead()
		} else {
			frames, err := splitFrames(buf)
			if err != nil {
				corrupt("%v", err)
				return
			}
			c.frames, nframes = frames, len(frames)
		}
		pages := 0
		if c.isDict() && c.ver >= 6 {
			pages = dictPages(c.meta.DictLen)
		}
		if nframes != s.NumBlocks()+1+pages {
			corrupt("%d frames, the footer says %d blocks and %d dictionary pages", nframes, s.NumBlocks(), pages)
			return
		}
		if c.isDict() {
			c.pages = newSegDict(s, c)
		}
		c.checked = make([]atomic.Uint64, (s.NumBlocks()+63)/64)
	})
	return c.err
}

// blockChecked reports whether block b's frame was checked whole and accepted.
func (c *segColumn) blockChecked(b int) bool {
	return b/64 < len(c.checked) && c.checked[b/64].Load()&(1<<(b%64)) != 0
}

// markChecked remembers that block b's frame was checked whole and accepted.
func (c *segColumn) markChecked(b int) {
	if b/64 < len(c.checked) {
		c.checked[b/64].Or(1 << (b % 64))
	}
}

// isDict says whether the column's blocks are codes into a segment-wide dictionary.
func (c *segColumn) isDict() bool { return c.meta.Kind == KindDict || c.meta.Kind == KindJSONDict }

// loadDict makes the column's whole dictionary once and keeps it while the segment is open.
func (c *segColumn) loadDict(s *Segment) error {
	if err := c.load(s); err != nil {
		return err
	}
	if !c.isDict() {
		return nil
	}
	c.dictOnce.Do(func() {
		if len(c.pages.pages) == 1 {
			// One page is the whole dictionary: share it with the page readers.
			p, err := c.pages.page(0)
			if c.dictErr = err; err == nil {
				p.arr.Retain()
				c.dict = p.arr
			}
			return
		}
		if c.dict, c.dictErr = c.pages.materialize(); c.dictErr == nil {
			s.dictBytes.Add(ArrayBytes(c.dict.Data()))
		}
	})
	return c.dictErr
}

// decodeDict reads, checks and decodes the column's whole dictionary; the caller owns it.
// The frame table must be loaded.
func (c *segColumn) decodeDict(s *Segment) (arrow.Array, error) {
	d, err := c.pages.materialize()
	if err != nil {
		return nil, err
	}
	if uint64(d.Len()) != c.meta.DictLen {
		d.Release()
		return nil, &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s: dictionary of %d entries, footer says %d", c.meta.Name, d.Len(), c.meta.DictLen)}
	}
	return d, nil
}

// decode decodes a frame of the column's version: a block of kind and rows rows, or (KindText)
// its dictionary, decoded with the column's traits (decodeFrameV4).
func (c *segColumn) decode(frame []byte, kind Kind, rows int, mem memory.Allocator, traits decodeTraits) (arrow.Array, error) {
	if c.ver >= 4 {
		return decodeFrameV4(frame, kind, rows, int(c.meta.DictLen), mem, traits)
	}
	return decodeFrame(frame, mem)
}

// readFrame reads frame i of a version-3 column and checks its CRC.
func (c *segColumn) readFrame(s *Segment, i int) ([]byte, error) {
	buf, start, err := c.readFrames(s, i, i+1)
	if err != nil {
		return nil, err
	}
	return c.checkedFrame(s, i, buf, start)
}

// readFrames reads frames [lo, hi) of a version-3 column, which lie one after the other, in one
// read: the bytes of the file from start. Each is checked when it is taken (checkedFrame).
func (c *segColumn) readFrames(s *Segment, lo, hi int) (buf []byte, start int64, err error) {
	first, last := c.refs[lo], c.refs[hi-1]
	start = first.off
	buf = make([]byte, last.off+last.len-start)
	if _, err := s.f.ReadAt(buf, start); err != nil && err != io.EOF {
		which := fmt.Sprintf("frame %d", lo)
		if hi-lo > 1 {
			which = fmt.Sprintf("frames %d to %d", lo, hi-1)
		}
		return nil, 0, fmt.Errorf("segment %s: column %s %s: %w", s.Path, c.meta.Name, which, err)
	}
	return buf, start, nil
}

// checkedFrame returns frame i from buf (bytes of the file from start, as readFrames read
// them), checked by its CRC.
func (c *segColumn) checkedFrame(s *Segment, i int, buf []byte, start int64) ([]byte, error) {
	r := c.refs[i]
	f := buf[r.off-start : r.off-start+r.len]
	if crc32.Checksum(f, castagnoli) != r.crc {
		return nil, &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s: frame %d checksum mismatch (at %d, %d bytes)", c.meta.Name, i, r.off, r.len)}
	}
	return f, nil
}

// constant reports a dictionary column with one value in every row (a tenant id, an enum the
// tenant never varies): every code is 0, so its frames say nothing the footer has not, and
// they are neither read nor decoded.
func (c *segColumn) constant() bool { return c.isDict() && c.meta.DictLen == 1 && c.meta.Nulls == 0 }

// stored returns column idx of an open segment, or nil when the segment does not store it or
// stores it null in every row: such a column reads as all null, its frames never read (they
// hold nothing to serve, and decoding them cost ~30 µs a block each: dozens of Graph properties
// are null in most tenants' sign-ins).
func (s *Segment) stored(idx int) *segColumn {
	c := s.cols[idx]
	if c == nil || c.meta.Nulls == uint64(s.Meta.Rows) {
		return nil
	}
	return c
}

// Dictionary returns the whole segment-wide dictionary of dictionary column idx as one Arrow
// array (nil for other kinds and for columns the segment does not store or stores null in
// every row), reading every page. It stays valid while the segment is open; the caller does not
// release it. Readers that need a few values use Dict, which reads only their pages.
func (s *Segment) Dictionary(idx int) (*array.String, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	c := s.stored(idx)
	if c == nil {
		return nil, nil
	}
	if err := c.loadDict(s); err != nil {
		return nil, err
	}
	d, _ := c.dict.(*array.String)
	return d, nil
}

// Dict returns the dictionary of dictionary column idx, read page by page as values are asked
// for (ok false for other kinds and for columns the segment does not store or stores null in
// every row). It stays valid while the segment is open. Index probes need only the dictionary,
// and of it only what a binary search or the probed codes touch.
func (s *Segment) Dict(idx int) (d Dict, ok bool, err error) {
	if err := s.open(); err != nil {
		return Dict{}, false, err
	}
	c := s.stored(idx)
	if c == nil || !c.isDict() {
		return Dict{}, false, nil
	}
	if err := c.load(s); err != nil {
		return Dict{}, false, err
	}
	return Dict{seg: c.pages}, true, nil
}

// Block returns block b of column idx (nil when the segment does not store that column, or
// stores it null in every row: all null); a dictionary column's block carries the column's
// whole dictionary. The caller must Release the array.
func (s *Segment) Block(idx, b int) (arrow.Array, error) {
	c, a, err := s.cachedBlock(idx, b, nil)
	if c == nil || err != nil || !c.isDict() {
		return a, err
	}
	defer a.Release()
	if err := c.loadDict(s); err != nil {
		return nil, err
	}
	return dictArray(a.Data(), c.dict), nil
}

// cachedBlock returns stored column c of idx (nil: not stored) and its block b as decoded: the
// codes of a dictionary kind. Blocks go through the cache. With take, only those rows of the
// block: taken from the cached block if there is one, else decoded for those rows and not
// cached, unless the cache says to decode the block whole for it (BlockCache.getForRows).
func (s *Segment) cachedBlock(idx, b int, take []int) (*segColumn, arrow.Array, error) {
	return s.cachedBlockFrame(idx, b, take, nil)
}

// cachedBlockFrame is cachedBlock given block b's frame of the column, read and checked
// (readCold), or nil to read it if it must be decoded.
func (s *Segment) cachedBlockFrame(idx, b int, take []int, frame []byte) (*segColumn, arrow.Array, error) {
	if err := s.open(); err != nil {
		return nil, nil, err
	}
	c := s.stored(idx)
	if c == nil {
		return nil, nil, nil
	}
	whole := take == nil
	var a arrow.Array
	if s.cache != nil {
		if take == nil {
			a = s.cache.get(s, idx, b)
		} else {
			var w bool
			a, w = s.cache.getForRows(s, idx, b)
			whole = whole || w
		}
	}
	if a == nil {
		if err := c.load(s); err != nil {
			return nil, nil, err
		}
		if !whole {
			a, err := s.decodeBlockFrame(c, idx, b, take, frame)
			return c, a, err
		}
		var err error
		if a, err = s.decodeBlockFrame(c, idx, b, nil, frame); err != nil {
			return nil, nil, err
		}
		if s.cache != nil {
			s.cache.put(s, idx, b, a)
		}
	}
	if take == nil {
		return c, a, nil
	}
	defer a.Release()
	t, err := takeArray(a, take, s.mem)
	return c, t, err
}

// blockTraits are the traits block b of stored column c (column idx) is decoded with.
func (s *Segment) blockTraits(c *segColumn, idx, b int) decodeTraits {
	traits := decodeTraits{blockDict: c.meta.Kind == KindExtras && c.ver >= 7}
	if idx < len(s.schema.Columns) {
		col := s.schema.Columns[idx]
		traits.tokens = col.Tokens
		if col.Sibling != nil {
			// Read through the cache, whole: a page that asks for this column asks for its
			// sibling too, and a reference may be to any row of the block.
			traits.sib = func() (arrow.Array, error) { return s.Block(col.Sibling.Index, b) }
		}
		if col.Times != nil && c.ver >= 7 {
			traits.times = func() (arrow.Array, error) { return s.Block(col.Times.Index, b) }
		}
	}
	return traits
}

// decodeBlock reads and decodes block b of stored column c (column idx): for the dictionary
// kinds, its codes (Int32), checked against the dictionary's length. The frame table must be
// loaded. With take, only those rows of the block (a sparse read, take.go).
func (s *Segment) decodeBlock(c *segColumn, idx, b int, take []int) (arrow.Array, error) {
	return s.decodeBlockFrame(c, idx, b, take, nil)
}

// decodeBlockFrame is decodeBlock given the block's frame, read and checked (nil: read here).
func (s *Segment) decodeBlockFrame(c *segColumn, idx, b int, take []int, frame []byte) (arrow.Array, error) {
	if b < 0 || b >= s.NumBlocks() {
		return nil, fmt.Errorf("BUG: block %d of %d", b, s.NumBlocks())
	}
	rows := outLen(take, s.BlockLen(b))
	if c.constant() {
		return constantCodes(rows), nil
	}
	if take != nil && c.ver < 4 {
		// Older frames are Arrow IPC: decoded whole, then taken.
		a, err := s.decodeBlockFrame(c, idx, b, nil, frame)
		if err != nil {
			return nil, err
		}
		defer a.Release()
		return takeArray(a, take, s.mem)
	}
	switch {
	case frame != nil: // read and checked already (readCold)
	case c.frames != nil:
		frame = c.frames[1+b]
	default:
		var err error
		if frame, err = c.readFrame(s, 1+b); err != nil {
			return nil, err
		}
	}
	traits := s.blockTraits(c, idx, b)
	traits.take = take
	traits.checked = take != nil && c.blockChecked(b)
	a, err := c.decode(frame, c.meta.Kind, s.BlockLen(b), s.mem, traits)
	if err != nil {
		return nil, &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s block %d: %v", c.meta.Name, b, err)}
	}
	want := c.meta.Kind.ArrowType()
	if c.isDict() {
		want = arrow.PrimitiveTypes.Int32
		// Version 4 decoders refuse codes outside the footer's dictionary length themselves.
		if err == nil && c.ver < 4 && arrow.TypeEqual(a.DataType(), want) {
			err = checkCodes(a, int(c.meta.DictLen))
		}
	}
	if err == nil && (a.Len() != rows || !arrow.TypeEqual(a.DataType(), want)) {
		err = fmt.Errorf("%d rows of %s, want %d of %s", a.Len(), a.DataType(), rows, want)
	}
	if err != nil {
		a.Release()
		return nil, &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s block %d: %v", c.meta.Name, b, err)}
	}
	c.markChecked(b)
	return a, nil
}

// BlockBatch assembles block b with the given columns bound (others read as null). release must
// be called when the batch is no longer used, and the batch's Err checked before what was read
// from it is trusted (a dictionary page is read when a value first asks for it).
func (s *Segment) BlockBatch(b int, cols []int) (batch *Batch, release func(), err error) {
	return s.blockBatch(b, cols, nil)
}

// BlockRows is BlockBatch for the rows rows of block b (ascending, each within the block): the
// batch's row j is the block's row rows[j]. A column whose block the cache holds is taken from
// it; any other is read for those rows only (a sparse read, take.go) and not cached: a page of
// scattered rows takes a row or two from each of hundreds of blocks.
func (s *Segment) BlockRows(b int, cols []int, rows []int) (batch *Batch, release func(), err error) {
	if rows == nil {
		rows = []int{}
	}
	if err := checkTake(rows, s.BlockLen(b)); err != nil {
		return nil, nil, err
	}
	return s.blockBatch(b, cols, rows)
}

func (s *Segment) blockBatch(b int, cols []int, take []int) (batch *Batch, release func(), err error) {
	got, err := s.blockColumns(b, cols, take)
	if err != nil {
		return nil, nil, err
	}
	batch = getBatch(s.schema, outLen(take, s.BlockLen(b)))
	release = func() {
		for _, g := range got {
			if g.a != nil {
				g.a.Release()
			}
		}
		putBatch(batch)
	}
	for i, idx := range cols {
		// A dictionary column is bound as its codes and its dictionary's pages: the batch's
		// reader reads only the pages of the values it asks for.
		c, a := got[i].c, got[i].a
		if a == nil {
			continue
		}
		if c.isDict() {
			err = batch.bindCodes(idx, a, Dict{seg: c.pages})
		} else {
			err = batch.SetColumn(idx, a)
		}
		if err != nil {
			release()
			return nil, nil, &CorruptError{Path: s.Path, What: err.Error()}
		}
	}
	return batch, release, nil
}

// SegmentUnit adapts block b of a segment as a merge input (compaction); SegmentUnits makes
// them. It holds the arrays it hands out until Release.
type SegmentUnit struct {
	Seg   *Segment
	Block int
	dicts *mergeDicts // shared by the segment's units
	mu    sync.Mutex  // the segment writer gathers columns in parallel
	held  []heldArray
}

type heldArray struct {
	col  int
	a    arrow.Array
	dict bool // the unit holds its segment's merge copy of the column's dictionary too
}

// SegmentUnits returns every block of seg as a merge input. The blocks share one copy of each
// dictionary column's dictionary, decoded for the merge and let go of when every block has
// released the column: the segment's own dictionaries stay with the segment until it closes,
// so a whole-day merge that read them held every dictionary of every input at once by its
// last column (1.16 GB of the 100M-event stream's final merges).
func SegmentUnits(seg *Segment) []*SegmentUnit {
	d := &mergeDicts{seg: seg, byCol: map[int]*mergeDict{}}
	us := make([]*SegmentUnit, seg.NumBlocks())
	for b := range us {
		us[b] = &SegmentUnit{Seg: seg, Block: b, dicts: d}
	}
	return us
}

// mergeDicts are the dictionaries a merge decoded from one segment, by column, with the number
// of handed-out blocks that refer to each.
type mergeDicts struct {
	seg   *Segment
	mu    sync.Mutex
	byCol map[int]*mergeDict
}

type mergeDict struct {
	once    sync.Once
	arr     arrow.Array
	err     error
	holders int
}

// acquire returns column c's (idx) dictionary, decoding it on first use; release lets go of it.
func (m *mergeDicts) acquire(c *segColumn, idx int) (arrow.Array, error) {
	m.mu.Lock()
	d := m.byCol[idx]
	if d == nil {
		d = &mergeDict{}
		m.byCol[idx] = d
	}
	d.holders++
	m.mu.Unlock()
	d.once.Do(func() { d.arr, d.err = c.decodeDict(m.seg) })
	if d.err != nil {
		m.release(idx)
		return nil, d.err
	}
	return d.arr, nil
}

func (m *mergeDicts) release(idx int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.byCol[idx]
	if d.holders--; d.holders == 0 {
		if d.arr != nil {
			d.arr.Release()
		}
		delete(m.byCol, idx)
	}
}

func (u *SegmentUnit) Rows() int { return u.Seg.BlockLen(u.Block) }

func (u *SegmentUnit) Column(idx int) (arrow.Array, error) {
	a, dict, err := u.column(idx)
	if a != nil {
		u.mu.Lock()
		u.held = append(u.held, heldArray{idx, a, dict})
		u.mu.Unlock()
	}
	return a, err
}

// column reads the unit's block of column idx; dict says it holds a merge dictionary.
func (u *SegmentUnit) column(idx int) (a arrow.Array, dict bool, err error) {
	s := u.Seg
	if u.dicts == nil {
		panic("BUG: a SegmentUnit not made by SegmentUnits")
	}
	if err := s.open(); err != nil {
		return nil, false, err
	}
	c := s.stored(idx)
	if c == nil {
		return nil, false, nil
	}
	if err := c.load(s); err != nil {
		return nil, false, err
	}
	if !c.isDict() {
		a, err = s.Block(idx, u.Block)
		return a, false, err
	}
	// Not through the block cache: a merge reads each block once, and a cached block would
	// keep the merge's copy of the dictionary alive.
	d, err := u.dicts.acquire(c, idx)
	if err != nil {
		return nil, false, err
	}
	codes, err := s.decodeBlock(c, idx, u.Block, nil)
	if err != nil {
		u.dicts.release(idx)
		return nil, false, err
	}
	defer codes.Release()
	return dictArray(codes.Data(), d), true, nil
}

// ReleaseColumn drops the arrays of column idx handed out so far (a merge is done with them).
func (u *SegmentUnit) ReleaseColumn(idx int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.held = slices.DeleteFunc(u.held, func(h heldArray) bool {
		if h.col == idx {
			u.drop(h)
			return true
		}
		return false
	})
}

func (u *SegmentUnit) drop(h heldArray) {
	h.a.Release()
	if h.dict {
		u.dicts.release(h.col)
	}
}

// Release drops the arrays handed out so far.
func (u *SegmentUnit) Release() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, h := range u.held {
		u.drop(h)
	}
	u.held = nil
}

// Batches of a segment's blocks are pooled: a Batch holds a reader per schema column (tens of
// kilobytes), and queries assemble one per block they touch.
var batchPool sync.Pool

func getBatch(s *Schema, rows int) *Batch {
	if b, ok := batchPool.Get().(*Batch); ok && b.Schema == s {
		// Only bound columns hold anything (every binding sets present): a block read binds
		// a few of the schema's ~100, and clearing all of them, write barriers and all, was a
		// twentieth of a warm aggregation's CPU.
		for i := range b.cols {
			if b.cols[i].present {
				b.cols[i] = colReader{}
			}
		}
		clear(b.lazy)
		b.lazy = b.lazy[:0]
		b.Rows = rows
		return b
	}
	return NewEmptyBatch(s, rows)
}

func putBatch(b *Batch) { batchPool.Put(b) }

// zeroCodes holds zero bytes shared by every constant column block (read-only; grown by
// replacing it, so a slice handed out stays valid).
var zeroCodes atomic.Pointer[[]byte]

// constantCodes is a block of n codes, all 0 (a dictionary of one value, no nulls).
func constantCodes(n int) arrow.Array {
	zp := zeroCodes.Load()
	if zp == nil || len(*zp) < 4*n {
		z := make([]byte, 4*max(n, DefaultBlockRows))
		zeroCodes.Store(&z)
		zp = &z
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{nil, memory.NewBufferBytes((*zp)[:4*n])}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
