package syntax

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Apply is a parsed $apply value: transformations applied left to right.
type Apply struct {
	Steps []Transformation
}

// Transformation is one step of $apply: *FilterStep, *GroupByStep,
// *AggregateStep, *ComputeStep, *OrderByStep, *TopStep or *SkipStep.
type Transformation interface {
	Pos() Pos
	transformation()
}

// FilterStep is filter(Cond).
type FilterStep struct {
	Cond Expr
	At   Pos
}

// GroupByStep is groupby((Paths...)[, Then]). Then is the transformation
// sequence applied to each group (usually one aggregate); it may be empty.
type GroupByStep struct {
	Paths []*Path
	Then  []Transformation
	At    Pos
}

// AggregateStep is aggregate(Items...).
type AggregateStep struct {
	Items []AggregateItem
	At    Pos
}

// AggregateItem is one aggregate expression:
//
//	$count as Alias              Count=true, Expr=nil, Method=""
//	Expr with Method as Alias    Method is lower case for sum, min, max,
//	                             average, countdistinct; custom methods
//	                             (Ns.fn) keep their spelling
//	Expr [as Alias]              custom aggregate (Method="")
type AggregateItem struct {
	Expr   Expr
	Count  bool
	Method string
	Alias  string
	At     Pos
}

// ComputeStep is compute(Expr as Alias, ...).
type ComputeStep struct {
	Items []ComputeItem
	At    Pos
}

// ComputeItem is one `Expr as Alias` of compute.
type ComputeItem struct {
	Expr  Expr
	Alias string
	At    Pos
}

// OrderByStep is orderby(items).
type OrderByStep struct {
	Items []OrderItem
	At    Pos
}

// TopStep is top(N); SkipStep is skip(N).
type TopStep struct {
	N  int64
	At Pos
}

// SkipStep is skip(N).
type SkipStep struct {
	N  int64
	At Pos
}

func (s *FilterStep) Pos() Pos    { return s.At }
func (s *GroupByStep) Pos() Pos   { return s.At }
func (s *AggregateStep) Pos() Pos { return s.At }
func (s *ComputeStep) Pos() Pos   { return s.At }
func (s *OrderByStep) Pos() Pos   { return s.At }
func (s *TopStep) Pos() Pos       { return s.At }
func (s *SkipStep) Pos() Pos      { return s.At }

func (*FilterStep) transformation()    {}
func (*GroupByStep) transformation()   {}
func (*AggregateStep) transformation() {}
func (*ComputeStep) transformation()   {}
func (*OrderByStep) transformation()   {}
func (*TopStep) transformation()       {}
func (*SkipStep) transformation()      {}

var aggregateMethods = map[string]bool{"sum": true, "min": true, "max": true, "average": true, "countdistinct": true}

// ParseApply parses the OData Data Aggregation subset of $apply listed in
// the package documentation. Other transformations (concat, nest, join,
// rollup, hierarchy functions, search, from) are rejected by name.
func ParseApply(s string) (Apply, error) {
	var a Apply
	err := run(s, func(p *parser) {
		a.Steps = p.transformations()
		p.expectEOF()
	})
	if err != nil {
		return Apply{}, err
	}
	return a, nil
}

func (p *parser) transformations() []Transformation {
	var steps []Transformation
	for {
		steps = append(steps, p.transformation())
		if !isPunct(p.peek(), "/") {
			return steps
		}
		p.next()
	}
}

func (p *parser) ident(what string) *lexer.Token {
	t := p.next()
	if t.Type != tokIdent || isReserved(t) {
		p.fail(posOf(t), "expected %s, found %s", what, describe(t))
	}
	return t
}

func (p *parser) alias() string {
	if t := p.peek(); !isWord(t, "as") {
		p.fail(posOf(t), "expected 'as' and an alias, found %s", describe(t))
	}
	p.next()
	a := p.ident("an alias")
	if strings.ContainsAny(a.Value, ".$@#") {
		p.fail(posOf(a), "alias must be a simple identifier, found %s", describe(a))
	}
	return a.Value
}

func (p *parser) transformation() Transformation {
	t := p.ident("a transformation")
	at := posOf(t)
	name := strings.ToLower(t.Value)
	p.expectPunct("(", "after '"+name+"'")
	p.enter(at)
	defer p.leave()
	var step Transformation
	switch name {
	case "filter":
		p.operandAfter(t)
		step = &FilterStep{Cond: p.expr(PrecOr), At: at}
	case "groupby":
		g := &GroupByStep{At: at}
		open := p.expectPunct("(", "to open the grouping properties")
		for {
			e := p.expr(PrecOr)
			path, ok := e.(*Path)
			if !ok {
				p.fail(e.Pos(), "groupby accepts only property paths")
			}
			g.Paths = append(g.Paths, path)
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
		p.expectPunct(")", "to close the grouping properties opened at "+strconv.Itoa(posOf(open).Column))
		if isPunct(p.peek(), ",") {
			p.next()
			g.Then = p.transformations()
		}
		step = g
	case "aggregate":
		a := &AggregateStep{At: at}
		for {
			a.Items = append(a.Items, p.aggregateItem())
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
		step = a
	case "compute":
		c := &ComputeStep{At: at}
		for {
			e := p.expr(PrecOr)
			c.Items = append(c.Items, ComputeItem{Expr: e, Alias: p.alias(), At: e.Pos()})
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
		step = c
	case "orderby":
		step = &OrderByStep{Items: p.orderItems(), At: at}
	case "top", "skip":
		n := p.next()
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Type != tokNumber || err != nil || v < 0 {
			p.fail(posOf(n), "expected a non-negative integer in %s, found %s", name, describe(n))
		}
		if name == "top" {
			step = &TopStep{N: v, At: at}
		} else {
			step = &SkipStep{N: v, At: at}
		}
	default:
		p.fail(at, "unsupported transformation '%s' (supported: filter, groupby, aggregate, compute, orderby, top, skip)", t.Value)
	}
	p.expectPunct(")", "to close '"+name+"'")
	return step
}

func (p *parser) aggregateItem() AggregateItem {
	t := p.peek()
	it := AggregateItem{At: posOf(t)}
	if t.Type == tokIdent && strings.EqualFold(t.Value, "$count") && !isPunct2(p.peek2(), "/") {
		p.next()
		it.Count = true
		it.Alias = p.alias()
		return it
	}
	it.Expr = p.expr(PrecOr)
	if w := p.peek(); isWord(w, "with") {
		p.next()
		m := p.ident("an aggregation method")
		it.Method = m.Value
		if lower := strings.ToLower(m.Value); aggregateMethods[lower] {
			it.Method = lower
		} else if !strings.Contains(m.Value, ".") {
			p.fail(posOf(m), "unknown aggregation method '%s' (expected sum, min, max, average, countdistinct or a qualified custom method)", m.Value)
		}
		if f := p.peek(); isWord(f, "from") {
			p.fail(posOf(f), "'from' in aggregate is not supported")
		}
		it.Alias = p.alias()
		return it
	}
	if f := p.peek(); isWord(f, "from") {
		p.fail(posOf(f), "'from' in aggregate is not supported")
	}
	if isWord(p.peek(), "as") {
		it.Alias = p.alias()
	}
	return it
}

// String prints the normalized form of the $apply value.
func (a Apply) String() string {
	var b strings.Builder
	printSteps(&b, a.Steps)
	return b.String()
}

func printSteps(b *strings.Builder, steps []Transformation) {
	for i, s := range steps {
		if i > 0 {
			b.WriteByte('/')
		}
		switch s := s.(type) {
		case *FilterStep:
			b.WriteString("filter(")
			printExpr(b, s.Cond)
		case *GroupByStep:
			b.WriteString("groupby((")
			for j, p := range s.Paths {
				if j > 0 {
					b.WriteByte(',')
				}
				printPath(b, p)
			}
			b.WriteByte(')')
			if len(s.Then) > 0 {
				b.WriteByte(',')
				printSteps(b, s.Then)
			}
		case *AggregateStep:
			b.WriteString("aggregate(")
			for j, it := range s.Items {
				if j > 0 {
					b.WriteByte(',')
				}
				if it.Count {
					b.WriteString("$count")
				} else {
					printExpr(b, it.Expr)
				}
				if it.Method != "" {
					b.WriteString(" with " + it.Method)
				}
				if it.Alias != "" {
					b.WriteString(" as " + it.Alias)
				}
			}
		case *ComputeStep:
			b.WriteString("compute(")
			for j, it := range s.Items {
				if j > 0 {
					b.WriteByte(',')
				}
				printExpr(b, it.Expr)
				b.WriteString(" as " + it.Alias)
			}
		case *OrderByStep:
			b.WriteString("orderby(" + OrderByString(s.Items))
		case *TopStep:
			b.WriteString("top(" + strconv.FormatInt(s.N, 10))
		case *SkipStep:
			b.WriteString("skip(" + strconv.FormatInt(s.N, 10))
		default:
			panic("BUG: unknown transformation")
		}
		b.WriteByte(')')
	}
}
