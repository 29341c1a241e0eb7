package query

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// Pred is a typed filter predicate for Request.Where, built by the constructors below.
// Internal callers (diagnosis, jobs, console) used to build $filter text by concatenating
// and quoting, which the query layer then parsed again: a user principal name holding a
// quote or "' or 1 eq 1" was one forgotten quote() away from changing the query. A Pred is
// the syntax tree the parser would have produced for the equivalent text, built from Go
// values directly: there is no text to inject into, and binding, index probes, zone maps and
// explain treat it exactly as a parsed $filter.
//
// The zero Pred matches every row (And and Or skip it), so optional terms need no special
// case. A Pred is immutable and may be shared between goroutines and queries. A
// constructor given a bad path or an unsupported value type does not panic: the error is
// carried and returned by the query that uses the Pred, as an *Error.
type Pred struct {
	e   syntax.Expr // nil: every row
	err error
}

// IsZero reports whether p is the empty predicate (every row).
func (p Pred) IsZero() bool { return p.e == nil && p.err == nil }

// String prints p as normalized $filter text (for people: reports, explain, logs). Where
// takes part in the plan-cache key and the skip token's query hash through this text, so a
// skip token from one predicate is refused by another.
func (p Pred) String() string {
	if p.err != nil {
		return "<invalid predicate: " + p.err.Error() + ">"
	}
	if p.e == nil {
		return ""
	}
	return syntax.String(p.e)
}

// Expr returns p's syntax tree (nil for the zero Pred or an invalid one). Callers must not
// modify it.
func (p Pred) Expr() syntax.Expr {
	if p.err != nil {
		return nil
	}
	return p.e
}

// Err returns the construction error carried by p, if any.
func (p Pred) Err() error { return p.err }

// Term is an operand of the string functions: a property path, possibly lower-cased.
type Term struct {
	e   syntax.Expr
	err error
}

// Prop is the property at path ("userPrincipalName", "status/errorCode"). Segments are
// separated by '/' and must be plain identifiers.
func Prop(path string) Term {
	p, err := pathOf(path)
	if err != nil {
		return Term{err: err}
	}
	return Term{e: p}
}

// ToLower is tolower(t).
func ToLower(t Term) Term {
	if t.err != nil {
		return t
	}
	return Term{e: &syntax.Call{Name: "tolower", Args: []syntax.Expr{t.e}}}
}

// Eq is `path eq v`. v is a Go value: string, bool, any integer or float type (or a type
// defined on one), time.Time (a DateTimeOffset), [16]byte (a GUID) or nil (null).
func Eq(path string, v any) Pred { return compare(syntax.OpEq, path, v) }

// Ne is `path ne v` (see Eq for the value types).
func Ne(path string, v any) Pred { return compare(syntax.OpNe, path, v) }

// Gt is `path gt v` (see Eq for the value types).
func Gt(path string, v any) Pred { return compare(syntax.OpGt, path, v) }

// Ge is `path ge v` (see Eq for the value types).
func Ge(path string, v any) Pred { return compare(syntax.OpGe, path, v) }

// Lt is `path lt v` (see Eq for the value types).
func Lt(path string, v any) Pred { return compare(syntax.OpLt, path, v) }

// Le is `path le v` (see Eq for the value types).
func Le(path string, v any) Pred { return compare(syntax.OpLe, path, v) }

func compare(op syntax.BinaryOp, path string, v any) Pred {
	p, err := pathOf(path)
	if err != nil {
		return Pred{err: err}
	}
	l, err := literalOf(v)
	if err != nil {
		return Pred{err: fmt.Errorf("%s %s: %w", path, op, err)}
	}
	return Pred{e: &syntax.BinaryExpr{Op: op, Left: p, Right: l}}
}

// In is `path in (v1,v2,...)`; values as for Eq. A slice is not a value (it is refused):
// spread a []string or []int with Strings(xs...)... or Ints(xs...)....
func In(path string, values ...any) Pred {
	p, err := pathOf(path)
	if err != nil {
		return Pred{err: err}
	}
	list := &syntax.ListExpr{Items: make([]syntax.Expr, 0, len(values))}
	for _, v := range values {
		l, err := literalOf(v)
		if err != nil {
			return Pred{err: fmt.Errorf("%s in: %w", path, err)}
		}
		list.Items = append(list.Items, l)
	}
	return Pred{e: &syntax.InExpr{X: p, Set: list}}
}

// Strings converts xs for In.
func Strings(xs ...string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Ints converts xs for In.
func Ints(xs ...int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// StartsWith is startswith(t, prefix).
func StartsWith(t Term, prefix string) Pred { return stringCall("startswith", t, prefix) }

// EndsWith is endswith(t, suffix).
func EndsWith(t Term, suffix string) Pred { return stringCall("endswith", t, suffix) }

// Contains is contains(t, sub).
func Contains(t Term, sub string) Pred { return stringCall("contains", t, sub) }

func stringCall(name string, t Term, s string) Pred {
	if t.err != nil {
		return Pred{err: t.err}
	}
	l, err := literalOf(s)
	if err != nil {
		return Pred{err: fmt.Errorf("%s: %w", name, err)}
	}
	return Pred{e: &syntax.Call{Name: name, Args: []syntax.Expr{t.e, l}}}
}

// And is the conjunction of ps; zero Preds (every row) are left out, and And() is the
// zero Pred.
// Nested conjunctions are flattened into one left-associated chain, the tree the parser
// builds for `a and b and c`: And(a, And(b, c)) prints without parentheses, as the text
// filters it replaces did.
func And(ps ...Pred) Pred { return junction(syntax.OpAnd, ps) }

// Or is the disjunction of ps. A zero Pred among them matches every row, and so does the
// result. Or() of nothing would match no row, which no Pred spells: it is an error, as is
// Not of the zero Pred, rather than a silent "every row".
func Or(ps ...Pred) Pred {
	if len(ps) == 0 {
		return Pred{err: fmt.Errorf("Or of no predicates")}
	}
	for _, p := range ps {
		if p.err != nil {
			return p
		}
	}
	for _, p := range ps {
		if p.e == nil {
			return Pred{}
		}
	}
	return junction(syntax.OpOr, ps)
}

func junction(op syntax.BinaryOp, ps []Pred) Pred {
	var terms []syntax.Expr
	var flatten func(e syntax.Expr)
	flatten = func(e syntax.Expr) {
		if b, ok := e.(*syntax.BinaryExpr); ok && b.Op == op {
			flatten(b.Left)
			flatten(b.Right)
			return
		}
		terms = append(terms, e)
	}
	for _, p := range ps {
		if p.err != nil {
			return p
		}
		if p.e != nil {
			flatten(p.e)
		}
	}
	if len(terms) == 0 {
		return Pred{}
	}
	e := terms[0]
	for _, t := range terms[1:] {
		e = &syntax.BinaryExpr{Op: op, Left: e, Right: t}
	}
	return Pred{e: e}
}

// Not is `not p`. Not of the zero Pred (no row) is an error, see Or.
func Not(p Pred) Pred {
	if p.err != nil {
		return p
	}
	if p.e == nil {
		return Pred{err: fmt.Errorf("Not of the empty predicate")}
	}
	return Pred{e: &syntax.UnaryExpr{Op: syntax.OpNot, X: p.e}}
}

// Any is `path/any(v: body)`; body refers to the element as the path v, as in
// Any("signInEventTypes", "t", Eq("t", "interactiveUser")).
func Any(path, v string, body Pred) Pred {
	p, err := pathOf(path)
	if err != nil {
		return Pred{err: err}
	}
	if !identRE.MatchString(v) {
		return Pred{err: fmt.Errorf("invalid lambda variable %q", v)}
	}
	if body.err != nil {
		return body
	}
	if body.e == nil {
		return Pred{err: fmt.Errorf("%s/any: empty body", path)}
	}
	return Pred{e: &syntax.Lambda{Collection: p, Any: true, Var: v, Body: body.e}}
}

// identRE is the parser's odataIdentifier. Path segments are checked against it so that a
// Pred always prints as text that parses back to the same tree: the plan cache and the
// skip token are keyed by that text.
var identRE = regexp.MustCompile(`^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]*$`)

func pathOf(path string) (*syntax.Path, error) {
	if path == "" {
		return nil, fmt.Errorf("empty property path")
	}
	names := strings.Split(path, "/")
	p := &syntax.Path{Segments: make([]syntax.Segment, len(names))}
	for i, n := range names {
		// Words the parser reads as operators or literals would not print back as a path.
		if !identRE.MatchString(n) || isKeyword(n) {
			return nil, fmt.Errorf("invalid property path %q", path)
		}
		p.Segments[i].Name = n
	}
	return p, nil
}

func isKeyword(n string) bool {
	switch strings.ToLower(n) {
	case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div", "divby", "mod", "has", "in",
		"true", "false", "null", "inf", "nan", "any", "all":
		return true
	}
	return false
}

// literalOf makes the literal the parser would make for v's canonical spelling (Raw
// included, so that messages quoting it read the same).
func literalOf(v any) (*syntax.Literal, error) {
	l := &syntax.Literal{}
	switch x := v.(type) {
	case nil:
		l.Kind = syntax.LitNull
	case time.Time:
		t := x.Round(0).UTC()
		// The parser's range: a year outside 0000..9999 has no DateTimeOffset spelling.
		if y := t.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("time %s outside the supported range 0000..9999", x)
		}
		l.Kind, l.Time = syntax.LitDateTimeOffset, t
	case time.Duration:
		// No column holds a duration, and the parser reads duration text through a float
		// (nanoseconds of long durations do not survive): refused rather than printed as
		// text that means another value, or silently taken as an integer below.
		return nil, fmt.Errorf("unsupported value type time.Duration")
	case [16]byte:
		l.Kind, l.GUID = syntax.LitGUID, x
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.String:
			// As in a $filter: text that is not UTF-8 has no literal spelling.
			if !utf8.ValidString(rv.String()) {
				return nil, fmt.Errorf("string %q is not valid UTF-8", rv.String())
			}
			l.Kind, l.Str = syntax.LitString, rv.String()
		case reflect.Bool:
			l.Kind, l.Bool = syntax.LitBool, rv.Bool()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			l.Kind, l.Int, l.Float = syntax.LitInt, rv.Int(), float64(rv.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			u := rv.Uint()
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("integer %d does not fit Int64", u)
			}
			l.Kind, l.Int, l.Float = syntax.LitInt, int64(u), float64(u)
		case reflect.Float32, reflect.Float64:
			l.Kind, l.Float = syntax.LitDouble, rv.Float()
		default:
			return nil, fmt.Errorf("unsupported value type %T", v)
		}
	}
	l.Raw = syntax.String(l)
	return l, nil
}

// whereExpr is the tree of `(filter) and where` (nil: every row). The filter's nodes keep
// their positions in its text; the predicate's have none (Error says so).
func whereExpr(filter string, where Pred) (syntax.Expr, error) {
	if where.err != nil {
		return nil, &Error{Msg: where.err.Error()}
	}
	var fe syntax.Expr
	if !isBlank(filter) {
		var err error
		if fe, err = syntax.ParseFilter(filter); err != nil {
			return nil, wrapSyntax(err)
		}
	}
	switch {
	case fe == nil:
		return where.e, nil
	case where.e == nil:
		return fe, nil
	}
	// The predicate's conjuncts continue the filter's chain: `a` with And(b, c) is the tree
	// of `a and b and c`, as if the terms had been appended to the text.
	// The filter's own tree is kept as parsed.
	var conj []syntax.Expr
	var flatten func(e syntax.Expr)
	flatten = func(e syntax.Expr) {
		if b, ok := e.(*syntax.BinaryExpr); ok && b.Op == syntax.OpAnd {
			flatten(b.Left)
			flatten(b.Right)
			return
		}
		conj = append(conj, e)
	}
	flatten(where.e)
	e := fe
	for _, c := range conj {
		e = &syntax.BinaryExpr{Op: syntax.OpAnd, Left: e, Right: c}
	}
	return e, nil
}

// CompileWhere is Compile of filter and where together (ANDed).
func CompileWhere(s *columnar.Schema, filter string, where Pred, opts Options) (*Filter, error) {
	e, err := whereExpr(filter, where)
	if err != nil || e == nil {
		if err == nil {
			return Compile(s, "", opts)
		}
		return nil, err
	}
	return compileExpr(s, e, opts)
}

// compileWhere is CompileWhere through the plan cache.
func compileWhere(s *columnar.Schema, filter string, where Pred, opts Options) (*Filter, error) {
	if where.IsZero() {
		return compileCached(s, filter, opts)
	}
	e, err := whereExpr(filter, where)
	if err != nil {
		return nil, err
	}
	return compileCachedExpr(s, e, opts)
}

// interactiveExpr is Graph's default list condition, parsed once.
var interactiveExpr = func() syntax.Expr {
	e, err := syntax.ParseFilter(interactiveFilter)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return e
}()

// compileRequest compiles req's Filter and Where with Graph's interactive-only default. The
// default term is joined to the tree, not to the text, so that a Where predicate is never
// printed and parsed again; the printed result is the text the default used to be joined
// to, so plans and skip tokens are unchanged.
func compileRequest(s *columnar.Schema, req Request) (*Filter, error) {
	f, err := compileWhere(s, req.Filter, req.Where, Options{Version: req.Version})
	if err != nil {
		return nil, err
	}
	if !req.DefaultInteractiveOnly || f.eventTypes {
		return f, nil
	}
	if _, ok := s.Lookup("signInEventTypes"); !ok {
		return f, nil
	}
	if j := f.interactive.Load(); j != nil {
		return j, nil
	}
	e := interactiveExpr
	if f.expr != nil {
		e = &syntax.BinaryExpr{Op: syntax.OpAnd, Left: f.expr, Right: interactiveExpr}
	}
	// The user filter was checked against req.Version above; the default term itself is
	// beta-only (signInEventTypes) but applies to v1.0 lists too.
	j, err := compileCachedExpr(s, e, Options{})
	if err == nil && !j.usesNow {
		f.interactive.Store(j)
	}
	return j, err
}
