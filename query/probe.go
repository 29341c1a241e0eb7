package query

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/query/syntax"
)

// Index probes: a predicate is mapped to roaring bitmaps of segment rows. A probe result
// is exact (t = true rows, f = false rows) or a superset (t ⊇ true rows, f unknown).
// When no probe applies the caller scans. Every index answer that is not provably exact
// is re-checked by the residual kernels, so an index can make a query faster but never
// change its answer.

// maxProbeCodes bounds the postings unioned for one dictionary predicate; beyond it a
// scan is cheaper than the union.
const maxProbeCodes = 20000

type probeRes struct {
	t, f  *roaring.Bitmap
	exact bool
	all   bool // t is every row of the segment (a time window covering its day), known without counting
	// not, when t is nil, says the true rows are every row but not's: what a comparison
	// probed with prober.excluding may answer (see conjunction).
	not *roaring.Bitmap
}

type prober struct {
	seg   *columnar.Segment
	idx   *index.Reader
	unit  *unitState
	rows  uint32
	all   *roaring.Bitmap
	notes []ProbeStat
	err   error
	// wantF says whether the false rows of exact results are needed: only under a not. A
	// conjunction of exact probes uses the true rows alone, and the complement of a dense
	// posting (errorCode 50126: 4% of every day) costs more than the probe itself.
	wantF bool
	// explain: the probes' notes are wanted (Explain.wantProbes).
	explain bool
	// excluding lets the comparison probed now answer with probeRes.not (probeConjunct).
	excluding bool
	// codesOf and codes remember the last dictCodes answer: a count that cannot be summed
	// (dictCount) probes the same predicate next, and listing its codes tests every entry.
	codesOf *pDict
	codes   dictCodes
	codesOK bool
}

func (pr *prober) universe() *roaring.Bitmap {
	if pr.all == nil {
		pr.all = index.AllRows(pr.rows)
	}
	return pr.all
}

// note records a probe for Explain. what is called only then: formatting every probe's text
// was a twentieth of a warm correlation-id lookup that asked for no Explain.
func (pr *prober) note(what func() string, bm *roaring.Bitmap, exact bool) {
	if !pr.explain {
		return
	}
	pr.notes = append(pr.notes, ProbeStat{Probe: what(), Rows: int64(bm.GetCardinality()), Exact: exact})
}

func (pr *prober) fail(err error) (probeRes, bool) {
	if pr.err == nil {
		pr.err = err
	}
	return probeRes{}, false
}

// restF is rest for a result's false rows: nil when nothing will read them (see wantF).
func (pr *prober) restF(a, b *roaring.Bitmap) *roaring.Bitmap {
	if !pr.wantF {
		return nil
	}
	return pr.rest(a, b)
}

// rest returns universe − a − b.
//
// The universe is built of bitmap containers (roaring.FromDense makes no run containers), so
// the subtraction works word by word and so does a later intersection with it. A universe of
// one run ([0, rows)) converted a dense posting element by element (9 ms for "errorCode ne 0"
// on a 166K-row segment); a flip of the posting made run containers, and roaring intersects
// two run containers into an array container one run at a time, reallocating the array for
// each (quadratic: half of "top failing apps, 48 h" at 1M events went to it).
func (pr *prober) rest(a, b *roaring.Bitmap) *roaring.Bitmap {
	u := a
	if b != nil {
		u = roaring.Or(a, b)
	}
	words := make([]uint64, (pr.rows+63)/64)
	for i := range words {
		words[i] = ^uint64(0)
	}
	if tail := pr.rows % 64; tail != 0 {
		words[len(words)-1] = 1<<tail - 1
	}
	return roaring.AndNot(roaring.FromDense(words, false), u)
}

// union returns the union of a dictionary column's postings (disjoint: one code a row). A few
// are or-ed by roaring; more are gathered into a dense bitset of the segment's rows: postings
// of a column sorted by user are many short runs, and roaring merges run containers into an
// array container one run at a time, reallocating it for each (three fifths of
// "startswith(appDisplayName,'Microsoft')" at 1M events, twenty codes in each segment).
// A dense posting is written whole (runs as word ranges), a sparse one value by value.
//
// The union of one posting is that posting, not a copy (copying it was 15% of a count of
// failures from one country at 100M): what union returns may be the index's own bitmap, so
// it is never changed in place (roaring.Or and friends make new ones).
func (pr *prober) union(bms []*roaring.Bitmap) *roaring.Bitmap {
	if len(bms) == 1 {
		return bms[0]
	}
	if len(bms) <= 2 {
		return roaring.FastOr(bms...)
	}
	n := uint64(pr.rows+63) / 64
	words := make([]uint64, n)
	var scratch []uint64
	var buf [256]uint32
	for _, bm := range bms {
		size := bm.DenseSize()
		if size > n {
			return roaring.FastOr(bms...) // a row past the segment's: roaring's union, not a panic
		}
		if bm.GetCardinality()*4 < size {
			it := bm.ManyIterator()
			for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
				for _, x := range buf[:k] {
					words[x>>6] |= 1 << (x & 63)
				}
			}
			continue
		}
		// WriteDenseTo ors arrays and runs in but copies bitmap containers over: a zeroed
		// scratch, then or.
		if scratch == nil {
			scratch = make([]uint64, n)
		}
		s := scratch[:size]
		clear(s)
		bm.WriteDenseTo(s)
		for i, w := range s {
			words[i] |= w
		}
	}
	return roaring.FromDense(words, false)
}

func (pr *prober) probe(p pred) (probeRes, bool) {
	if pr.err != nil {
		return probeRes{}, false
	}
	switch p := p.(type) {
	case *pConst:
		e := roaring.New()
		switch p.t {
		case triTrue:
			return probeRes{t: pr.universe().Clone(), f: e, exact: true, all: true}, true
		case triFalse:
			return probeRes{t: e, f: pr.universe().Clone(), exact: true}, true
		}
		return probeRes{t: e, f: roaring.New(), exact: true}, true
	case *pLogic:
		return pr.logic(p)
	case *pNot:
		saved := pr.wantF
		pr.wantF = true
		r, ok := pr.probe(p.x)
		pr.wantF = saved
		if !ok || !r.exact {
			return probeRes{}, false
		}
		return probeRes{t: r.f, f: r.t, exact: true}, true
	case *pDict:
		return pr.dict(p)
	case *pCmp:
		return pr.cmp(p)
	case *pBare:
		if !pr.idx.Has(p.col.Name, index.KindBools) {
			return probeRes{}, false
		}
		t, err := pr.idx.Bools(p.col.Name, true)
		if err != nil {
			return pr.fail(err)
		}
		f, err := pr.idx.Bools(p.col.Name, false)
		if err != nil {
			return pr.fail(err)
		}
		pr.note(func() string { return p.col.Name + " = true" }, t, true)
		return probeRes{t: t, f: f, exact: true}, true
	case *pGeneric:
		if len(p.cols) == 1 && p.cols[0].Kind == columnar.KindInt32 && pr.idx.Has(p.cols[0].Name, index.KindInt32) {
			return pr.int32Values(p.cols[0], p.n, func() string { return "f(" + p.cols[0].Name + ")" })
		}
		if c, op, ok := guidText(p); ok {
			return pr.guidText(c, op)
		}
	}
	return probeRes{}, false
}

// guidText recognises a GUID column compared (eq, ne) with a string that is not a GUID: an id
// mistyped or cut short. Such a literal can equal only the verbatim text of a value that was
// not a GUID either, which a row keeps in its extras with the typed cell null (columnar's
// decoder; an id that is not a GUID is refused), so a segment whose column has no null answers
// it from its footer, instead of scanning every row's extras (3.6 s over 10M events).
func guidText(p *pGeneric) (*columnar.Column, syntax.BinaryOp, bool) {
	c, ok := p.n.(*cmpNode)
	if !ok || len(p.cols) != 1 || p.cols[0].Kind != columnar.KindGUID || (c.op != syntax.OpEq && c.op != syntax.OpNe) {
		return nil, 0, false
	}
	col, lit := c.l, c.r
	if _, isLit := col.(*litNode); isLit {
		col, lit = lit, col
	}
	cn, ok1 := col.(*colNode)
	ln, ok2 := lit.(*litNode)
	if !ok1 || !ok2 || cn.col != p.cols[0] || ln.v.k != TString {
		return nil, 0, false
	}
	if _, isGUID, _ := columnar.ParseGUID([]byte(ln.v.s)); isGUID {
		return nil, 0, false
	}
	return cn.col, c.op, true
}

// guidText probes a GUID column against a literal that is not a GUID (see the function
// guidText): exact when the segment stores the column with no null, no row then holding text
// the literal could equal.
func (pr *prober) guidText(c *columnar.Column, op syntax.BinaryOp) (probeRes, bool) {
	metas, err := pr.seg.Columns()
	if err != nil {
		return pr.fail(err)
	}
	for _, m := range metas {
		if m.Name != c.Name || m.Nulls != 0 {
			continue
		}
		none := roaring.New()
		pr.note(func() string { return c.Name + " holds only GUIDs" }, none, true)
		if op == syntax.OpEq {
			return probeRes{t: none, f: pr.restF(none, nil), exact: true}, true
		}
		return probeRes{t: pr.rest(none, nil), f: none, exact: true}, true
	}
	return probeRes{}, false
}

func (pr *prober) logic(p *pLogic) (probeRes, bool) {
	var res probeRes
	have, exact := false, true
	for _, k := range p.kids {
		r, ok := pr.probe(k)
		if pr.err != nil {
			return probeRes{}, false
		}
		if !ok {
			if !p.and {
				return probeRes{}, false
			}
			exact = false
			continue
		}
		exact = exact && r.exact
		if !have {
			res, have = r, true
			continue
		}
		if p.and {
			res.t = roaring.And(res.t, r.t)
			if res.f != nil && r.f != nil {
				res.f = roaring.Or(res.f, r.f)
			}
			res.all = res.all && r.all
		} else {
			res.t = roaring.Or(res.t, r.t)
			if res.f != nil && r.f != nil {
				res.f = roaring.And(res.f, r.f)
			}
			res.all = res.all || r.all
		}
	}
	if !have {
		return probeRes{}, false
	}
	res.exact = exact
	res.all = res.all && exact
	if !exact {
		res.f = nil
	}
	return res, true
}

// segmentDict returns the segment-global dictionary of a dictionary column (read page by page).
func (pr *prober) segmentDict(c *columnar.Column) (d columnar.Dict, ok bool) {
	d, ok, err := pr.seg.Dict(c.Index)
	if err != nil {
		pr.err = err
		return d, false
	}
	return d, ok
}

// dictCodes lists the codes of a dictionary predicate's segment dictionary that a probe reads
// the postings of: the true ones or the false ones, whichever are fewer, and those the
// predicate is null for.
type dictCodes struct {
	trues, falses, nulls []int
	smallTrue            bool  // trues are listed, else falses
	nullTruth            uint8 // the predicate's value on a null (tabTrue, tabFalse or neither)
	nTrue, nd            int   // true codes, codes
}

// dictCodes lists p's codes in the segment, or says the index cannot answer p (no codes
// section, no segment dictionary, too many codes to probe; pr.err on an error).
func (pr *prober) dictCodes(p *pDict) (dictCodes, bool) {
	if pr.codesOf != p {
		pr.codes, pr.codesOK = pr.listCodes(p)
		pr.codesOf = p
	}
	return pr.codes, pr.codesOK
}

func (pr *prober) listCodes(p *pDict) (dictCodes, bool) {
	name := p.col.Name
	if !pr.idx.Has(name, index.KindCodes) {
		return dictCodes{}, false
	}
	dict, ok := pr.segmentDict(p.col)
	if !ok {
		return dictCodes{}, false
	}
	nd := dict.Len()
	var (
		nTrue, nFalse, nNull int
		trues, falses, nulls []int
		smallTrue            bool
		nullTruth            uint8
		foldDone             bool
	)
	if p.eq != nil && p.eqFold {
		// A case-insensitive equality looks its codes up in the segment's fold index instead
		// of comparing every entry of the dictionary (columnar/dictfold.go).
		codes, err := pr.seg.DictionaryFold(p.col.Index, *p.eq)
		if err != nil {
			pr.fail(err)
			return dictCodes{}, false
		}
		nTrue, nFalse = len(codes), nd-len(codes)
		if p.eqNot {
			nTrue, nFalse = nFalse, nTrue
		}
		// The listed side must be the matching codes: a dictionary where they are the larger
		// side (a few entries) takes the table below.
		if smallTrue = nTrue <= nFalse; smallTrue != p.eqNot {
			list := make([]int, len(codes))
			for i, c := range codes {
				list[i] = int(c)
			}
			if smallTrue {
				trues = list
			} else {
				falses = list
			}
			nullTruth = pr.unit.nullTruth(p)
			foldDone = true
		}
	}
	if !foldDone {
		tab := pr.unit.table(p, dict)
		if err := dict.Err(); err != nil {
			pr.fail(err)
			return dictCodes{}, false
		}
		nullTruth = tab[nd]
		// Count first, then list only the codes probed: the smaller of the true and false
		// sides, and the null one (listing every false code of a UPN match was a quarter of
		// the probe).
		nTrue, nFalse, nNull = 0, 0, 0
		for _, v := range tab[:nd] {
			switch v {
			case tabTrue:
				nTrue++
			case tabFalse:
				nFalse++
			default:
				nNull++
			}
		}
		if min(nTrue, nFalse)+nNull > maxProbeCodes {
			return dictCodes{}, false
		}
		smallTrue = nTrue <= nFalse
		for code, v := range tab[:nd] {
			switch {
			case v == tabTrue && smallTrue:
				trues = append(trues, code)
			case v == tabFalse && !smallTrue:
				falses = append(falses, code)
			case v != tabTrue && v != tabFalse:
				nulls = append(nulls, code)
			}
		}
	} else if min(nTrue, nFalse) > maxProbeCodes {
		return dictCodes{}, false
	}
	return dictCodes{trues: trues, falses: falses, nulls: nulls, smallTrue: smallTrue, nullTruth: nullTruth, nTrue: nTrue, nd: nd}, true
}

func (pr *prober) dict(p *pDict) (probeRes, bool) {
	dc, ok := pr.dictCodes(p)
	if !ok {
		return probeRes{}, false
	}
	name := p.col.Name
	trues, falses, nulls, smallTrue, nullTruth := dc.trues, dc.falses, dc.nulls, dc.smallTrue, dc.nullTruth
	union := func(codes []int) (*roaring.Bitmap, error) {
		pr.idx.WillProbe(name, index.KindCodes, len(codes))
		bms := make([]*roaring.Bitmap, 0, len(codes))
		for _, c := range codes {
			bm, err := pr.idx.Codes(name, uint32(c))
			if err != nil {
				return nil, err
			}
			bms = append(bms, bm)
		}
		return pr.union(bms), nil
	}
	// The rows whose code is the null code are read only when the answer uses them: a listed
	// true side that takes no null row, with no false rows wanted (an equality, not under a
	// not), does not; reading them was two of the five reads a cold UPN probe made.
	var nullRows *roaring.Bitmap
	if !smallTrue || pr.wantF || nullTruth == tabTrue {
		var err error
		if nullRows, err = pr.idx.CodesNull(name); err != nil {
			return pr.fail(err)
		}
	}
	n, err := union(nulls)
	if err != nil {
		return pr.fail(err)
	}
	var t, f *roaring.Bitmap
	if smallTrue {
		if t, err = union(trues); err != nil {
			return pr.fail(err)
		}
	} else if f, err = union(falses); err != nil {
		return pr.fail(err)
	}
	switch nullTruth {
	case tabTrue:
		if smallTrue {
			t = roaring.Or(t, nullRows)
		}
	case tabFalse:
		if !smallTrue {
			f = roaring.Or(f, nullRows)
		}
	default:
		if nullRows != nil { // else only f would hold them, and f is not wanted
			n = roaring.Or(n, nullRows)
		}
	}
	if smallTrue {
		f = pr.restF(t, n)
	} else {
		t = pr.rest(f, n)
	}
	pr.note(func() string { return fmt.Sprintf("%s: %d of %d codes", name, dc.nTrue, dc.nd) }, t, true)
	return probeRes{t: t, f: f, exact: true}, true
}

// dictCount is the number of rows dict's true bitmap would hold, from the postings' counts
// alone (Reader.CodesCount): a row has one code, so the postings are disjoint and the count is a
// sum. A count of one application's sign-ins thus unions no bitmaps, and once the counts are
// known reads no postings.
func (pr *prober) dictCount(p *pDict) (uint64, bool) {
	dc, ok := pr.dictCodes(p)
	if !ok {
		return 0, false
	}
	name := p.col.Name
	sum := func(codes []int) (uint64, error) {
		pr.idx.WillProbe(name, index.KindCodes, len(codes)) // a section too large to keep counts
		var n uint64
		for _, c := range codes {
			k, err := pr.idx.CodesCount(name, uint32(c))
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	}
	var n uint64
	if dc.smallTrue {
		t, err := sum(dc.trues)
		if err != nil {
			pr.fail(err)
			return 0, false
		}
		if dc.nullTruth == tabTrue {
			k, err := pr.idx.CodesNullCount(name)
			if err != nil {
				pr.fail(err)
				return 0, false
			}
			t += k
		}
		n = t
	} else {
		// The true rows are the rest: all rows but the false codes', the null-valued codes'
		// and, unless the predicate is true on a null, the null code's.
		f, err := sum(dc.falses)
		if err == nil {
			var k uint64
			k, err = sum(dc.nulls)
			f += k
		}
		if err == nil && dc.nullTruth != tabTrue {
			var k uint64
			k, err = pr.idx.CodesNullCount(name)
			f += k
		}
		if err == nil && f > uint64(pr.rows) {
			err = fmt.Errorf("index %s: postings of %d rows in a segment of %d", name, f, pr.rows)
		}
		if err != nil {
			pr.fail(err)
			return 0, false
		}
		n = uint64(pr.rows) - f
	}
	if pr.explain {
		pr.notes = append(pr.notes, ProbeStat{Probe: fmt.Sprintf("%s: %d of %d codes, counted", name, dc.nTrue, dc.nd), Rows: int64(n), Exact: true})
	}
	return n, true
}

func (pr *prober) cmp(p *pCmp) (probeRes, bool) {
	name := p.col.Name
	switch p.col.Kind {
	case columnar.KindBool:
		if !pr.idx.Has(name, index.KindBools) {
			return probeRes{}, false
		}
		want := p.i == 1
		if p.op == syntax.OpNe {
			want = !want
		}
		t, err := pr.idx.Bools(name, want)
		if err != nil {
			return pr.fail(err)
		}
		if p.op == syntax.OpNe {
			// null ne x is true
			nulls, err := pr.idx.BoolsNull(name)
			if err != nil {
				return pr.fail(err)
			}
			t = roaring.Or(t, nulls)
		}
		pr.note(func() string { return fmt.Sprintf("%s = %v", name, want) }, t, true)
		return probeRes{t: t, f: pr.restF(t, nil), exact: true}, true
	case columnar.KindInt32:
		if !pr.idx.Has(name, index.KindInt32) {
			return probeRes{}, false
		}
		if p.op == syntax.OpEq || p.op == syntax.OpNe {
			var bm *roaring.Bitmap
			var err error
			if p.i >= -1<<31 && p.i < 1<<31 {
				bm, err = pr.idx.Int32(name, int32(p.i))
			} else {
				bm = roaring.New()
			}
			if err != nil {
				return pr.fail(err)
			}
			pr.note(func() string { return fmt.Sprintf("%s = %d", name, p.i) }, bm, true)
			if p.op == syntax.OpEq {
				return probeRes{t: bm, f: pr.restF(bm, nil), exact: true}, true
			}
			if pr.excluding {
				return probeRes{not: bm, f: bm, exact: true}, true
			}
			return probeRes{t: pr.rest(bm, nil), f: bm, exact: true}, true
		}
		lit := &litNode{v: value{k: TInt, i: p.i}}
		return pr.int32Values(p.col, &cmpNode{op: p.op, l: &colNode{col: p.col, t: TInt}, r: lit}, func() string { return fmt.Sprintf("%s %s %d", name, p.op, p.i) })
	case columnar.KindGUID:
		if p.op != syntax.OpEq || !pr.idx.Has(name, index.KindKeys) {
			return probeRes{}, false
		}
		t, err := pr.idx.Keys(name, p.g[:])
		if err != nil {
			return pr.fail(err)
		}
		pr.note(func() string { return fmt.Sprintf("%s = %s (keys)", name, columnar.FormatGUID(p.g[:])) }, t, false)
		return probeRes{t: t}, true
	case columnar.KindTime:
		return pr.zone(p)
	}
	return probeRes{}, false
}

// int32Values evaluates a predicate on an int32 column once per distinct value and
// unions the postings of the values for which it holds.
func (pr *prober) int32Values(c *columnar.Column, n node, what func() string) (probeRes, bool) {
	vals, err := pr.idx.Int32Values(c.Name)
	if err != nil {
		return pr.fail(err)
	}
	pr.idx.WillProbe(c.Name, index.KindInt32, len(vals)) // at most that many; the section is small
	g := &entryGetter{}
	ctx := &evalCtx{row: g, now: pr.unit.now}
	var t, nl []*roaring.Bitmap
	for _, v := range vals {
		g.v = value{k: TInt, i: int64(v)}
		r := eval(n, ctx).asTri()
		if r == triFalse {
			continue
		}
		bm, err := pr.idx.Int32(c.Name, v)
		if err != nil {
			return pr.fail(err)
		}
		if r == triTrue {
			t = append(t, bm)
		} else {
			nl = append(nl, bm)
		}
	}
	nulls, err := pr.idx.Int32Null(c.Name)
	if err != nil {
		return pr.fail(err)
	}
	g.v = nullValue
	switch eval(n, ctx).asTri() {
	case triTrue:
		t = append(t, nulls)
	case triNull:
		nl = append(nl, nulls)
	}
	tb := roaring.FastOr(t...)
	pr.note(what, tb, true)
	var f *roaring.Bitmap
	if pr.wantF {
		f = pr.rest(tb, roaring.FastOr(nl...))
	}
	return probeRes{t: tb, f: f, exact: true}, true
}

// zone uses the per-block min/max of a time column: blocks wholly inside the range are
// exact, blocks wholly outside are excluded, the rest are candidates.
func (pr *prober) zone(p *pCmp) (probeRes, bool) {
	if !pr.idx.Has(p.col.Name, index.KindZoneMapInt64) {
		return probeRes{}, false
	}
	zm, err := pr.idx.ZoneMapInt64(p.col.Name)
	if err != nil {
		return pr.fail(err)
	}
	var t, f rangeRun
	exact, all := true, true
	start := uint64(0)
	for b := 0; b < zm.Blocks(); b++ {
		n := uint64(zm.BlockLen(b))
		lo, hi, nulls := zm.Min[b], zm.Max[b], int(zm.Nulls[b])
		if zm.AllNull(b) {
			// null eq c is false, null ne c is true, orderings are null (neither set).
			switch p.op {
			case syntax.OpEq:
				f.add(start, start+n)
				all = false
			case syntax.OpNe:
				t.add(start, start+n)
			default:
				all = false
			}
			start += n
			continue
		}
		every, none := zoneDecide(p.op, p.i, lo, hi)
		switch {
		case nulls == 0 && every, nulls > 0 && every && p.op == syntax.OpNe:
			t.add(start, start+n)
		case nulls == 0 && none, nulls > 0 && none && p.op == syntax.OpEq:
			f.add(start, start+n)
			all = false
		case none:
			exact, all = false, false // no true rows, but nulls and falses are mixed
		default:
			t.add(start, start+n)
			exact, all = false, false
		}
		start += n
	}
	tb, fb := t.bitmap(), f.bitmap()
	pr.note(func() string {
		return fmt.Sprintf("%s %s %s (zone map)", p.col.Name, p.op, columnar.AppendTime(nil, p.i))
	}, tb, exact)
	if !exact {
		return probeRes{t: tb}, true
	}
	return probeRes{t: tb, f: fb, exact: true, all: all && start == uint64(pr.rows)}, true
}

// rangeRun builds a bitmap of ascending row ranges, joining adjacent ones: roaring adds a
// range to a run container by a union that allocates, and a day's blocks, one range each,
// were a tenth of a count over its last 48 hours.
type rangeRun struct {
	bm     *roaring.Bitmap
	lo, hi uint64 // the pending range; empty when lo == hi
}

func (r *rangeRun) add(lo, hi uint64) {
	if lo == r.hi && r.lo != r.hi {
		r.hi = hi
		return
	}
	r.flush()
	r.lo, r.hi = lo, hi
}

func (r *rangeRun) flush() {
	if r.lo == r.hi {
		return
	}
	if r.bm == nil {
		r.bm = roaring.New()
	}
	r.bm.AddRange(r.lo, r.hi)
	r.lo, r.hi = 0, 0
}

func (r *rangeRun) bitmap() *roaring.Bitmap {
	r.flush()
	if r.bm == nil {
		return roaring.New()
	}
	return r.bm
}

// zoneDecide says whether every (all) or no (none) value in [lo, hi] satisfies v op c.
func zoneDecide(op syntax.BinaryOp, c, lo, hi int64) (all, none bool) {
	switch op {
	case syntax.OpEq:
		return lo == c && hi == c, c < lo || c > hi
	case syntax.OpNe:
		return c < lo || c > hi, lo == c && hi == c
	case syntax.OpGt:
		return lo > c, hi <= c
	case syntax.OpGe:
		return lo >= c, hi < c
	case syntax.OpLt:
		return hi < c, lo >= c
	case syntax.OpLe:
		return hi <= c, lo > c
	}
	return false, false
}
