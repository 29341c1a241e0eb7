package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

// Keys layout 2 (format version 3) splits the buckets into groups of 2^g consecutive buckets,
// each about keyGroupBytes long and checksummed on its own, so that a probe reads and checks the
// section header once, then per key one 12-byte table entry and one group: a few KB, whatever the
// section's size (a whole layout-1 section is ~5.5 bytes an event, 5.5 MB for a 1M-event day).
//
//	header (16 bytes): n uint32 | b uint8 | layout=2 uint8 | w uint8 | g uint8 | e uint8 | 0 0 0 | crc32c of bytes 0..11
//	table: [2^(b-g)] (start uint32, crc uint32), then n uint32
//	groups, contiguous: group j = ends [2^g] e-byte | fps [c]uint16 | rows [c] w-byte
//	  (layout 4: group j = ends [2^g] e-byte | entries [c] w-byte, each a fingerprint below a block)
//
// Group j holds buckets [j<<g, (j+1)<<g) and entries [start_j, start_j+1), c of them; its ends are
// relative to start_j. Its crc is CRC32C(start_j ‖ start_j+1 ‖ group bytes), so the one table
// entry a probe reads (start_j, crc_j, start_j+1) is covered by the check of the group it locates,
// and every table byte by some group's check. Groups are fixed runs of buckets, and e and the
// group's bucket count are fixed per section, so group j's offset follows from start_j alone.
const (
	keysGroupedHeaderLen = 16
	keyGroupEntryLen     = 8 // start, crc

	// keyGroupBytes is the group size the writer aims for: about a page, the unit an SSD and the
	// page cache read anyway, and small next to a section (5.5 MB at 1M rows).
	keyGroupBytes = 4096
)

// marshalKeys appends a keys payload for the given hashes and their rows (ascending), of a
// segment of segRows rows in blocks of blockRows, in layout 4 (or layout, if not 0: Builder's
// keysLayout).
func marshalKeys(dst []byte, hashes []uint64, rows []uint32, segRows uint32, blockRows int, layout byte) []byte {
	if layout == 0 {
		layout = keysLayoutPacked
	}
	blocks := make([]uint32, len(rows))
	for i, r := range rows {
		blocks[i] = r / uint32(blockRows)
	}
	sk := sortKeys(hashes, blocks)
	sk.dedupe()
	return marshalKeysGrouped(dst, sk, segRows, uint32(blockRows), keyGroupBytes, layout)
}

// marshalKeysGrouped writes groups of about target bytes (tests ask for small ones, to get many
// groups from few keys) in layout 4 or 3, sk's entries holding blocks of blockRows rows, or 2,
// holding rows (blockRows 0). Layouts 2 and 3 are written by tests of older versions' readers.
func marshalKeysGrouped(dst []byte, sk sortedKeys, segRows, blockRows uint32, target int, layout byte) []byte {
	w := rowWidth(segRows)
	var (
		packed []uint64
		fpBits uint
	)
	switch {
	case layout == keysLayoutGrouped && blockRows == 0:
	case layout == keysLayoutBlocks && blockRows > 0:
		w = blockWidth((segRows + blockRows - 1) / blockRows)
	case layout == keysLayoutPacked && blockRows > 0:
		w, fpBits = packedEntry((segRows + blockRows - 1) / blockRows)
		packed = sk.pack(fpBits)
	default:
		panic(fmt.Sprintf("BUG: keys layout %d with blocks of %d rows", layout, blockRows))
	}
	entryLen := 2 + w // fingerprint and row or block
	n, b := len(sk.fps), sk.b
	if packed != nil {
		entryLen, n = w, len(packed)
	}
	nb := 1 << b
	perBucket := 2 + float64(n)/float64(nb)*float64(entryLen)
	g := uint8(0)
	for g < b && float64(int(2)<<g)*perBucket <= float64(target) {
		g++
	}
	gb, ng := 1<<g, nb>>g
	groupStart := func(j int) uint32 {
		if j == 0 {
			return 0
		}
		return sk.ends[j*gb-1]
	}
	// Relative ends take 2 bytes unless a group holds more entries than that counts, which only
	// a key repeated on tens of thousands of rows (or an adversary) makes happen.
	e := 2
	for j := range ng {
		if groupStart(j+1)-groupStart(j) > 0xffff {
			e = 4
		}
	}
	base := len(dst)
	dst = slices.Grow(dst, keysGroupedHeaderLen+keyGroupEntryLen*ng+4+e*nb+entryLen*n)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, b, layout, byte(w), g, byte(e), byte(blockRows), byte(blockRows>>8), byte(blockRows>>16))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[base:base+12], castagnoli))
	table := len(dst)
	for j := range ng {
		dst = binary.LittleEndian.AppendUint32(dst, groupStart(j))
		dst = binary.LittleEndian.AppendUint32(dst, 0) // crc, once the group is written
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	for j := range ng {
		start, end := groupStart(j), groupStart(j+1)
		at := len(dst)
		for _, k := range sk.ends[j*gb : (j+1)*gb] {
			if e == 2 {
				dst = binary.LittleEndian.AppendUint16(dst, uint16(k-start))
			} else {
				dst = binary.LittleEndian.AppendUint32(dst, k-start)
			}
		}
		if packed != nil {
			dst = appendLE(dst, packed[start:end], w)
		} else {
			for _, fp := range sk.fps[start:end] {
				dst = binary.LittleEndian.AppendUint16(dst, fp)
			}
			dst = appendLE(dst, sk.rows[start:end], w)
		}
		binary.LittleEndian.PutUint32(dst[table+keyGroupEntryLen*j+4:], groupCRC(start, end, dst[at:]))
	}
	return dst
}

func groupCRC(start, end uint32, group []byte) uint32 {
	var se [8]byte
	binary.LittleEndian.PutUint32(se[:], start)
	binary.LittleEndian.PutUint32(se[4:], end)
	return crc32.Update(crc32.Checksum(se[:], castagnoli), castagnoli, group)
}

// keysGroups probes a layout-2 keys section through the sidecar's io.ReaderAt: opening it reads
// the 16-byte header, and each probe one table entry and one group, checked before use. A
// section probed many times (ingest checks every new id against the day's segments) is read
// whole once it has been probed as often as a quarter of its groups: two preads a probe were a
// sixth of ingest's CPU. Its groups are still checked at each probe, so a damaged group fails
// every probe that reads it and no other.
type keysGroups struct {
	r      io.ReaderAt
	off    int64 // of the section in the file
	length int64
	rows   uint32
	// blockRows is layout 3's block size: entries hold blocks of that many rows (0: layout 2,
	// entries hold rows).
	blockRows uint32
	n         uint32
	b, g      uint8
	w, e      int
	groups    int
	layout    byte
	entryLen  int  // bytes an entry: 2+w (layouts 2 and 3) or w (layout 4)
	fpBits    uint // layout 4's fingerprint bits

	whole  wholeSection
	recent groupCache
}

// sectionBytes is a section read whole, as an io.ReaderAt at the section's file offsets.
// Probes of a section in memory read its groups in place, and check each group once: ingest
// probes each new id against every segment of its day, and copying and checksumming the ~3 KB
// group at every probe was an eighth of a 100M-event stream's CPU once days held dozens of
// segments. A group that fails its check is never marked, so it fails every probe.
type sectionBytes struct {
	b       []byte
	off     int64
	checked []atomic.Bool // by group: its CRC and bucket ends passed
}

func (s *sectionBytes) ReadAt(p []byte, off int64) (int, error) {
	off -= s.off
	if off < 0 || off > int64(len(s.b)) {
		return 0, io.EOF
	}
	n := copy(p, s.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// source is where a probe reads: the file, or the section in memory once it has been probed as
// often as a quarter of its groups (wholeSection).
func (kg *keysGroups) source() io.ReaderAt {
	kg.whole.earn(1)
	return kg.whole.source()
}

// openKeysGroups opens a keys section of layout 2, 3 or 4, the one its file's version writes.
func openKeysGroups(r io.ReaderAt, off, length int64, rows uint32, layout byte) (*keysGroups, error) {
	var h [keysGroupedHeaderLen]byte
	if length < keysGroupedHeaderLen {
		return nil, corruptf("keys: %d bytes, need %d for the header", length, keysGroupedHeaderLen)
	}
	if err := readFull(r, h[:], off); err != nil {
		return nil, fmt.Errorf("index: cannot read the header: %w", err)
	}
	if got, want := crc32.Checksum(h[:12], castagnoli), binary.LittleEndian.Uint32(h[12:]); got != want {
		return nil, corruptf("keys header: crc32c mismatch (got %08x, stored %08x)", got, want)
	}
	kg := &keysGroups{r: r, off: off, length: length, rows: rows, n: binary.LittleEndian.Uint32(h[:]), b: h[4], g: h[7], w: int(h[6]), e: int(h[8]),
		blockRows: uint32(h[9]) | uint32(h[10])<<8 | uint32(h[11])<<16}
	if h[5] != layout {
		return nil, corruptf("keys header: layout %d, want %d", h[5], layout)
	}
	kg.layout, kg.entryLen = layout, 2+kg.w
	units := rows // what an entry's id counts
	switch h[5] {
	case keysLayoutGrouped:
		if kg.blockRows != 0 {
			return nil, corruptf("keys header: non-zero reserved bytes")
		}
		if kg.w < rowWidth(rows) || kg.w > 4 {
			return nil, corruptf("keys header: %d-byte row ids for %d rows", kg.w, rows)
		}
	case keysLayoutBlocks:
		if kg.blockRows == 0 {
			return nil, corruptf("keys header: blocks of 0 rows")
		}
		units = uint32((uint64(rows) + uint64(kg.blockRows) - 1) / uint64(kg.blockRows))
		if kg.w != blockWidth(units) {
			return nil, corruptf("keys header: %d-byte block numbers for %d blocks", kg.w, units)
		}
	case keysLayoutPacked:
		if kg.blockRows == 0 {
			return nil, corruptf("keys header: blocks of 0 rows")
		}
		units = uint32((uint64(rows) + uint64(kg.blockRows) - 1) / uint64(kg.blockRows))
		w, fpBits := packedEntry(units)
		if kg.w != w {
			return nil, corruptf("keys header: %d-byte entries for %d blocks, want %d", kg.w, units, w)
		}
		kg.entryLen, kg.fpBits = w, fpBits
	default:
		return nil, corruptf("keys header: layout %d, want %d to %d", h[5], keysLayoutGrouped, keysLayoutPacked)
	}
	switch {
	case kg.b > maxKeyBucketBits || kg.g > kg.b:
		return nil, corruptf("keys header: %d bucket bits, %d a group; max %d", kg.b, kg.g, maxKeyBucketBits)
	case kg.e != 2 && kg.e != 4:
		return nil, corruptf("keys header: %d-byte bucket ends", kg.e)
	case kg.n > rows:
		return nil, corruptf("keys header: %d entries for %d rows", kg.n, rows)
	}
	kg.groups = 1 << (kg.b - kg.g)
	kg.whole = wholeSection{r: r, off: off, size: length, units: kg.groups, threshold: max(64, int64(kg.groups)/4) + 1}
	if want := kg.groupsOff() + int64(kg.e)<<kg.b + int64(kg.entryLen)*int64(kg.n); length != want {
		return nil, corruptf("keys: %d bytes, want %d for %d entries, %d buckets and %d groups", length, want, kg.n, 1<<kg.b, kg.groups)
	}
	return kg, nil
}

// groupsOff is the section offset of group 0.
func (kg *keysGroups) groupsOff() int64 {
	return keysGroupedHeaderLen + keyGroupEntryLen*int64(kg.groups) + 4
}

var groupBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2*keyGroupBytes); return &b }}

func (kg *keysGroups) appendSpans(dst []rowSpan, h uint64) ([]rowSpan, error) {
	k := keyBucket(h, kg.b)
	g, release, err := kg.readGroup(int(k >> kg.g))
	if err != nil {
		return dst, err
	}
	defer release()
	gb, c, buf := 1<<kg.g, int(g.end-g.start), g.buf
	endsLen := gb * kg.e
	rel := func(i int) uint32 { return kg.bucketEnd(buf, i) }
	kk := int(k) & (gb - 1)
	from := uint32(0)
	if kk > 0 {
		from = rel(kk - 1)
	}
	if kg.layout == keysLayoutPacked {
		dst, err = appendPackedMatches(dst, buf[endsLen:], kg.w, kg.fpBits, from, rel(kk), packedFingerprint(h, kg.fpBits), kg.rows, kg.blockRows)
	} else {
		dst, err = appendMatches(dst, buf[endsLen:], buf[endsLen+2*c:], kg.w, from, rel(kk), uint16(h), kg.rows, kg.blockRows)
	}
	if err != nil {
		return dst, fmt.Errorf("%s: %w", g.where(kg), err)
	}
	return dst, nil
}

// bucketEnd is the end of bucket i of a group's buf, relative to the group's first entry.
func (kg *keysGroups) bucketEnd(buf []byte, i int) uint32 {
	if kg.e == 2 {
		return uint32(binary.LittleEndian.Uint16(buf[2*i:]))
	}
	return binary.LittleEndian.Uint32(buf[4*i:])
}

// checkedGroup is group j's bytes (its bucket ends, then its entries [start, end)), read at
// offset at, its CRC and bucket ends checked.
type checkedGroup struct {
	j          int
	start, end uint32
	at         int64
	buf        []byte
}

func (g checkedGroup) where(kg *keysGroups) string {
	return fmt.Sprintf("group %d of %d at offset %d (%d bytes)", g.j, kg.groups, g.at, len(g.buf))
}

// recentGroups is how many groups a section read from its file keeps, checked (groupCache).
const recentGroups = 2

// groupCache keeps the last groups a section's probes read from its file (not one read whole):
// a lookup made again (a page refreshed, the next page of one correlationId) reads neither the
// table entry nor the group again, nor checks them. Two preads and a CRC in each of a month's
// segments were most of a warm correlationId lookup until the sections were probed often
// enough to be read whole. A few KB a section; groups of more than 16 KB are not kept.
type groupCache struct {
	mu   sync.Mutex
	ents [recentGroups]checkedGroup // buf nil: empty; a kept buf is never written again
	next int
}

func (c *groupCache) get(j int) (checkedGroup, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.ents {
		if g.buf != nil && g.j == j {
			return g, true
		}
	}
	return checkedGroup{}, false
}

func (c *groupCache) put(g checkedGroup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ents[c.next] = g
	c.next = (c.next + 1) % recentGroups
}

// readGroup returns group j checked, from the section in memory, the recent groups or the file;
// release gives back the buffer it was read into.
func (kg *keysGroups) readGroup(j int) (g checkedGroup, release func(), err error) {
	release = func() {}
	r := kg.source()
	mem, _ := r.(*sectionBytes)
	if mem == nil {
		if g, ok := kg.recent.get(j); ok {
			return g, release, nil
		}
	}
	var ent [keyGroupEntryLen + 4]byte
	entOff := kg.off + keysGroupedHeaderLen + keyGroupEntryLen*int64(j)
	if err := readFull(r, ent[:], entOff); err != nil {
		return g, release, fmt.Errorf("index: group %d of %d: cannot read its table entry at offset %d: %w", j, kg.groups, entOff, err)
	}
	start, crc, end := binary.LittleEndian.Uint32(ent[:]), binary.LittleEndian.Uint32(ent[4:]), binary.LittleEndian.Uint32(ent[8:])
	if start > end || end > kg.n {
		return g, release, corruptf("group %d of %d: table entry at offset %d holds entries [%d, %d) of %d", j, kg.groups, entOff, start, end, kg.n)
	}
	gb, c := 1<<kg.g, int(end-start)
	endsLen := gb * kg.e
	at := kg.off + kg.groupsOff() + int64(j)*int64(endsLen) + int64(start)*int64(kg.entryLen)
	size := endsLen + c*kg.entryLen
	var buf []byte
	if mem != nil {
		// In place; the table entry's bounds were checked against n, so this is in the section
		// unless the header lied, which the section's length check at open rules out.
		if rel := at - mem.off; rel >= 0 && rel+int64(size) <= int64(len(mem.b)) {
			buf = mem.b[rel : rel+int64(size) : rel+int64(size)]
		} else {
			return g, release, corruptf("group %d of %d: %d bytes at offset %d are past the section", j, kg.groups, size, at)
		}
	} else {
		bp := groupBufs.Get().(*[]byte)
		release = func() {
			if cap(*bp) <= 16*keyGroupBytes { // a huge group (a key on many rows) is not kept
				groupBufs.Put(bp)
			}
		}
		buf = slices.Grow((*bp)[:0], size)[:size]
		*bp = buf
		if err := readFull(r, buf, at); err != nil {
			release()
			return g, func() {}, fmt.Errorf("index: group %d of %d: cannot read %d bytes at offset %d: %w", j, kg.groups, len(buf), at, err)
		}
	}
	g = checkedGroup{j: j, start: start, end: end, at: at, buf: buf}
	if mem == nil || !mem.checked[j].Load() {
		if got := groupCRC(start, end, buf); got != crc {
			release()
			return g, func() {}, corruptf("%s: crc32c mismatch (got %08x, stored %08x)", g.where(kg), got, crc)
		}
		// The CRC passed, so only a writer's bug fails these; they are a few dozen compares.
		prev := uint32(0)
		for i := range gb {
			v := kg.bucketEnd(buf, i)
			if v < prev || v > uint32(c) || (i == gb-1 && v != uint32(c)) {
				release()
				return g, func() {}, corruptf("%s: bucket %d ends at %d, previous end %d, %d entries", g.where(kg), i, v, prev, c)
			}
			prev = v
		}
		if mem != nil {
			mem.checked[j].Store(true)
		}
	}
	if mem == nil && size <= 16*keyGroupBytes {
		kept := g
		kept.buf = slices.Clone(buf)
		kg.recent.put(kept)
	}
	return g, release, nil
}

// readFull is ReadAt that accepts io.EOF with a full read, as io.ReaderAt allows at the end of
// the input, and calls a short read io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
