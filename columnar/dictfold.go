package columnar

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Case-insensitive lookups in a segment's dictionary. userPrincipalName (and enums) compare
// case-insensitively (strings.EqualFold), so an equality probe cannot look a value up as it is
// written. Comparing every entry of every segment's dictionary was three quarters of "one
// user's flagged sign-ins" at 1M events, and a hash table of the folded entries cost its build
// and 8–16 bytes an entry; both read every page of a paged dictionary (dictpages.go). A
// segment's dictionary is sorted, so the entries equal to a literal under folding are found by
// spelling it rune by rune: each rune may be written as any member of its case-folding orbit
// (k, K and the Kelvin sign), and the entries that begin with each spelling so far are a range
// of the sorted dictionary, found by binary search and narrowed by the next rune. Spellings
// the dictionary does not hold end at once, so a lookup reads the few pages its searches visit.

// DictionaryFold returns the codes of column idx's segment dictionary whose value equals lit
// case-insensitively (strings.EqualFold), in ascending order; none when the segment does not
// store the column.
func (s *Segment) DictionaryFold(idx int, lit string) ([]int32, error) {
	d, ok, err := s.Dict(idx)
	if err != nil || !ok {
		return nil, err
	}
	if !utf8.ValidString(lit) || strings.ContainsRune(lit, utf8.RuneError) {
		// EqualFold reads an invalid byte as U+FFFD, which an entry may spell with any invalid
		// byte: no spelling to search for. Compare every entry.
		var out []int32
		for i := range int32(d.Len()) {
			if EqualFold(d.Value(i), lit, false) {
				out = append(out, i)
			}
		}
		return out, d.Err()
	}
	out := foldSorted(d, lit)
	return out, d.Err()
}

// foldSorted returns the codes of sorted dictionary d's entries equal to lit (valid UTF-8
// without U+FFFD) under strings.EqualFold, ascending. A valid entry equals lit when its runes
// are, one by one, members of the orbits of lit's runes; an invalid byte of an entry reads as
// U+FFFD, which no rune of lit is, so such an entry never matches and the search never meets it.
func foldSorted(d Dict, lit string) []int32 {
	// A span's entries that begin with its prefix are [lo, end) for some end ≤ hi: the end is
	// bounded from the page fences without reading a page (Dict.Bound), the next rune's search
	// needing only a range that holds them; its start, and whether any entry begins with the
	// prefix at all, are found exactly. Finding each end exactly read the page it fell on, a
	// new one at almost every rune.
	type span struct {
		prefix []byte
		lo, hi int
	}
	spans, next := []span{{lo: 0, hi: d.Len()}}, []span(nil)
	for _, r := range lit {
		next = next[:0]
		for _, sp := range spans {
			for o := r; ; {
				p := utf8.AppendRune(slices.Clip(sp.prefix), o)
				lo := d.Search(sp.lo, sp.hi, func(v []byte) bool { return bytes.Compare(v, p) >= 0 })
				if lo < sp.hi && bytes.HasPrefix(d.peek(lo), p) {
					hi := d.Bound(lo+1, sp.hi, func(v []byte) bool { return !bytes.HasPrefix(v, p) })
					next = append(next, span{p, lo, hi})
				}
				if o = unicode.SimpleFold(o); o == r {
					break
				}
			}
		}
		spans, next = next, spans
		if len(spans) == 0 {
			return nil
		}
	}
	// Of the entries that begin with a spelling, the spelling itself sorts first.
	var out []int32
	for _, sp := range spans {
		if len(d.Value(int32(sp.lo))) == len(sp.prefix) {
			out = append(out, int32(sp.lo))
		}
	}
	slices.Sort(out)
	return out
}

// EqualFold is strings.EqualFold(string(e), lit), fast when lit is ASCII (litASCII): an entry
// of another length can equal it only by holding non-ASCII runes that fold to ASCII letters
// (the Kelvin sign to k), each longer than the letter, so a shorter entry never does and one of
// the same length does only byte by byte.
func EqualFold(e []byte, lit string, litASCII bool) bool {
	es := unsafe.String(unsafe.SliceData(e), len(e))
	if litASCII && len(e) != len(lit) {
		// Shorter never matches; longer only with non-ASCII runes in it.
		if len(e) < len(lit) || IsASCII(es) {
			return false
		}
		return strings.EqualFold(es, lit)
	}
	if litASCII {
		for i := range len(e) {
			a, b := e[i], lit[i]
			if a != b && (a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z') {
				return false
			}
		}
		return true
	}
	return strings.EqualFold(es, lit)
}

// IsASCII reports whether s holds only ASCII bytes, eight at a time (it runs over every name of
// a segment's dictionary that is longer than a case-insensitive literal).
func IsASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
