package query_test

import (
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authlake/authlake/query/syntax"
)

// A row-at-a-time reference evaluator over the decoded JSON of each event, written
// independently of the package's binder and kernels. It covers the language subset the
// random generator produces.

type refTime int64

type refDur int64

const (
	rFalse = 0
	rTrue  = 1
	rNull  = 2
)

var (
	refGUIDCols = map[string]bool{"id": true, "correlationid": true, "originalrequestid": true, "sessionid": true}
	refFoldCols = map[string]bool{"userprincipalname": true, "riskstate": true, "risklevelduringsignin": true,
		"conditionalaccessstatus": true, "risklevelaggregated": true, "riskdetail": true}
)

type refEnv struct {
	row   map[string]any // keys lower-cased at every level (lowerKeys)
	names map[*syntax.Path]*refPath
	vars  map[string]any
	// foldVars are lambda variables over enum collections (signInEventTypes).
	foldVars map[string]bool
}

func isGUIDText(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func refNorm(x any) any {
	if n, ok := x.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return x
}

// lowerKeys copies a decoded JSON value with every object key lower-cased, so that the
// reference resolves Graph's case-insensitive names with plain map lookups.
func lowerKeys(x any) any {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[strings.ToLower(k)] = lowerKeys(v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = lowerKeys(v)
		}
		return out
	}
	return x
}

type refPath struct {
	first string   // as written: lambda variables are case-sensitive
	lower []string // every segment lower-cased
	full  string   // lower-cased full path
}

func (e *refEnv) path(p *syntax.Path) any {
	rp, ok := e.names[p]
	if !ok {
		rp = &refPath{first: p.Segments[0].Name, full: strings.ToLower(pathName(p))}
		for _, s := range p.Segments {
			rp.lower = append(rp.lower, strings.ToLower(s.Name))
		}
		e.names[p] = rp
	}
	var cur any = e.row
	rest := rp.lower
	if v, ok := e.vars[rp.first]; ok {
		cur, rest = v, rest[1:]
	}
	for _, n := range rest {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[n]
	}
	cur = refNorm(cur)
	if s, ok := cur.(string); ok {
		if rp.full == "createddatetime" {
			t, _ := time.Parse(time.RFC3339Nano, s)
			return refTime(t.UnixNano())
		}
		if refGUIDCols[rp.full] && isGUIDText(s) {
			return strings.ToLower(s)
		}
	}
	return cur
}

func pathName(p *syntax.Path) string {
	names := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		names[i] = s.Name
	}
	return strings.Join(names, "/")
}

func (e *refEnv) isFold(x syntax.Expr) bool {
	p, ok := x.(*syntax.Path)
	if !ok {
		return false
	}
	if len(p.Segments) == 1 && e.foldVars[p.Segments[0].Name] {
		return true
	}
	if _, isVar := e.vars[p.Segments[0].Name]; isVar {
		return false
	}
	return refFoldCols[strings.ToLower(pathName(p))]
}

func (e *refEnv) isGUIDPath(x syntax.Expr) bool {
	p, ok := x.(*syntax.Path)
	return ok && refGUIDCols[strings.ToLower(pathName(p))]
}

func refTri(v any) int {
	if b, ok := v.(bool); ok {
		if b {
			return rTrue
		}
		return rFalse
	}
	return rNull
}

func triVal(t int) any {
	switch t {
	case rTrue:
		return true
	case rFalse:
		return false
	}
	return nil
}

func (e *refEnv) eval(x syntax.Expr) any {
	switch x := x.(type) {
	case *syntax.Literal:
		switch x.Kind {
		case syntax.LitNull:
			return nil
		case syntax.LitBool:
			return x.Bool
		case syntax.LitInt:
			return x.Int
		case syntax.LitDecimal, syntax.LitDouble:
			return x.Float
		case syntax.LitString:
			return x.Str
		case syntax.LitDateTimeOffset, syntax.LitDate:
			return refTime(x.Time.UnixNano())
		case syntax.LitGUID:
			return strings.ToLower(x.Raw)
		case syntax.LitDuration:
			return refDur(x.Duration)
		case syntax.LitEnum:
			return strings.Join(x.EnumMembers, ",")
		}
		panic("reference: literal " + x.Kind.String())
	case *syntax.Path:
		return e.path(x)
	case *syntax.UnaryExpr:
		v := e.eval(x.X)
		if x.Op == syntax.OpNot {
			switch refTri(v) {
			case rTrue:
				return false
			case rFalse:
				return true
			}
			return nil
		}
		switch v := v.(type) {
		case int64:
			return -v
		case float64:
			return -v
		}
		return nil
	case *syntax.BinaryExpr:
		switch x.Op {
		case syntax.OpAnd, syntax.OpOr:
			a, b := refTri(e.eval(x.Left)), refTri(e.eval(x.Right))
			if x.Op == syntax.OpAnd {
				if a == rFalse || b == rFalse {
					return false
				}
				if a == rNull || b == rNull {
					return nil
				}
				return true
			}
			if a == rTrue || b == rTrue {
				return true
			}
			if a == rNull || b == rNull {
				return nil
			}
			return false
		case syntax.OpEq, syntax.OpNe, syntax.OpGt, syntax.OpGe, syntax.OpLt, syntax.OpLe:
			a, b := e.eval(x.Left), e.eval(x.Right)
			if e.isGUIDPath(x.Left) {
				b = lowerGUID(b)
			}
			if e.isGUIDPath(x.Right) {
				a = lowerGUID(a)
			}
			return triVal(refCompare(x.Op, a, b, e.isFold(x.Left) || e.isFold(x.Right)))
		default:
			return refArith(x.Op, e.eval(x.Left), e.eval(x.Right))
		}
	case *syntax.InExpr:
		v := e.eval(x.X)
		res := rFalse
		for _, it := range x.Set.(*syntax.ListExpr).Items {
			w := e.eval(it)
			if e.isGUIDPath(x.X) {
				w = lowerGUID(w)
			}
			if refCompare(syntax.OpEq, v, w, e.isFold(x.X)) == rTrue {
				res = rTrue
			}
		}
		return triVal(res)
	case *syntax.Lambda:
		coll := e.path(x.Collection)
		arr, ok := coll.([]any)
		if !ok {
			return nil
		}
		if x.Body == nil {
			return len(arr) > 0
		}
		res := rFalse
		if !x.Any {
			res = rTrue
		}
		old, had := e.vars[x.Var]
		if e.vars == nil {
			e.vars = map[string]any{}
		}
		if strings.EqualFold(pathName(x.Collection), "signInEventTypes") {
			if e.foldVars == nil {
				e.foldVars = map[string]bool{}
			}
			e.foldVars[x.Var] = true
		}
		for _, el := range arr {
			e.vars[x.Var] = el
			t := refTri(e.eval(x.Body))
			if x.Any {
				if t == rTrue || res == rTrue {
					res = rTrue
				} else if t == rNull || res == rNull {
					res = rNull
				}
			} else {
				if t == rFalse || res == rFalse {
					res = rFalse
				} else if t == rNull || res == rNull {
					res = rNull
				}
			}
		}
		delete(e.foldVars, x.Var)
		if had {
			e.vars[x.Var] = old
		} else {
			delete(e.vars, x.Var)
		}
		return triVal(res)
	case *syntax.Call:
		args := make([]any, len(x.Args))
		for i, a := range x.Args {
			args[i] = e.eval(a)
			if args[i] == nil {
				return nil
			}
		}
		s, _ := args[0].(string)
		var t string
		if len(args) > 1 {
			t, _ = args[1].(string)
		}
		switch x.Name {
		case "contains":
			return strings.Contains(s, t)
		case "startswith":
			return strings.HasPrefix(s, t)
		case "endswith":
			return strings.HasSuffix(s, t)
		case "tolower":
			return strings.ToLower(s)
		case "toupper":
			return strings.ToUpper(s)
		case "length":
			return int64(utf8.RuneCountInString(s))
		case "concat":
			return s + t
		case "year", "month", "day", "hour":
			tm := time.Unix(0, int64(args[0].(refTime))).UTC()
			return map[string]int64{"year": int64(tm.Year()), "month": int64(tm.Month()), "day": int64(tm.Day()), "hour": int64(tm.Hour())}[x.Name]
		}
		panic("reference: function " + x.Name)
	}
	panic("reference: node")
}

func lowerGUID(v any) any {
	if s, ok := v.(string); ok && isGUIDText(s) {
		return strings.ToLower(s)
	}
	return v
}

func refArith(op syntax.BinaryOp, a, b any) any {
	if t, ok := a.(refTime); ok {
		if d, ok := b.(refDur); ok {
			if op == syntax.OpAdd {
				return t + refTime(d)
			}
			if op == syntax.OpSub {
				return t - refTime(d)
			}
		}
		return nil
	}
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	if aInt && bInt && op != syntax.OpDivBy {
		switch op {
		case syntax.OpAdd:
			return ai + bi
		case syntax.OpSub:
			return ai - bi
		case syntax.OpMul:
			return ai * bi
		case syntax.OpDiv:
			if bi == 0 {
				return nil
			}
			return ai / bi
		case syntax.OpMod:
			if bi == 0 {
				return nil
			}
			return ai % bi
		}
	}
	af, ok1 := toF(a)
	bf, ok2 := toF(b)
	if !ok1 || !ok2 {
		return nil
	}
	switch op {
	case syntax.OpAdd:
		return af + bf
	case syntax.OpSub:
		return af - bf
	case syntax.OpMul:
		return af * bf
	case syntax.OpDiv, syntax.OpDivBy:
		if bf == 0 {
			return nil
		}
		return af / bf
	case syntax.OpMod:
		if bf == 0 {
			return nil
		}
		return math.Mod(af, bf)
	}
	return nil
}

func toF(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// refOrder returns -1/0/1 and ok=false when a and b are not comparable.
func refOrder(a, b any) (int, bool) {
	if af, ok := toF(a); ok {
		bf, ok := toF(b)
		if !ok || math.IsNaN(af) || math.IsNaN(bf) {
			return 0, false
		}
		ai, aInt := a.(int64)
		bi, bInt := b.(int64)
		if aInt && bInt {
			return cmpI(ai, bi), true
		}
		switch {
		case af < bf:
			return -1, true
		case af > bf:
			return 1, true
		}
		return 0, true
	}
	switch a := a.(type) {
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b), true
		}
	case refTime:
		if b, ok := b.(refTime); ok {
			return cmpI(int64(a), int64(b)), true
		}
	case bool:
		if b, ok := b.(bool); ok {
			x, y := 0, 0
			if a {
				x = 1
			}
			if b {
				y = 1
			}
			return cmpI(int64(x), int64(y)), true
		}
	}
	return 0, false
}

func cmpI(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func refCompare(op syntax.BinaryOp, a, b any, fold bool) int {
	if op == syntax.OpEq || op == syntax.OpNe {
		var eq bool
		if a == nil || b == nil {
			eq = a == nil && b == nil
		} else if as, ok := a.(string); ok && fold {
			bs, ok := b.(string)
			eq = ok && strings.EqualFold(as, bs)
		} else {
			c, ok := refOrder(a, b)
			eq = ok && c == 0
		}
		if eq == (op == syntax.OpEq) {
			return rTrue
		}
		return rFalse
	}
	if a == nil || b == nil {
		return rNull
	}
	c, ok := refOrder(a, b)
	if !ok {
		_, n1 := toF(a)
		_, n2 := toF(b)
		if n1 && n2 {
			return rFalse
		}
		return rNull
	}
	var r bool
	switch op {
	case syntax.OpGt:
		r = c > 0
	case syntax.OpGe:
		r = c >= 0
	case syntax.OpLt:
		r = c < 0
	case syntax.OpLe:
		r = c <= 0
	}
	if r {
		return rTrue
	}
	return rFalse
}

var refNames = map[*syntax.Path]*refPath{}

// refMatch evaluates a filter for one event.
func refMatch(e syntax.Expr, row map[string]any) bool {
	env := &refEnv{row: row, names: refNames}
	return refTri(env.eval(e)) == rTrue
}
