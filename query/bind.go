package query

import (
	"math"
	"regexp"
	rsyntax "regexp/syntax"
	"strings"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// binder resolves an AST against a schema. Names match case-insensitively; lambda
// variables are case-sensitive, as OData says.
type binder struct {
	s       *columnar.Schema
	info    *tableInfo
	version columnar.Version
	vars    []lambdaScope
	usesNow bool
	// eventTypesAny is set when the filter has a lambda over signInEventTypes (Graph then
	// does not restrict the list to interactive sign-ins).
	eventTypesAny bool
}

type lambdaScope struct {
	name     string
	enumColl bool
}

// Limits on matchesPattern: Go's regexp is linear-time, but a huge program still costs
// memory and time per row.
const (
	maxPatternLen  = 1024
	maxPatternInst = 4096
)

func kindType(k columnar.Kind) Type {
	switch k {
	case columnar.KindDict, columnar.KindText:
		return TString
	case columnar.KindGUID:
		return TGUID
	case columnar.KindTime:
		return TTime
	case columnar.KindInt32:
		return TInt
	case columnar.KindFloat64:
		return TFloat
	case columnar.KindBool:
		return TBool
	case columnar.KindJSON, columnar.KindJSONDict:
		return TJSON
	}
	panic("BUG: no query type for kind " + k.String())
}

func (b *binder) bindBool(e syntax.Expr) (node, error) {
	n, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	switch n.typ() {
	case TBool, TNull, TDynamic:
		return n, nil
	}
	return nil, errorf(e.Pos(), "the filter must be a Boolean expression, found %s", describeNode(n))
}

// describeNode names a node for messages: "'status/errorCode' (Int32)" style pieces.
func describeNode(n node) string {
	switch n := n.(type) {
	case *colNode:
		if n.t == TJSON {
			return "'" + n.col.Name + "'"
		}
		return "'" + n.col.Name + "' (" + n.t.String() + ")"
	case *litNode:
		return article(n.v.k.String())
	}
	return article(n.typ().String())
}

func article(s string) string {
	if strings.ContainsRune("AEIOUaeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func (b *binder) bind(e syntax.Expr) (node, error) {
	switch e := e.(type) {
	case *syntax.Literal:
		return b.literal(e)
	case *syntax.Path:
		return b.path(e)
	case *syntax.BinaryExpr:
		return b.binary(e)
	case *syntax.UnaryExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		if e.Op == syntax.OpNot {
			if t := x.typ(); t != TBool && t != TNull && t != TDynamic {
				return nil, errorf(e.At, "'not' needs a Boolean operand, found %s", describeNode(x))
			}
			return &notNode{x: x, at: e.At}, nil
		}
		if t := x.typ(); !isNumeric(t) && t != TNull && t != TDynamic {
			return nil, errorf(e.At, "unary '-' needs a number, found %s", describeNode(x))
		}
		return &negNode{x: x, at: e.At}, nil
	case *syntax.InExpr:
		return b.in(e)
	case *syntax.Lambda:
		return b.lambda(e)
	case *syntax.Call:
		return b.call(e)
	case *syntax.ListExpr:
		return nil, errorf(e.At, "a parenthesised list is only allowed after 'in'")
	case *syntax.ArrayExpr, *syntax.ObjectExpr:
		return nil, errorf(e.Pos(), "JSON array and object literals are only supported after 'in'")
	case *syntax.TypeName:
		return nil, errorf(e.At, "type names are not supported here")
	}
	panic("BUG: unknown syntax node")
}

func (b *binder) literal(l *syntax.Literal) (node, error) {
	v := value{}
	switch l.Kind {
	case syntax.LitNull:
		v.k = TNull
	case syntax.LitBool:
		v = value{k: TBool, b: l.Bool}
	case syntax.LitInt:
		v = value{k: TInt, i: l.Int}
	case syntax.LitDecimal, syntax.LitDouble:
		v = value{k: TFloat, f: l.Float}
	case syntax.LitString:
		v = value{k: TString, s: l.Str}
	case syntax.LitDateTimeOffset, syntax.LitDate:
		if l.Time.Year() < 1678 || l.Time.Year() > 2261 {
			return nil, errorf(l.At, "date %s is outside the supported range (years 1678 to 2261)", l.Raw)
		}
		v = value{k: TTime, i: l.Time.UnixNano()}
		if l.Kind == syntax.LitDate {
			v.k = TDate
		}
	case syntax.LitTimeOfDay:
		v = value{k: TTimeOfDay, i: int64(l.Duration)}
	case syntax.LitDuration:
		v = value{k: TDuration, i: int64(l.Duration)}
	case syntax.LitGUID:
		v = value{k: TGUID, s: columnar.FormatGUID(l.GUID[:])}
	case syntax.LitEnum:
		v = value{k: TString, s: strings.Join(l.EnumMembers, ",")}
	default:
		return nil, errorf(l.At, "%s literals are not supported", l.Kind)
	}
	return &litNode{v: v, at: l.At}, nil
}

func segNames(p *syntax.Path) ([]string, error) {
	names := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		if s.Call {
			return nil, errorf(s.At, "unknown function '%s'", s.Name)
		}
		names[i] = s.Name
	}
	return names, nil
}

func (b *binder) candidates() []string {
	var out []string
	for _, c := range b.s.Columns {
		if b.version == columnar.V1 && c.Version&columnar.V1 == 0 {
			continue
		}
		out = append(out, c.Name)
	}
	return out
}

func (b *binder) path(p *syntax.Path) (node, error) {
	names, err := segNames(p)
	if err != nil {
		return nil, err
	}
	// Lambda variables first, innermost scope wins.
	for i := len(b.vars) - 1; i >= 0; i-- {
		if b.vars[i].name == names[0] {
			return &varNode{name: names[0], path: names[1:], fold: b.vars[i].enumColl && len(names) == 1, at: p.At}, nil
		}
	}
	if strings.HasPrefix(names[0], "$") || strings.HasPrefix(names[0], "@") {
		return nil, errorf(p.At, "'%s' is not supported", names[0])
	}
	full := strings.Join(names, "/")
	if c, ok := b.s.LookupFold(full); ok {
		if err := b.checkVersion(c, p.At); err != nil {
			return nil, err
		}
		return &colNode{col: c, t: kindType(c.Kind), fold: b.info.foldColumn(c), at: p.At}, nil
	}
	// A path into a JSON column: mfaDetail/authMethod.
	for i := len(names) - 1; i >= 1; i-- {
		c, ok := b.s.LookupFold(strings.Join(names[:i], "/"))
		if !ok {
			continue
		}
		if c.Kind != columnar.KindJSON && c.Kind != columnar.KindJSONDict {
			return nil, errorf(p.Segments[i].At, "'%s' has no member '%s'", c.Name, names[i])
		}
		if err := b.checkVersion(c, p.At); err != nil {
			return nil, err
		}
		return &jsonPathNode{col: c, path: names[i:], at: p.At}, nil
	}
	if o, ok := b.s.LookupObject(full); ok {
		return nil, errorf(p.At, "'%s' is a complex property; filter on one of its members, such as '%s'", o.Name, firstMember(o))
	}
	return nil, &Error{Pos: p.At, Msg: "unknown property '" + full + "'", Hint: suggest(full, b.candidates())}
}

func firstMember(o *columnar.Object) string {
	for _, m := range o.Members {
		if m.Column != nil {
			return m.Column.Name
		}
	}
	return o.Name
}

func (b *binder) checkVersion(c *columnar.Column, at syntax.Pos) error {
	if b.version == columnar.V1 && c.Version&columnar.V1 == 0 {
		return errorf(at, "property '%s' is not available in v1.0", c.Name)
	}
	return nil
}

func isBoolish(t Type) bool { return t == TBool || t == TNull || t == TDynamic }

func (b *binder) binary(e *syntax.BinaryExpr) (node, error) {
	l, err := b.bind(e.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(e.Right)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case syntax.OpAnd, syntax.OpOr:
		for _, x := range []node{l, r} {
			if !isBoolish(x.typ()) {
				return nil, errorf(x.pos(), "operands of '%s' must be Boolean, found %s", e.Op, describeNode(x))
			}
		}
		return &logicNode{and: e.Op == syntax.OpAnd, l: l, r: r, at: e.At}, nil
	case syntax.OpEq, syntax.OpNe, syntax.OpGt, syntax.OpGe, syntax.OpLt, syntax.OpLe:
		return b.compare(e.Op, l, r, e.At)
	case syntax.OpAdd, syntax.OpSub, syntax.OpMul, syntax.OpDiv, syntax.OpDivBy, syntax.OpMod:
		if t, ok := temporalArith(e.Op, l.typ(), r.typ()); ok {
			return &arithNode{op: e.Op, l: l, r: r, t: t, at: e.At}, nil
		}
		for _, x := range []node{l, r} {
			if t := x.typ(); !isNumeric(t) && t != TNull && t != TDynamic {
				return nil, errorf(x.pos(), "operator '%s' needs numbers (or a date-time and a duration), found %s", e.Op, describeNode(x))
			}
		}
		t := TFloat
		if lt, rt := l.typ(), r.typ(); (lt == TInt || lt == TNull) && (rt == TInt || rt == TNull) && e.Op != syntax.OpDivBy {
			t = TInt
		} else if lt == TDynamic || rt == TDynamic {
			t = TDynamic
		}
		return &arithNode{op: e.Op, l: l, r: r, t: t, at: e.At}, nil
	case syntax.OpHas:
		return nil, errorf(e.At, "operator 'has' is not supported")
	}
	panic("BUG: unknown binary operator")
}

// temporalArith types date-time and duration arithmetic: time ± duration is a time,
// duration ± duration a duration, time − time a duration.
func temporalArith(op syntax.BinaryOp, l, r Type) (Type, bool) {
	if op != syntax.OpAdd && op != syntax.OpSub {
		return 0, false
	}
	switch {
	case isTimeLike(l) && r == TDuration:
		return TTime, true
	case l == TDuration && r == TDuration:
		return TDuration, true
	case op == syntax.OpAdd && l == TDuration && isTimeLike(r):
		return TTime, true
	case op == syntax.OpSub && isTimeLike(l) && isTimeLike(r):
		return TDuration, true
	}
	return 0, false
}

// comparable reports whether values of static types a and b may be compared with op.
func comparable(op syntax.BinaryOp, a, b Type) bool {
	if a == TNull || b == TNull {
		return op == syntax.OpEq || op == syntax.OpNe || (a != TJSON && b != TJSON)
	}
	if a == TDynamic || b == TDynamic {
		return a != TJSON && b != TJSON
	}
	switch {
	case isNumeric(a) && isNumeric(b), isStringLike(a) && isStringLike(b), isTimeLike(a) && isTimeLike(b):
		return true
	case a == b:
		return a != TJSON
	}
	return false
}

func (b *binder) compare(op syntax.BinaryOp, l, r node, at syntax.Pos) (node, error) {
	lt, rt := l.typ(), r.typ()
	if !comparable(op, lt, rt) {
		if lt == TJSON || rt == TJSON {
			c := l
			if rt == TJSON {
				c = r
			}
			return nil, errorf(c.pos(), "%s is a collection; use any() or all() to filter on its elements", describeNode(c))
		}
		// Name the column when there is one: "'status/errorCode' is Int32 and cannot be
		// compared with a String".
		if c, ok := l.(*colNode); ok {
			return nil, errorf(r.pos(), "'%s' is %s and cannot be compared with %s", c.col.Name, lt, article(rt.String()))
		}
		if c, ok := r.(*colNode); ok {
			return nil, errorf(l.pos(), "'%s' is %s and cannot be compared with %s", c.col.Name, rt, article(lt.String()))
		}
		return nil, errorf(at, "cannot compare %s with %s", article(lt.String()), article(rt.String()))
	}
	l, r = normalizeGUIDLiteral(l, r), normalizeGUIDLiteral(r, l)
	return &cmpNode{op: op, l: l, r: r, fold: foldOf(l) || foldOf(r), at: at}, nil
}

// normalizeGUIDLiteral lower-cases a GUID written as a string and compared with a GUID
// column: Graph quotes GUIDs, and a GUID's text is case-insensitive.
func normalizeGUIDLiteral(lit, other node) node {
	ln, ok := lit.(*litNode)
	if !ok || other.typ() != TGUID || ln.v.k != TString {
		return lit
	}
	if g, ok, _ := columnar.ParseGUID([]byte(ln.v.s)); ok {
		return &litNode{v: value{k: TGUID, s: columnar.FormatGUID(g[:])}, at: ln.at}
	}
	return lit
}

func foldOf(n node) bool {
	switch n := n.(type) {
	case *colNode:
		return n.fold
	case *varNode:
		return n.fold
	}
	return false
}

func (b *binder) in(e *syntax.InExpr) (node, error) {
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	var elems []syntax.Expr
	switch s := e.Set.(type) {
	case *syntax.ListExpr:
		elems = s.Items
	case *syntax.ArrayExpr:
		elems = s.Elems
	default:
		return nil, errorf(e.Set.Pos(), "'in' needs a list of literals such as ('a','b')")
	}
	n := &inNode{x: x, fold: foldOf(x), at: e.At}
	for _, el := range elems {
		l, ok := el.(*syntax.Literal)
		if !ok {
			return nil, errorf(el.Pos(), "'in' lists may hold only literals")
		}
		ln, err := b.literal(l)
		if err != nil {
			return nil, err
		}
		if _, err := b.compare(syntax.OpEq, x, ln, el.Pos()); err != nil {
			return nil, err
		}
		n.items = append(n.items, normalizeGUIDLiteral(ln, x).(*litNode).v)
	}
	return n, nil
}

func (b *binder) lambda(e *syntax.Lambda) (node, error) {
	coll, err := b.path(e.Collection)
	if err != nil {
		return nil, err
	}
	enumColl := false
	switch c := coll.(type) {
	case *colNode:
		if c.t != TJSON {
			return nil, errorf(e.Collection.At, "'%s' is %s, not a collection: any() and all() need a collection", c.col.Name, c.t)
		}
		enumColl = b.info.enumColls[c.col.Name]
		if c.col.Name == "signInEventTypes" {
			b.eventTypesAny = true
		}
	case *varNode, *jsonPathNode:
	default:
		return nil, errorf(e.Collection.At, "any() and all() need a collection")
	}
	n := &lambdaNode{coll: coll, any: e.Any, v: e.Var, at: e.At}
	if e.Body == nil {
		if !e.Any {
			return nil, errorf(e.At, "all() needs a lambda variable and a condition")
		}
		return n, nil
	}
	for _, s := range b.vars {
		if s.name == e.Var {
			return nil, errorf(e.At, "lambda variable '%s' is already in use", e.Var)
		}
	}
	b.vars = append(b.vars, lambdaScope{name: e.Var, enumColl: enumColl})
	body, err := b.bindBool(e.Body)
	b.vars = b.vars[:len(b.vars)-1]
	if err != nil {
		return nil, err
	}
	// The body is evaluated once per distinct collection value, which is what makes
	// lambdas cheap; that needs a body that depends on the element only.
	if cols := columnsOf(body, nil); len(cols) > 0 {
		return nil, errorf(e.Body.Pos(), "a lambda condition may refer only to its variable '%s', not to '%s'", e.Var, cols[0].Name)
	}
	n.body = body
	return n, nil
}

func isStringArg(t Type) bool { return isStringLike(t) || t == TNull || t == TDynamic }
func isNumArg(t Type) bool    { return isNumeric(t) || t == TNull || t == TDynamic }
func isTimeArg(t Type) bool   { return isTimeLike(t) || t == TNull || t == TDynamic }

func (b *binder) call(e *syntax.Call) (node, error) {
	args := make([]node, len(e.Args))
	for i, a := range e.Args {
		if _, ok := a.(*syntax.TypeName); ok {
			return nil, errorf(e.At, "function '%s' is not supported", e.Name)
		}
		n, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = n
	}
	n := &callNode{name: e.Name, args: args, at: e.At}
	want := func(i int, ok func(Type) bool, what string) error {
		if !ok(args[i].typ()) {
			return errorf(args[i].pos(), "argument %d of '%s' must be %s, found %s", i+1, e.Name, what, describeNode(args[i]))
		}
		return nil
	}
	var err error
	check := func(i int, ok func(Type) bool, what string) {
		if err == nil {
			err = want(i, ok, what)
		}
	}
	switch e.Name {
	case "contains", "startswith", "endswith":
		check(0, isStringArg, "a String")
		check(1, isStringArg, "a String")
		n.t = TBool
	case "indexof":
		check(0, isStringArg, "a String")
		check(1, isStringArg, "a String")
		n.t = TInt
	case "length":
		check(0, isStringArg, "a String")
		n.t = TInt
	case "substring":
		check(0, isStringArg, "a String")
		for i := 1; i < len(args); i++ {
			check(i, isNumArg, "an integer")
			if err == nil && args[i].typ() == TFloat {
				err = errorf(args[i].pos(), "argument %d of 'substring' must be an integer", i+1)
			}
		}
		n.t = TString
	case "tolower", "toupper", "trim":
		check(0, isStringArg, "a String")
		n.t = TString
	case "concat":
		check(0, isStringArg, "a String")
		check(1, isStringArg, "a String")
		n.t = TString
	case "matchespattern":
		check(0, isStringArg, "a String")
		if err != nil {
			return nil, err
		}
		lit, ok := args[1].(*litNode)
		if !ok || lit.v.k != TString {
			return nil, errorf(args[1].pos(), "the pattern of 'matchesPattern' must be a string literal")
		}
		re, perr := compilePattern(lit.v.s)
		if perr != "" {
			return nil, errorf(args[1].pos(), "%s", perr)
		}
		n.re, n.t = re, TBool
	case "year", "month", "day":
		check(0, isTimeArg, "a DateTimeOffset or Date")
		n.t = TInt
	case "hour", "minute", "second":
		check(0, func(t Type) bool { return isTimeArg(t) || t == TTimeOfDay }, "a DateTimeOffset or TimeOfDay")
		n.t = TInt
	case "fractionalseconds":
		check(0, func(t Type) bool { return isTimeArg(t) || t == TTimeOfDay }, "a DateTimeOffset or TimeOfDay")
		n.t = TFloat
	case "date":
		check(0, isTimeArg, "a DateTimeOffset")
		n.t = TDate
	case "time":
		check(0, isTimeArg, "a DateTimeOffset")
		n.t = TTimeOfDay
	case "totaloffsetminutes":
		check(0, isTimeArg, "a DateTimeOffset")
		n.t = TInt
	case "now":
		b.usesNow = true
		return &nowNode{at: e.At}, nil
	case "mindatetime":
		return &litNode{v: value{k: TTime, i: math.MinInt64}, at: e.At}, nil
	case "maxdatetime":
		return &litNode{v: value{k: TTime, i: math.MaxInt64}, at: e.At}, nil
	case "round", "floor", "ceiling":
		check(0, isNumArg, "a number")
		n.t = args[0].typ()
		if n.t == TNull {
			n.t = TInt
		}
	default:
		return nil, errorf(e.At, "function '%s' is not supported", e.Name)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

func compilePattern(p string) (*regexp.Regexp, string) {
	if len(p) > maxPatternLen {
		return nil, "the pattern of 'matchesPattern' is longer than 1024 bytes"
	}
	re, err := rsyntax.Parse(p, rsyntax.Perl)
	if err != nil {
		return nil, "bad pattern for 'matchesPattern': " + err.Error()
	}
	prog, err := rsyntax.Compile(re.Simplify())
	if err != nil || len(prog.Inst) > maxPatternInst {
		return nil, "the pattern of 'matchesPattern' is too complex"
	}
	r, err := regexp.Compile(p)
	if err != nil {
		return nil, "bad pattern for 'matchesPattern': " + err.Error()
	}
	return r, ""
}
