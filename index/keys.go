package index

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"
)

// Keys sections map a key's xxhash64 to the rows holding it. The top b bits of the hash pick a
// bucket and the low 16 bits are kept as a fingerprint next to each row id, so a probe compares
// b+16 hash bits and meets a false candidate about once in 8,000 (the caller verifies candidates
// anyway). This file holds what every layout shares; keys_grouped.go is the layout written now,
// keys_whole.go the layouts of format versions 1 and 2.

// keyEntriesPerBucket is the bucket fill the writer aims for: a probe scans about this many
// 2-byte fingerprints, and the bucket table costs its width over this many bytes a row.
const keyEntriesPerBucket = 8

// Keys layouts (byte 5 of a keys section). Layout 0 (format version 1) stores 4-byte
// fingerprints and 4-byte rows; layout 1 (version 2) 2-byte fingerprints and rows in as few bytes
// as the segment's row count needs; layout 2 (versions 3 and 4) stores layout 1's entries in
// bucket groups that are read and checked one at a time; layout 3 (version 5) stores layout 2's
// groups with the segment's block instead of the row; layout 4 (version 7) stores layout 3's
// groups with each entry's fingerprint and block packed into as few bytes as the segment's
// block count allows (keys_grouped.go).
const (
	keysLayoutWide    = 0
	keysLayoutCompact = 1
	keysLayoutGrouped = 2
	keysLayoutBlocks  = 3
	keysLayoutPacked  = 4
)

// minFingerprintBits is the fewest fingerprint bits a layout-4 entry keeps. A probe compares
// them and the bucket's bits: with 12, about 8 entries a bucket make a false candidate about
// once in 500 probes, each a block of the key's column read and compared (a few microseconds
// warm), where 16 bits would cost the segments of more than 256 blocks (a day of a million
// events and more) a fourth byte in every entry, a byte an event per keys section.
const minFingerprintBits = 12

// packedEntry is layout 4's entry for a segment of blocks blocks: width bytes, a little-endian
// number whose low fpBits bits are the fingerprint (the top fpBits bits of the hash's low 16)
// and whose other bits are the block, in the fewest bytes (at least 2) that keep
// minFingerprintBits of fingerprint, and at most 16 of them.
func packedEntry(blocks uint32) (width int, fpBits uint) {
	bb := uint(bits.Len32(max(blocks, 1) - 1))
	width = max(2, int(bb+minFingerprintBits+7)/8)
	return width, min(16, uint(8*width)-bb)
}

// packedFingerprint is the fingerprint of hash h in a layout-4 entry of fpBits bits.
func packedFingerprint(h uint64, fpBits uint) uint64 { return uint64(uint16(h) >> (16 - fpBits)) }

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

// rowWidth is the bytes a row id of a segment of rows rows takes in layouts 1 and 2.
func rowWidth(rows uint32) int {
	switch {
	case rows <= 1<<16:
		return 2
	case rows <= 1<<24:
		return 3
	}
	return 4
}

// blockWidth is the bytes a block number of a segment of blocks blocks takes in layout 3.
func blockWidth(blocks uint32) int {
	switch {
	case blocks <= 1<<8:
		return 1
	case blocks <= 1<<16:
		return 2
	case blocks <= 1<<24:
		return 3
	}
	return 4
}

// sortedKeys is a keys section's entries in on-disk order, (bucket, fingerprint, row or
// block), with each bucket's cumulative end.
type sortedKeys struct {
	b    uint8
	ends []uint32 // ends[k] is one past bucket k's last entry
	fps  []uint16
	rows []uint32 // rows (layouts 0 to 2) or blocks (layout 3)
}

// dedupe drops the entries that repeat the one before (the same fingerprint in the same
// block: a key several rows of a block hold, or two keys of a bucket that share a fingerprint).
func (sk *sortedKeys) dedupe() {
	out, start := uint32(0), uint32(0)
	for k, end := range sk.ends {
		for i := start; i < end; i++ {
			if i > start && sk.fps[i] == sk.fps[i-1] && sk.rows[i] == sk.rows[i-1] {
				continue
			}
			sk.fps[out], sk.rows[out] = sk.fps[i], sk.rows[i]
			out++
		}
		start = end
		sk.ends[k] = out
	}
	sk.fps, sk.rows = sk.fps[:out], sk.rows[:out]
}

// pack returns the layout-4 entries of sk (whose rows are blocks) with fpBits-bit fingerprints,
// each bucket's sorted and distinct (two of its fingerprints may share their top fpBits bits),
// and makes sk's ends theirs.
func (sk *sortedKeys) pack(fpBits uint) []uint64 {
	vals := make([]uint64, 0, len(sk.fps))
	start := uint32(0)
	for k, end := range sk.ends {
		from := len(vals)
		for i := start; i < end; i++ {
			vals = append(vals, packedFingerprint(uint64(sk.fps[i]), fpBits)|uint64(sk.rows[i])<<fpBits)
		}
		b := vals[from:]
		slices.Sort(b)
		vals = vals[:from+len(slices.Compact(b))]
		start = end
		sk.ends[k] = uint32(len(vals))
	}
	return vals
}

// sortKeys orders hashes and their rows by bucket and fingerprint.
func sortKeys(hashes []uint64, rows []uint32) sortedKeys {
	n := len(hashes)
	if n != len(rows) {
		panic(fmt.Sprintf("BUG: sortKeys: %d hashes for %d rows", n, len(rows)))
	}
	b := keyBucketBits(n)
	nb := 1 << b
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
	return sortedKeys{b: b, ends: ends, fps: fps, rows: srows}
}

// appendLE appends each value (a row id, a block, layout 4's packed entry) in w little-endian
// bytes.
func appendLE[T uint32 | uint64](dst []byte, rows []T, w int) []byte {
	for _, r := range rows {
		for i := range w {
			dst = append(dst, byte(r>>(8*i)))
		}
	}
	return dst
}

// rowSpan is a candidate run of rows [lo, hi): one row (layouts 0 to 2) or one block (layouts 3
// and 4). A probe hands blocks on whole, so that a bitmap takes them as ranges instead of a
// block's 4,096 rows one by one (a correlationId lookup spent a quarter of its time there).
type rowSpan struct{ lo, hi uint32 }

// appendMatches appends the spans of entries [start, end) whose 2-byte fingerprint is fp; fps
// and rowIDs hold the entries' fingerprints and w-byte row ids from entry 0. With blockRows > 0
// (layout 3) the ids are blocks of that many rows, and each matching block is one span.
func appendMatches(dst []rowSpan, fps, rowIDs []byte, w int, start, end uint32, fp uint16, rows uint32, blockRows uint32) ([]rowSpan, error) {
	for i := start; i < end; i++ {
		if binary.LittleEndian.Uint16(fps[2*i:]) != fp {
			continue
		}
		r := uint32(readLE(rowIDs[int(i)*w:], w))
		if blockRows == 0 {
			if r >= rows {
				return dst, corruptf("keys: entry %d has row %d; segment has %d rows", i, r, rows)
			}
			dst = append(dst, rowSpan{r, r + 1})
			continue
		}
		if uint64(r)*uint64(blockRows) >= uint64(rows) {
			return dst, corruptf("keys: entry %d has block %d; segment has %d rows in blocks of %d", i, r, rows, blockRows)
		}
		dst = append(dst, rowSpan{r * blockRows, min((r+1)*blockRows, rows)})
	}
	return dst, nil
}

// readLE reads the little-endian number of the first w bytes of p (appendLE' spelling).
func readLE(p []byte, w int) uint64 {
	var v uint64
	for j := w - 1; j >= 0; j-- {
		v = v<<8 | uint64(p[j])
	}
	return v
}

// appendPackedMatches is appendMatches for layout 4: entries holds the entries of width bytes
// from entry 0, each a fingerprint of fpBits bits below a block of blockRows rows.
func appendPackedMatches(dst []rowSpan, entries []byte, width int, fpBits uint, start, end uint32, fp uint64, rows uint32, blockRows uint32) ([]rowSpan, error) {
	mask := uint64(1)<<fpBits - 1
	for i := start; i < end; i++ {
		v := readLE(entries[int(i)*width:], width)
		if v&mask != fp {
			continue
		}
		blk := v >> fpBits
		if blk*uint64(blockRows) >= uint64(rows) {
			return dst, corruptf("keys: entry %d has block %d; segment has %d rows in blocks of %d", i, blk, rows, blockRows)
		}
		dst = append(dst, rowSpan{uint32(blk * uint64(blockRows)), uint32(min((blk+1)*uint64(blockRows), uint64(rows)))})
	}
	return dst, nil
}

// keyProber is a keys section of any layout.
type keyProber interface {
	// appendSpans appends the candidate rows for the key whose xxhash64 is h: every row (or
	// block) whose key has the same bucket and fingerprint, a superset of the matching rows.
	appendSpans(dst []rowSpan, h uint64) ([]rowSpan, error)
}

// appendRows appends kp's candidate rows for hash h one by one, in the order of its spans.
func appendRows(kp keyProber, dst []uint32, h uint64) ([]uint32, error) {
	var buf [16]rowSpan
	spans, err := kp.appendSpans(buf[:0], h)
	for _, s := range spans {
		for r := s.lo; r < s.hi; r++ {
			dst = append(dst, r)
		}
	}
	return dst, err
}

// KeyHash is the hash a keys section files a key under (xxhash64). A writer that hashes keys as
// it sees them (AddKeyHashes) uses it, so that it need not hold the keys themselves.
func KeyHash(key []byte) uint64 { return xxhash.Sum64(key) }

func keysBitmap(kp keyProber, key []byte) (*roaring.Bitmap, error) {
	var buf [16]rowSpan
	spans, err := kp.appendSpans(buf[:0], KeyHash(key))
	if err != nil {
		return nil, err
	}
	bm := roaring.New()
	for _, s := range spans {
		if s.hi-s.lo == 1 {
			bm.Add(s.lo)
		} else {
			bm.AddRange(uint64(s.lo), uint64(s.hi))
		}
	}
	return bm, nil
}
