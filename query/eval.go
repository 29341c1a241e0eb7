package query

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// The scalar interpreter. It evaluates a bound expression for one set of column values.
// It is not the per-row hot path: kernels call it once per dictionary entry (a predicate
// on one dictionary column is a function of the entry), for lambda bodies once per
// distinct collection value, and for the rare residual expressions that combine several
// columns. Its semantics are the reference for every kernel.

type rowGetter interface {
	get(c *columnar.Column) value
}

type binding struct {
	name string
	v    value
}

type evalCtx struct {
	row  rowGetter
	vars []binding
	now  int64
}

func (ctx *evalCtx) lookupVar(name string) value {
	for i := len(ctx.vars) - 1; i >= 0; i-- {
		if ctx.vars[i].name == name {
			return ctx.vars[i].v
		}
	}
	panic("BUG: unbound lambda variable " + name)
}

func member(v value, path []string) value {
	for _, p := range path {
		m, ok := v.j.(map[string]any)
		if v.k != TJSON || !ok {
			return nullValue
		}
		x, ok := m[p]
		if !ok {
			// Graph member names are case-insensitive too.
			for k, y := range m {
				if strings.EqualFold(k, p) {
					x, ok = y, true
					break
				}
			}
		}
		if !ok {
			return nullValue
		}
		v = jsonToValue(x)
	}
	return v
}

func eval(n node, ctx *evalCtx) value {
	switch n := n.(type) {
	case *litNode:
		return n.v
	case *colNode:
		return ctx.row.get(n.col)
	case *jsonPathNode:
		return member(ctx.row.get(n.col), n.path)
	case *varNode:
		return member(ctx.lookupVar(n.name), n.path)
	case *nowNode:
		return value{k: TTime, i: ctx.now}
	case *cmpNode:
		return boolValue(compareOp(n.op, eval(n.l, ctx), eval(n.r, ctx), n.fold))
	case *logicNode:
		l := eval(n.l, ctx).asTri()
		if n.and {
			if l == triFalse {
				return boolValue(triFalse)
			}
			return boolValue(triAnd(l, eval(n.r, ctx).asTri()))
		}
		if l == triTrue {
			return boolValue(triTrue)
		}
		return boolValue(triOr(l, eval(n.r, ctx).asTri()))
	case *notNode:
		return boolValue(triNot(eval(n.x, ctx).asTri()))
	case *arithNode:
		return arith(n.op, eval(n.l, ctx), eval(n.r, ctx))
	case *negNode:
		x := eval(n.x, ctx)
		switch x.k {
		case TInt:
			return value{k: TInt, i: -x.i}
		case TFloat:
			return value{k: TFloat, f: -x.f}
		}
		return nullValue
	case *inNode:
		x := eval(n.x, ctx)
		res := triFalse
		for _, it := range n.items {
			res = triOr(res, compareOp(syntax.OpEq, x, it, n.fold))
			if res == triTrue {
				break
			}
		}
		return boolValue(res)
	case *callNode:
		return call(n, ctx)
	case *lambdaNode:
		return boolValue(evalLambda(n, eval(n.coll, ctx), ctx))
	}
	panic("BUG: eval of unknown node")
}

func evalLambda(n *lambdaNode, coll value, ctx *evalCtx) tri {
	if coll.k == TNull {
		return triNull
	}
	arr, ok := coll.j.([]any)
	if coll.k != TJSON || !ok {
		return triNull
	}
	if n.body == nil {
		return triOf(len(arr) > 0)
	}
	res := triOf(!n.any) // any over nothing is false, all over nothing is true
	ctx.vars = append(ctx.vars, binding{name: n.v})
	for _, x := range arr {
		ctx.vars[len(ctx.vars)-1].v = jsonToValue(x)
		t := eval(n.body, ctx).asTri()
		if n.any {
			res = triOr(res, t)
			if res == triTrue {
				break
			}
		} else {
			res = triAnd(res, t)
			if res == triFalse {
				break
			}
		}
	}
	ctx.vars = ctx.vars[:len(ctx.vars)-1]
	return res
}

// compareOp applies a comparison operator with OData's null rules: eq/ne treat null as
// a value (null eq null), the ordering operators are null when an operand is null.
func compareOp(op syntax.BinaryOp, a, b value, fold bool) tri {
	if op == syntax.OpEq || op == syntax.OpNe {
		var eq bool
		switch {
		case a.k == TNull || b.k == TNull:
			eq = a.k == b.k
		case fold && isStringLike(a.k) && isStringLike(b.k):
			eq = strings.EqualFold(a.s, b.s)
		default:
			c, ok := compareValues(a, b)
			eq = ok && c == 0
		}
		return triOf(eq == (op == syntax.OpEq))
	}
	if a.k == TNull || b.k == TNull {
		return triNull
	}
	c, ok := compareValues(a, b)
	if !ok {
		if isNumeric(a.k) && isNumeric(b.k) {
			return triFalse // NaN
		}
		return triNull
	}
	switch op {
	case syntax.OpGt:
		return triOf(c > 0)
	case syntax.OpGe:
		return triOf(c >= 0)
	case syntax.OpLt:
		return triOf(c < 0)
	case syntax.OpLe:
		return triOf(c <= 0)
	}
	panic("BUG: compareOp " + op.String())
}

// arith applies an arithmetic operator. Integer overflow wraps; division or modulo by
// zero gives null.
func arith(op syntax.BinaryOp, a, b value) value {
	if a.k == TDuration || b.k == TDuration || (isTimeLike(a.k) && isTimeLike(b.k)) {
		t, ok := temporalArith(op, a.k, b.k)
		if !ok {
			return nullValue
		}
		if op == syntax.OpAdd {
			return value{k: t, i: a.i + b.i}
		}
		return value{k: t, i: a.i - b.i}
	}
	if !isNumeric(a.k) || !isNumeric(b.k) {
		return nullValue
	}
	if a.k == TInt && b.k == TInt && op != syntax.OpDivBy {
		x, y := a.i, b.i
		switch op {
		case syntax.OpAdd:
			return value{k: TInt, i: x + y}
		case syntax.OpSub:
			return value{k: TInt, i: x - y}
		case syntax.OpMul:
			return value{k: TInt, i: x * y}
		case syntax.OpDiv:
			if y == 0 || (x == math.MinInt64 && y == -1) {
				return nullValue
			}
			return value{k: TInt, i: x / y}
		case syntax.OpMod:
			if y == 0 || y == -1 {
				if y == -1 {
					return value{k: TInt, i: 0}
				}
				return nullValue
			}
			return value{k: TInt, i: x % y}
		}
		panic("BUG: arith " + op.String())
	}
	x, y := a.float(), b.float()
	switch op {
	case syntax.OpAdd:
		return value{k: TFloat, f: x + y}
	case syntax.OpSub:
		return value{k: TFloat, f: x - y}
	case syntax.OpMul:
		return value{k: TFloat, f: x * y}
	case syntax.OpDiv, syntax.OpDivBy:
		if y == 0 {
			return nullValue
		}
		return value{k: TFloat, f: x / y}
	case syntax.OpMod:
		if y == 0 {
			return nullValue
		}
		return value{k: TFloat, f: math.Mod(x, y)}
	}
	panic("BUG: arith " + op.String())
}

func strArg(v value) (string, bool) {
	if isStringLike(v.k) {
		return v.s, true
	}
	return "", false
}

func call(n *callNode, ctx *evalCtx) value {
	args := make([]value, len(n.args))
	for i, a := range n.args {
		args[i] = eval(a, ctx)
		if args[i].k == TNull {
			return nullValue
		}
	}
	switch n.name {
	case "contains", "startswith", "endswith", "indexof", "concat":
		s, ok1 := strArg(args[0])
		t, ok2 := strArg(args[1])
		if !ok1 || !ok2 {
			return nullValue
		}
		switch n.name {
		case "contains":
			return value{k: TBool, b: strings.Contains(s, t)}
		case "startswith":
			return value{k: TBool, b: strings.HasPrefix(s, t)}
		case "endswith":
			return value{k: TBool, b: strings.HasSuffix(s, t)}
		case "indexof":
			i := strings.Index(s, t)
			if i > 0 {
				i = utf8.RuneCountInString(s[:i])
			}
			return value{k: TInt, i: int64(i)}
		case "concat":
			return value{k: TString, s: s + t}
		}
	case "length", "tolower", "toupper", "trim", "matchespattern":
		s, ok := strArg(args[0])
		if !ok {
			return nullValue
		}
		switch n.name {
		case "length":
			return value{k: TInt, i: int64(utf8.RuneCountInString(s))}
		case "tolower":
			return value{k: TString, s: strings.ToLower(s)}
		case "toupper":
			return value{k: TString, s: strings.ToUpper(s)}
		case "trim":
			return value{k: TString, s: strings.TrimSpace(s)}
		case "matchespattern":
			return value{k: TBool, b: n.re.MatchString(s)}
		}
	case "substring":
		s, ok := strArg(args[0])
		if !ok || args[1].k != TInt || (len(args) == 3 && args[2].k != TInt) {
			return nullValue
		}
		return value{k: TString, s: substring(s, args[1].i, args, len(args) == 3)}
	case "year", "month", "day", "hour", "minute", "second", "fractionalseconds", "date", "time", "totaloffsetminutes":
		return timePart(n.name, args[0])
	case "round", "floor", "ceiling":
		switch args[0].k {
		case TInt:
			return args[0]
		case TFloat:
			f := args[0].f
			switch n.name {
			case "round":
				f = math.Round(f)
			case "floor":
				f = math.Floor(f)
			default:
				f = math.Ceil(f)
			}
			return value{k: TFloat, f: f}
		}
		return nullValue
	}
	panic("BUG: call of " + n.name)
}

// substring counts characters (runes), as OData does; out-of-range bounds clamp.
func substring(s string, start int64, args []value, hasLen bool) string {
	r := []rune(s)
	if start < 0 {
		start = 0
	}
	if start > int64(len(r)) {
		return ""
	}
	end := int64(len(r))
	if hasLen {
		l := args[2].i
		if l < 0 {
			return ""
		}
		if start+l < end && start+l >= start {
			end = start + l
		}
	}
	return string(r[start:end])
}

func timePart(name string, v value) value {
	if v.k == TTimeOfDay {
		d := time.Duration(v.i)
		switch name {
		case "hour":
			return value{k: TInt, i: int64(d / time.Hour)}
		case "minute":
			return value{k: TInt, i: int64(d % time.Hour / time.Minute)}
		case "second":
			return value{k: TInt, i: int64(d % time.Minute / time.Second)}
		case "fractionalseconds":
			return value{k: TFloat, f: float64(d%time.Second) / 1e9}
		}
		return nullValue
	}
	if !isTimeLike(v.k) {
		return nullValue
	}
	t := time.Unix(0, v.i).UTC()
	switch name {
	case "year":
		return value{k: TInt, i: int64(t.Year())}
	case "month":
		return value{k: TInt, i: int64(t.Month())}
	case "day":
		return value{k: TInt, i: int64(t.Day())}
	case "hour":
		return value{k: TInt, i: int64(t.Hour())}
	case "minute":
		return value{k: TInt, i: int64(t.Minute())}
	case "second":
		return value{k: TInt, i: int64(t.Second())}
	case "fractionalseconds":
		return value{k: TFloat, f: float64(t.Nanosecond()) / 1e9}
	case "date":
		return value{k: TDate, i: v.i - floorMod(v.i, int64(24*time.Hour))}
	case "time":
		return value{k: TTimeOfDay, i: floorMod(v.i, int64(24*time.Hour))}
	case "totaloffsetminutes":
		return value{k: TInt, i: 0}
	}
	return nullValue
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
