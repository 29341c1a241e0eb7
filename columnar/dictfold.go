package columnar

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Case-insensitive lookups in a segment's dictionary. userPrincipalName (and enums) compare
// case-insensitively (strings.EqualFold), so an equality probe could not look a value up: it
// folded-compared every entry of the segment's dictionary, for every query and every segment
// (three quarters of "one user's flagged sign-ins" at 1M events: thousands of UPNs in each of
// 30 daily dictionaries). A fold index, built on a column's first such lookup and kept while
// the segment is open, sorts the entries by a hash of their case-folded form; a lookup hashes
// the literal, binary-searches, and confirms each candidate with strings.EqualFold.
// It costs 12 bytes per dictionary entry, for the columns so queried only.

// foldIndex lists a dictionary's codes by the hash of each entry's case-folded form.
type foldIndex struct {
	once   sync.Once
	hashes []uint64 // sorted
	codes  []int32  // codes[i] is the entry whose folded form hashes to hashes[i]
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
	fi.once.Do(func() { fi.build(d) })
	h := foldHash(lit)
	i, _ := slices.BinarySearch(fi.hashes, h)
	var out []int32
	for ; i < len(fi.hashes) && fi.hashes[i] == h; i++ {
		if c := fi.codes[i]; strings.EqualFold(d.Value(int(c)), lit) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (fi *foldIndex) build(d *array.String) {
	n := d.Len()
	order := make([]int32, n)
	hashes := make([]uint64, n)
	for i := range n {
		order[i] = int32(i)
		hashes[i] = foldHash(d.Value(i))
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch {
		case hashes[a] < hashes[b]:
			return -1
		case hashes[a] > hashes[b]:
			return 1
		}
		return int(a - b)
	})
	fi.codes = order
	fi.hashes = make([]uint64, n)
	for i, c := range order {
		fi.hashes[i] = hashes[c]
	}
}

// foldHash hashes s case-folded: strings that are strings.EqualFold hash alike. EqualFold
// matches rune by rune within Unicode's simple case-folding orbits (invalid UTF-8 reading as
// U+FFFD), so each rune is replaced by the smallest rune of its orbit (for ASCII letters the
// upper-case one) before hashing (FNV-1a over the runes).
func foldHash(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); {
		r := rune(s[i])
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			i++
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
			r = foldMin(r)
		}
		h = (h ^ uint64(r)) * prime
		h = (h ^ uint64(r>>8)) * prime
		h = (h ^ uint64(r>>16)) * prime
	}
	return h
}

// foldMin is the smallest rune of r's simple case-folding orbit.
func foldMin(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
