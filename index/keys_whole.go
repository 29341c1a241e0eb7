package index

import "encoding/binary"

// keysSection probes a keys section of format versions 1 and 2 (layouts 0 and 1), which the
// reader loads whole and checks against the directory's CRC on first use; nothing is decoded at
// load but the checks.
//
//	n uint32 | b uint8 | layout uint8 | w uint8 | 0 uint8 | bucketEnds [2^b]uint32 | fps [n] | rows [n]
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

const keysHeaderLen = 8

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

func (ks *keysSection) appendSpans(dst []rowSpan, h uint64) ([]rowSpan, error) {
	k := keyBucket(h, ks.b)
	start := uint32(0)
	if k > 0 {
		start = binary.LittleEndian.Uint32(ks.bucketEnds[4*(k-1):])
	}
	end := binary.LittleEndian.Uint32(ks.bucketEnds[4*k:])
	if ks.layout == keysLayoutCompact {
		return appendMatches(dst, ks.fps, ks.rowIDs, ks.width, start, end, uint16(h), ks.rows, 0)
	}
	for i := start; i < end; i++ {
		if binary.LittleEndian.Uint32(ks.fps[4*i:]) != uint32(h) {
			continue
		}
		r := binary.LittleEndian.Uint32(ks.rowIDs[4*i:])
		if r >= ks.rows {
			return dst, corruptf("keys: entry %d has row %d; segment has %d rows", i, r, ks.rows)
		}
		dst = append(dst, rowSpan{r, r + 1})
	}
	return dst, nil
}
