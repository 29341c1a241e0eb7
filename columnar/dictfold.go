package columnar

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Case-insensitive lookups in a segment's dictionary. userPrincipalName (and enums) compare
// case-insensitively (strings.EqualFold), so an equality probe could not look a value up: it
// folded-compared every entry of the segment's dictionary, for every query and every segment
// (three quarters of "one user's flagged sign-ins" at 1M events: thousands of UPNs in each of
// 30 daily dictionaries). A fold index, kept while the segment is open, is an open-addressing
// table of the entries' codes by a hash of their case-folded form; a lookup hashes the literal and confirms each code of its probe run with
// strings.EqualFold. It is built on a segment column's second lookup: the first compares every
// entry, which costs less than hashing them all, so a cold query over many segments pays no
// build. It holds 8–16 bytes an entry, for the columns so queried only.

// foldIndex is an open-addressing (linear probing) table of a dictionary's codes by the hash
// of each entry's case-folded form.
type foldIndex struct {
	lookups atomic.Int32 // before the table is built
	once    sync.Once
	slots   []int32 // code+1, 0 for an empty slot; a power of two, at least twice the entries
}

// DictionaryFold returns the codes of column idx's segment dictionary whose value equals lit
// case-insensitively (strings.EqualFold), in ascending order; none when the segment does not
// store the column.
func (s *Segment) DictionaryFold(idx int, lit string) ([]int32, error) {
	d, err := s.Dictionary(idx)
	if err != nil || d == nil {
		return nil, err
	}
	fi := &s.cols[idx].fold
	if fi.lookups.Load() < 1 && fi.lookups.Add(1) <= 1 {
		// The first lookup compares every entry, as a table's build would hash every entry
		// (and costs less): a cold query reads many segments once, and pays no build.
		var out []int32
		off, data, ascii := d.ValueOffsets(), d.ValueBytes(), IsASCII(lit)
		for i := range d.Len() {
			if EqualFold(data[off[i]:off[i+1]], lit, ascii) {
				out = append(out, int32(i))
			}
		}
		return out, nil
	}
	fi.once.Do(func() { fi.build(d) })
	var out []int32
	mask := uint64(len(fi.slots) - 1)
	// Entries equal under folding hash alike, so every one of them is in the run of occupied
	// slots that starts at the literal's slot.
	for j := foldHash(lit) & mask; fi.slots[j] != 0; j = (j + 1) & mask {
		if c := fi.slots[j] - 1; strings.EqualFold(d.Value(int(c)), lit) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (fi *foldIndex) build(d *array.String) {
	n := d.Len()
	size := 2
	for size < 2*n {
		size *= 2
	}
	fi.slots = make([]int32, size)
	mask := uint64(size - 1)
	for i := range n {
		j := foldHash(d.Value(i)) & mask
		for fi.slots[j] != 0 {
			j = (j + 1) & mask
		}
		fi.slots[j] = int32(i + 1)
	}
}

// foldHash hashes s case-folded: strings that are strings.EqualFold hash alike. EqualFold
// matches rune by rune within Unicode's simple case-folding orbits (invalid UTF-8 reading as
// U+FFFD), so each rune is replaced by the smallest rune of its orbit (for ASCII letters the
// upper-case one) before hashing (FNV-1a over the runes: one step for ASCII, three for others).
func foldHash(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			h = (h ^ uint64(c)) * prime
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r = foldMin(r); r < utf8.RuneSelf { // the Kelvin sign and the long s fold to ASCII
			h = (h ^ uint64(r)) * prime
			continue
		}
		h = (h ^ uint64(r&0xff)) * prime
		h = (h ^ uint64(r>>8&0xff)) * prime
		h = (h ^ uint64(r>>16)) * prime
	}
	// FNV's low bits, which pick the slot, mix poorly: finish as splitmix64 does.
	h ^= h >> 31
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
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

// foldMin is the smallest rune of r's simple case-folding orbit.
func foldMin(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
