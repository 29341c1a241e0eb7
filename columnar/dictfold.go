package columnar

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

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
		ascii := isASCII(lit)
		for i := range d.Len() {
			v := d.Value(i)
			// An ASCII literal matches only entries of its length, or longer ones holding
			// runes that fold to ASCII letters (the Kelvin sign, the long s).
			if ascii && len(v) != len(lit) && (len(v) < len(lit) || isASCII(v)) {
				continue
			}
			if strings.EqualFold(v, lit) {
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
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
