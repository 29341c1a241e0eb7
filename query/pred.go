package query

import (
	"bytes"
	"slices"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// pred is a lowered row predicate. Each kind has a vectorized kernel (kernels.go) and
// possibly an index probe (probe.go). Their results are three-valued: per row true,
// false or null, as two bitmaps (T and F; null = neither).
type pred interface{ predNode() }

// pLogic is and/or over several predicates.
type pLogic struct {
	and  bool
	kids []pred
}

type pNot struct{ x pred }

type pConst struct{ t tri }

// pDict is any predicate whose only input is one dictionary column (KindDict or
// KindJSONDict): it is a function of the dictionary entry, so it is evaluated once per
// entry and rows are selected by code.
type pDict struct {
	col *columnar.Column
	n   node
	// eq, when set, is an exact (case-sensitive) equality with a string literal: the
	// code is found by binary search in a segment's sorted dictionary.
	eq    *string
	eqNot bool // the predicate is "ne"
	// eqFold makes eq case-insensitive (userPrincipalName, enums): each entry is compared
	// with columnar.EqualFold instead of evaluating the predicate's tree (a user's sign-ins by UPN
	// evaluated the tree for each of a segment's thousands of names).
	eqFold bool
	// match, when set, is the predicate as a test of an entry's bytes: startswith, endswith or
	// contains of the column and a string literal (case-sensitive, as call evaluates them).
	// A count by application name evaluated the tree for each of the ~580 names of every day.
	match func(entry []byte) bool
}

// pCmp compares a primitive column with a constant: int32, time, float64, bool or GUID.
type pCmp struct {
	col *columnar.Column
	op  syntax.BinaryOp
	i   int64   // int32 and time columns, bool (0/1)
	f   float64 // float64 columns
	g   [16]byte
}

// pBare is a Boolean column used as a predicate (`isInteractive`).
type pBare struct{ col *columnar.Column }

// pGeneric evaluates an arbitrary expression with the scalar interpreter, per candidate
// row. Only expressions that combine several columns or compute on non-dictionary
// columns land here.
type pGeneric struct {
	n    node
	cols []*columnar.Column
}

func (*pLogic) predNode()   {}
func (*pNot) predNode()     {}
func (*pConst) predNode()   {}
func (*pDict) predNode()    {}
func (*pCmp) predNode()     {}
func (*pBare) predNode()    {}
func (*pGeneric) predNode() {}

func isDictKind(k columnar.Kind) bool { return k == columnar.KindDict || k == columnar.KindJSONDict }

// flip mirrors a comparison so that the column is on the left.
func flip(op syntax.BinaryOp) syntax.BinaryOp {
	switch op {
	case syntax.OpGt:
		return syntax.OpLt
	case syntax.OpGe:
		return syntax.OpLe
	case syntax.OpLt:
		return syntax.OpGt
	case syntax.OpLe:
		return syntax.OpGe
	}
	return op
}

func lower(n node) pred {
	switch x := n.(type) {
	case *logicNode:
		p := &pLogic{and: x.and}
		for _, k := range []node{x.l, x.r} {
			kp := lower(k)
			if l, ok := kp.(*pLogic); ok && l.and == x.and {
				p.kids = append(p.kids, l.kids...)
			} else {
				p.kids = append(p.kids, kp)
			}
		}
		if p.and {
			p.kids = timesFirst(p.kids)
		}
		return p
	case *notNode:
		return &pNot{x: lower(x.x)}
	case *inNode:
		if c, ok := x.x.(*colNode); ok && !isDictKind(c.col.Kind) && len(x.items) > 0 {
			// Expand to eq-disjuncts so each can use a kernel and an index.
			p := &pLogic{}
			for _, it := range x.items {
				p.kids = append(p.kids, lower(&cmpNode{op: syntax.OpEq, l: x.x, r: &litNode{v: it}, fold: x.fold}))
			}
			if len(p.kids) == 1 {
				return p.kids[0]
			}
			return p
		}
	}
	cols := columnsOf(n, nil)
	if len(cols) == 0 {
		if _, now := n.(*nowNode); !usesNow(n) && !now {
			return &pConst{t: eval(n, &evalCtx{}).asTri()}
		}
		return &pGeneric{n: n}
	}
	if len(cols) == 1 && isDictKind(cols[0].Kind) {
		p := &pDict{col: cols[0], n: n}
		if c, ok := n.(*cmpNode); ok && (c.op == syntax.OpEq || c.op == syntax.OpNe) {
			if _, isCol := c.l.(*colNode); isCol {
				if l, ok := c.r.(*litNode); ok && l.v.k == TString && cols[0].Kind == columnar.KindDict {
					s := l.v.s
					p.eq, p.eqNot, p.eqFold = &s, c.op == syntax.OpNe, c.fold
				}
			}
		}
		p.match = stringMatch(n, cols[0])
		return p
	}
	if c, ok := n.(*colNode); ok && c.col.Kind == columnar.KindBool {
		return &pBare{col: c.col}
	}
	if c, ok := n.(*cmpNode); ok {
		if p := lowerCmp(c); p != nil {
			return p
		}
	}
	return &pGeneric{n: n, cols: cols}
}

// stringMatch returns n as a test of a dictionary entry's bytes when n is startswith, endswith
// or contains of col itself and a string literal, else nil.
func stringMatch(n node, col *columnar.Column) func([]byte) bool {
	c, ok := n.(*callNode)
	if !ok || len(c.args) != 2 || col.Kind != columnar.KindDict {
		return nil
	}
	if a, ok := c.args[0].(*colNode); !ok || a.col != col {
		return nil
	}
	l, ok := c.args[1].(*litNode)
	if !ok || !isStringLike(l.v.k) {
		return nil
	}
	lit := []byte(l.v.s)
	switch c.name {
	case "startswith":
		return func(e []byte) bool { return bytes.HasPrefix(e, lit) }
	case "endswith":
		return func(e []byte) bool { return bytes.HasSuffix(e, lit) }
	case "contains":
		return func(e []byte) bool { return bytes.Contains(e, lit) }
	}
	return nil
}

func usesNow(n node) bool {
	found := false
	walkNodes(n, func(n node) {
		if _, ok := n.(*nowNode); ok {
			found = true
		}
	})
	return found
}

// lowerCmp recognises column-versus-literal comparisons on primitive columns.
// timesFirst returns conjuncts with the time comparisons first, the order a segment's index
// probe takes them in (probeSegment): a zone map answers them without reading postings, and a
// segment outside the time range then ends its probe at once (the
// failures of the last 48 hours computed "errorCode ne 0" on every day of 30 first: a fifth of
// the query).
func timesFirst(kids []pred) []pred {
	isTime := func(p pred) bool {
		c, ok := p.(*pCmp)
		return ok && c.col.Kind == columnar.KindTime
	}
	if !slices.ContainsFunc(kids, isTime) {
		return kids
	}
	out := make([]pred, 0, len(kids))
	for _, k := range kids {
		if isTime(k) {
			out = append(out, k)
		}
	}
	for _, k := range kids {
		if !isTime(k) {
			out = append(out, k)
		}
	}
	return out
}

func lowerCmp(c *cmpNode) pred {
	op := c.op
	col, ok := c.l.(*colNode)
	lit, ok2 := c.r.(*litNode)
	if !ok || !ok2 {
		col, ok = c.r.(*colNode)
		lit, ok2 = c.l.(*litNode)
		op = flip(op)
	}
	if !ok || !ok2 || lit.v.k == TNull {
		return nil
	}
	p := &pCmp{col: col.col, op: op}
	switch col.col.Kind {
	case columnar.KindInt32:
		if lit.v.k != TInt {
			return nil
		}
		p.i = lit.v.i
	case columnar.KindTime:
		if !isTimeLike(lit.v.k) {
			return nil
		}
		p.i = lit.v.i
	case columnar.KindFloat64:
		if !isNumeric(lit.v.k) {
			return nil
		}
		p.f = lit.v.float()
	case columnar.KindBool:
		if lit.v.k != TBool || (op != syntax.OpEq && op != syntax.OpNe) {
			return nil
		}
		p.i = int64(b2i(lit.v.b))
	case columnar.KindGUID:
		g, ok, _ := columnar.ParseGUID([]byte(lit.v.s))
		if lit.v.k != TGUID || !ok || (op != syntax.OpEq && op != syntax.OpNe) {
			return nil
		}
		p.g = g
	default:
		return nil
	}
	return p
}
