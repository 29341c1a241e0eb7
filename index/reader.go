package index

import (
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/authlake/authlake/internal/fsutil"
)

// Reader probes one sidecar. Open reads only its header, trailer and directory; each
// section is read, CRC-verified and checked on its first probe, except keys sections of format
// version 3, which each probe reads one bucket group of (keys_grouped.go). A Reader is safe for
// concurrent use provided its io.ReaderAt is, as io.ReaderAt requires.
//
// Bitmaps returned by probes are copy-on-write views of the section bytes, which the
// Reader keeps in Go memory and never changes: callers may mutate them (mutated
// containers are copied first) but must not call SetCopyOnWrite(false) on them.
type Reader struct {
	r        io.ReaderAt
	rows     uint32
	version  uint8 // the file's format version
	entries  []dirEntry
	sections []lazySection
	trusted  bool // see OpenTrusted

	// A Reader of OpenLazy opens its sidecar on first use.
	opener func() (io.ReaderAt, int64, error)
	mu     sync.Mutex
	ready  atomic.Bool

	found    atomic.Pointer[foundSection] // find's memo
	res      *Resident                    // bounds what the sections keep in memory (nil: no bound)
	released atomic.Bool                  // Release was called: keep nothing more
}

// lazySection is one section, decoded on first use and kept. What that keeps is small for the
// sections of format version 4 (a keys or postings section's header; its bytes, once read
// whole, are a wholeSection the Resident bounds) and for zone maps. Postings of versions 1 to 3
// are kept whole, as those versions' readers always did: bounding them would read a day's
// userPrincipalName section again at every query that found it evicted.
type lazySection struct {
	once sync.Once
	err  error
	dec  any         // *postingsSection, *keysSection, *keysGroups, *postingsPaged, *postingsGrouped, *ZoneMap[int64] or *ZoneMap[float64]
	done atomic.Bool // once has run: dec and err are set (pieces reads dec without the once)
	// counts keeps the postings' row counts that counts asked for (postings kinds only).
	counts countMemo
}

// SectionInfo describes one section, for statistics and tools.
type SectionInfo struct {
	Column string
	Kind   Kind
	Offset int64
	Length int64
}

// Open reads and verifies the header, trailer and directory of a sidecar of size bytes.
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	return open(r, size, false)
}

// OpenTrusted is Open for sidecars this process's engine wrote itself: sections are still read
// lazily and CRC-checked, but bitmaps are not put through roaring's structural Validate (which
// is quadratic-ish in run containers and made a cold query on 1M events spend 60% of its time
// validating). The CRC catches accidents; Open keeps the hostile-input path for tools and tests.
func OpenTrusted(r io.ReaderAt, size int64) (*Reader, error) {
	return open(r, size, true)
}

// OpenLazy is OpenTrusted deferred to the first call that needs the sidecar: open then returns
// it and its size. A database opens its segments' sidecars this way, so that opening it reads no
// sidecar and a query reads only those of the segments it probes. If the sidecar cannot be
// opened or is damaged, Has reports every section present and the probe that follows returns
// the error: a damaged index fails the query that needed it, it is never silently skipped.
//
// res bounds the memory its sections stay in after use, shared by all of a database's Readers
// (nil: they stay until the Reader goes). Release takes them out when the segment closes.
func OpenLazy(open func() (io.ReaderAt, int64, error), res *Resident) *Reader {
	return &Reader{opener: open, trusted: true, res: res}
}

// Release lets go of the sections the Reader keeps in its Resident: its segment is closed. A
// probe after Release still works, reading only the pieces it needs (never a section whole).
func (rd *Reader) Release() {
	if rd.released.Swap(true) || rd.res == nil {
		return
	}
	rd.res.release(rd.pieces())
}

// pieces lists the Reader's resident pieces (resident or not).
func (rd *Reader) pieces() []*resident {
	if !rd.ready.Load() && rd.opener != nil {
		return nil
	}
	var out []*resident
	for i := range rd.sections {
		s := &rd.sections[i]
		if s.done.Load() {
			switch v := s.dec.(type) {
			case *keysGroups:
				out = append(out, &v.whole.piece)
			case pagedPostings:
				out = append(out, &v.probes().whole.piece)
				out = v.probes().runs.pieces(out)
			}
		}
	}
	return out
}

// keep admits a piece of the Reader's memory to its Resident, or says not to keep it.
func (rd *Reader) keep(p *resident) bool {
	if rd.released.Load() || !rd.res.admit(p) {
		return false
	}
	if rd.released.Load() { // released meanwhile: Release may not have seen p
		rd.res.release([]*resident{p})
		return false
	}
	return true
}

// ensure opens a lazy Reader's sidecar, once it succeeds.
func (rd *Reader) ensure() error {
	if rd.opener == nil || rd.ready.Load() {
		return nil
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.ready.Load() {
		return nil
	}
	r, size, err := rd.opener()
	if err != nil {
		return err
	}
	full, err := open(r, size, rd.trusted)
	if err != nil {
		return err
	}
	rd.r, rd.rows, rd.version, rd.entries, rd.sections = full.r, full.rows, full.version, full.entries, full.sections
	rd.ready.Store(true)
	return nil
}

func open(r io.ReaderAt, size int64, trusted bool) (*Reader, error) {
	if size < headerLen+trailerLen {
		return nil, corruptf("file of %d bytes is shorter than header and trailer (%d)", size, headerLen+trailerLen)
	}
	// The header, and the trailer with the directory before it, in two reads side by side.
	var head [headerLen + trailerLen]byte
	end, err := fsutil.ReadEnds(r, size, head[:headerLen], tailRead)
	if err != nil {
		return nil, fmt.Errorf("index: cannot read header and trailer: %w", err)
	}
	copy(head[headerLen:], end[len(end)-trailerLen:])
	if err := checkHeader(head[:headerLen]); err != nil {
		return nil, err
	}
	var t trailer
	if _, err := t.unmarshal(head[headerLen:]); err != nil {
		return nil, fmt.Errorf("trailer at offset %d: %w", size-trailerLen, err)
	}
	if head[4] != t.version {
		return nil, corruptf("header says format version %d, trailer %d", head[4], t.version)
	}
	dirEnd := uint64(size - trailerLen)
	if t.dirOffset < headerLen || t.dirOffset > dirEnd || uint64(t.dirLen) != dirEnd-t.dirOffset {
		return nil, corruptf("trailer: directory [%d, +%d) does not end at the trailer (%d)", t.dirOffset, t.dirLen, dirEnd)
	}
	var dir []byte
	if before := len(end) - trailerLen; int(t.dirLen) <= before {
		dir = end[before-int(t.dirLen) : before]
	} else {
		dir = make([]byte, t.dirLen)
		if _, err := r.ReadAt(dir, int64(t.dirOffset)); err != nil {
			return nil, fmt.Errorf("index: cannot read directory at offset %d: %w", t.dirOffset, err)
		}
	}
	if got := crc32.Checksum(dir, castagnoli); got != t.dirCRC {
		return nil, corruptf("directory at offset %d: crc32c mismatch (got %08x, stored %08x)", t.dirOffset, got, t.dirCRC)
	}
	entries, tail, err := unmarshalDirectory(dir, t.dirOffset)
	if err != nil {
		return nil, fmt.Errorf("directory at offset %d: %w", t.dirOffset, err)
	}
	if len(tail) != 0 {
		return nil, corruptf("directory at offset %d: %d trailing bytes", t.dirOffset, len(tail))
	}
	return &Reader{r: r, rows: t.rows, version: t.version, entries: entries, sections: make([]lazySection, len(entries)), trusted: trusted}, nil
}

// Rows returns the number of rows of the segment.
func (rd *Reader) Rows() uint32 {
	if rd.ensure() != nil {
		return 0
	}
	return rd.rows
}

// find returns the index of column's section of kind in the directory, or -1.
func (rd *Reader) find(column string, kind Kind) int {
	if m := rd.found.Load(); m != nil && m.kind == kind && m.column == column {
		return m.i
	}
	i := rd.search(column, kind)
	rd.found.Store(&foundSection{column: column, kind: kind, i: i})
	return i
}

// foundSection is the last section find looked up: a query asks each segment's directory
// for the same one or two sections, and the search's string compares missed the cache (half
// a microsecond a segment, a twentieth of a warm correlation-id lookup over 30 days).
type foundSection struct {
	column string
	kind   Kind
	i      int
}

// search is find's binary search, written out over the entries in place:
// slices.BinarySearchFunc passed each entry by value.
func (rd *Reader) search(column string, kind Kind) int {
	lo, hi := 0, len(rd.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareEntry(&rd.entries[m], column, kind) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(rd.entries) && compareEntry(&rd.entries[lo], column, kind) == 0 {
		return lo
	}
	return -1
}

// Has reports whether the sidecar has a section of the given kind for column.
func (rd *Reader) Has(column string, kind Kind) bool {
	if rd.ensure() != nil {
		return true // the probe that follows says why
	}
	return rd.find(column, kind) >= 0
}

// Columns returns the indexed column names in sorted order, each once.
func (rd *Reader) Columns() []string {
	if rd.ensure() != nil {
		return nil
	}
	var cols []string
	for i := range rd.entries {
		if len(cols) == 0 || cols[len(cols)-1] != rd.entries[i].column {
			cols = append(cols, rd.entries[i].column)
		}
	}
	return cols
}

// Sections describes every section, sorted by column and kind.
func (rd *Reader) Sections() []SectionInfo {
	if rd.ensure() != nil {
		return nil
	}
	out := make([]SectionInfo, len(rd.entries))
	for i, e := range rd.entries {
		out[i] = SectionInfo{Column: e.column, Kind: e.kind, Offset: int64(e.offset), Length: int64(e.length)}
	}
	return out
}

// section returns the decoded section, loading it on first use.
func (rd *Reader) section(column string, kind Kind) (any, error) {
	s, err := rd.loaded(column, kind)
	if err != nil {
		return nil, err
	}
	return s.dec, nil
}

// loaded returns column's section of kind, loaded.
func (rd *Reader) loaded(column string, kind Kind) (*lazySection, error) {
	if err := rd.ensure(); err != nil {
		return nil, err
	}
	i := rd.find(column, kind)
	if i < 0 {
		return nil, fmt.Errorf("%w: column %q has no %s section", ErrNotFound, column, kind)
	}
	s := &rd.sections[i]
	s.once.Do(func() {
		s.dec, s.err = rd.load(&rd.entries[i])
		s.done.Store(true)
	})
	if s.err != nil {
		return nil, s.err
	}
	return s, nil
}

func (rd *Reader) load(e *dirEntry) (any, error) {
	if e.kind == KindKeys && rd.version >= 3 {
		// Read per bucket group on each probe, checked by the header's and the group's own CRCs.
		// The directory's CRC of the whole section is still written, for tools that check a
		// whole file, but a probe never reads the section whole to check it.
		layout := byte(keysLayoutGrouped)
		switch {
		case rd.version >= 7:
			layout = keysLayoutPacked
		case rd.version >= 5:
			layout = keysLayoutBlocks
		}
		kg, err := openKeysGroups(rd.r, int64(e.offset), int64(e.length), rd.rows, layout)
		if err != nil {
			return nil, fmt.Errorf("section %s %q at offset %d (%d bytes): %w", e.kind, e.column, e.offset, e.length, err)
		}
		kg.whole.rd = rd
		return kg, nil
	}
	if (e.kind == KindCodes || e.kind == KindBools || e.kind == KindInt32) && rd.version >= 4 {
		var ps pagedPostings
		var err error
		if rd.version >= 6 {
			ps, err = openPostingsGrouped(rd.r, int64(e.offset), int64(e.length), rd.rows, e.kind == KindInt32, rd.trusted)
		} else {
			ps, err = openPostingsPaged(rd.r, int64(e.offset), int64(e.length), rd.rows, e.kind == KindInt32, rd.trusted)
		}
		if err == nil && e.kind == KindBools && ps.count() != 2 {
			err = corruptf("bools: %d postings, want 2", ps.count())
		}
		if err != nil {
			return nil, fmt.Errorf("section %s %q at offset %d (%d bytes): %w", e.kind, e.column, e.offset, e.length, err)
		}
		ps.probes().where = fmt.Sprintf("section %s %q at offset %d", e.kind, e.column, e.offset)
		ps.probes().whole.rd = rd
		return ps, nil
	}
	buf := alignedBytes(int(e.length))
	if _, err := rd.r.ReadAt(buf, int64(e.offset)); err != nil {
		return nil, fmt.Errorf("index: cannot read section %s %q at offset %d: %w", e.kind, e.column, e.offset, err)
	}
	dec, err := decodeSection(buf, e.crc, e.kind, rd.rows)
	if ps, ok := dec.(*postingsSection); ok {
		ps.trusted = rd.trusted
	}
	if err != nil {
		return nil, fmt.Errorf("section %s %q at offset %d (%d bytes): %w", e.kind, e.column, e.offset, e.length, err)
	}
	return dec, nil
}

// decodeSection verifies the CRC of one section payload and decodes it.
func decodeSection(buf []byte, crc uint32, kind Kind, rows uint32) (any, error) {
	if got := crc32.Checksum(buf, castagnoli); got != crc {
		return nil, corruptf("crc32c mismatch (got %08x, stored %08x)", got, crc)
	}
	switch kind {
	case KindCodes, KindBools, KindInt32:
		ps := &postingsSection{}
		if err := ps.unmarshal(buf, rows, kind == KindInt32); err != nil {
			return nil, err
		}
		if kind == KindBools && ps.n != 2 {
			return nil, corruptf("bools: %d postings, want 2", ps.n)
		}
		return ps, nil
	case KindKeys:
		ks := &keysSection{} // versions 1 and 2; version 3's are read per group
		if err := ks.unmarshal(buf, rows); err != nil {
			return nil, err
		}
		return ks, nil
	case KindZoneMapInt64:
		zm := &ZoneMap[int64]{}
		if err := zm.unmarshal(buf, rows); err != nil {
			return nil, err
		}
		return zm, nil
	case KindZoneMapFloat64:
		zm := &ZoneMap[float64]{}
		if err := zm.unmarshal(buf, rows); err != nil {
			return nil, err
		}
		return zm, nil
	}
	panic(fmt.Sprintf("BUG: directory admitted unknown kind %d", kind))
}

// alignedBytes returns an 8-byte aligned buffer so that roaring's zero-copy decode
// reinterprets uint64 bitmap words at aligned addresses.
func alignedBytes(n int) []byte {
	if n == 0 {
		return nil
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

func (rd *Reader) postings(column string, kind Kind) (postingsProber, error) {
	dec, err := rd.section(column, kind)
	if err != nil {
		return nil, err
	}
	return dec.(postingsProber), nil
}

// WillProbe says that postings postings of column's section of kind are about to be probed
// (a union of many codes): a section of version 4 or later is then read whole at once, where the Reader's
// Resident has room for it, instead of two small reads per posting. Errors are left to the
// probes.
func (rd *Reader) WillProbe(column string, kind Kind, postings int) {
	if postings < manyPostings {
		return
	}
	if ps, err := rd.postings(column, kind); err == nil {
		if pp, ok := ps.(pagedPostings); ok {
			pp.probes().willProbe(postings)
		}
	}
}

// Codes returns the rows whose dictionary code is code. A code outside the dictionary
// the sidecar was built with has no rows.
func (rd *Reader) Codes(column string, code uint32) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindCodes)
	if err != nil {
		return nil, err
	}
	if code >= uint32(ps.count()) {
		return roaring.New(), nil
	}
	return ps.bitmap(int(code))
}

// CodesNull returns the rows whose code was the null code.
func (rd *Reader) CodesNull(column string) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindCodes)
	if err != nil {
		return nil, err
	}
	return ps.bitmap(ps.count())
}

// Cardinality returns the dictionary cardinality a codes section was built with.
func (rd *Reader) Cardinality(column string) (uint32, error) {
	ps, err := rd.postings(column, KindCodes)
	if err != nil {
		return 0, err
	}
	return uint32(ps.count()), nil
}

// Bools returns the non-null rows whose value is v.
func (rd *Reader) Bools(column string, v bool) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindBools)
	if err != nil {
		return nil, err
	}
	if v {
		return ps.bitmap(1)
	}
	return ps.bitmap(0)
}

// BoolsNull returns the rows whose value is null.
func (rd *Reader) BoolsNull(column string) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindBools)
	if err != nil {
		return nil, err
	}
	return ps.bitmap(2)
}

// Int32 returns the non-null rows whose value is v.
func (rd *Reader) Int32(column string, v int32) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindInt32)
	if err != nil {
		return nil, err
	}
	i := ps.find(v)
	if i < 0 {
		return roaring.New(), nil
	}
	return ps.bitmap(i)
}

// Int32Null returns the rows whose value is null.
func (rd *Reader) Int32Null(column string) (*roaring.Bitmap, error) {
	ps, err := rd.postings(column, KindInt32)
	if err != nil {
		return nil, err
	}
	return ps.bitmap(ps.count())
}

// Int32Values returns the distinct non-null values of an int32 section, increasing, so
// the planner can turn a range predicate into an Or of postings.
func (rd *Reader) Int32Values(column string) ([]int32, error) {
	ps, err := rd.postings(column, KindInt32)
	if err != nil {
		return nil, err
	}
	vals := make([]int32, ps.count())
	for i := range vals {
		vals[i] = ps.value(i)
	}
	return vals, nil
}

// keys returns column's keys section, of either layout, and a function that names the
// section in an error of its probes.
func (rd *Reader) keys(column string) (keyProber, func(error) error, error) {
	dec, err := rd.section(column, KindKeys)
	if err != nil {
		return nil, nil, err
	}
	e := &rd.entries[rd.find(column, KindKeys)]
	where := func(err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("section %s %q at offset %d: %w", e.kind, e.column, e.offset, err)
	}
	return dec.(keyProber), where, nil
}

// Keys returns the candidate rows for key: a superset of the rows whose key equals it,
// because only 16 bits of the hash besides the bucket are stored. The caller must verify
// each candidate against the column.
func (rd *Reader) Keys(column string, key []byte) (*roaring.Bitmap, error) {
	kp, where, err := rd.keys(column)
	if err != nil {
		return nil, err
	}
	bm, err := keysBitmap(kp, key)
	return bm, where(err)
}

// AppendKeyRows is Keys without the bitmap: it appends the candidate rows to dst in
// increasing order, for point lookups that go straight to the column.
func (rd *Reader) AppendKeyRows(dst []uint32, column string, key []byte) ([]uint32, error) {
	kp, where, err := rd.keys(column)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst, err = appendRows(kp, dst, KeyHash(key))
	slices.Sort(dst[start:])
	return dst, where(err)
}

// ZoneMapInt64 returns the int64 zone map of column, shared and read-only.
func (rd *Reader) ZoneMapInt64(column string) (*ZoneMap[int64], error) {
	dec, err := rd.section(column, KindZoneMapInt64)
	if err != nil {
		return nil, err
	}
	return dec.(*ZoneMap[int64]), nil
}

// ZoneMapFloat64 returns the float64 zone map of column, shared and read-only.
func (rd *Reader) ZoneMapFloat64(column string) (*ZoneMap[float64], error) {
	dec, err := rd.section(column, KindZoneMapFloat64)
	if err != nil {
		return nil, err
	}
	return dec.(*ZoneMap[float64]), nil
}
