package query

import (
	"bytes"
	"strings"
	"sync"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// sortKey is one $orderby key. The id column is always the final tiebreaker, in the
// direction of the last key, so that every row has a distinct position: keyset paging
// needs a total order.
type sortKey struct {
	col  *columnar.Column
	desc bool
}

// keyPart is one sort value of a row. Strings of GUID columns are the 16 raw bytes,
// which order like their canonical text. Nulls sort before every value.
type keyPart struct {
	null bool
	i    int64
	f    float64
	s    string
}

type rowKey struct {
	parts []keyPart
	id    [16]byte
}

const defaultOrderBy = "createdDateTime desc"

// parsedOrder is an $orderby parsed and bound, as parseOrderBy returns it.
type parsedOrder struct {
	keys []sortKey
	text string
}

// defaultOrders holds the default order bound per schema and version (a defaultOrderKey):
// most lists give no $orderby, and lexing the default's text was a twentieth of a warm
// correlation-id lookup.
var defaultOrders sync.Map

type defaultOrderKey struct {
	s       *columnar.Schema
	version columnar.Version
}

// parseOrderBy parses and binds an $orderby (the default when blank); the keys returned are
// shared and read only.
func parseOrderBy(s *columnar.Schema, text string, version columnar.Version) ([]sortKey, string, error) {
	if !isBlank(text) && text != defaultOrderBy {
		return bindOrderBy(s, text, version)
	}
	k := defaultOrderKey{s, version}
	if o, ok := defaultOrders.Load(k); ok {
		o := o.(parsedOrder)
		return o.keys, o.text, nil
	}
	keys, t, err := bindOrderBy(s, defaultOrderBy, version)
	if err == nil {
		defaultOrders.Store(k, parsedOrder{keys, t})
	}
	return keys, t, err
}

func bindOrderBy(s *columnar.Schema, text string, version columnar.Version) ([]sortKey, string, error) {
	items, err := syntax.ParseOrderBy(text)
	if err != nil {
		return nil, "", wrapSyntax(err)
	}
	b := &binder{s: s, info: infoFor(s), version: version}
	var keys []sortKey
	for _, it := range items {
		p, ok := it.Expr.(*syntax.Path)
		if !ok {
			return nil, "", errorf(it.Expr.Pos(), "$orderby supports property names only")
		}
		n, err := b.path(p)
		if err != nil {
			return nil, "", err
		}
		c, ok := n.(*colNode)
		if !ok || c.t == TJSON {
			return nil, "", errorf(p.At, "cannot order by '%s': not a scalar property", pathText(p))
		}
		keys = append(keys, sortKey{col: c.col, desc: it.Desc})
	}
	if len(keys) > 8 {
		return nil, "", errorf(items[8].Expr.Pos(), "at most 8 $orderby keys are supported")
	}
	return keys, syntax.OrderByString(items), nil
}

func pathText(p *syntax.Path) string {
	names := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		names[i] = s.Name
	}
	return strings.Join(names, "/")
}

// partOf reads the sort value of one cell without allocating (strings are views into
// the batch; see keep).
func partOf(b *columnar.Batch, c *columnar.Column, row int) keyPart {
	if !b.Valid(c.Index, row) {
		return keyPart{null: true}
	}
	switch c.Kind {
	case columnar.KindDict, columnar.KindText, columnar.KindGUID:
		return keyPart{s: unsafeString(b.Bytes(c.Index, row))}
	case columnar.KindTime:
		return keyPart{i: b.Int64(c.Index, row)}
	case columnar.KindInt32:
		return keyPart{i: int64(b.Int32(c.Index, row))}
	case columnar.KindFloat64:
		return keyPart{f: b.Float64(c.Index, row)}
	case columnar.KindBool:
		return keyPart{i: int64(b2i(b.Bool(c.Index, row)))}
	}
	panic("BUG: sort on kind " + c.Kind.String())
}

func comparePart(c *columnar.Column, a, b keyPart) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	switch c.Kind {
	case columnar.KindDict, columnar.KindText, columnar.KindGUID:
		return strings.Compare(a.s, b.s)
	case columnar.KindFloat64:
		// NaN sorts before numbers so that the order is total.
		an, bn := a.f != a.f, b.f != b.f
		switch {
		case an && bn:
			return 0
		case an:
			return -1
		case bn:
			return 1
		}
		return cmp3(a.f, b.f)
	}
	return cmp3(a.i, b.i)
}

// compareKeys orders a before b (negative) in the query's order.
func compareKeys(keys []sortKey, a, b *rowKey) int {
	last := false
	for i, k := range keys {
		c := comparePart(k.col, a.parts[i], b.parts[i])
		last = k.desc
		if c != 0 {
			if k.desc {
				return -c
			}
			return c
		}
	}
	c := bytes.Compare(a.id[:], b.id[:])
	if last {
		return -c
	}
	return c
}

// keyOrder returns compareKeys for keys, specialised for a page's usual order: one integer or
// time key (createdDateTime desc) then the id. A page's heap compares keys some ten times a row
// it takes, and the general loop over parts was a fifth of a warm 1,000-row page's CPU.
func keyOrder(keys []sortKey) func(a, b *rowKey) int {
	if len(keys) != 1 {
		return func(a, b *rowKey) int { return compareKeys(keys, a, b) }
	}
	switch keys[0].col.Kind {
	case columnar.KindTime, columnar.KindInt32, columnar.KindBool:
	default:
		return func(a, b *rowKey) int { return compareKeys(keys, a, b) }
	}
	desc := keys[0].desc
	return func(a, b *rowKey) int {
		pa, pb := &a.parts[0], &b.parts[0]
		if pa.null || pb.null {
			return compareKeys(keys, a, b)
		}
		c := cmp3(pa.i, pb.i)
		if c == 0 {
			c = bytes.Compare(a.id[:], b.id[:])
		}
		if desc {
			return -c
		}
		return c
	}
}

// keep copies the string views of a key so it outlives its batch.
func (k *rowKey) keep() {
	for i := range k.parts {
		if k.parts[i].s != "" {
			k.parts[i].s = strings.Clone(k.parts[i].s)
		}
	}
}
