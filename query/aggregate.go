package query

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// AggOp is an aggregation method.
type AggOp uint8

const (
	AggCount AggOp = iota + 1 // rows in the group ($count); Property is ignored
	AggMin
	AggMax
	AggSum
	AggCountDistinct
	AggAverage
)

// Agg is one aggregate: Op over Property, reported as Alias.
type Agg struct {
	Op       AggOp
	Property string
	Alias    string
}

// Group is one output group: the group-by values by property name and the aggregates
// by alias. Values are string, int64, float64, bool or nil; times are RFC 3339 strings.
type Group struct {
	Keys   map[string]any
	Values map[string]any
}

// Aggregate groups the rows matching filter by the groupBy properties and computes aggs.
// Groups come back ordered by their keys.
func Aggregate(ctx context.Context, s *columnar.Schema, src Source, filter string, groupBy []string, aggs []Agg) ([]Group, error) {
	f, err := compileCached(s, filter, Options{})
	if err != nil {
		return nil, err
	}
	return aggregateFilter(ctx, s, src, f, groupBy, aggs)
}

// AggregateWhere is Aggregate over the rows matching a typed predicate.
func AggregateWhere(ctx context.Context, s *columnar.Schema, src Source, where Pred, groupBy []string, aggs []Agg) ([]Group, error) {
	f, err := compileWhere(s, "", where, Options{})
	if err != nil {
		return nil, err
	}
	return aggregateFilter(ctx, s, src, f, groupBy, aggs)
}

func aggregateFilter(ctx context.Context, s *columnar.Schema, src Source, f *Filter, groupBy []string, aggs []Agg) ([]Group, error) {
	var keys []*columnar.Column
	for _, g := range groupBy {
		c, ok := s.LookupFold(g)
		if !ok {
			return nil, &Error{Pos: posOne, Msg: "unknown property '" + g + "' in groupby", Hint: suggest(g, columnNames(s))}
		}
		keys = append(keys, c)
	}
	var cols []*columnar.Column
	for _, a := range aggs {
		if a.Op == AggCount {
			cols = append(cols, nil)
			continue
		}
		c, ok := s.LookupFold(a.Property)
		if !ok {
			return nil, &Error{Pos: posOne, Msg: "unknown property '" + a.Property + "' in aggregate", Hint: suggest(a.Property, columnNames(s))}
		}
		if (a.Op == AggSum || a.Op == AggAverage) && c.Kind != columnar.KindInt32 && c.Kind != columnar.KindFloat64 {
			return nil, &Error{Pos: posOne, Msg: fmt.Sprintf("cannot sum or average '%s' (%s)", c.Name, kindType(c.Kind))}
		}
		cols = append(cols, c)
	}
	return aggregate(ctx, s, src, f, keys, aggs, cols, &Explain{}, aggLimits{now: nowNanos()})
}

func columnNames(s *columnar.Schema) []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

type groupAcc struct {
	keys  []value
	count int64
	vals  []aggAcc
}

type aggAcc struct {
	n        int64
	sumI     int64
	sumF     float64
	best     value
	distinct map[string]struct{}
}

type aggregator struct {
	s     *columnar.Schema
	keys  []*columnar.Column
	aggs  []Agg
	acols []*columnar.Column
	cols_ []int
	// maxGroups bounds the groups one scan may hold: a groupby over a high-cardinality
	// property (ids, IP addresses) would otherwise grow memory and the response without bound.
	maxGroups int
	groups    map[string]*groupAcc
	local     map[string]*groupAcc
	kbuf      []byte
	scr       []columnar.ExtraEntry
	// tally is the code-counting path's counts for the dictionary it is in (foldCodes).
	tally codeTally
	// err is the first error a worker's last fold met (merge has no error to return).
	err error
}

// codeCounting reports whether the aggregation is counts grouped by one dictionary column
// (the admin's "top N by count" shape), which visitCodes answers with a counting loop over
// dictionary codes instead of a group lookup per row.
func (a *aggregator) codeCounting() bool {
	if len(a.keys) != 1 || !isDictKind(a.keys[0].Kind) {
		return false
	}
	for _, ag := range a.aggs {
		if ag.Op != AggCount {
			return false
		}
	}
	return true
}

func (a *aggregator) visitCodes(b *columnar.Batch, sel []uint64) error {
	c := a.keys[0]
	d := b.Dict(c.Index)
	t := &a.tally
	if id := d.ID(); id != t.id || t.col != c {
		if err := a.foldCodes(); err != nil {
			return err
		}
		t.id, t.col, t.d = id, c, d
	}
	// A memtable chunk's dictionary grows in place: the same ID, more codes, the old ones the
	// same values. The longest seen reads every code counted.
	if d.Len() > t.d.Len() {
		t.d = d
	}
	if nd := d.Len(); len(t.counts) < nd {
		t.counts = slices.Grow(t.counts, nd-len(t.counts))[:nd]
	}
	t.nulls += countCodes(t.counts[:d.Len()], b, c.Index, sel)
	return nil
}

// codeTally counts the rows of each code of one dictionary, the one a worker's blocks are in
// (a segment's blocks share theirs), and makes groups of the counts when the worker leaves it:
// per block, walking the dictionary's ~400 codes for the groups of a count by application was
// a third of the query at 10M events.
type codeTally struct {
	id     unsafe.Pointer // columnar.Dict.ID; nil with an empty dictionary
	col    *columnar.Column
	d      columnar.Dict
	counts []int64 // by code
	nulls  int64
}

// foldCodes adds the tally's counts to the groups, by value, and empties it. It fails when a
// value could not be read (a segment's dictionary page that failed its checksum: the blocks
// that counted its codes are gone by now, so the error is the dictionary's) and when the groups
// pass the bound, checked as they are made (a dictionary may hold a day's user ids).
func (a *aggregator) foldCodes() error {
	t := &a.tally
	defer func() {
		clear(t.counts)
		t.counts, t.nulls = t.counts[:0], 0
	}()
	for code, n := range t.counts {
		if n == 0 {
			continue
		}
		a.addCodeGroup(textValue(t.col, t.d.Value(int32(code))), n)
		if len(a.groups) > a.maxGroups {
			return a.checkGroups()
		}
	}
	if err := t.d.Err(); err != nil {
		return fmt.Errorf("%s: %w", t.col.Name, err)
	}
	if t.nulls != 0 {
		a.addCodeGroup(nullValue, t.nulls)
	}
	return a.checkGroups()
}

func (a *aggregator) addCodeGroup(v value, n int64) {
	a.kbuf = appendValueKey(a.kbuf[:0], v)
	g, ok := a.groups[string(a.kbuf)]
	if !ok {
		v.s = strings.Clone(v.s)
		g = &groupAcc{keys: []value{v}, vals: make([]aggAcc, len(a.aggs))}
		a.groups[string(a.kbuf)] = g
	}
	g.count += n
}

// countCodes adds to counts[code] the selected rows of dictionary column idx by code and
// returns the number of null ones. It is the whole of a warm count by application: the usual
// block (no nulls) takes one increment a row, and a word of 64 selected rows a plain loop.
func countCodes(counts []int64, b *columnar.Batch, idx int, sel []uint64) (nulls int64) {
	if b.Array(idx) == nil { // the block lacks the column: every row is null
		return int64(popcount(sel))
	}
	codes := b.Codes(idx)
	if !b.NoNulls(idx) {
		for w, m := range sel {
			for m != 0 {
				r := w*64 + bitsTrailing(m)
				m &= m - 1
				if b.Valid(idx, r) {
					counts[codes[r]]++
				} else {
					nulls++
				}
			}
		}
		return nulls
	}
	for w, m := range sel {
		if m == ^uint64(0) {
			for _, code := range codes[w*64 : w*64+64] {
				counts[code]++
			}
			continue
		}
		for m != 0 {
			counts[codes[w*64+bitsTrailing(m)]]++
			m &= m - 1
		}
	}
	return 0
}

func (a *aggregator) cols() []int                  { return a.cols_ }
func (a *aggregator) skipSegment(*Segment) bool    { return false }
func (a *aggregator) skipBlock(*Segment, int) bool { return false }
func (a *aggregator) countOnly() bool              { return false }
func (a *aggregator) addCount(int64)               { panic("BUG: addCount on aggregator") }

// visit groups a block's rows by dictionary code (or raw value) locally, then merges the
// block's groups into the global ones by value: dictionaries differ between segments
// and memtable chunks, values do not.
func (a *aggregator) visit(_ unitRef, _ int, b *columnar.Batch, sel []uint64) error {
	if a.codeCounting() {
		return a.visitCodes(b, sel)
	}
	clear(a.local)
	for w, m := range sel {
		for m != 0 {
			j := bitsTrailing(m)
			m &= m - 1
			r := w*64 + j
			a.kbuf = a.kbuf[:0]
			for _, c := range a.keys {
				if !b.Valid(c.Index, r) {
					a.kbuf = append(a.kbuf, 0)
					continue
				}
				a.kbuf = append(a.kbuf, 1)
				if isDictKind(c.Kind) {
					a.kbuf = binary.LittleEndian.AppendUint32(a.kbuf, uint32(b.Code(c.Index, r)))
				} else {
					a.kbuf = appendValueKey(a.kbuf, cellValue(b, c, r, &a.scr))
				}
			}
			g, ok := a.local[string(a.kbuf)]
			if !ok {
				g = &groupAcc{vals: make([]aggAcc, len(a.aggs))}
				for _, c := range a.keys {
					v := cellValue(b, c, r, &a.scr)
					v.s = strings.Clone(v.s)
					g.keys = append(g.keys, v)
				}
				a.local[string(a.kbuf)] = g
			}
			g.count++
			for i, ag := range a.aggs {
				if ag.Op == AggCount {
					continue
				}
				v := cellValue(b, a.acols[i], r, &a.scr)
				if v.k == TNull {
					continue
				}
				acc := &g.vals[i]
				acc.n++
				switch ag.Op {
				case AggSum, AggAverage:
					if v.k == TInt {
						acc.sumI += v.i
					} else {
						acc.sumF += v.f
					}
				case AggMin, AggMax:
					if acc.n == 1 {
						acc.best = v
						acc.best.s = strings.Clone(v.s)
						continue
					}
					c, ok := compareValues(v, acc.best)
					if ok && ((ag.Op == AggMin && c < 0) || (ag.Op == AggMax && c > 0)) {
						acc.best = v
						acc.best.s = strings.Clone(v.s)
					}
				case AggCountDistinct:
					if acc.distinct == nil {
						acc.distinct = map[string]struct{}{}
					}
					acc.distinct[string(appendValueKey(nil, v))] = struct{}{}
				}
			}
		}
	}
	for _, g := range a.local {
		a.kbuf = a.kbuf[:0]
		for _, v := range g.keys {
			a.kbuf = appendValueKey(a.kbuf, v)
		}
		a.mergeGroup(string(a.kbuf), g)
	}
	return a.checkGroups()
}

// ErrTooManyGroups is returned (wrapped, with the limit) when $apply would make more groups
// than Request.MaxGroups.
var ErrTooManyGroups = errors.New("too many groups")

func (a *aggregator) checkGroups() error {
	if len(a.groups) > a.maxGroups {
		return fmt.Errorf("%w: the $apply groupby makes more than %d groups; filter first or group by fewer, coarser properties", ErrTooManyGroups, a.maxGroups)
	}
	return nil
}

func (a *aggregator) fork() consumer {
	return &aggregator{s: a.s, keys: a.keys, aggs: a.aggs, acols: a.acols, cols_: a.cols_, maxGroups: a.maxGroups,
		groups: map[string]*groupAcc{}, local: map[string]*groupAcc{}}
}

func (a *aggregator) merge(o consumer) {
	oa := o.(*aggregator)
	if err := oa.foldCodes(); err != nil && a.err == nil {
		a.err = err
	}
	if oa.err != nil && a.err == nil {
		a.err = oa.err
	}
	for k, g := range oa.groups {
		a.mergeGroup(k, g)
	}
}

// mergeGroup adds g (whose keys encode to key) into the global groups.
func (a *aggregator) mergeGroup(key string, g *groupAcc) {
	dst, ok := a.groups[key]
	if !ok {
		a.groups[key] = g
		return
	}
	dst.count += g.count
	for i, ag := range a.aggs {
		x, y := &dst.vals[i], &g.vals[i]
		switch ag.Op {
		case AggSum, AggAverage:
			x.sumI += y.sumI
			x.sumF += y.sumF
		case AggMin, AggMax:
			if y.n == 0 {
				break
			}
			if x.n == 0 {
				x.best = y.best
				break
			}
			c, ok := compareValues(y.best, x.best)
			if ok && ((ag.Op == AggMin && c < 0) || (ag.Op == AggMax && c > 0)) {
				x.best = y.best
			}
		case AggCountDistinct:
			if x.distinct == nil {
				x.distinct = map[string]struct{}{}
			}
			for k := range y.distinct {
				x.distinct[k] = struct{}{}
			}
		}
		x.n += y.n
	}
}

// appendValueKey appends a self-delimiting encoding of v (for map keys).
func appendValueKey(dst []byte, v value) []byte {
	dst = append(dst, byte(v.k))
	switch v.k {
	case TString, TGUID:
		dst = binary.AppendUvarint(dst, uint64(len(v.s)))
		dst = append(dst, v.s...)
	case TFloat:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.f))
	case TBool:
		dst = append(dst, byte(b2i(v.b)))
	case TJSON:
		s := fmt.Sprint(v.j)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	case TNull:
	default:
		dst = binary.AppendVarint(dst, v.i)
	}
	return dst
}

func exportValue(v value) any {
	switch v.k {
	case TNull:
		return nil
	case TString, TGUID:
		return v.s
	case TInt:
		return v.i
	case TFloat:
		return v.f
	case TBool:
		return v.b
	case TTime, TDate:
		return string(columnar.AppendTime(nil, v.i))
	case TJSON:
		return v.j
	}
	return nil
}

// aggLimits are the per-call settings of an aggregation scan.
type aggLimits struct {
	noIndex   bool
	now       int64 // now() in the filter, Unix nanoseconds
	maxGroups int
}

// aggCols are the batch columns an aggregation reads: its keys and aggregated columns, and
// the extras column only when one of them is a GUID column (cellValue finds the non-GUID text
// of a GUID column there). The extras column is a block dictionary expanded for every row of
// a block it is read in: reading it for a count by application made a 48-hour scan of 3.4M
// rows spend half its time expanding it (~75 of ~100 ms, warm).
func aggCols(s *columnar.Schema, keys, acols []*columnar.Column) []int {
	var cols []int
	guid := false
	for _, c := range slices.Concat(keys, acols) {
		if c == nil || slices.Contains(cols, c.Index) {
			continue
		}
		cols = append(cols, c.Index)
		guid = guid || c.Kind == columnar.KindGUID
	}
	if guid {
		cols = append(cols, s.Extras())
	}
	return cols
}

func aggregate(ctx context.Context, s *columnar.Schema, src Source, f *Filter, keys []*columnar.Column, aggs []Agg, acols []*columnar.Column, ex *Explain, lim aggLimits) ([]Group, error) {
	switch {
	case lim.maxGroups == 0:
		lim.maxGroups = DefaultMaxGroups
	case lim.maxGroups < 0:
		lim.maxGroups = math.MaxInt
	}
	a := &aggregator{s: s, keys: keys, aggs: aggs, acols: acols, maxGroups: lim.maxGroups, groups: map[string]*groupAcc{}, local: map[string]*groupAcc{}}
	a.cols_ = aggCols(s, keys, acols)
	ex.Filter = f.text
	sc := &scanner{f: f, ex: ex, now: lim.now, noIndex: lim.noIndex}
	if err := sc.run(ctx, src, a); err != nil {
		return nil, err
	}
	if err := a.foldCodes(); err != nil { // a scan without workers visited here
		return nil, err
	}
	if a.err != nil { // a worker's, met as its groups were merged
		return nil, a.err
	}
	if err := a.checkGroups(); err != nil { // the workers' groups, merged
		return nil, err
	}
	// Groups come out in the order of their exported keys (compareAny, key by key), sorted
	// before the groups' maps are built: a map lookup a comparison was a twelfth of a count
	// by application.
	type keyed struct {
		keys []any
		g    *groupAcc
	}
	sorted := make([]keyed, 0, len(a.groups))
	for _, g := range a.groups {
		k := keyed{keys: make([]any, len(keys)), g: g}
		for i := range keys {
			k.keys[i] = exportValue(g.keys[i])
		}
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, func(x, y keyed) int {
		for i := range x.keys {
			if d := compareAny(x.keys[i], y.keys[i]); d != 0 {
				return d
			}
		}
		return 0
	})
	out := make([]Group, 0, len(sorted))
	for _, k := range sorted {
		g := k.g
		grp := Group{Keys: make(map[string]any, len(keys)), Values: make(map[string]any, len(aggs))}
		for i, c := range keys {
			grp.Keys[c.Name] = k.keys[i]
		}
		for i, ag := range aggs {
			acc := &g.vals[i]
			switch ag.Op {
			case AggCount:
				grp.Values[ag.Alias] = g.count
			case AggSum:
				if acols[i].Kind == columnar.KindInt32 {
					grp.Values[ag.Alias] = acc.sumI
				} else {
					grp.Values[ag.Alias] = acc.sumF
				}
			case AggAverage:
				if acc.n == 0 {
					grp.Values[ag.Alias] = nil
				} else {
					grp.Values[ag.Alias] = (float64(acc.sumI) + acc.sumF) / float64(acc.n)
				}
			case AggMin, AggMax:
				if acc.n == 0 {
					grp.Values[ag.Alias] = nil
				} else {
					grp.Values[ag.Alias] = exportValue(acc.best)
				}
			case AggCountDistinct:
				grp.Values[ag.Alias] = int64(len(acc.distinct))
			}
		}
		out = append(out, grp)
	}
	return out, nil
}

func compareAny(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch a := a.(type) {
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b)
		}
	case int64:
		if b, ok := b.(int64); ok {
			return cmp3(a, b)
		}
	case float64:
		if b, ok := b.(float64); ok {
			return cmp3(a, b)
		}
	case bool:
		if b, ok := b.(bool); ok {
			return cmp3(b2i(a), b2i(b))
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// runApply executes an OData $apply: filter(...) steps, then groupby((...),aggregate(...))
// or aggregate(...), then optional orderby(...) and top(n) over the groups.
func runApply(ctx context.Context, s *columnar.Schema, src Source, req Request, ex *Explain) ([]Group, error) {
	ap, err := syntax.ParseApply(req.Apply)
	if err != nil {
		return nil, wrapSyntax(err)
	}
	f, err := compileWhere(s, req.Filter, req.Where, Options{Version: req.Version})
	if err != nil {
		return nil, err
	}
	var keys []*columnar.Column
	var aggs []Agg
	var acols []*columnar.Column
	var post []syntax.Transformation
	grouped := false
	b := &binder{s: s, info: infoFor(s), version: f.versionOr(req.Version)}
	addAggs := func(st *syntax.AggregateStep) error {
		for _, it := range st.Items {
			if it.Alias == "" {
				return errorf(it.At, "aggregate needs an alias ('as name')")
			}
			if it.Count {
				aggs = append(aggs, Agg{Op: AggCount, Alias: it.Alias})
				acols = append(acols, nil)
				continue
			}
			p, ok := it.Expr.(*syntax.Path)
			if !ok {
				return errorf(it.At, "aggregate supports property paths only")
			}
			n, err := b.path(p)
			if err != nil {
				return err
			}
			c, ok := n.(*colNode)
			if !ok {
				return errorf(it.At, "cannot aggregate '%s'", pathText(p))
			}
			var op AggOp
			switch it.Method {
			case "sum":
				op = AggSum
			case "min":
				op = AggMin
			case "max":
				op = AggMax
			case "countdistinct":
				op = AggCountDistinct
			case "average":
				op = AggAverage
			default:
				return errorf(it.At, "aggregation method '%s' is not supported", it.Method)
			}
			if (op == AggSum || op == AggAverage) && c.t != TInt && c.t != TFloat {
				return errorf(it.At, "cannot %s '%s' (%s)", it.Method, c.col.Name, c.t)
			}
			aggs = append(aggs, Agg{Op: op, Property: c.col.Name, Alias: it.Alias})
			acols = append(acols, c.col)
		}
		return nil
	}
	for _, st := range ap.Steps {
		if grouped {
			post = append(post, st)
			continue
		}
		switch st := st.(type) {
		case *syntax.FilterStep:
			g, err := compileExpr(s, st.Cond, Options{Version: req.Version})
			if err != nil {
				return nil, err
			}
			f = f.and(g)
		case *syntax.GroupByStep:
			for _, p := range st.Paths {
				n, err := b.path(p)
				if err != nil {
					return nil, err
				}
				c, ok := n.(*colNode)
				if !ok || c.t == TJSON && c.col.Kind != columnar.KindJSONDict {
					return nil, errorf(p.At, "cannot group by '%s'", pathText(p))
				}
				keys = append(keys, c.col)
			}
			for _, t := range st.Then {
				ag, ok := t.(*syntax.AggregateStep)
				if !ok {
					return nil, errorf(t.Pos(), "only aggregate(...) is supported inside groupby")
				}
				if err := addAggs(ag); err != nil {
					return nil, err
				}
			}
			grouped = true
		case *syntax.AggregateStep:
			if err := addAggs(st); err != nil {
				return nil, err
			}
			grouped = true
		default:
			return nil, errorf(st.Pos(), "this transformation is not supported before groupby/aggregate")
		}
	}
	if !grouped {
		return nil, errorf(posOne, "$apply needs groupby(...) or aggregate(...)")
	}
	now := nowNanos()
	if req.Now != nil {
		now = req.Now().UnixNano()
	}
	groups, err := aggregate(ctx, s, src, f, keys, aggs, acols, ex, aggLimits{noIndex: req.noIndex, now: now, maxGroups: req.MaxGroups})
	if err != nil {
		return nil, err
	}
	for _, st := range post {
		switch st := st.(type) {
		case *syntax.OrderByStep:
			type ok struct {
				name string
				desc bool
			}
			var order []ok
			for _, it := range st.Items {
				p, isPath := it.Expr.(*syntax.Path)
				if !isPath {
					return nil, errorf(it.Expr.Pos(), "orderby after aggregation takes aliases or grouping properties")
				}
				order = append(order, ok{pathText(p), it.Desc})
			}
			slices.SortStableFunc(groups, func(x, y Group) int {
				for _, o := range order {
					xv, yv := lookupGroup(x, o.name), lookupGroup(y, o.name)
					if d := compareAny(xv, yv); d != 0 {
						if o.desc {
							return -d
						}
						return d
					}
				}
				return 0
			})
		case *syntax.TopStep:
			if int64(len(groups)) > st.N {
				groups = groups[:st.N]
			}
		case *syntax.SkipStep:
			groups = groups[min(int64(len(groups)), st.N):]
		default:
			return nil, errorf(st.Pos(), "only orderby, top and skip are supported after aggregation")
		}
	}
	return groups, nil
}

func lookupGroup(g Group, name string) any {
	if v, ok := g.Values[name]; ok {
		return v
	}
	for k, v := range g.Keys {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func (f *Filter) versionOr(v columnar.Version) columnar.Version {
	if v == 0 {
		return columnar.Beta
	}
	return v
}
