package query

import (
	"sync/atomic"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// Options control compilation.
type Options struct {
	// Version restricts properties to an API version: columnar.V1 rejects beta-only
	// properties ("not available in v1.0"). 0 means beta (every property).
	Version columnar.Version
}

// Filter is a compiled $filter: a typed expression tree lowered to row predicates. It is
// immutable and safe for concurrent use.
type Filter struct {
	schema     *columnar.Schema
	text       string      // normalized filter ("" = all rows)
	expr       syntax.Expr // the bound tree (nil = all rows), for combining without reparsing
	root       node        // nil = all rows
	pred       pred
	usesNow    bool
	eventTypes bool // has a signInEventTypes/any(...) term
	// interactive is this filter joined to Graph's interactive-only default (compileRequest),
	// made once: printing the joined tree for its plan key was a list request's cost each time.
	interactive atomic.Pointer[Filter]
}

// String returns the normalized filter text (the plan-cache key).
func (f *Filter) String() string { return f.text }

// Compile parses and binds filter against s. An empty filter matches every row. Errors
// are *Error.
func Compile(s *columnar.Schema, filter string, opts Options) (*Filter, error) {
	if isBlank(filter) {
		return &Filter{schema: s, pred: &pConst{t: triTrue}}, nil
	}
	e, err := syntax.ParseFilter(filter)
	if err != nil {
		return nil, wrapSyntax(err)
	}
	return compileExpr(s, e, opts)
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
			return false
		}
	}
	return true
}

func compileExpr(s *columnar.Schema, e syntax.Expr, opts Options) (*Filter, error) {
	version := opts.Version
	if version == 0 {
		version = columnar.Beta
	}
	b := &binder{s: s, info: infoFor(s), version: version}
	n, err := b.bindBool(e)
	if err != nil {
		return nil, err
	}
	n = fold(n, nowNanos())
	f := &Filter{schema: s, text: syntax.String(e), expr: e, root: n, usesNow: b.usesNow, eventTypes: b.eventTypesAny}
	f.pred = lower(n)
	return f, nil
}

// and returns a filter matching the rows of both (used for the interactive-only default
// and for the paging condition).
func (f *Filter) and(g *Filter) *Filter {
	if f.root == nil {
		return g
	}
	if g.root == nil {
		return f
	}
	n := &logicNode{and: true, l: f.root, r: g.root}
	h := &Filter{schema: f.schema, text: "(" + f.text + ") and (" + g.text + ")", root: n, pred: lower(n),
		usesNow: f.usesNow || g.usesNow, eventTypes: f.eventTypes || g.eventTypes}
	if f.expr != nil && g.expr != nil {
		h.expr = &syntax.BinaryExpr{Op: syntax.OpAnd, Left: f.expr, Right: g.expr}
	}
	return h
}

func nowNanos() int64 { return time.Now().UnixNano() }
