package index

import (
	"encoding/binary"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// Run lists (format version 5): a posting whose rows are a few runs is stored as its runs when
// that is smaller than its roaring serialization. Segments are sorted by user, so a user's
// rows in a day are one run (or two, a row among the day's newest), and an address's or a
// device's a few: roaring spent about 16 bytes on each such posting (cookie, container header,
// run count and run, then padding to 8), a run list about 5.
//
//	0x01 │ runs uvarint │ runs × (gap uvarint, length−1 uvarint)
//
// A run starts gap rows after the previous run's end (the first after row 0), so runs are
// increasing and apart (gap ≥ 1 after the first). A roaring serialization starts with its
// cookie's low byte, 0x3A or 0x3B, so the first byte tells the two apart.
const runListTag = 0x01

// maxRunList bounded a run list's bytes in format versions 5 and 6 (their writers, kept for
// tests, still do): a posting of many runs (an application's rows, one run in each of its
// users' rows) was rebuilt run by run on every probe, where a roaring bitmap is read in place.
// Since version 7 run lists decode in O(runs) and a section keeps its long ones decoded
// (runMemo), so any posting smaller as a run list is one: 1.9 B/event on a day of 3.4M events.
const maxRunList = 32

// appendRunList appends bm as a run list if that is shorter than limit bytes; ok false: it
// is not (nothing is appended). The writer's limit is the smaller of the bitmap's roaring
// serialization and maxRunList+1.
func appendRunList(dst []byte, bm *roaring.Bitmap, limit int) ([]byte, bool) {
	var (
		body           []byte
		n              int
		prevEnd, s, e  uint32
		inRun, tooLong bool
	)
	emit := func() {
		body = binary.AppendUvarint(body, uint64(s-prevEnd))
		body = binary.AppendUvarint(body, uint64(e-s-1))
		prevEnd = e
		n++
		tooLong = 1+uvarintLen(uint64(n))+len(body) >= limit
	}
	bm.Iterate(func(v uint32) bool {
		if inRun && v == e {
			e++
			return true
		}
		if inRun {
			if emit(); tooLong {
				return false
			}
		}
		s, e, inRun = v, v+1, true
		return true
	})
	if !inRun || tooLong {
		return dst, false
	}
	if emit(); tooLong {
		return dst, false
	}
	dst = append(dst, runListTag)
	dst = binary.AppendUvarint(dst, uint64(n))
	return append(dst, body...), true
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decodeRunList reads a run list of a segment of rows rows (the whole of b, tag included). The
// runs are checked as they are read and written as roaring's own serialization of run
// containers, which the bitmap then reads in place: adding them one by one (AddRange) cost
// time that grew with the runs already added.
func decodeRunList(b []byte, rows uint32) (*roaring.Bitmap, error) {
	if len(b) == 0 || b[0] != runListTag {
		return nil, corruptf("run list: no tag")
	}
	b = b[1:]
	n, k := uvarint(b)
	if k <= 0 || n == 0 || n > uint64(rows) {
		return nil, corruptf("run list: bad run count")
	}
	b = b[k:]
	var rs runsSerializer
	end := uint64(0)
	for i := range n {
		gap, k1 := uvarint(b)
		if k1 <= 0 {
			return nil, corruptf("run list: run %d: bad gap", i)
		}
		l, k2 := uvarint(b[k1:])
		if k2 <= 0 {
			return nil, corruptf("run list: run %d: bad length", i)
		}
		b = b[k1+k2:]
		if i > 0 && gap == 0 {
			return nil, corruptf("run list: run %d touches the one before", i)
		}
		s := end + gap
		e := s + l + 1
		if s < end || e <= s || e > uint64(rows) {
			return nil, corruptf("run list: run %d covers rows past the segment's %d", i, rows)
		}
		rs.add(uint32(s), uint32(e))
		end = e
	}
	if len(b) != 0 {
		return nil, corruptf("run list: %d bytes after its runs", len(b))
	}
	bm := roaring.New()
	if _, err := bm.FromBuffer(rs.serialize()); err != nil {
		panic(fmt.Sprintf("BUG: run containers serialized for roaring do not read back: %s", err))
	}
	return bm, nil
}

// runsSerializer collects increasing, disjoint runs [s, e) of rows below 2^32 and writes them in
// roaring's portable serialization (RoaringFormatSpec) as run containers: one per 65,536-row
// chunk a run touches, a run that crosses a chunk boundary split in two.
type runsSerializer struct {
	keys  []uint16   // chunk of each container
	cards []uint32   // rows in each container
	runs  [][]uint16 // per container: (start, length-1) pairs, low 16 bits
}

func (rs *runsSerializer) add(s, e uint32) {
	for s < e {
		key := uint16(s >> 16)
		last := min(e, (s|0xffff)+1) // the end of the run within its chunk; 0 when it wraps past 2^32
		if last == 0 {
			last = e
		}
		if len(rs.keys) == 0 || rs.keys[len(rs.keys)-1] != key {
			rs.keys = append(rs.keys, key)
			rs.cards = append(rs.cards, 0)
			rs.runs = append(rs.runs, nil)
		}
		c := len(rs.keys) - 1
		rs.runs[c] = append(rs.runs[c], uint16(s), uint16(last-s-1))
		rs.cards[c] += last - s
		s = last
	}
}

const (
	roaringRunCookie      = 12347 // serialization cookie of a bitmap with run containers
	roaringNoOffsetsBelow = 4     // fewer containers than this: no offset header
)

func (rs *runsSerializer) serialize() []byte {
	size := len(rs.keys)
	head := 4 + (size+7)/8 + 4*size
	if size >= roaringNoOffsetsBelow {
		head += 4 * size
	}
	total := head
	for _, r := range rs.runs {
		total += 2 + 2*len(r)
	}
	out := make([]byte, 0, total)
	out = binary.LittleEndian.AppendUint32(out, roaringRunCookie|uint32(size-1)<<16)
	for i := 0; i < (size+7)/8; i++ { // every container is a run container
		out = append(out, byte(0xff>>(8-min(8, size-8*i))))
	}
	for c, key := range rs.keys {
		out = binary.LittleEndian.AppendUint16(out, key)
		out = binary.LittleEndian.AppendUint16(out, uint16(rs.cards[c]-1))
	}
	if size >= roaringNoOffsetsBelow {
		at := head
		for _, r := range rs.runs {
			out = binary.LittleEndian.AppendUint32(out, uint32(at))
			at += 2 + 2*len(r)
		}
	}
	for _, r := range rs.runs {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(r)/2))
		for _, v := range r {
			out = binary.LittleEndian.AppendUint16(out, v)
		}
	}
	return out
}

// uvarint is binary.Uvarint for the shortest spelling only (k ≤ 0 otherwise): a run list has
// one spelling.
func uvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k > 0 && k != uvarintLen(v) {
		return 0, -1
	}
	return v, k
}

// decodePosting reads a posting's bytes: a run list or a roaring serialization.
func decodePosting(b []byte, rows uint32, validate bool) (*roaring.Bitmap, error) {
	if len(b) > 0 && b[0] == runListTag {
		return decodeRunList(b, rows)
	}
	return decodeBitmap(b, rows, validate)
}
