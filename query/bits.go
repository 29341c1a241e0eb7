package query

import "math/bits"

func bitsTrailing(x uint64) int { return bits.TrailingZeros64(x) }

func popcount(w []uint64) int {
	n := 0
	for _, x := range w {
		n += bits.OnesCount64(x)
	}
	return n
}
