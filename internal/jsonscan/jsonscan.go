// Package jsonscan finds where a JSON string ends, the one byte-level search that both the
// input framer (columnar/input) and the record decoder's fast path (columnar) run over every
// string of every record. Strings are most of a sign-in's bytes and most are short (names,
// GUIDs, enum values, 17 bytes on average): they are searched eight bytes at a time for a
// quote or a backslash (SWAR), in one pass and without bytes.IndexByte's set-up per call.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// StringEnd returns the index just past the closing quote of the string whose contents start
// at b[i] (just after its opening quote), or -1 if it does not close before lim, and whether
// it holds an escape. As JSON scanners do, a backslash skips the byte after it whatever it
// is: the contents are the caller's to check.
func StringEnd(b []byte, i, lim int) (end int, escaped bool) {
	for {
		for ; i+8 <= lim; i += 8 {
			v := binary.LittleEndian.Uint64(b[i:])
			if m := hasByte(v, '"') | hasByte(v, '\\'); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
		}
		for ; i < lim; i++ {
			if c := b[i]; c == '"' || c == '\\' {
				goto found
			}
		}
		return -1, escaped
	found:
		if b[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		if i += 2; i > lim { // the escaped byte is past the limit
			return -1, true
		}
	}
}

// hasByte has the high bit set in the lowest byte of v equal to c (higher bytes may be false
// positives, which callers never look at: they take the lowest set bit).
func hasByte(v uint64, c byte) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := v ^ (lo * uint64(c))
	return (x - lo) &^ x & hi
}
