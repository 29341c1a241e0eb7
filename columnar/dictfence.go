package columnar

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Page fences of a segment's dictionary (version 9): frame 0 of a dictionary column of more
// than one page holds the first value of each page, so that a search of the sorted values (an
// equality probe, a case-insensitive lookup) finds the one page its answer is on from the
// fences and reads that page alone. Without them a binary search visits about log2(pages)
// pages, each in another window of the file: a cold "one user's flagged sign-ins" over 30 days
// of 10M events made ~8 window reads and then one read of the whole userPrincipalName
// dictionary (335 KB) in each day's segment, two thirds of the query's reads. The fences of a
// 42,000-name dictionary are 656 values, a few KB stored.

// encodeFences encodes the first value of each DictPageValues-value page of dict as a text
// frame (GUID-packed where the values are GUIDs, as the pages are).
func encodeFences(dict *array.String, better bool) ([]byte, error) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(dictPages(uint64(dict.Len())))
	for lo := 0; lo < dict.Len(); lo += DictPageValues {
		b.Append(dict.Value(lo))
	}
	a := b.NewArray()
	defer a.Release()
	return encodeFrameV4(KindText, a, 0, encodeTraits{guidPage: true}, better)
}

// fenceAheadBytes is how much of a region a dictionary with page fences reads after its frame
// table, in the same read: the fences follow the table (frame 0), and a cold search read them
// apart, one more wait for the disk in every day's segment. The fences of 42,000 names take
// about 6 KB.
const fenceAheadBytes = 32 << 10

// fenceAhead is how many bytes after the frame table column c's load reads (fenceAheadBytes for
// a dictionary with page fences, else none).
func (c *segColumn) fenceAhead() uint64 {
	if c.meta.Table == 0 || c.ver < 9 || !c.isDict() || c.meta.DictLen <= DictPageValues {
		return 0
	}
	return min(fenceAheadBytes, c.meta.Length-c.meta.Table)
}

// keepAhead keeps, of the bytes read after the frame table, frame 0 (the fences) if they hold
// it whole, in a buffer of its size, and lets the rest go.
func (c *segColumn) keepAhead() {
	if c.ahead == nil || len(c.refs) == 0 {
		c.ahead = nil
		return
	}
	r := c.refs[0]
	if r.len == 0 || !c.aheadHolds(r) {
		c.ahead = nil
		return
	}
	c.ahead, c.aheadAt = bytes.Clone(c.ahead[r.off-c.aheadAt:r.off-c.aheadAt+r.len]), r.off
}

// aheadHolds reports whether the bytes read after the frame table hold frame r whole.
func (c *segColumn) aheadHolds(r frameRef) bool {
	return c.ahead != nil && r.off >= c.aheadAt && r.off+r.len <= c.aheadAt+int64(len(c.ahead))
}

// hasFences says whether the dictionary stores page fences: version 9 and more than one page.
func (d *segDict) hasFences() bool { return d.c.ver >= 9 && d.c.refs != nil && len(d.pages) > 1 }

// fenceValues returns the dictionary's page fences, reading, checking and decoding frame 0 on
// first use; nil when it has none or they cannot be read (the error is then the dictionary's,
// Err, and a search goes page by page).
func (d *segDict) fenceValues() *dictPage {
	if !d.hasFences() {
		return nil
	}
	if p := d.fences.Load(); p != nil {
		return p
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.fences.Load(); p != nil {
		return p
	}
	if d.fenceErr {
		return nil
	}
	p, err := d.readFences()
	if err != nil {
		d.fenceErr = true
		d.err.CompareAndSwap(nil, &err)
		return nil
	}
	d.fences.Store(p)
	d.s.dictBytes.Add(ArrayBytes(p.arr.Data()))
	return p
}

// readFences reads and checks frame 0 as the fences of len(d.pages) pages: one value a page,
// strictly ascending (a dictionary's values are distinct and sorted).
func (d *segDict) readFences() (*dictPage, error) {
	s, c := d.s, d.c
	corrupt := func(format string, args ...any) error {
		return &CorruptError{Path: s.Path, What: fmt.Sprintf("column %s: dictionary fences: ", c.meta.Name) + fmt.Sprintf(format, args...)}
	}
	var frame []byte
	var err error
	if c.aheadHolds(c.refs[0]) {
		frame, err = c.checkedFrame(s, 0, c.ahead, c.aheadAt) // read with the frame table
	} else {
		d.reads.Add(1)
		frame, err = c.readFrame(s, 0)
	}
	c.ahead = nil // d.mu is held: no other reader of it
	if err != nil {
		return nil, err
	}
	if len(frame) == 0 {
		return nil, corrupt("missing (%d pages)", len(d.pages))
	}
	a, err := c.decode(frame, KindText, len(d.pages), s.mem, decodeTraits{guidPage: true})
	if err != nil {
		return nil, corrupt("%v", err)
	}
	str, ok := a.(*array.String)
	if !ok || str.Len() != len(d.pages) {
		a.Release()
		return nil, corrupt("%s of %d entries, want utf8 of %d", a.DataType(), a.Len(), len(d.pages))
	}
	p := &dictPage{arr: a, off: str.ValueOffsets(), data: str.ValueBytes()}
	for i := 1; i < len(d.pages); i++ {
		if bytes.Compare(p.value(i-1), p.value(i)) >= 0 {
			a.Release()
			return nil, corrupt("fence %d is not above fence %d", i, i-1)
		}
	}
	return p, nil
}

// checkFence reports a page whose first value is not its fence (when the fences are read):
// a search that trusted them would have looked on the wrong page.
func (d *segDict) checkFence(i int, p *dictPage) error {
	f := d.fences.Load()
	if f == nil || len(p.off) < 2 || bytes.Equal(f.value(i), p.value(0)) {
		return nil
	}
	return &CorruptError{Path: d.s.Path, What: fmt.Sprintf("column %s: dictionary page %d begins with %q, its fence is %q", d.c.meta.Name, i, p.value(0), f.value(i))}
}

// value returns the page's j-th value.
func (p *dictPage) value(j int) []byte { return p.data[p.off[j]:p.off[j+1]] }

// Search returns the smallest code in [lo, hi) whose value satisfies pred, or hi if none: pred
// must be false and then true over the values in code order (sort.Search's contract), so the
// dictionary must be sorted, as a segment's is. A segment dictionary with page fences finds the
// page the answer is on from them and reads that page only.
func (d Dict) Search(lo, hi int, pred func(v []byte) bool) int {
	if p, ok := d.fencePage(lo, hi, pred); ok {
		// The answer is page p's first code, or on the page before it (from lo on). An answer
		// at a fence reads no page.
		lo, hi = max(lo, (p-1)<<d.seg.shift), min(hi, p<<d.seg.shift)
	}
	return lo + sort.Search(hi-lo, func(i int) bool { return pred(d.Value(int32(lo + i))) })
}

// Bound returns an upper bound of Search(lo, hi, pred) found without reading a page: the first
// code in [lo, hi) that begins a page whose fence satisfies pred, else hi. A dictionary without
// fences searches (Search).
func (d Dict) Bound(lo, hi int, pred func(v []byte) bool) int {
	p, ok := d.fencePage(lo, hi, pred)
	if !ok {
		return d.Search(lo, hi, pred)
	}
	return min(hi, p<<d.seg.shift)
}

// fencePage returns, of the pages that begin in [lo, hi), the first whose fence (the value of
// code k<<shift for page k) satisfies pred, or the page after the last of them if none; ok is
// false when the dictionary has no fences (or [lo, hi) is empty) and nothing was found.
func (d Dict) fencePage(lo, hi int, pred func(v []byte) bool) (p int, ok bool) {
	s := d.seg
	if s == nil || lo >= hi {
		return 0, false
	}
	f := s.fenceValues()
	if f == nil {
		return 0, false
	}
	first, last := (lo+1<<s.shift-1)>>s.shift, (hi-1)>>s.shift
	return first + sort.Search(last+1-first, func(k int) bool { return pred(f.value(first + k)) }), true
}

// peek returns the value of code i, from the fences when i begins a page (no page read).
func (d Dict) peek(i int) []byte {
	if s := d.seg; s != nil && i&(1<<s.shift-1) == 0 {
		if f := s.fences.Load(); f != nil {
			return f.value(i >> s.shift)
		}
	}
	return d.Value(int32(i))
}
