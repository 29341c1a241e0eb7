package query

import (
	"regexp"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// node is a bound, typed expression.
type node interface {
	typ() Type
	pos() syntax.Pos
}

type colNode struct {
	col  *columnar.Column
	t    Type
	fold bool // eq/ne/in compare case-insensitively (enums, userPrincipalName)
	at   syntax.Pos
}

type litNode struct {
	v  value
	at syntax.Pos
}

type cmpNode struct {
	op   syntax.BinaryOp // eq ne gt ge lt le
	l, r node
	fold bool
	at   syntax.Pos
}

type logicNode struct {
	and  bool
	l, r node
	at   syntax.Pos
}

type notNode struct {
	x  node
	at syntax.Pos
}

type arithNode struct {
	op   syntax.BinaryOp
	l, r node
	t    Type
	at   syntax.Pos
}

type negNode struct {
	x  node
	at syntax.Pos
}

type inNode struct {
	x     node
	items []value
	fold  bool
	at    syntax.Pos
}

type callNode struct {
	name string
	args []node
	t    Type
	re   *regexp.Regexp
	at   syntax.Pos
}

type lambdaNode struct {
	coll node // a JSON column, or a dynamic value (nested collection)
	any  bool
	v    string
	body node // nil for the empty any()
	at   syntax.Pos
}

// varNode is a lambda variable, optionally followed by member names (p/result).
type varNode struct {
	name string
	path []string
	fold bool
	at   syntax.Pos
}

// jsonPathNode reads a member path inside a JSON column (mfaDetail/authMethod).
type jsonPathNode struct {
	col  *columnar.Column
	path []string
	at   syntax.Pos
}

// nowNode is now(): evaluated when a plan runs, never folded or cached.
type nowNode struct{ at syntax.Pos }

func (n *colNode) typ() Type      { return n.t }
func (n *litNode) typ() Type      { return n.v.k }
func (n *cmpNode) typ() Type      { return TBool }
func (n *logicNode) typ() Type    { return TBool }
func (n *notNode) typ() Type      { return TBool }
func (n *arithNode) typ() Type    { return n.t }
func (n *negNode) typ() Type      { return n.x.typ() }
func (n *inNode) typ() Type       { return TBool }
func (n *callNode) typ() Type     { return n.t }
func (n *lambdaNode) typ() Type   { return TBool }
func (n *varNode) typ() Type      { return TDynamic }
func (n *jsonPathNode) typ() Type { return TDynamic }
func (n *nowNode) typ() Type      { return TTime }

func (n *colNode) pos() syntax.Pos      { return n.at }
func (n *litNode) pos() syntax.Pos      { return n.at }
func (n *cmpNode) pos() syntax.Pos      { return n.at }
func (n *logicNode) pos() syntax.Pos    { return n.at }
func (n *notNode) pos() syntax.Pos      { return n.at }
func (n *arithNode) pos() syntax.Pos    { return n.at }
func (n *negNode) pos() syntax.Pos      { return n.at }
func (n *inNode) pos() syntax.Pos       { return n.at }
func (n *callNode) pos() syntax.Pos     { return n.at }
func (n *lambdaNode) pos() syntax.Pos   { return n.at }
func (n *varNode) pos() syntax.Pos      { return n.at }
func (n *jsonPathNode) pos() syntax.Pos { return n.at }
func (n *nowNode) pos() syntax.Pos      { return n.at }

// walkNodes calls fn for n and every node below it, lambda collections and bodies included.
func walkNodes(n node, fn func(node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *cmpNode:
		walkNodes(n.l, fn)
		walkNodes(n.r, fn)
	case *logicNode:
		walkNodes(n.l, fn)
		walkNodes(n.r, fn)
	case *notNode:
		walkNodes(n.x, fn)
	case *arithNode:
		walkNodes(n.l, fn)
		walkNodes(n.r, fn)
	case *negNode:
		walkNodes(n.x, fn)
	case *inNode:
		walkNodes(n.x, fn)
	case *callNode:
		for _, a := range n.args {
			walkNodes(a, fn)
		}
	case *lambdaNode:
		walkNodes(n.coll, fn)
		walkNodes(n.body, fn)
	}
}

// columnsOf appends the distinct columns n reads.
func columnsOf(n node, dst []*columnar.Column) []*columnar.Column {
	walkNodes(n, func(n node) {
		var c *columnar.Column
		switch n := n.(type) {
		case *colNode:
			c = n.col
		case *jsonPathNode:
			c = n.col
		default:
			return
		}
		for _, x := range dst {
			if x == c {
				return
			}
		}
		dst = append(dst, c)
	})
	return dst
}
