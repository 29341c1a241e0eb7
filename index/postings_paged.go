package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Postings of format version 4 and later are checked one posting at a time, so that a probe reads the
// posting it needs, not the section: a user's sign-ins at 100M events asked each day's
// segment for one user's posting and got the whole userPrincipalName section (about 9 MB a
// day) read and checksummed, then kept in memory for good. The layout (docs/format/index.md):
//
//	n uint32 | values [n]int32 (int32 kind only) | crc32c of the two
//	| entries [n+1]{end uint32, crc uint32} | zero padding to 8 | bitmap area
//
// Posting i occupies area bytes [align8(end[i-1]), end[i]) (start 0 for i = 0), and its crc is
// the CRC32C of i (uint32, little-endian) followed by those bytes: a misdirected read of
// another posting fails it too.

// postingsProber is a postings section of either layout.
type postingsProber interface {
	count() int                            // postings besides the null one
	value(i int) int32                     // the int32 kind's value of posting i
	find(v int32) int                      // the int32 kind's posting of v, or -1
	bitmap(i int) (*roaring.Bitmap, error) // posting i; count() is the null posting
}

func (ps *postingsSection) count() int { return ps.n }

const postingEntryLen = 8

func postingCRC(i int, b []byte) uint32 {
	var ib [4]byte
	binary.LittleEndian.PutUint32(ib[:], uint32(i))
	return crc32.Update(crc32.Checksum(ib[:], castagnoli), castagnoli, b)
}

// postingsPaged probes a version-4 postings section through the sidecar's io.ReaderAt: its
// first use reads and checks the count (and the int32 kind's value table), each probe reads
// two table entries and the posting, checked by the posting's CRC. Once probes have read, piece
// by piece, as many bytes as half the section, the section is read whole and kept as a piece
// of the Reader's Resident (a section many probes ask many postings of, such as the few values
// of a flag): probes then read it in place, each posting checked once.
type postingsPaged struct {
	sectionProbes
	r         io.ReaderAt
	off       int64 // of the section in the file
	length    int64
	rows      uint32
	trusted   bool
	n         int
	entriesAt int64 // section offsets
	areaAt    int64
}

// sectionProbes is what the postings sections read a piece at a time (versions 4 to 6) share:
// the int32 kind's values, the whole-section state and the section's name.
type sectionProbes struct {
	where  string  // names the section in a probe's error
	values []int32 // the int32 kind's, increasing
	whole  wholeSection
	runs   runMemo // long run lists, decoded (version 7)
}

// pagedPostings is a postings section read a piece at a time, of either layout.
type pagedPostings interface {
	postingsProber
	probes() *sectionProbes
}

func (p *sectionProbes) probes() *sectionProbes { return p }

func (p *sectionProbes) value(i int) int32 { return p.values[i] }

func (p *sectionProbes) find(v int32) int {
	i, ok := slices.BinarySearch(p.values, v)
	if !ok {
		return -1
	}
	return i
}

// readValues reads the int32 kind's n values from b, which must strictly increase.
func (p *sectionProbes) readValues(b []byte, n int) error {
	p.values = make([]int32, n)
	for i := range p.values {
		p.values[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		if i > 0 && p.values[i-1] >= p.values[i] {
			return corruptf("postings: value table not strictly increasing at %d", i)
		}
	}
	return nil
}

// willProbe notes that k postings are about to be probed: many are read from the section
// read whole (when the Resident has room for it), not piece by piece.
func (p *sectionProbes) willProbe(k int) {
	if k >= manyPostings {
		p.whole.grant()
	}
}

// named names the section in a probe's error.
func (p *sectionProbes) named(bm *roaring.Bitmap, err error) (*roaring.Bitmap, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.where, err)
	}
	return bm, nil
}

func openPostingsPaged(r io.ReaderAt, off, length int64, rows uint32, withValues, trusted bool) (*postingsPaged, error) {
	if length < 8 {
		return nil, corruptf("postings: %d bytes, need 8 for the count and its crc", length)
	}
	var nb [4]byte
	if err := readFull(r, nb[:], off); err != nil {
		return nil, fmt.Errorf("index: cannot read the postings count: %w", err)
	}
	n := binary.LittleEndian.Uint32(nb[:])
	if n > maxPostings {
		return nil, corruptf("postings: too many postings %d; max %d", n, maxPostings)
	}
	head := int64(4)
	if withValues {
		head += 4 * int64(n)
	}
	entriesAt := head + 4
	areaAt := int64(align8(int(entriesAt + postingEntryLen*(int64(n)+1))))
	if areaAt > length {
		return nil, corruptf("postings: %d postings need %d bytes before the bitmaps, the section has %d", n, areaAt, length)
	}
	hb := make([]byte, head+4)
	if err := readFull(r, hb, off); err != nil {
		return nil, fmt.Errorf("index: cannot read the postings header: %w", err)
	}
	if got, want := crc32.Checksum(hb[:head], castagnoli), binary.LittleEndian.Uint32(hb[head:]); got != want {
		return nil, corruptf("postings header: crc32c mismatch (got %08x, stored %08x)", got, want)
	}
	ps := &postingsPaged{r: r, off: off, length: length, rows: rows, trusted: trusted, n: int(n), entriesAt: entriesAt, areaAt: areaAt,
		sectionProbes: sectionProbes{whole: wholeSection{r: r, off: off, size: length, units: int(n) + 1, threshold: (length + 1) / 2}}}
	if withValues {
		if err := ps.readValues(hb[4:], int(n)); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func (ps *postingsPaged) count() int { return ps.n }

// manyPostings is how many postings of one section a single caller must be about to probe
// for the section to be read whole at once (WillProbe): a union of thousands of codes (a
// startswith over application names, a ne) made two small reads per code.
const manyPostings = 32

// bitmap returns posting i (count() is the null posting). A bitmap read from the file is the
// caller's; one of a section in memory is a copy-on-write view of it.
func (ps *postingsPaged) bitmap(i int) (*roaring.Bitmap, error) { return ps.named(ps.probe(i)) }

func (ps *postingsPaged) probe(i int) (*roaring.Bitmap, error) {
	if i < 0 || i > ps.n {
		panic(fmt.Sprintf("BUG: posting %d out of [0, %d]", i, ps.n))
	}
	src := ps.whole.source()
	var ent [2 * postingEntryLen]byte
	e, at := ent[postingEntryLen:], ps.off+ps.entriesAt+postingEntryLen*int64(i)
	if i > 0 {
		e, at = ent[:], at-postingEntryLen
	}
	if err := readFull(src, e, at); err != nil {
		return nil, fmt.Errorf("index: posting %d of %d: cannot read its table entry at offset %d: %w", i, ps.n+1, at, err)
	}
	prevEnd := uint32(0)
	if i > 0 {
		prevEnd = binary.LittleEndian.Uint32(ent[:])
	}
	end, crc := binary.LittleEndian.Uint32(ent[postingEntryLen:]), binary.LittleEndian.Uint32(ent[postingEntryLen+4:])
	areaLen := ps.length - ps.areaAt
	start := uint32(align8(int(prevEnd)))
	if i == 0 {
		start = 0
	}
	if prevEnd > end || start > end || int64(end) > areaLen {
		return nil, corruptf("posting %d of %d: table says bytes [%d, %d) of a %d-byte area (previous end %d)", i, ps.n+1, start, end, areaLen, prevEnd)
	}
	size := int(end - prevEnd) // the padding before the posting too: it must be zero
	pos := ps.off + ps.areaAt + int64(prevEnd)
	mem, _ := src.(*sectionBytes)
	var buf []byte
	if mem != nil {
		rel := pos - mem.off
		buf = mem.b[rel : rel+int64(size) : rel+int64(size)]
	} else {
		// The bitmap decodes in place: it must start 8-aligned, after pad bytes of padding.
		pad := int(start - prevEnd)
		buf = alignedBytes(size + 8)[8-pad : 8-pad+size]
		if err := readFull(src, buf, pos); err != nil {
			return nil, fmt.Errorf("index: posting %d of %d: cannot read %d bytes at offset %d: %w", i, ps.n+1, size, pos, err)
		}
		ps.whole.earn(int64(size + len(e)))
	}
	pad, body := buf[:start-prevEnd], buf[start-prevEnd:]
	if mem == nil || !mem.checked[i].Load() {
		for _, b := range pad {
			if b != 0 {
				return nil, corruptf("posting %d of %d: non-zero padding before it", i, ps.n+1)
			}
		}
		if got := postingCRC(i, body); got != crc {
			return nil, corruptf("posting %d of %d at offset %d (%d bytes): crc32c mismatch (got %08x, stored %08x)", i, ps.n+1, pos, len(body), got, crc)
		}
	}
	if len(body) == 0 {
		return roaring.New(), nil
	}
	if mem != nil && mem.checked[i].Load() && body[0] != runListTag {
		bm := roaring.New()
		if _, err := bm.FromBuffer(body); err != nil {
			panic(fmt.Sprintf("BUG: checked posting %d no longer decodes: %s", i, err))
		}
		return bm, nil
	}
	bm, err := decodePosting(body, ps.rows, !ps.trusted)
	if err != nil {
		return nil, fmt.Errorf("posting %d of %d at offset %d: %w", i, ps.n+1, pos, err)
	}
	if mem != nil {
		mem.checked[i].Store(true)
	}
	return bm, nil
}
