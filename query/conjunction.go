package query

import "github.com/RoaringBitmap/roaring/v2"

// conjunction accumulates the exact index answers of a segment's top-level conjuncts: every
// row (neither bitmap set), the rows of cand, or every row but those of not. An int32 "ne"
// probe answers with the rows it excludes (probeRes.not), which the next conjunct subtracts
// instead of intersecting a bitmap of nearly every row built for it: "status/errorCode ne 0"
// made that bitmap from every row of the segment, half of a warm count of one event type's
// failures.
type conjunction struct {
	rows      uint32
	cand, not *roaring.Bitmap
}

func newConjunction(rows uint32) *conjunction { return &conjunction{rows: rows} }

// and adds an exact or superset answer.
func (c *conjunction) and(r probeRes) {
	switch {
	case r.t == nil && c.cand != nil:
		c.cand = roaring.AndNot(c.cand, r.not)
	case r.t == nil && c.not != nil:
		c.not = roaring.Or(c.not, r.not)
	case r.t == nil:
		c.not = r.not
	case c.cand != nil:
		c.cand = roaring.And(c.cand, r.t)
	case c.not != nil:
		c.cand, c.not = roaring.AndNot(r.t, c.not), nil
	default:
		c.cand = r.t
	}
}

// empty says that no row is left (as far as the bitmaps tell cheaply).
func (c *conjunction) empty() bool { return noRow(c.cand, c.not, c.rows) }

// noRow says that candidates t (nil: every row) less the excluded rows not (nil: none) leave
// none of rows: t is empty, or not is every row ("status/errorCode ne 0" on a segment of
// failures only). It holds of one answer (probeRes's t and not) as of a conjunction.
func noRow(t, not *roaring.Bitmap, rows uint32) bool {
	if t != nil {
		return t.IsEmpty()
	}
	return not != nil && not.GetCardinality() >= uint64(rows)
}

// countWith returns how many rows both the conjunction and r's exact answer hold, making no
// bitmap of them.
func (c *conjunction) countWith(r probeRes) uint64 {
	if r.t != nil {
		switch {
		case c.cand != nil:
			return c.cand.AndCardinality(r.t)
		case c.not != nil:
			return r.t.GetCardinality() - r.t.AndCardinality(c.not)
		}
		return r.t.GetCardinality()
	}
	switch {
	case c.cand != nil:
		return c.cand.GetCardinality() - c.cand.AndCardinality(r.not)
	case c.not != nil:
		return uint64(c.rows) - (c.not.GetCardinality() + r.not.GetCardinality() - c.not.AndCardinality(r.not))
	}
	return uint64(c.rows) - r.not.GetCardinality()
}

// bitmap returns the candidate rows, nil for every row.
func (c *conjunction) bitmap(pr *prober) *roaring.Bitmap {
	if c.cand == nil && c.not != nil {
		c.cand, c.not = pr.rest(c.not, nil), nil
	}
	return c.cand
}
