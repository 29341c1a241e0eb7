package index

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"
)

// keyEntriesPerBucket is the bucket fill the writer aims for: a probe scans about this
// many 4-byte fingerprints, and the bucket table costs 4/keyEntriesPerBucket bytes a row.
const keyEntriesPerBucket = 4

const keysHeaderLen = 8

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

// marshalKeys appends a keys payload for the given hashes and their rows. hashes and rows
// are consumed as scratch: they are reordered in place.
func marshalKeys(dst []byte, hashes []uint64, rows []uint32) []byte {
	n := len(hashes)
	if n != len(rows) {
		panic(fmt.Sprintf("BUG: marshalKeys: %d hashes for %d rows", n, len(rows)))
	}
	b := keyBucketBits(n)
	nb := 1 << b
	dst = slices.Grow(dst, keysHeaderLen+4*nb+8*n)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, b, 0, 0, 0)

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
	fps := make([]uint32, n)
	srows := make([]uint32, n)
	next := make([]uint32, nb)
	for i := 1; i < nb; i++ {
		next[i] = ends[i-1]
	}
	for i, h := range hashes {
		k := keyBucket(h, b)
		fps[next[k]] = uint32(h)
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
	for _, words := range [][]uint32{ends, fps, srows} {
		out := dst[len(dst) : len(dst)+4*len(words)]
		for i, w := range words {
			binary.LittleEndian.PutUint32(out[4*i:], w)
		}
		dst = dst[:len(dst)+4*len(words)]
	}
	return dst
}

// keysSection probes a keys payload in place; nothing is decoded at load but the checks.
type keysSection struct {
	rows       uint32
	n          int
	b          uint8
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
	if src[5] != 0 || src[6] != 0 || src[7] != 0 {
		return corruptf("keys: non-zero reserved bytes")
	}
	if n > rows {
		return corruptf("keys: %d entries for %d rows", n, rows)
	}
	nb := 1 << b
	want := int64(keysHeaderLen) + 4*int64(nb) + 8*int64(n)
	if int64(len(src)) != want {
		return corruptf("keys: %d bytes, want %d for %d entries and %d buckets", len(src), want, n, nb)
	}
	src = src[keysHeaderLen:]
	ks.bucketEnds, src = src[:4*nb], src[4*nb:]
	ks.fps, ks.rowIDs = src[:4*n], src[4*n:]
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
	ks.rows, ks.n, ks.b = rows, int(n), b
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
	fp := uint32(h)
	for i := start; i < end; i++ {
		if binary.LittleEndian.Uint32(ks.fps[4*i:]) != fp {
			continue
		}
		r := binary.LittleEndian.Uint32(ks.rowIDs[4*i:])
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
