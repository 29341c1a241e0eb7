package index

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"
)

// keyEntriesPerBucket is the bucket fill the writer aims for: a probe scans about this many
// 2-byte fingerprints, and the bucket table costs 4/keyEntriesPerBucket bytes a row.
const keyEntriesPerBucket = 8

const keysHeaderLen = 8

// Keys layouts (byte 5 of the header). Layout 0 (format version 1) stores 4-byte fingerprints
// and 4-byte rows; layout 1 (version 2) 2-byte fingerprints and rows in as few bytes as the
// segment's row count needs (byte 6: 2, 3 or 4): 5.5 bytes a row instead of 9. With the bucket's
// b bits, b+16 hash bits are compared, so a probe meets a false candidate about once in 8,000
// (the caller verifies candidates anyway).
const (
	keysLayoutWide    = 0
	keysLayoutCompact = 1
)

func keyBucketBits(n int) uint8 {
	b := uint8(0)
	for b < maxKeyBucketBits && (1<<b)*keyEntriesPerBucket < n {
		b++
	}
	return b
}

func keyBucket(h uint64, b uint8) uint32 {
	// Go defines a shift by 64 as 0, so b == 0 puts everything in bucket 0.
	return uint32(h >> (64 - uint(b)))
}

// rowWidth is the bytes a row id of a segment of rows rows takes in layout 1.
func rowWidth(rows uint32) int {
	switch {
	case rows <= 1<<16:
		return 2
	case rows <= 1<<24:
		return 3
	}
	return 4
}

// marshalKeys appends a keys payload (layout 1) for the given hashes and their rows, of a
// segment of segRows rows. hashes and rows are consumed as scratch: they are reordered in place.
func marshalKeys(dst []byte, hashes []uint64, rows []uint32, segRows uint32) []byte {
	n := len(hashes)
	if n != len(rows) {
		panic(fmt.Sprintf("BUG: marshalKeys: %d hashes for %d rows", n, len(rows)))
	}
	b := keyBucketBits(n)
	nb := 1 << b
	w := rowWidth(segRows)
	dst = slices.Grow(dst, keysHeaderLen+4*nb+(2+w)*n)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, b, keysLayoutCompact, byte(w), 0)

	// Counting sort by bucket: O(n) and stable, so rows stay increasing inside a bucket.
	ends := make([]uint32, nb)
	for _, h := range hashes {
		ends[keyBucket(h, b)]++
	}
	sum := uint32(0)
	for i, c := range ends {
		sum += c
		ends[i] = sum
	}
	fps := make([]uint16, n)
	srows := make([]uint32, n)
	next := make([]uint32, nb)
	for i := 1; i < nb; i++ {
		next[i] = ends[i-1]
	}
	for i, h := range hashes {
		k := keyBucket(h, b)
		fps[next[k]] = uint16(h)
		srows[next[k]] = rows[i]
		next[k]++
	}
	// Buckets are small: insertion sort by fingerprint, stable for equal fingerprints.
	start := uint32(0)
	for _, end := range ends {
		for i := start + 1; i < end; i++ {
			fp, r := fps[i], srows[i]
			j := i
			for j > start && fps[j-1] > fp {
				fps[j], srows[j] = fps[j-1], srows[j-1]
				j--
			}
			fps[j], srows[j] = fp, r
		}
		start = end
	}
	for _, e := range ends {
		dst = binary.LittleEndian.AppendUint32(dst, e)
	}
	for _, fp := range fps {
		dst = binary.LittleEndian.AppendUint16(dst, fp)
	}
	for _, r := range srows {
		for i := range w {
			dst = append(dst, byte(r>>(8*i)))
		}
	}
	return dst
}

// keysSection probes a keys payload in place; nothing is decoded at load but the checks.
type keysSection struct {
	rows       uint32
	n          int
	b          uint8
	layout     byte
	width      int // bytes of a row id (layout 1)
	bucketEnds []byte
	fps        []byte
	rowIDs     []byte
}

func (ks *keysSection) unmarshal(src []byte, rows uint32) error {
	if len(src) < keysHeaderLen {
		return corruptf("keys: %d bytes, need %d for the header", len(src), keysHeaderLen)
	}
	n := binary.LittleEndian.Uint32(src)
	b := src[4]
	if b > maxKeyBucketBits {
		return corruptf("keys: too many bucket bits %d; max %d", b, maxKeyBucketBits)
	}
	layout, fpLen, width := src[5], 4, 4
	switch {
	case layout == keysLayoutWide && src[6] == 0 && src[7] == 0:
	case layout == keysLayoutCompact && (src[6] >= 2 && src[6] <= 4) && src[7] == 0:
		fpLen, width = 2, int(src[6])
		if width < rowWidth(rows) {
			return corruptf("keys: %d-byte row ids for %d rows", width, rows)
		}
	default:
		return corruptf("keys: unknown layout %d (width %d, reserved %d)", layout, src[6], src[7])
	}
	if n > rows {
		return corruptf("keys: %d entries for %d rows", n, rows)
	}
	nb := 1 << b
	want := int64(keysHeaderLen) + 4*int64(nb) + int64(fpLen+width)*int64(n)
	if int64(len(src)) != want {
		return corruptf("keys: %d bytes, want %d for %d entries and %d buckets", len(src), want, n, nb)
	}
	src = src[keysHeaderLen:]
	ks.bucketEnds, src = src[:4*nb], src[4*nb:]
	ks.fps, ks.rowIDs = src[:fpLen*int(n)], src[fpLen*int(n):]
	prev := uint32(0)
	for i := 0; i < nb; i++ {
		e := binary.LittleEndian.Uint32(ks.bucketEnds[4*i:])
		if e < prev || e > n {
			return corruptf("keys: bucket %d ends at %d, previous end %d, %d entries", i, e, prev, n)
		}
		prev = e
	}
	if prev != n {
		return corruptf("keys: buckets cover %d of %d entries", prev, n)
	}
	ks.rows, ks.n, ks.b, ks.layout, ks.width = rows, int(n), b, layout, width
	return nil
}

// appendRows appends the candidate rows for key: every row whose key has the same
// bucket and fingerprint. The result is a superset of the matching rows.
func (ks *keysSection) appendRows(dst []uint32, key []byte) ([]uint32, error) {
	h := xxhash.Sum64(key)
	k := keyBucket(h, ks.b)
	start := uint32(0)
	if k > 0 {
		start = binary.LittleEndian.Uint32(ks.bucketEnds[4*(k-1):])
	}
	end := binary.LittleEndian.Uint32(ks.bucketEnds[4*k:])
	for i := start; i < end; i++ {
		var r uint32
		if ks.layout == keysLayoutWide {
			if binary.LittleEndian.Uint32(ks.fps[4*i:]) != uint32(h) {
				continue
			}
			r = binary.LittleEndian.Uint32(ks.rowIDs[4*i:])
		} else {
			if binary.LittleEndian.Uint16(ks.fps[2*i:]) != uint16(h) {
				continue
			}
			p := ks.rowIDs[int(i)*ks.width:]
			for j := ks.width - 1; j >= 0; j-- {
				r = r<<8 | uint32(p[j])
			}
		}
		if r >= ks.rows {
			return dst, corruptf("keys: entry %d has row %d; segment has %d rows", i, r, ks.rows)
		}
		dst = append(dst, r)
	}
	return dst, nil
}

func (ks *keysSection) bitmap(key []byte) (*roaring.Bitmap, error) {
	var buf [16]uint32
	rows, err := ks.appendRows(buf[:0], key)
	if err != nil {
		return nil, err
	}
	bm := roaring.New()
	bm.AddMany(rows)
	return bm, nil
}
