package index

import (
	"sync"
	"sync/atomic"
)

// countMemo keeps the row counts of the postings of one postings section that counts asked
// for. A count of one application's sign-ins over a month reads each day's application
// postings only for their cardinality; at 100M events those postings (decoded run lists
// included) are more than the Resident holds, so every count read and decoded them again (78
// ms warm, against 4 at 10M). A count is 8 bytes and never changes, so it is kept for the
// Reader's life, outside the Resident: only sections of at most countMemoPostings postings keep
// them (at most 32 KiB each: an application's, a country's, an error code's), not a user's or
// an address's, whose postings are small to read anyway.
type countMemo struct {
	once sync.Once
	n    []atomic.Uint64 // 1 + the count of posting i; 0: not known yet
}

// countMemoPostings is the most postings (the null one included) a section keeps counts of.
const countMemoPostings = 4096

// slots returns the memo's slots for a section of n postings, nil when it keeps none.
func (m *countMemo) slots(n int) []atomic.Uint64 {
	if n > countMemoPostings {
		return nil
	}
	m.once.Do(func() { m.n = make([]atomic.Uint64, n) })
	if len(m.n) != n {
		return nil
	}
	return m.n
}

// postingCount returns the cardinality of posting i of the codes section s (i = count() is the
// null posting), remembered when the section is small enough.
func postingCount(s *lazySection, i int) (uint64, error) {
	ps := s.dec.(postingsProber)
	memo := s.counts.slots(ps.count() + 1)
	if memo != nil {
		if v := memo[i].Load(); v != 0 {
			return v - 1, nil
		}
	}
	bm, err := ps.bitmap(i)
	if err != nil {
		return 0, err
	}
	c := bm.GetCardinality()
	if memo != nil {
		memo[i].Store(c + 1)
	}
	return c, nil
}

// CodesCount returns how many rows have dictionary code code: the cardinality of
// Codes(column, code), without the bitmap once known (see countMemo).
func (rd *Reader) CodesCount(column string, code uint32) (uint64, error) {
	s, err := rd.loaded(column, KindCodes)
	if err != nil {
		return 0, err
	}
	if uint64(code) >= uint64(s.dec.(postingsProber).count()) {
		return 0, nil // as Codes: a code outside the dictionary has no rows
	}
	return postingCount(s, int(code))
}

// CodesNullCount returns how many rows had the null code: the cardinality of CodesNull.
func (rd *Reader) CodesNullCount(column string) (uint64, error) {
	s, err := rd.loaded(column, KindCodes)
	if err != nil {
		return 0, err
	}
	return postingCount(s, s.dec.(postingsProber).count())
}
