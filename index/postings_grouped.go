package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Postings of format version 6 are checked a group of postings at a time. In versions 4 and 5
// every posting had its own table entry (end and CRC, 8 bytes) and started 8-aligned, which
// made a user's one-run posting of 5 bytes cost 16: on a generated day of 3.4M events the
// userId, userPrincipalName and ipAddress sections (about 330,000 postings each) were mostly
// table and padding. Version 6 keeps a posting's length (2 bytes, or 4 in a section with a
// posting of 64 KiB or more) and shares a start and a CRC among g consecutive postings; only a
// roaring bitmap, which decodes in place, is padded to 8. The layout (docs/format/index.md):
//
//	n uint32 | g uint8 | w uint8 | 0 uint16 | values [n]int32 (int32 kind only) | crc32c of these
//	| zero padding | groups [ceil((n+1)/g)]{start uint32, crc uint32, lens [g] w-byte} | area
//
// The padding (0 to 7 bytes, read and checked with the header) makes the area start 8-aligned.
//
// Group k holds postings [k·g, k·g+g) (the last one fewer; its unused lens are zero): area bytes
// [start, start+Σlens), posting after posting. Its crc is the CRC32C of k (uint32), the group's
// start and lens as stored, and its bytes. A posting is empty (length 0), a run list (first
// byte 0x01, anywhere), or a roaring bitmap starting 8-aligned in the area, after the zero bytes
// that align it, which its length counts. The writer picks the largest g of 64, 32, ..., 1 for
// which no group holds more than groupSlack bytes besides its largest posting: a probe reads one
// group, so a section of large postings (an application's, a flag's) keeps one to a group.

const (
	maxGroupPostings = 64
	groupSlack       = 4096
	groupHeaderLen   = 8 // n, g, w and two zero bytes
)

// postingsGroupedLayout is what a grouped section's header says about its table and area.
type postingsGroupedLayout struct {
	n, g, w  int
	head     int64 // bytes before the header's crc
	tableAt  int64
	recLen   int64
	groups   int
	areaAt   int64
	areaSize int64
}

func (l *postingsGroupedLayout) set(n, g, w int, withValues bool, length int64) error {
	if n > maxPostings {
		return corruptf("postings: too many postings %d; max %d", n, maxPostings)
	}
	if g < 1 || g > maxGroupPostings || (w != 2 && w != 4) {
		return corruptf("postings: %d postings to a group, %d-byte lengths", g, w)
	}
	l.n, l.g, l.w = n, g, w
	l.head = groupHeaderLen
	if withValues {
		l.head += 4 * int64(n)
	}
	l.recLen = 8 + int64(g*w)
	l.groups = (n + 1 + g - 1) / g
	l.areaAt = int64(align8(int(l.head + 4 + int64(l.groups)*l.recLen)))
	l.tableAt = l.areaAt - int64(l.groups)*l.recLen // after the zero bytes that align the area
	if l.areaAt > length {
		return corruptf("postings: %d postings in groups of %d need %d bytes before the bitmaps, the section has %d", n, g, l.areaAt, length)
	}
	l.areaSize = length - l.areaAt
	return nil
}

// encodePosting returns a posting's bytes as the writers store them: a run list when that is
// shorter than the roaring serialization (and, with runListMax > 0, at most runListMax bytes:
// versions 5 and 6 wrote maxRunList), else the roaring serialization; nothing for an empty
// posting.
func encodePosting(bm *roaring.Bitmap, runListMax int) []byte {
	if bm == nil || bm.IsEmpty() {
		return nil
	}
	size := int(bm.GetSerializedSizeInBytes())
	limit := size
	if runListMax > 0 {
		limit = min(size, runListMax+1)
	}
	if b, ok := appendRunList(nil, bm, limit); ok {
		return b
	}
	w := appendWriter{b: make([]byte, 0, size)}
	if _, err := bm.WriteTo(&w); err != nil {
		panic(fmt.Sprintf("BUG: roaring WriteTo into memory failed: %s", err))
	}
	return w.b
}

// marshalPostingsGrouped appends a version-7 postings payload. bitmaps has n+1 entries, the last
// the null posting; values is nil for codes and bools. dst must start at the section start (the
// area is 8-aligned relative to len(dst) at entry, which readers mirror).
func marshalPostingsGrouped(dst []byte, values []int32, bitmaps []*roaring.Bitmap) []byte {
	return marshalPostingsGroupedMax(dst, values, bitmaps, 0)
}

// marshalPostingsGroupedMax is marshalPostingsGrouped with run lists of at most runListMax
// bytes (0: any length shorter than the roaring serialization); version 6 wrote maxRunList.
func marshalPostingsGroupedMax(dst []byte, values []int32, bitmaps []*roaring.Bitmap, runListMax int) []byte {
	n := len(bitmaps) - 1
	if n < 0 || (values != nil && len(values) != n) {
		panic(fmt.Sprintf("BUG: marshalPostingsGrouped: %d bitmaps for %d values", len(bitmaps), len(values)))
	}
	bodies := make([][]byte, n+1)
	lens := make([]int, n+1) // with the padding before a roaring bitmap
	offs := make([]int, n+2) // area offset of each posting, then the area's size
	for i, bm := range bitmaps {
		b := encodePosting(bm, runListMax)
		bodies[i] = b
		pad := 0
		if len(b) > 0 && b[0] != runListTag {
			pad = align8(offs[i]) - offs[i]
		}
		lens[i] = pad + len(b)
		offs[i+1] = offs[i] + lens[i]
	}
	g := maxGroupPostings
	for g > 1 && !groupsFit(lens, g) {
		g /= 2
	}
	w := 2
	if slices.Max(lens) > 0xffff {
		w = 4
	}
	var l postingsGroupedLayout
	if err := l.set(n, g, w, values != nil, 1<<62); err != nil {
		panic(fmt.Sprintf("BUG: marshalPostingsGrouped: %s", err))
	}
	base := len(dst)
	dst = slices.Grow(dst, int(l.areaAt)+offs[n+1])
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, byte(g), byte(w), 0, 0)
	for _, v := range values {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
	}
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[base:], castagnoli))
	dst = append(dst, make([]byte, int(l.areaAt)-(len(dst)-base))...) // the padding, then the table
	tableAt, area := base+int(l.tableAt), base+int(l.areaAt)
	for i, b := range bodies {
		dst = append(dst, make([]byte, lens[i]-len(b))...) // alignment: zeros
		dst = append(dst, b...)
	}
	for k := range l.groups {
		rec := dst[tableAt+k*int(l.recLen) : tableAt+(k+1)*int(l.recLen)]
		first, last := k*g, min(k*g+g, n+1)
		binary.LittleEndian.PutUint32(rec, uint32(offs[first]))
		for j := first; j < last; j++ {
			putLen(rec[8+(j-first)*w:], w, lens[j])
		}
		binary.LittleEndian.PutUint32(rec[4:], postingsGroupCRC(k, rec, dst[area+offs[first]:area+offs[last]]))
	}
	return dst
}

// groupsFit says whether groups of g postings each hold at most groupSlack bytes besides their
// largest posting.
func groupsFit(lens []int, g int) bool {
	for k := 0; k < len(lens); k += g {
		sum, most := 0, 0
		for _, l := range lens[k:min(k+g, len(lens))] {
			sum += l
			most = max(most, l)
		}
		if sum-most > groupSlack {
			return false
		}
	}
	return true
}

func putLen(b []byte, w, v int) {
	if w == 2 {
		binary.LittleEndian.PutUint16(b, uint16(v))
	} else {
		binary.LittleEndian.PutUint32(b, uint32(v))
	}
}

func getLen(b []byte, w int) int {
	if w == 2 {
		return int(binary.LittleEndian.Uint16(b))
	}
	return int(binary.LittleEndian.Uint32(b))
}

// postingsGroupCRC is the CRC32C of k, the group's record without its crc field, and its bytes.
func postingsGroupCRC(k int, rec, body []byte) uint32 {
	var kb [4]byte
	binary.LittleEndian.PutUint32(kb[:], uint32(k))
	c := crc32.Checksum(kb[:], castagnoli)
	c = crc32.Update(c, castagnoli, rec[:4])
	c = crc32.Update(c, castagnoli, rec[8:])
	return crc32.Update(c, castagnoli, body)
}

// postingsGrouped probes a version-6 postings section through the sidecar's io.ReaderAt: its
// first use reads and checks the header (and the int32 kind's value table), each probe reads the
// posting's group record and the group, checked by the group's CRC. As with version 4, once
// probes have read as many bytes as half the section it is read whole and kept as a piece of the
// Reader's Resident, and probes read it in place, each group checked once.
type postingsGrouped struct {
	postingsGroupedLayout
	sectionProbes
	r       io.ReaderAt
	off     int64 // of the section in the file
	rows    uint32
	trusted bool
}

func openPostingsGrouped(r io.ReaderAt, off, length int64, rows uint32, withValues, trusted bool) (*postingsGrouped, error) {
	if length < groupHeaderLen+4 {
		return nil, corruptf("postings: %d bytes, need %d for the header and its crc", length, groupHeaderLen+4)
	}
	var hb [groupHeaderLen]byte
	if err := readFull(r, hb[:], off); err != nil {
		return nil, fmt.Errorf("index: cannot read the postings header: %w", err)
	}
	if hb[6] != 0 || hb[7] != 0 {
		return nil, corruptf("postings: non-zero reserved header bytes")
	}
	ps := &postingsGrouped{r: r, off: off, rows: rows, trusted: trusted}
	if err := ps.set(int(binary.LittleEndian.Uint32(hb[:])), int(hb[4]), int(hb[5]), withValues, length); err != nil {
		return nil, err
	}
	head := make([]byte, ps.tableAt) // the header, its crc and the padding before the table
	if err := readFull(r, head, off); err != nil {
		return nil, fmt.Errorf("index: cannot read the postings header: %w", err)
	}
	if got, want := crc32.Checksum(head[:ps.head], castagnoli), binary.LittleEndian.Uint32(head[ps.head:]); got != want {
		return nil, corruptf("postings header: crc32c mismatch (got %08x, stored %08x)", got, want)
	}
	for _, b := range head[ps.head+4:] {
		if b != 0 {
			return nil, corruptf("postings: non-zero padding before the group table")
		}
	}
	if withValues {
		if err := ps.readValues(head[groupHeaderLen:], ps.n); err != nil {
			return nil, err
		}
	}
	ps.whole = wholeSection{r: r, off: off, size: length, units: ps.groups, threshold: (length + 1) / 2}
	return ps, nil
}

func (ps *postingsGrouped) count() int { return ps.n }

// bitmap returns posting i (count() is the null posting). A bitmap read from the file is the
// caller's; one of a section in memory is a copy-on-write view of it.
func (ps *postingsGrouped) bitmap(i int) (*roaring.Bitmap, error) { return ps.named(ps.probe(i)) }

func (ps *postingsGrouped) probe(i int) (*roaring.Bitmap, error) {
	if i < 0 || i > ps.n {
		panic(fmt.Sprintf("BUG: posting %d out of [0, %d]", i, ps.n))
	}
	k, j := i/ps.g, i%ps.g
	src := ps.whole.source()
	var recBuf [8 + maxGroupPostings*4]byte
	rec := recBuf[:ps.recLen]
	at := ps.off + ps.tableAt + int64(k)*ps.recLen
	if err := readFull(src, rec, at); err != nil {
		return nil, fmt.Errorf("index: posting %d of %d: cannot read its group's record at offset %d: %w", i, ps.n+1, at, err)
	}
	start := int64(binary.LittleEndian.Uint32(rec))
	members := min(ps.g, ps.n+1-k*ps.g)
	var total, before, size int64
	for m := range ps.g {
		l := int64(getLen(rec[8+m*ps.w:], ps.w))
		if m >= members && l != 0 {
			return nil, corruptf("posting %d of %d: group %d has a length for a posting past the last", i, ps.n+1, k)
		}
		if m < j {
			before += l
		} else if m == j {
			size = l
		}
		total += l
	}
	if start+total > ps.areaSize {
		return nil, corruptf("posting %d of %d: group %d says bytes [%d, %d) of a %d-byte area", i, ps.n+1, k, start, start+total, ps.areaSize)
	}
	pos := ps.off + ps.areaAt + start
	mem, _ := src.(*sectionBytes)
	var group []byte
	if mem != nil {
		rel := pos - mem.off
		group = mem.b[rel : rel+total : rel+total]
	} else {
		// Roaring bitmaps decode in place: the group is read to the alignment it has in the area.
		a := int(start & 7)
		group = alignedBytes(int(total) + 8)[a : a+int(total)]
		if err := readFull(src, group, pos); err != nil {
			return nil, fmt.Errorf("index: posting %d of %d: cannot read its group's %d bytes at offset %d: %w", i, ps.n+1, total, pos, err)
		}
		ps.whole.earn(ps.recLen + total)
	}
	if mem == nil || !mem.checked[k].Load() {
		if got, want := postingsGroupCRC(k, rec, group), binary.LittleEndian.Uint32(rec[4:]); got != want {
			return nil, corruptf("posting %d of %d: group %d at offset %d (%d bytes): crc32c mismatch (got %08x, stored %08x)", i, ps.n+1, k, pos, total, got, want)
		}
		if mem != nil {
			mem.checked[k].Store(true)
		}
	}
	p := group[before : before+size]
	long := len(p) > memoRunListBytes && p[0] == runListTag
	if long {
		if bm := ps.runs.get(i); bm != nil {
			return bm, nil
		}
	}
	bm, err := decodeGroupedPosting(p, start+before, ps.rows, !ps.trusted)
	if err != nil {
		return nil, fmt.Errorf("posting %d of %d at offset %d: %w", i, ps.n+1, pos+before, err)
	}
	if long {
		bm = ps.runs.keep(ps.whole.rd, i, bm)
	}
	return bm, nil
}

// decodeGroupedPosting reads a posting's bytes p found at area offset at: empty, a run list, or
// a roaring bitmap 8-aligned after the zero bytes that align it (exactly those).
func decodeGroupedPosting(p []byte, at int64, rows uint32, validate bool) (*roaring.Bitmap, error) {
	if len(p) == 0 {
		return roaring.New(), nil
	}
	if p[0] == runListTag {
		return decodeRunList(p, rows)
	}
	pad := int(-at & 7)
	if len(p) <= pad {
		return nil, corruptf("a %d-byte posting at area offset %d has no room after its %d bytes of alignment", len(p), at, pad)
	}
	for _, b := range p[:pad] {
		if b != 0 {
			return nil, corruptf("non-zero alignment before a bitmap")
		}
	}
	if p[pad] == 0 || p[pad] == runListTag {
		return nil, corruptf("alignment not followed by a roaring bitmap")
	}
	return decodeBitmap(p[pad:], rows, validate)
}
