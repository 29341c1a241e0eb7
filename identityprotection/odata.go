package identityprotection

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/query/syntax"
)

// FilterError is a bad $filter, $orderby or $select; its text starts with Graph's
// "Invalid filter clause".
type FilterError struct {
	Pos syntax.Pos
	Msg string
}

func (e *FilterError) Error() string {
	if e.Pos.Line == 0 {
		return "Invalid filter clause: " + e.Msg
	}
	return fmt.Sprintf("Invalid filter clause: %s (at %d:%d)", e.Msg, e.Pos.Line, e.Pos.Column)
}

// ListRequest is one report query in OData terms.
type ListRequest struct {
	Filter    string
	OrderBy   string
	Select    []string
	Top       int
	SkipToken string
}

// ListResult is one page of a report.
type ListResult struct {
	Rows      []map[string]any
	SkipToken string
}

// entity describes a report's rows for binding: its property names.
type entity struct {
	name  string
	props []string
}

var (
	detectionEntity = entity{"riskDetection", jsonNames(Detection{})}
	userEntity      = entity{"riskyUser", jsonNames(RiskyUser{})}
	historyEntity   = entity{"riskyUserHistoryItem", append(jsonNames(RiskyUser{}), "userId", "initiatedBy", "activity")}
)

func jsonNames(v any) []string {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (en entity) prop(name string) (string, bool) {
	for _, p := range en.props {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return "", false
}

func toMaps[T any](items []T) []map[string]any {
	out := make([]map[string]any, len(items))
	for i := range items {
		b, _ := json.Marshal(items[i])
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		graphTimes(m)
		out[i] = m
	}
	return out
}

// graphTimes rewrites the timestamps of m, at any depth, with at most 7 fractional digits as
// Graph writes them (Go writes up to 9; strict clients such as .NET's reject more than 7).
func graphTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				x[k] = graphTime(s)
			} else {
				graphTimes(e)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				x[i] = graphTime(s)
			} else {
				graphTimes(e)
			}
		}
	}
}

func graphTime(s string) string {
	// Only values shaped like RFC 3339 with more than 7 fractional digits are touched.
	if len(s) < 29 || s[4] != '-' || s[10] != 'T' || s[19] != '.' {
		return s
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Truncate(100 * time.Nanosecond).Format(time.RFC3339Nano)
}

// compiled is a checked list request.
type compiled struct {
	filter syntax.Expr
	order  []syntax.OrderItem
	sel    []string
}

func compileList(en entity, req ListRequest) (*compiled, error) {
	c := &compiled{}
	if strings.TrimSpace(req.Filter) != "" {
		f, err := syntax.ParseFilter(req.Filter)
		if err != nil {
			if se, ok := err.(*syntax.Error); ok {
				return nil, &FilterError{se.Pos, se.Msg}
			}
			return nil, &FilterError{Msg: err.Error()}
		}
		if err := en.check(f, map[string]bool{}); err != nil {
			return nil, err
		}
		c.filter = f
	}
	if strings.TrimSpace(req.OrderBy) != "" {
		o, err := syntax.ParseOrderBy(req.OrderBy)
		if err != nil {
			if se, ok := err.(*syntax.Error); ok {
				return nil, &FilterError{se.Pos, se.Msg}
			}
			return nil, &FilterError{Msg: err.Error()}
		}
		for _, it := range o {
			if err := en.check(it.Expr, map[string]bool{}); err != nil {
				return nil, err
			}
		}
		c.order = o
	}
	for _, s := range req.Select {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, ok := en.prop(s)
		if !ok {
			return nil, &FilterError{Msg: fmt.Sprintf("could not find a property named '%s' on type 'microsoft.graph.%s'", s, en.name)}
		}
		c.sel = append(c.sel, p)
	}
	return c, nil
}

// check rejects unknown properties, so typos fail instead of matching nothing.
func (en entity) check(e syntax.Expr, vars map[string]bool) error {
	switch x := e.(type) {
	case *syntax.BinaryExpr:
		if err := en.check(x.Left, vars); err != nil {
			return err
		}
		return en.check(x.Right, vars)
	case *syntax.UnaryExpr:
		return en.check(x.X, vars)
	case *syntax.InExpr:
		if err := en.check(x.X, vars); err != nil {
			return err
		}
		return en.check(x.Set, vars)
	case *syntax.Call:
		for _, a := range x.Args {
			if err := en.check(a, vars); err != nil {
				return err
			}
		}
	case *syntax.Lambda:
		if err := en.check(x.Collection, vars); err != nil {
			return err
		}
		if x.Body != nil {
			inner := map[string]bool{x.Var: true}
			for k := range vars {
				inner[k] = true
			}
			return en.check(x.Body, inner)
		}
	case *syntax.Path:
		if len(x.Segments) == 0 || vars[x.Segments[0].Name] {
			return nil
		}
		if _, ok := en.prop(x.Segments[0].Name); !ok {
			return &FilterError{x.At, fmt.Sprintf("could not find a property named '%s' on type 'microsoft.graph.%s'", x.Segments[0].Name, en.name)}
		}
	}
	return nil
}

type env struct {
	row  map[string]any
	vars map[string]any
}

func (ev *env) path(p *syntax.Path) any {
	var cur any
	for i, s := range p.Segments {
		if i == 0 {
			if v, ok := ev.vars[s.Name]; ok {
				cur = v
				continue
			}
			cur = lookupFold(ev.row, s.Name)
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = lookupFold(m, s.Name)
	}
	return cur
}

func lookupFold(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func literal(l *syntax.Literal) any {
	switch l.Kind {
	case syntax.LitNull:
		return nil
	case syntax.LitBool:
		return l.Bool
	case syntax.LitInt, syntax.LitDecimal, syntax.LitDouble:
		return l.Float
	case syntax.LitDateTimeOffset, syntax.LitDate:
		return l.Time
	case syntax.LitEnum:
		if len(l.EnumMembers) > 0 {
			return l.EnumMembers[0]
		}
		return ""
	case syntax.LitGUID:
		return strings.ToLower(l.Raw)
	}
	return l.Str
}

func (ev *env) eval(e syntax.Expr) (any, error) {
	switch x := e.(type) {
	case *syntax.Literal:
		return literal(x), nil
	case *syntax.Path:
		return ev.path(x), nil
	case *syntax.UnaryExpr:
		v, err := ev.eval(x.X)
		if err != nil {
			return nil, err
		}
		if x.Op == syntax.OpNot {
			b, _ := v.(bool)
			return !b, nil
		}
		f, _ := v.(float64)
		return -f, nil
	case *syntax.BinaryExpr:
		l, err := ev.eval(x.Left)
		if err != nil {
			return nil, err
		}
		if x.Op == syntax.OpAnd || x.Op == syntax.OpOr {
			lb, _ := l.(bool)
			if x.Op == syntax.OpAnd && !lb {
				return false, nil
			}
			if x.Op == syntax.OpOr && lb {
				return true, nil
			}
			r, err := ev.eval(x.Right)
			if err != nil {
				return nil, err
			}
			rb, _ := r.(bool)
			return rb, nil
		}
		r, err := ev.eval(x.Right)
		if err != nil {
			return nil, err
		}
		c, ok := compare(l, r)
		switch x.Op {
		case syntax.OpEq:
			return ok && c == 0, nil
		case syntax.OpNe:
			return !ok || c != 0, nil
		case syntax.OpGt:
			return ok && c > 0, nil
		case syntax.OpGe:
			return ok && c >= 0, nil
		case syntax.OpLt:
			return ok && c < 0, nil
		case syntax.OpLe:
			return ok && c <= 0, nil
		}
		return nil, &FilterError{x.At, "operator '" + x.Op.String() + "' is not supported here"}
	case *syntax.InExpr:
		v, err := ev.eval(x.X)
		if err != nil {
			return nil, err
		}
		var items []syntax.Expr
		switch s := x.Set.(type) {
		case *syntax.ListExpr:
			items = s.Items
		case *syntax.ArrayExpr:
			items = s.Elems
		default:
			return nil, &FilterError{x.At, "'in' needs a list of literals"}
		}
		for _, it := range items {
			w, err := ev.eval(it)
			if err != nil {
				return nil, err
			}
			if c, ok := compare(v, w); ok && c == 0 {
				return true, nil
			}
		}
		return false, nil
	case *syntax.Call:
		args := make([]any, len(x.Args))
		for i, a := range x.Args {
			v, err := ev.eval(a)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		str := func(i int) string { s, _ := args[i].(string); return strings.ToLower(s) }
		switch x.Name {
		case "startswith":
			return strings.HasPrefix(str(0), str(1)), nil
		case "endswith":
			return strings.HasSuffix(str(0), str(1)), nil
		case "contains":
			return strings.Contains(str(0), str(1)), nil
		case "tolower":
			return str(0), nil
		case "toupper":
			return strings.ToUpper(str(0)), nil
		}
		return nil, &FilterError{x.At, "function '" + x.Name + "' is not supported here"}
	case *syntax.Lambda:
		coll, _ := ev.path(x.Collection).([]any)
		if x.Body == nil {
			return len(coll) > 0, nil
		}
		for _, it := range coll {
			inner := &env{row: ev.row, vars: map[string]any{x.Var: it}}
			for k, v := range ev.vars {
				if k != x.Var {
					inner.vars[k] = v
				}
			}
			v, err := inner.eval(x.Body)
			if err != nil {
				return nil, err
			}
			b, _ := v.(bool)
			if x.Any && b {
				return true, nil
			}
			if !x.Any && !b {
				return false, nil
			}
		}
		return !x.Any, nil
	}
	return nil, &FilterError{e.Pos(), "expression is not supported here"}
}

// compare orders two JSON values; ok is false when they cannot be compared. Strings
// compare case-insensitively (Graph's enums and names do); a time literal compares with
// an RFC 3339 string.
func compare(a, b any) (int, bool) {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return 0, true
		}
		return 1, false
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
		case time.Time:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return 0, false
			}
			return t.Compare(y), true
		}
	case time.Time:
		c, ok := compare(b, x)
		return -c, ok
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	case bool:
		if y, ok := b.(bool); ok {
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

// run filters, orders and pages rows (already in the report's default order).
func (c *compiled) run(rows []map[string]any, top, defTop, maxTop int, skip string) (ListResult, error) {
	var out []map[string]any
	for _, r := range rows {
		if c.filter != nil {
			ev := &env{row: r}
			v, err := ev.eval(c.filter)
			if err != nil {
				return ListResult{}, err
			}
			if b, _ := v.(bool); !b {
				continue
			}
		}
		out = append(out, r)
	}
	if len(c.order) > 0 {
		sort.SliceStable(out, func(i, j int) bool {
			for _, o := range c.order {
				a, _ := (&env{row: out[i]}).eval(o.Expr)
				b, _ := (&env{row: out[j]}).eval(o.Expr)
				cmp, ok := compare(a, b)
				if !ok || cmp == 0 {
					continue
				}
				if o.Desc {
					return cmp > 0
				}
				return cmp < 0
			}
			return false
		})
	}
	if top <= 0 {
		top = defTop
	}
	top = min(top, maxTop)
	off := 0
	if skip != "" {
		n, err := decodeSkip(skip)
		if err != nil {
			return ListResult{}, err
		}
		off = n
	}
	if off > len(out) {
		off = len(out)
	}
	end := min(off+top, len(out))
	page := out[off:end]
	res := ListResult{Rows: make([]map[string]any, len(page))}
	for i, r := range page {
		res.Rows[i] = project(r, c.sel)
	}
	if end < len(out) {
		res.SkipToken = encodeSkip(end)
	}
	return res, nil
}

func project(r map[string]any, sel []string) map[string]any {
	if len(sel) == 0 {
		return r
	}
	out := make(map[string]any, len(sel)+1)
	for _, s := range sel {
		out[s] = r[s]
	}
	return out
}

// ErrBadSkipToken is an invalid $skiptoken.
var ErrBadSkipToken = fmt.Errorf("invalid $skiptoken")

// Skip tokens are opaque offsets into the filtered, ordered list. Lists are read from an
// in-memory snapshot, so an offset is stable unless detections arrive between pages.
func encodeSkip(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ip1:" + strconv.Itoa(off)))
}

func decodeSkip(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), "ip1:") {
		return 0, ErrBadSkipToken
	}
	n, err := strconv.Atoi(string(b[4:]))
	if err != nil || n < 0 {
		return 0, ErrBadSkipToken
	}
	return n, nil
}
