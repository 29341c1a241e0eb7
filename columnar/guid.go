package columnar

// GUIDs are stored as their 16 bytes in the order they are written (the 32 hex digits
// left to right), not in Microsoft's mixed-endian struct order: the bytes only need to round-trip
// to the canonical text and compare equal when the text does.

const hexDigits = "0123456789abcdef"

// ParseGUID parses the canonical 8-4-4-4-12 form (either case). ok reports whether s is a GUID;
// canonical reports whether s is already lower-case canonical text, i.e. whether FormatGUID
// would reproduce it byte for byte.
func ParseGUID(s []byte) (g [16]byte, ok, canonical bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false, false
	}
	canonical = true
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, c1 := unhex(s[i])
		lo, c2 := unhex(s[i+1])
		if hi < 0 || lo < 0 {
			return g, false, false
		}
		canonical = canonical && c1 && c2
		g[j] = byte(hi<<4 | lo)
		j++
		i += 2
	}
	return g, true, canonical
}

func unhex(c byte) (v int, lower bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, false
	}
	return -1, false
}

// AppendGUID appends the canonical lower-case text of g.
func AppendGUID(dst []byte, g []byte) []byte {
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[g[i]>>4], hexDigits[g[i]&15])
	}
	return dst
}

// FormatGUID returns the canonical text of g.
func FormatGUID(g []byte) string { return string(AppendGUID(make([]byte, 0, 36), g)) }
