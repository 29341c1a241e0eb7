package columnar

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DictPageValues is how many values a page of a version-6 dictionary holds (the last page
// fewer): its page i holds the values of codes [i·DictPageValues, (i+1)·DictPageValues). A query
// reads the pages its rows' codes fall in, not the whole dictionary: a cold page of one user's
// sign-ins spent 90% of its time decoding the whole dictionaries of userId, deviceId, UPN,
// ipAddress and signInIdentifier (50–200K values a day each) to show a few values of each.
// 64 values keep a page of GUID text near 2 KB stored, so that the ~1,000 scattered values a
// full page of flagged sign-ins shows touch a fraction of a day's pages.
const DictPageValues = 1 << dictPageShift

// dictPageShift is log2(DictPageValues).
const dictPageShift = 6

// segDict is a segment column's dictionary, read page by page as codes ask for values and kept
// while the segment is open. Versions before 6 store the dictionary as one frame: it is then one
// page. Safe for concurrent use.
type segDict struct {
	s     *Segment
	c     *segColumn
	n     int  // values
	shift uint // code>>shift is a code's page, code&(1<<shift-1) its place in it (one page: 31)
	frame int  // the frame of page 0
	pages []atomic.Pointer[dictPage]
	mu    sync.Mutex            // guards the loading of pages (a page is decoded once)
	err   atomic.Pointer[error] // the first page that failed to load
	reads atomic.Int32          // reads of the file made for pages (tests)
	// windows counts the windows read (readWindow); past dictWindowsBeforeWhole the rest of the
	// dictionary is read at once into raw (its page frames, from rawStart in the file), whose
	// pages are checked and decoded as they are asked for. Guarded by mu.
	windows  int
	raw      []byte
	rawStart int64
	// whole is raw and rawStart once the whole dictionary is in memory: from then on a page
	// is checked and decoded without mu, so that the workers writing a page's rows decode the
	// pages they need side by side (a cold page of 1,000 flagged rows touches hundreds of
	// pages of each large dictionary).
	whole atomic.Pointer[rawPages]
	// fences are the first value of each page (version 9, dictfence.go), read on the first
	// search; fenceErr remembers that they could not be (guarded by mu).
	fences   atomic.Pointer[dictPage]
	fenceErr bool
}

type rawPages struct {
	buf   []byte
	start int64
}

type dictPage struct {
	arr  arrow.Array // released when the segment closes
	off  []int32
	data []byte
}

// newSegDict describes column c's dictionary; the frame table must be loaded.
func newSegDict(s *Segment, c *segColumn) *segDict {
	d := &segDict{s: s, c: c, n: int(c.meta.DictLen), shift: 31, frame: 0}
	np := min(d.n, 1)
	if c.ver >= 6 {
		d.shift, d.frame, np = dictPageShift, 1+s.NumBlocks(), dictPages(c.meta.DictLen)
	}
	d.pages = make([]atomic.Pointer[dictPage], np)
	return d
}

// dictPages is how many page frames a version-6 dictionary of n values has.
func dictPages(n uint64) int { return int((n + DictPageValues - 1) / DictPageValues) }

// page returns page i, reading, checking and decoding it on first use.
func (d *segDict) page(i int) (*dictPage, error) {
	if p := d.pages[i].Load(); p != nil {
		return p, nil
	}
	if w := d.whole.Load(); w != nil {
		// Two callers racing for the page each decode it; the first to store it wins. A page
		// that fails is left to the locked path below, which reports it.
		if p, err := d.pageIn(i, w.buf, w.start); err == nil {
			return d.keep(i, p), nil
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.pages[i].Load(); p != nil {
		return p, nil
	}
	if d.c.refs != nil && len(d.pages) > 1 {
		if d.raw == nil && d.windows >= dictWindowsBeforeWhole {
			d.readAll()
		}
		if d.raw != nil {
			d.fromRaw(i)
		} else {
			d.readWindow(i)
			d.windows++
		}
		if p := d.pages[i].Load(); p != nil {
			return p, nil
		}
	}
	// One page alone (a version-2 region, a one-page dictionary, or a page whose window did not
	// read it: its error is reported from here).
	p, err := d.decodePage(i)
	if err != nil {
		d.err.CompareAndSwap(nil, &err)
		return nil, err
	}
	return d.keep(i, p), nil
}

// dictReadPages is how many pages one read of a dictionary fetches: the window of aligned pages
// around the one asked for, in one pread. A cold page of 1,000 flagged sign-ins from across a day
// shows values scattered over most pages of the day's large dictionaries, and reading them one
// page (~2 KB) at a time made ~4,500 reads of a disk that had served five whole dictionaries in
// five; 16 pages (~30 KB of GUID text) still leave a one-user page a few reads per dictionary,
// and decoding the neighbours costs microseconds.
const dictReadPages = 16

// dictWindowsBeforeWhole is how many windows of a dictionary are read one by one before the
// rest is read whole: a page of rows scattered over a day (1,000 flagged sign-ins, the newest
// 1,000) needs most of its windows, and reading them one by one cost a cold page 1.5–3x what
// one read of the whole dictionary did, while one user's rows need a few.
const dictWindowsBeforeWhole = 8

// readWhole reads the whole dictionary's page frames now, unless it has been (Batch.Prefetch,
// for a page of rows that needs pages from many windows); pages are then decoded as asked for.
func (d *segDict) readWhole() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.raw == nil {
		d.readAll()
	}
}

// readAll reads every page frame of the dictionary in one read, into d.raw. d.mu is held.
func (d *segDict) readAll() {
	d.raw, d.rawStart, _ = d.readPages(0, len(d.pages)) // on error pages are read one by one, and report it
	if d.raw != nil {
		d.whole.Store(&rawPages{d.raw, d.rawStart})
	}
}

// readPages reads the frames of pages [lo, hi) in one read.
func (d *segDict) readPages(lo, hi int) ([]byte, int64, error) {
	d.reads.Add(1)
	return d.c.readFrames(d.s, d.frame+lo, d.frame+hi)
}

// pageIn checks and decodes page i from buf, the bytes of the file from start (readPages).
func (d *segDict) pageIn(i int, buf []byte, start int64) (*dictPage, error) {
	f, err := d.c.checkedFrame(d.s, d.frame+i, buf, start)
	if err != nil {
		return nil, err
	}
	return d.decodeFrame(i, f)
}

// fromRaw checks and decodes page i from d.raw (a page that fails is left out, for page to
// report). d.mu is held.
func (d *segDict) fromRaw(i int) {
	if p, err := d.pageIn(i, d.raw, d.rawStart); err == nil {
		d.keep(i, p)
	}
}

// readWindow reads and decodes the pages of page i's window that are not loaded yet, in one
// read. A page whose checksum or decode fails is left out (page reports it if it is asked for).
// d.mu is held.
func (d *segDict) readWindow(i int) {
	lo := i - i%dictReadPages
	hi := min(lo+dictReadPages, len(d.pages))
	buf, start, err := d.readPages(lo, hi)
	if err != nil {
		return
	}
	for j := lo; j < hi; j++ {
		if d.pages[j].Load() != nil {
			continue
		}
		if p, err := d.pageIn(j, buf, start); err == nil {
			d.keep(j, p)
		}
	}
}

// keep makes p page i, unless another caller has made it already (p is then dropped), and
// returns page i: the one kept, or p itself if the segment closed meanwhile (a batch handed out
// before Close stays valid; p is then the caller's, not kept).
func (d *segDict) keep(i int, p *dictPage) *dictPage {
	if d.pages[i].CompareAndSwap(nil, p) {
		d.s.dictBytes.Add(ArrayBytes(p.arr.Data()))
		return p
	}
	if q := d.pages[i].Load(); q != nil {
		p.arr.Release()
		return q
	}
	return p
}

// decodePage reads, checks and decodes page i.
func (d *segDict) decodePage(i int) (*dictPage, error) {
	s, c := d.s, d.c
	var frame []byte
	if c.frames != nil {
		frame = c.frames[d.frame+i]
	} else {
		var err error
		d.reads.Add(1)
		if frame, err = c.readFrame(s, d.frame+i); err != nil {
			return nil, err
		}
	}
	return d.decodeFrame(i, frame)
}

// decodeFrame decodes page i from its checked frame.
func (d *segDict) decodeFrame(i int, frame []byte) (*dictPage, error) {
	s, c := d.s, d.c
	corrupt := func(format string, args ...any) error {
		return &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s: ", c.meta.Name) + fmt.Sprintf(format, args...)}
	}
	rows := min(1<<d.shift, d.n-i<<d.shift)
	if len(frame) == 0 {
		return nil, corrupt("dictionary page %d missing", i)
	}
	a, err := c.decode(frame, KindText, rows, s.mem, decodeTraits{guidPage: c.ver >= 8})
	if err != nil {
		return nil, corrupt("dictionary page %d: %v", i, err)
	}
	str, ok := a.(*array.String)
	if !ok || str.Len() != rows {
		a.Release()
		return nil, corrupt("dictionary page %d is %s of %d entries, want utf8 of %d", i, a.DataType(), a.Len(), rows)
	}
	p := &dictPage{arr: a, off: str.ValueOffsets(), data: str.ValueBytes()}
	if err := d.checkFence(i, p); err != nil {
		a.Release()
		return nil, err
	}
	return p, nil
}

// value returns the value of code, or nil and the error of its page (recorded for Err).
func (d *segDict) value(code int32) []byte {
	p := d.pages[code>>d.shift].Load()
	if p == nil {
		var err error
		if p, err = d.page(int(code >> d.shift)); err != nil {
			return nil
		}
	}
	j := code & (1<<d.shift - 1)
	return p.data[p.off[j]:p.off[j+1]]
}

// Err is the first error a page read for value met.
func (d *segDict) Err() error {
	if p := d.err.Load(); p != nil {
		return *p
	}
	return nil
}

// materialize decodes every page into one dictionary array the caller owns (merges, and
// readers that want a whole Arrow dictionary). Pages it reads are not kept.
func (d *segDict) materialize() (arrow.Array, error) {
	if d.n == 0 {
		return array.NewBuilder(d.s.mem, arrow.BinaryTypes.String).NewArray(), nil
	}
	if len(d.pages) == 1 { // versions before 6, or a small dictionary
		if p := d.pages[0].Load(); p != nil {
			p.arr.Retain()
			return p.arr, nil
		}
		p, err := d.decodePage(0)
		if err != nil {
			return nil, err
		}
		return p.arr, nil
	}
	// The page frames are read in one read (a merge reads every page of every input's
	// dictionaries), each checked by its CRC as it is decoded.
	var raw []byte
	var rawStart int64
	if d.c.refs != nil {
		var err error
		if raw, rawStart, err = d.readPages(0, len(d.pages)); err != nil {
			return nil, err
		}
	}
	b := array.NewStringBuilder(d.s.mem)
	defer b.Release()
	b.Reserve(d.n)
	for i := range d.pages {
		p := d.pages[i].Load()
		kept := p != nil
		if !kept {
			var err error
			if raw == nil {
				p, err = d.decodePage(i)
			} else {
				p, err = d.pageIn(i, raw, rawStart)
			}
			if err != nil {
				return nil, err
			}
		}
		if i == 0 {
			b.ReserveData(len(p.data) * len(d.pages))
		}
		for j := range len(p.off) - 1 {
			b.BinaryBuilder.Append(p.data[p.off[j]:p.off[j+1]])
		}
		if !kept {
			p.arr.Release()
		}
	}
	return b.NewArray(), nil
}

// release drops the pages read (the segment closes).
func (d *segDict) release() {
	if p := d.fences.Swap(nil); p != nil {
		p.arr.Release()
	}
	for i := range d.pages {
		if p := d.pages[i].Swap(nil); p != nil {
			p.arr.Release()
		}
	}
}

// Dict is a dictionary column's values by code, as a Batch holds them: a memtable chunk's or a
// merged block's whole dictionary in memory, or a segment's, whose pages are read as codes ask
// for them (a value whose page cannot be read is nil, and the batch's Err says why).
type Dict struct {
	off  []int32
	data []byte
	seg  *segDict
}

// Len is the number of values.
func (d Dict) Len() int {
	if d.seg != nil {
		return d.seg.n
	}
	if len(d.off) == 0 {
		return 0
	}
	return len(d.off) - 1
}

// Value returns the value of code (0 ≤ code < Len).
func (d Dict) Value(code int32) []byte {
	if d.seg != nil {
		return d.seg.value(code)
	}
	return d.data[d.off[code]:d.off[code+1]]
}

// ID identifies the dictionary while it is in use (nil for an empty one): caches of what a
// dictionary's values become key on it.
func (d Dict) ID() unsafe.Pointer {
	if d.seg != nil {
		return unsafe.Pointer(d.seg)
	}
	if len(d.off) == 0 {
		return nil
	}
	return unsafe.Pointer(&d.off[0])
}

// Err is the first error reading the dictionary's values met (a segment's page that failed
// its checksum or decode).
func (d Dict) Err() error {
	if d.seg != nil {
		return d.seg.Err()
	}
	return nil
}
