package columnar

import (
	"bytes"
	"unicode/utf8"
)

// Text that is not Unicode. A record may hold bytes that are not UTF-8, or a \uD800-\uDFFF
// escape that is not half of a surrogate pair: both are text no JSON consumer can trust (a page
// holding raw invalid bytes is invalid JSON; fastjson kept a lone escape as the literal text
// "\ud800", which export then wrote back as "\\ud800"). The rule, as encoding/json's: each
// run of invalid bytes and each lone surrogate becomes U+FFFD, the rest of the record is kept
// byte for byte, and every page served is valid JSON (docs/ingest-formats.md).

// sanitize returns raw, or a repaired copy in *buf when raw holds invalid UTF-8 or a lone
// surrogate escape. Clean records (nearly all) cost one UTF-8 check and one search.
func sanitize(raw []byte, buf *[]byte) []byte {
	if !utf8.Valid(raw) {
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	if !bytes.Contains(raw, []byte(`\ud`)) && !bytes.Contains(raw, []byte(`\uD`)) {
		return raw
	}
	out := raw
	copied := false
	for i := 0; i < len(out); i++ {
		if out[i] != '\\' || i+1 >= len(out) {
			continue
		}
		if out[i+1] != 'u' {
			i++ // any other escape, "\\" included: skip the escaped character
			continue
		}
		cp, ok := hex4(out, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case cp >= 0xD800 && cp <= 0xDBFF:
			if lo, ok := hex4(out, i+8); ok && i+7 < len(out) && out[i+6] == '\\' && out[i+7] == 'u' && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11 // a pair: keep both
				continue
			}
		case cp >= 0xDC00 && cp <= 0xDFFF:
		default:
			i += 5
			continue
		}
		if !copied { // a lone surrogate: repair a copy, never the caller's bytes
			*buf = append((*buf)[:0], out...)
			out, copied = *buf, true
		}
		copy(out[i:i+6], `\ufffd`) // same length, so offsets stay as they were
		i += 5
	}
	return out
}

// hex4 reads the 4 hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
