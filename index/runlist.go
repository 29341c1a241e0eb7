package index

import (
	"encoding/binary"

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

// maxRunList bounds a run list's bytes: a posting of many runs (an application's rows, one run
// in each of its users' rows) is read into a roaring bitmap in place, where a run list is
// rebuilt run by run (with no bound, counting one application's sign-ins on a 3.4M-event day
// took 600 ms instead of 1), and saves little on it.
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

// decodeRunList reads a run list of a segment of rows rows (the whole of b, tag included).
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
	bm := roaring.New()
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
		bm.AddRange(s, e)
		end = e
	}
	if len(b) != 0 {
		return nil, corruptf("run list: %d bytes after its runs", len(b))
	}
	return bm, nil
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
