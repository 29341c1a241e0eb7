package query

import (
	"container/list"
	"sync"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// Compiled filters are cached by schema, version and normalized text, in a bounded
// LRU: dashboards and paging clients repeat the same few filters. Filters using now()
// are not cached (the plan itself does not depend on the clock, but keeping them out
// keeps the cache honest should that change).

// planCacheSize bounds the entries; a filter written otherwise than it prints takes two (its
// text's and its printed form's).
const planCacheSize = 1024

type planKey struct {
	s       *columnar.Schema
	version columnar.Version
	text    string
}

type planCache struct {
	mu  sync.Mutex
	ll  *list.List
	idx map[planKey]*list.Element
}

type planEntry struct {
	key planKey
	f   *Filter
}

var plans = &planCache{ll: list.New(), idx: map[planKey]*list.Element{}}

func (c *planCache) get(k planKey) (*Filter, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.idx[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*planEntry).f, true
	}
	return nil, false
}

func (c *planCache) put(k planKey, f *Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.idx[k]; ok {
		return
	}
	c.idx[k] = c.ll.PushFront(&planEntry{key: k, f: f})
	for c.ll.Len() > planCacheSize {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.idx, old.Value.(*planEntry).key)
	}
}

func (c *planCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// compileCached is Compile through the plan cache. The text is looked up as it stands before
// it is parsed: lexing and parsing were a tenth of a warm correlation-id lookup (0.33 ms) that
// the same client repeats. Both kinds of key share one space, which is sound because a printed
// tree parses back to that tree: a text equal to some tree's printed form names that tree's plan.
func compileCached(s *columnar.Schema, filter string, opts Options) (*Filter, error) {
	if isBlank(filter) {
		filter = "" // every row: one plan, whose joined default (compileRequest) is kept with it
	}
	raw := planKey{s: s, version: opts.Version, text: filter}
	if f, ok := plans.get(raw); ok {
		return f, nil
	}
	if filter == "" {
		f, _ := Compile(s, "", opts)
		plans.put(raw, f)
		return f, nil
	}
	e, err := syntax.ParseFilter(filter)
	if err != nil {
		return nil, wrapSyntax(err)
	}
	f, err := compileCachedExpr(s, e, opts)
	if err == nil && !f.usesNow {
		plans.put(raw, f)
	}
	return f, err
}

// compileCachedExpr is compileExpr through the plan cache. The key is the printed tree,
// which parses back to the same tree (the parser's fuzz target and the Pred round-trip
// test check this), so parsed and constructed filters share plans.
func compileCachedExpr(s *columnar.Schema, e syntax.Expr, opts Options) (*Filter, error) {
	k := planKey{s: s, version: opts.Version, text: syntax.String(e)}
	if f, ok := plans.get(k); ok {
		return f, nil
	}
	f, err := compileExpr(s, e, opts)
	if err != nil {
		return nil, err
	}
	if !f.usesNow {
		plans.put(k, f)
	}
	return f, nil
}

var posOne = syntax.Pos{Line: 1, Column: 1}
