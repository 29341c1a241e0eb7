package index

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// AllRows returns the bitmap of every row of a segment of n rows, the identity for And
// and the universe for complements such as "errorCode ne 0".
func AllRows(n uint32) *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, uint64(n))
	return bm
}

// AppendBlockWords appends ceil(blockRows/64) words to dst: bit j of the result is set
// when row blockStart+j is in bm. Residual kernels work on such word-aligned selection
// bitmaps, one block at a time.
func AppendBlockWords(dst []uint64, bm *roaring.Bitmap, blockStart, blockRows uint32) []uint64 {
	nw := int((uint64(blockRows) + 63) / 64)
	start := len(dst)
	dst = append(dst, make([]uint64, nw)...)
	words := dst[start:]
	end := uint64(blockStart) + uint64(blockRows)
	if blockRows == 0 || bm.IsEmpty() || uint64(bm.Minimum()) >= end || bm.Maximum() < blockStart {
		return dst
	}
	// Intersecting with a single-run bitmap is O(containers); the shift moves the block's
	// rows to 0 (a multiple of 65,536 would only renumber containers).
	window := roaring.New()
	window.AddRange(uint64(blockStart), end)
	sub := roaring.AddOffset64(roaring.And(bm, window), -int64(blockStart))
	if sub.DenseSize() > uint64(nw) {
		panic(fmt.Sprintf("BUG: block window of %d rows produced %d words", blockRows, sub.DenseSize()))
	}
	sub.WriteDenseTo(words)
	return dst
}

// OrBlockWords adds to bm the rows blockStart+j for every bit j set in words, the
// inverse of AppendBlockWords.
func OrBlockWords(bm *roaring.Bitmap, words []uint64, blockStart uint32) {
	if uint64(blockStart)+64*uint64(len(words)) > 1<<32 {
		panic(fmt.Sprintf("BUG: %d words at row %d overflow uint32 row ids", len(words), blockStart))
	}
	sub := roaring.FromDense(words, true)
	if blockStart != 0 {
		sub = roaring.AddOffset(sub, blockStart)
	}
	bm.Or(sub)
}
