package query

import (
	"context"

	"github.com/authlake/authlake/columnar"
)

// WithoutIndexes makes Run ignore index probes and zone maps (metamorphic tests).
func WithoutIndexes(r *Request) { r.noIndex = true }

// MatchIDs runs only the filter and returns the ids of the matching rows (canonical
// GUID text), without ordering or JSON encoding: the differential test compares
// thousands of filters and does not need to pay for encoding every row each time.
func MatchIDs(ctx context.Context, s *columnar.Schema, src Source, filter string, noIndex bool) ([]string, error) {
	f, err := compileCached(s, filter, Options{})
	if err != nil {
		return nil, err
	}
	idCol, _ := s.Lookup("id")
	c := &idCollector{id: idCol}
	sc := &scanner{f: f, noIndex: noIndex, ex: &Explain{}, now: nowNanos()}
	if err := sc.run(ctx, src, c); err != nil {
		return nil, err
	}
	return c.ids, nil
}

type idCollector struct {
	id  *columnar.Column
	ids []string
}

func (c *idCollector) cols() []int                  { return []int{c.id.Index} }
func (c *idCollector) skipSegment(*Segment) bool    { return false }
func (c *idCollector) skipBlock(*Segment, int) bool { return false }
func (c *idCollector) countOnly() bool              { return false }
func (c *idCollector) addCount(int64)               { panic("BUG") }
func (c *idCollector) visit(_ unitRef, _ int, b *columnar.Batch, sel []uint64) error {
	for w, m := range sel {
		for m != 0 {
			j := bitsTrailing(m)
			m &= m - 1
			c.ids = append(c.ids, columnar.FormatGUID(b.Bytes(c.id.Index, w*64+j)))
		}
	}
	return nil
}
