package index

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// appendWriter lets roaring's WriteTo append to a caller-owned slice, keeping the
// append-style codec shape without an intermediate bytes.Buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func align8(n int) int { return (n + 7) &^ 7 }

// postingsSection is a decoded view of a postings payload. It keeps references into the
// section buffer, which it owns and never mutates.
type postingsSection struct {
	// validated has one bit per posting that passed roaring's Validate: the bytes never
	// change, so later probes skip the O(size) check and only pay the header parse.
	validated []atomic.Uint64

	rows    uint32
	trusted bool   // skip roaring's Validate (see OpenTrusted)
	values  []byte // n int32 values, kind 3 only
	ends    []byte // n+1 uint32
	area    []byte
	n       int
}

func (ps *postingsSection) unmarshal(src []byte, rows uint32, withValues bool) error {
	if len(src) < 4 {
		return corruptf("postings: %d bytes, need 4 for the count", len(src))
	}
	n := binary.LittleEndian.Uint32(src)
	if n > maxPostings {
		return corruptf("postings: too many postings %d; max %d", n, maxPostings)
	}
	pos := 4
	if withValues {
		if len(src)-pos < 4*int(n) {
			return corruptf("postings: value table needs %d bytes, %d left", 4*n, len(src)-pos)
		}
		ps.values = src[pos : pos+4*int(n)]
		pos += 4 * int(n)
		for i := 1; i < int(n); i++ {
			if ps.value(i-1) >= ps.value(i) {
				return corruptf("postings: value table not strictly increasing at %d", i)
			}
		}
	}
	if len(src)-pos < 4*(int(n)+1) {
		return corruptf("postings: ends table needs %d bytes, %d left", 4*(n+1), len(src)-pos)
	}
	ps.ends = src[pos : pos+4*(int(n)+1)]
	pad := pos + 4*(int(n)+1)
	pos = align8(pad)
	if pos > len(src) {
		return corruptf("postings: section ends inside header padding")
	}
	for _, b := range src[pad:pos] {
		if b != 0 {
			return corruptf("postings: non-zero header padding")
		}
	}
	ps.area = src[pos:]
	ps.n = int(n)
	ps.rows = rows
	ps.validated = make([]atomic.Uint64, (ps.n+1+63)/64)
	prev := uint32(0)
	for i := 0; i <= ps.n; i++ {
		e := binary.LittleEndian.Uint32(ps.ends[4*i:])
		if e < prev || int64(e) > int64(len(ps.area)) {
			return corruptf("postings: bitmap %d ends at %d, previous end %d, area %d bytes", i, e, prev, len(ps.area))
		}
		prev = e
	}
	if int(prev) != len(ps.area) {
		return corruptf("postings: %d trailing bytes after the last bitmap", len(ps.area)-int(prev))
	}
	return nil
}

func (ps *postingsSection) value(i int) int32 {
	return int32(binary.LittleEndian.Uint32(ps.values[4*i:]))
}

// bitmap returns posting i (ps.n is the null posting) as a copy-on-write view of the
// section buffer: callers may mutate it, mutated containers are copied first.
func (ps *postingsSection) bitmap(i int) (*roaring.Bitmap, error) {
	if i < 0 || i > ps.n {
		panic(fmt.Sprintf("BUG: posting %d out of [0, %d]", i, ps.n))
	}
	start, prevEnd := 0, 0
	if i > 0 {
		prevEnd = int(binary.LittleEndian.Uint32(ps.ends[4*(i-1):]))
		start = align8(prevEnd)
	}
	end := int(binary.LittleEndian.Uint32(ps.ends[4*i:]))
	if start > end {
		// The writer pads before every posting, empty ones included, so only a corrupt
		// ends table puts a start after its end.
		return nil, corruptf("postings: bitmap %d starts at %d after its end %d", i, start, end)
	}
	for _, b := range ps.area[prevEnd:start] {
		if b != 0 {
			return nil, corruptf("postings: non-zero padding before bitmap %d", i)
		}
	}
	if start == end {
		return roaring.New(), nil
	}
	word, bit := &ps.validated[i/64], uint64(1)<<(i%64)
	if word.Load()&bit != 0 {
		bm := roaring.New()
		if _, err := bm.FromBuffer(ps.area[start:end]); err != nil {
			panic(fmt.Sprintf("BUG: validated bitmap %d no longer decodes: %s", i, err))
		}
		return bm, nil
	}
	bm, err := decodeBitmap(ps.area[start:end], ps.rows, !ps.trusted)
	if err != nil {
		return nil, fmt.Errorf("postings: bitmap %d at area offset %d: %w", i, start, err)
	}
	word.Or(bit)
	return bm, nil
}

// decodeBitmap decodes one serialized roaring bitmap in place and checks it as if it were
// hostile: the section CRC catches accidents, not a crafted file with a valid CRC.
func decodeBitmap(b []byte, rows uint32, validate bool) (bm *roaring.Bitmap, err error) {
	defer func() {
		// roaring's decoder is not hardened against every malformed input; a bad file
		// must fail the probe, not the process.
		if r := recover(); r != nil {
			bm, err = nil, corruptf("roaring decode panicked: %v", r)
		}
	}()
	bm = roaring.New()
	p, err := bm.FromBuffer(b)
	if err != nil {
		return nil, corruptf("roaring decode: %s", err)
	}
	if p != int64(len(b)) {
		return nil, corruptf("roaring decode consumed %d of %d bytes", p, len(b))
	}
	if validate {
		if err := bm.Validate(); err != nil {
			return nil, corruptf("roaring validate: %s", err)
		}
	}
	if bm.IsEmpty() {
		return nil, corruptf("empty bitmap stored as non-empty range")
	}
	if bm.Maximum() >= rows {
		return nil, corruptf("row %d out of range; segment has %d rows", bm.Maximum(), rows)
	}
	return bm, nil
}

// find returns the posting index of value v in a kind-3 section, or -1.
func (ps *postingsSection) find(v int32) int {
	lo, hi := 0, ps.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps.value(m) < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < ps.n && ps.value(lo) == v {
		return lo
	}
	return -1
}
