package syntax

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The parser is hand-written precedence climbing over participle's
// PeekingLexer (the _examples/precedenceclimbing approach taken one step
// further: primaries are hand-written too). Reasons: OData's primaries are
// context-sensitive (JSON strings only inside arrays, literal-only lists only
// after `in`, type names only inside cast/isof), the error messages must name
// what was expected, and the reflective participle parser costs thousands of
// allocations per parse (participle issue #103).

// parser holds the state of one parse. Errors are raised with fail (a panic
// carrying *Error) and recovered at the entry point; this keeps the grammar
// functions free of error plumbing. Any other panic is a bug and propagates.
type parser struct {
	lx    *lexer.PeekingLexer
	depth int
}

type bailout struct{ err *Error }

func posOf(t *lexer.Token) Pos {
	return Pos{Offset: t.Pos.Offset, Line: t.Pos.Line, Column: t.Pos.Column}
}

func (p *parser) fail(at Pos, format string, args ...any) {
	panic(bailout{&Error{Pos: at, Msg: fmt.Sprintf(format, args...)}})
}

// run lexes s and calls body, converting a bailout into a returned error.
func run(s string, body func(p *parser)) (err error) {
	if len(s) > MaxInputLen {
		return &Error{Pos: Pos{Line: 1, Column: 1}, Msg: fmt.Sprintf("input is %d bytes, longer than the limit of %d", len(s), MaxInputLen)}
	}
	if !utf8.ValidString(s) {
		return &Error{Pos: Pos{Line: 1, Column: 1}, Msg: "input is not valid UTF-8"}
	}
	lx, lerr := lex(s)
	if lerr != nil {
		// The catch-all Bad rule means the lexer cannot fail.
		panic("BUG: lexer failed: " + lerr.Error())
	}
	p := &parser{lx: lx}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	body(p)
	return nil
}

func (p *parser) peek() *lexer.Token { return p.lx.Peek() }
func (p *parser) next() *lexer.Token { return p.lx.Next() }

// peek2 returns the token after the next one.
func (p *parser) peek2() lexer.Token {
	cp := p.lx.MakeCheckpoint()
	p.lx.Next()
	t := *p.lx.Peek()
	p.lx.LoadCheckpoint(cp)
	return t
}

func describe(t *lexer.Token) string {
	if t.EOF() {
		return "end of input"
	}
	v := t.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return "'" + v + "'"
}

func (p *parser) expectPunct(s, context string) *lexer.Token {
	t := p.peek()
	if !isPunct(t, s) {
		p.fail(posOf(t), "expected '%s' %s, found %s", s, context, describe(t))
	}
	return p.next()
}

func (p *parser) expectEOF() {
	if t := p.peek(); !t.EOF() {
		if isPunct(t, ")") {
			p.fail(posOf(t), "unbalanced parenthesis: ')' without matching '('")
		}
		if t.Type == tokPrefixedString {
			prefix := t.Value[:strings.IndexByte(t.Value, '\'')]
			if pt := (lexer.Token{Type: tokIdent, Value: prefix}); isReserved(&pt) {
				p.fail(posOf(t), "missing space between '%s' and the string literal", prefix)
			}
		}
		p.fail(posOf(t), "unexpected %s after complete expression", describe(t))
	}
}

func (p *parser) enter(at Pos) {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(at, "expression nested too deeply (limit %d)", MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// binaryOpOf recognises a binary operator keyword (case-insensitive).
func binaryOpOf(t *lexer.Token) (BinaryOp, bool) {
	if t.Type != tokIdent || len(t.Value) > 5 {
		return 0, false
	}
	for op := OpOr; op <= OpHas; op++ {
		if strings.EqualFold(t.Value, binaryOpNames[op]) {
			return op, true
		}
	}
	return 0, false
}

// isReserved reports words that can never start an operand.
func isReserved(t *lexer.Token) bool {
	_, ok := binaryOpOf(t)
	return ok || isWord(t, "in")
}

// expr parses operators of precedence >= minPrec (precedence climbing; all
// binary operators are left-associative).
func (p *parser) expr(minPrec int) Expr {
	left := p.unary()
	for {
		t := p.peek()
		op, ok := binaryOpOf(t)
		if !ok || op == OpHas {
			return left
		}
		prec := op.Precedence()
		if prec < minPrec {
			return left
		}
		p.next()
		p.operandAfter(t)
		right := p.expr(prec + 1)
		left = &BinaryExpr{Op: op, Left: left, Right: right, At: posOf(t)}
	}
}

// operandAfter fails with a helpful message if the next token cannot start
// an operand of the operator token op.
func (p *parser) operandAfter(op *lexer.Token) {
	t := p.peek()
	if t.EOF() || isReserved(t) || (t.Type == tokPunct && t.Value != "(" && t.Value != "-" && t.Value != "[" && t.Value != "{") {
		p.fail(posOf(t), "expected expression after '%s', found %s", strings.ToLower(op.Value), describe(t))
	}
}

// foldNegNumber consumes `-` Number (not NaN) as one negative literal, so
// that -9223372036854775808 is an int64 and `-5` prints and re-parses alike.
func (p *parser) foldNegNumber() (Expr, bool) {
	t := p.peek()
	if !isPunct(t, "-") {
		return nil, false
	}
	n := p.peek2()
	if n.Type != tokNumber || n.Value == "NaN" {
		return nil, false
	}
	p.next()
	p.next()
	lit, msg := numberLiteral("-"+strings.TrimPrefix(n.Value, "+"), posOf(t))
	if msg != "" {
		p.fail(posOf(&n), "%s", msg)
	}
	return lit, true
}

// primaryOrNegNumber is the operand of has and in: a primary or a negative
// number literal.
func (p *parser) primaryOrNegNumber() Expr {
	if lit, ok := p.foldNegNumber(); ok {
		return lit
	}
	return p.primary()
}

// unary parses `not x`, `-x` and primaries with their postfix has/in chains.
func (p *parser) unary() Expr {
	t := p.peek()
	switch {
	case isWord(t, "not"):
		p.next()
		p.operandAfter(t)
		p.enter(posOf(t))
		x := p.unary()
		p.leave()
		return &UnaryExpr{Op: OpNot, X: x, At: posOf(t)}
	case isPunct(t, "-"):
		if lit, ok := p.foldNegNumber(); ok {
			return p.postfix(lit)
		}
		p.next()
		p.operandAfter(t)
		p.enter(posOf(t))
		x := p.unary()
		p.leave()
		return &UnaryExpr{Op: OpNeg, X: x, At: posOf(t)}
	}
	return p.postfix(p.primary())
}

// postfix applies the primary-level operators has and in.
func (p *parser) postfix(x Expr) Expr {
	for {
		t := p.peek()
		switch {
		case isWord(t, "has"):
			p.next()
			p.operandAfter(t)
			x = &BinaryExpr{Op: OpHas, Left: x, Right: p.primaryOrNegNumber(), At: posOf(t)}
		case isWord(t, "in"):
			p.next()
			p.operandAfter(t)
			x = &InExpr{X: x, Set: p.inSet(), At: posOf(t)}
		default:
			return x
		}
	}
}

// inSet parses the right operand of in: a literal list, a JSON array, a
// parenthesised expression or a primary.
func (p *parser) inSet() Expr {
	t := p.peek()
	if !isPunct(t, "(") {
		return p.primaryOrNegNumber()
	}
	p.next()
	at := posOf(t)
	if isPunct(p.peek(), ")") {
		p.next()
		return &ListExpr{At: at}
	}
	p.enter(at)
	defer p.leave()
	first := p.expr(PrecOr)
	if _, isLit := first.(*Literal); !isLit {
		if c := p.peek(); isPunct(c, ",") {
			p.fail(posOf(c), "a list after 'in' may contain only literals")
		}
		p.expectPunct(")", "to close '('")
		return first
	}
	list := &ListExpr{Items: []Expr{first}, At: at}
	for isPunct(p.peek(), ",") {
		p.next()
		item := p.expr(PrecOr)
		if _, isLit := item.(*Literal); !isLit {
			p.fail(item.Pos(), "a list after 'in' may contain only literals")
		}
		list.Items = append(list.Items, item)
	}
	p.expectPunct(")", "to close the list after 'in'")
	return list
}

// primary parses literals, paths, lambdas, calls, parenthesised expressions
// and JSON arrays and objects.
func (p *parser) primary() Expr {
	t := p.next()
	at := posOf(t)
	switch t.Type {
	case tokNumber:
		lit, msg := numberLiteral(t.Value, at)
		if msg != "" {
			p.fail(at, "%s", msg)
		}
		return lit
	case tokString:
		return &Literal{Kind: LitString, Raw: t.Value, Str: unquote(t.Value), At: at}
	case tokPrefixedString:
		return p.prefixedLiteral(t)
	case tokUnterminatedString:
		p.fail(at, "unterminated string literal (a quote inside a string is written '')")
	case tokJSONString, tokUnterminatedJSONString:
		p.fail(at, "double-quoted strings are only allowed inside JSON arrays and objects; OData strings use single quotes")
	case tokDateTimeOffset:
		tm, off, msg := parseDateTimeOffset(t.Value)
		if msg != "" {
			p.fail(at, "%s", msg)
		}
		return &Literal{Kind: LitDateTimeOffset, Raw: t.Value, Time: tm, OffsetMinutes: off, At: at}
	case tokDate:
		tm, msg := parseDate(t.Value)
		if msg != "" {
			p.fail(at, "%s", msg)
		}
		return &Literal{Kind: LitDate, Raw: t.Value, Time: tm, At: at}
	case tokTimeOfDay:
		d, msg := parseTimeOfDay(t.Value)
		if msg != "" {
			p.fail(at, "%s", msg)
		}
		return &Literal{Kind: LitTimeOfDay, Raw: t.Value, Duration: d, At: at}
	case tokGUID:
		return &Literal{Kind: LitGUID, Raw: t.Value, GUID: parseGUID(t.Value), At: at}
	case tokIdent:
		switch {
		case strings.EqualFold(t.Value, "true"), strings.EqualFold(t.Value, "false"):
			return &Literal{Kind: LitBool, Raw: t.Value, Bool: len(t.Value) == 4, At: at}
		case t.Value == "null":
			return &Literal{Kind: LitNull, Raw: t.Value, At: at}
		case isReserved(t):
			p.fail(at, "expected expression, found operator '%s'", strings.ToLower(t.Value))
		}
		return p.pathOrCall(t)
	case tokPunct:
		switch t.Value {
		case "(":
			p.enter(at)
			e := p.expr(PrecOr)
			if c := p.peek(); isPunct(c, ",") {
				p.fail(posOf(c), "unexpected ',' in parenthesised expression (lists are only allowed after 'in')")
			}
			p.expectPunct(")", fmt.Sprintf("to close '(' at %d:%d", at.Line, at.Column))
			p.leave()
			return e
		case "[":
			return p.array(at)
		case "{":
			return p.object(at)
		}
	case tokBad:
		p.fail(at, "unexpected character %s", describe(t))
	}
	p.fail(at, "expected expression, found %s", describe(t))
	panic("unreachable")
}

var enumMemberRE = regexp.MustCompile(`^(?:` + identPart + `|[+-]?\d{1,19})$`)

// prefixedLiteral handles prefix'...' tokens: duration, binary, geography,
// geometry and qualified enum literals.
func (p *parser) prefixedLiteral(t *lexer.Token) Expr {
	at := posOf(t)
	q := strings.IndexByte(t.Value, '\'')
	prefix, body := t.Value[:q], unquote(t.Value[q:])
	lit := &Literal{Raw: t.Value, At: at}
	switch lower := strings.ToLower(prefix); {
	case lower == "duration":
		d, msg := parseDuration(body)
		if msg != "" {
			p.fail(at, "%s", msg)
		}
		lit.Kind, lit.Duration = LitDuration, d
	case lower == "binary":
		b, ok := decodeBinary(body)
		if !ok {
			p.fail(at, "invalid base64url in binary literal")
		}
		lit.Kind, lit.Bytes = LitBinary, b
	case lower == "geography", lower == "geometry":
		lit.Kind, lit.Str = LitGeography, body
		if lower == "geometry" {
			lit.Kind = LitGeometry
		}
	case strings.Contains(prefix, "."):
		members := strings.Split(body, ",")
		for _, m := range members {
			if !enumMemberRE.MatchString(m) {
				p.fail(at, "invalid enum member '%s' in %s", m, prefix)
			}
		}
		lit.Kind, lit.EnumType, lit.EnumMembers = LitEnum, prefix, members
	default:
		tt := lexer.Token{Type: tokIdent, Value: prefix}
		if isReserved(&tt) || strings.EqualFold(prefix, "not") {
			p.fail(at, "missing space between '%s' and the string literal", prefix)
		}
		p.fail(at, "unknown literal prefix '%s' (expected duration, binary, geography, geometry or a qualified enum type)", prefix)
	}
	return lit
}

// pathOrCall parses what starts with an identifier: a built-in call, or a
// member path possibly ending in a lambda.
func (p *parser) pathOrCall(t *lexer.Token) Expr {
	at := posOf(t)
	name := t.Value
	paren := isPunct(p.peek(), "(")
	qualified := strings.Contains(name, ".")
	if paren {
		lower := strings.ToLower(name)
		if a, ok := builtins[lower]; ok {
			return p.call(lower, a, at)
		}
		if lower == "any" || lower == "all" {
			p.fail(at, "'%s' must follow a collection path, as in tags/%s(t: t eq 'x')", lower, lower)
		}
		if !qualified && name[0] != '$' && name[0] != '@' {
			p.fail(at, "%s", unknownFunctionMsg(name))
		}
	} else if qualified && name[0] != '@' && !isPunct(p.peek(), "/") {
		p.fail(posOf(p.peek()), "expected '(' or '/' after qualified name '%s', found %s", name, describe(p.peek()))
	}
	if strings.EqualFold(name, "$root") && !isPunct(p.peek(), "/") {
		p.fail(posOf(p.peek()), "expected '/' after $root, found %s", describe(p.peek()))
	}
	path := &Path{At: at, Segments: []Segment{p.segment(name, at)}}
	for isPunct(p.peek(), "/") {
		p.next()
		st := p.next()
		if st.Type != tokIdent {
			p.fail(posOf(st), "expected a property name after '/', found %s", describe(st))
		}
		if (isWord(st, "any") || isWord(st, "all")) && isPunct(p.peek(), "(") {
			return p.lambda(path, st)
		}
		path.Segments = append(path.Segments, p.segment(st.Value, posOf(st)))
	}
	return path
}

// segment parses the optional argument list after a path segment name.
func (p *parser) segment(name string, at Pos) Segment {
	seg := Segment{Name: name, At: at}
	if !isPunct(p.peek(), "(") {
		return seg
	}
	open := p.next()
	seg.Call = true
	p.enter(posOf(open))
	defer p.leave()
	if isPunct(p.peek(), ")") {
		p.next()
		return seg
	}
	for {
		a := p.peek()
		arg := Arg{At: posOf(a)}
		if a.Type == tokIdent && isPunct2(p.peek2(), "=") {
			p.next()
			p.next()
			arg.Name = a.Value
		}
		arg.Value = p.expr(PrecOr)
		seg.Args = append(seg.Args, arg)
		if !isPunct(p.peek(), ",") {
			break
		}
		p.next()
	}
	p.expectPunct(")", "to close the arguments of '"+name+"'")
	return seg
}

func isPunct2(t lexer.Token, s string) bool { return isPunct(&t, s) }

// lambda parses any(...) / all(...) after coll/.
func (p *parser) lambda(coll *Path, op *lexer.Token) Expr {
	at := posOf(op)
	isAny := strings.EqualFold(op.Value, "any")
	p.next() // (
	l := &Lambda{Collection: coll, Any: isAny, At: at}
	if isPunct(p.peek(), ")") {
		if !isAny {
			p.fail(posOf(p.peek()), "all() requires a lambda variable and predicate, as in x/all(v: v eq 1)")
		}
		p.next()
		return l
	}
	v := p.next()
	if v.Type != tokIdent || strings.ContainsAny(v.Value[:1], "$@") || strings.ContainsAny(v.Value, ".#") || isReserved(v) {
		p.fail(posOf(v), "expected a lambda variable name, found %s", describe(v))
	}
	l.Var = v.Value
	p.expectPunct(":", "after the lambda variable")
	p.enter(at)
	p.operandAfter(&lexer.Token{Value: ":"})
	l.Body = p.expr(PrecOr)
	p.leave()
	p.expectPunct(")", "to close the lambda")
	return l
}

// call parses the arguments of a built-in function and checks its arity.
func (p *parser) call(name string, a arity, at Pos) Expr {
	p.next() // (
	p.enter(at)
	defer p.leave()
	c := &Call{Name: name, At: at}
	switch {
	case name == "cast" || name == "isof":
		if t := p.peek(); t.Type == tokIdent && isPunct2(p.peek2(), ")") {
			c.Args = []Expr{&TypeName{Name: t.Value, At: posOf(t)}}
			p.next()
			break
		}
		if !isPunct(p.peek(), ")") {
			c.Args = append(c.Args, p.expr(PrecOr))
			p.expectPunct(",", "before the type name in "+name)
			t := p.next()
			if t.Type != tokIdent || strings.ContainsAny(t.Value[:1], "$@") {
				p.fail(posOf(t), "expected a type name in %s, found %s", name, describe(t))
			}
			c.Args = append(c.Args, &TypeName{Name: t.Value, At: posOf(t)})
		}
	case name == "case":
		for !isPunct(p.peek(), ")") {
			c.Args = append(c.Args, p.expr(PrecOr))
			p.expectPunct(":", "between condition and value in case")
			c.Args = append(c.Args, p.expr(PrecOr))
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
	default:
		for !isPunct(p.peek(), ")") {
			c.Args = append(c.Args, p.expr(PrecOr))
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
	}
	p.expectPunct(")", "to close the arguments of '"+name+"'")
	if n := len(c.Args); n < a.min || (a.max >= 0 && n > a.max) {
		if name == "case" {
			n /= 2
		}
		p.fail(at, "%s", arityMsg(name, a, n))
	}
	return c
}

// jsonValue parses an array element or object value: a JSON string or an
// expression.
func (p *parser) jsonValue() Expr {
	if t := p.peek(); t.Type == tokJSONString {
		p.next()
		s, ok := jsonUnquote(t.Value)
		if !ok {
			p.fail(posOf(t), "invalid JSON string %s", describe(t))
		}
		return &Literal{Kind: LitString, Raw: t.Value, Str: s, At: posOf(t)}
	}
	return p.expr(PrecOr)
}

func (p *parser) array(at Pos) Expr {
	p.enter(at)
	defer p.leave()
	a := &ArrayExpr{At: at}
	if isPunct(p.peek(), "]") {
		p.next()
		return a
	}
	for {
		a.Elems = append(a.Elems, p.jsonValue())
		if !isPunct(p.peek(), ",") {
			break
		}
		p.next()
	}
	p.expectPunct("]", "to close the JSON array")
	return a
}

func (p *parser) object(at Pos) Expr {
	p.enter(at)
	defer p.leave()
	o := &ObjectExpr{At: at}
	if isPunct(p.peek(), "}") {
		p.next()
		return o
	}
	for {
		k := p.next()
		if k.Type != tokJSONString {
			p.fail(posOf(k), "expected a double-quoted member name in JSON object, found %s", describe(k))
		}
		key, ok := jsonUnquote(k.Value)
		if !ok {
			p.fail(posOf(k), "invalid JSON string %s", describe(k))
		}
		p.expectPunct(":", "after the member name")
		o.Members = append(o.Members, Member{Key: key, Value: p.jsonValue(), At: posOf(k)})
		if !isPunct(p.peek(), ",") {
			break
		}
		p.next()
	}
	p.expectPunct("}", "to close the JSON object")
	return o
}

// ParseFilter parses a $filter value (boolCommonExpr; the grammar is the
// same as commonExpr, booleanness is the binder's business). s must already
// be URL-decoded. Surrounding whitespace is ignored.
func ParseFilter(s string) (Expr, error) {
	var e Expr
	err := run(s, func(p *parser) {
		if t := p.peek(); t.EOF() {
			p.fail(posOf(t), "expected expression, found end of input")
		}
		e = p.expr(PrecOr)
		p.expectEOF()
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
