package query

import (
	"encoding/binary"
	"encoding/json"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query/syntax"
)

// Residual kernels: each evaluates one predicate over one block (a segment block or a
// memtable chunk) into two word bitmaps, T (rows where it is true) and F (false). Nulls
// are the rows in neither, so and/or/not are word operations:
//
//	and: T = Ta & Tb, F = Fa | Fb     or: T = Ta | Tb, F = Fa & Fb     not: swap
//
// Rows outside the candidate set may hold any value: the caller ANDs the final T with it.

// unitState caches per-unit work (a segment or a memtable chunk): the per-entry truth
// tables of dictionary predicates. A segment's dictionary is segment-global, so a table
// is computed once per segment, not per block.
type unitState struct {
	sorted bool // dictionaries are sorted (segments), so equality is a binary search
	tables map[*pDict][]uint8
	lazy   map[*pDict][]uint8 // residual tables, filled as rows use entries
	now    int64
	values valueTruths // shared by the memtable chunks a worker scans; nil for segments
}

// valueTruths are answers of dictionary predicates by value, for the memtable chunks of one
// scan: each chunk has a dictionary of its own, and a predicate over a JSON column parsed the
// same few values again in each of a hundred chunks (a conditional-access lambda filter:
// 4% of a loaded server's CPU). Bounded: a predicate over a column of many distinct values
// stops adding to it.
type valueTruths map[valueKey]uint8

type valueKey struct {
	p *pDict
	v string
}

const maxValueTruths = 1 << 14

// Entry table values: bit 0 = true, bit 1 = false, 0 = null. The last entry is for
// null rows.
const (
	tabNull  = 0
	tabTrue  = 1
	tabFalse = 2
	// tabUnknown marks a dictionary entry not evaluated yet (lazy tables of residual kernels).
	tabUnknown = 3
)

func tabOf(t tri) uint8 {
	switch t {
	case triTrue:
		return tabTrue
	case triFalse:
		return tabFalse
	}
	return tabNull
}

type blockEval struct {
	b    *columnar.Batch
	n    int
	nw   int
	unit *unitState
	cand []uint64
	pool [][]uint64
	// rowsScanned counts rows touched by kernels, for Explain.
	rowsScanned int64
}

func (be *blockEval) words() []uint64 {
	if len(be.pool) > 0 {
		w := be.pool[len(be.pool)-1]
		be.pool = be.pool[:len(be.pool)-1]
		clear(w)
		return w
	}
	return make([]uint64, be.nw)
}

func (be *blockEval) free(w ...[]uint64) { be.pool = append(be.pool, w...) }

// tailMask clears bits past the last row.
func (be *blockEval) tailMask(w []uint64) {
	if r := be.n % 64; r != 0 {
		w[be.nw-1] &= (1 << r) - 1
	}
}

// validity returns the validity bits and bit offset of column idx; bits == nil means
// every row is valid. present=false means the column is absent (all null).
func (be *blockEval) validity(idx int) (bits []byte, off int, present bool) {
	a := be.b.Array(idx)
	if a == nil {
		return nil, 0, false
	}
	if a.NullN() == 0 {
		return nil, 0, true
	}
	return a.NullBitmapBytes(), a.Data().Offset(), true
}

func bitAt(bits []byte, i int) bool { return bits[i>>3]&(1<<(i&7)) != 0 }

// validWords returns the valid rows of column idx as words (all ones when no nulls).
func (be *blockEval) validWords(idx int) []uint64 {
	w := be.words()
	bits, off, present := be.validity(idx)
	if !present {
		return w
	}
	if bits == nil {
		for i := range w {
			w[i] = ^uint64(0)
		}
		be.tailMask(w)
		return w
	}
	bitsToWords(w, bits, off, be.n)
	return w
}

// bitsToWords copies n bits of an Arrow bitmap starting at bit off into words. Arrow
// bitmaps are little-endian bit order, so a byte-aligned start is a plain copy.
func bitsToWords(w []uint64, bits []byte, off, n int) {
	if off%8 == 0 {
		src := bits[off/8:]
		full := n / 64
		for i := 0; i < full; i++ {
			w[i] = binary.LittleEndian.Uint64(src[i*8:])
		}
		for r := full * 64; r < n; r++ {
			if src[r>>3]&(1<<(r&7)) != 0 {
				w[r>>6] |= 1 << (r & 63)
			}
		}
		return
	}
	for r := 0; r < n; r++ {
		if bitAt(bits, r+off) {
			w[r>>6] |= 1 << (r & 63)
		}
	}
}

func (be *blockEval) eval(p pred) (t, f []uint64) {
	switch p := p.(type) {
	case *pConst:
		t, f = be.words(), be.words()
		switch p.t {
		case triTrue:
			fill(t)
		case triFalse:
			fill(f)
		}
		be.tailMask(t)
		be.tailMask(f)
		return t, f
	case *pLogic:
		t, f = be.eval(p.kids[0])
		for _, k := range p.kids[1:] {
			t2, f2 := be.eval(k)
			for i := range t {
				if p.and {
					t[i] &= t2[i]
					f[i] |= f2[i]
				} else {
					t[i] |= t2[i]
					f[i] &= f2[i]
				}
			}
			be.free(t2, f2)
		}
		return t, f
	case *pNot:
		t, f = be.eval(p.x)
		return f, t
	case *pDict:
		return be.dict(p)
	case *pCmp:
		return be.cmp(p)
	case *pBare:
		return be.bare(p)
	case *pGeneric:
		return be.generic(p)
	}
	panic("BUG: unknown pred")
}

func fill(w []uint64) {
	for i := range w {
		w[i] = ^uint64(0)
	}
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// entryGetter returns one fixed value for the single column of a dictionary predicate.
type entryGetter struct{ v value }

func (g *entryGetter) get(*columnar.Column) value { return g.v }

// dictTable computes (or fetches) the per-entry truth table of p for the dictionary of
// the current block.
func (be *blockEval) dictTable(p *pDict) []uint8 {
	d := be.b.Dict(p.col.Index)
	if p.eq == nil || p.eqFold {
		return be.unit.lazyTable(p, d)
	}
	return be.unit.table(p, d)
}

// lazyTable is table for residual kernels: entries are evaluated when a selected row first
// uses them (tabUnknown until then). After an index probe has narrowed a block to a few rows,
// a predicate such as a case-insensitive UPN match costs a few evaluations instead of one per
// user in the segment's dictionary.
func (u *unitState) lazyTable(p *pDict, d columnar.Dict) []uint8 {
	nd := d.Len()
	if tab, ok := u.lazy[p]; ok && len(tab) == nd+1 {
		return tab
	}
	tab := make([]uint8, nd+1)
	for i := range nd {
		tab[i] = tabUnknown
	}
	ctx := &evalCtx{now: u.now, row: &entryGetter{v: nullValue}}
	tab[nd] = tabOf(eval(p.n, ctx).asTri())
	if u.lazy == nil {
		u.lazy = map[*pDict][]uint8{}
	}
	u.lazy[p] = tab
	return tab
}

// entry evaluates p for dictionary entry code and records the answer in tab.
func (u *unitState) entry(p *pDict, tab []uint8, d columnar.Dict, code int32) uint8 {
	raw := d.Value(code)
	if p.eq != nil && p.eqFold {
		// As table compares them: a memtable chunk's dictionary is its own, so a UPN's
		// sign-ins evaluated the tree for the names of each of a hundred chunks.
		v := foldTruth(p, raw, columnar.IsASCII(*p.eq))
		tab[code] = v
		return v
	}
	if p.match != nil {
		v := uint8(tabFalse)
		if p.match(raw) {
			v = tabTrue
		}
		tab[code] = v
		return v
	}
	if v, ok := u.values[valueKey{p, unsafeString(raw)}]; ok {
		tab[code] = v
		return v
	}
	g := &entryGetter{}
	if p.col.Kind == columnar.KindJSONDict {
		g.v = parseJSONValue(raw)
	} else {
		g.v = value{k: TString, s: unsafeString(raw)}
	}
	v := tabOf(eval(p.n, &evalCtx{now: u.now, row: g}).asTri())
	tab[code] = v
	if u.values != nil && len(u.values) < maxValueTruths {
		u.values[valueKey{p, string(raw)}] = v
	}
	return v
}

// foldTruth is what p, a case-insensitive equality (eqFold), says of dictionary value raw;
// ascii is columnar.IsASCII(*p.eq).
func foldTruth(p *pDict, raw []byte, ascii bool) uint8 {
	if columnar.EqualFold(raw, *p.eq, ascii) != p.eqNot {
		return tabTrue
	}
	return tabFalse
}

// nullTruth is what p says of a row whose column is null (the last entry of a table).
func (u *unitState) nullTruth(p *pDict) uint8 {
	ctx := &evalCtx{now: u.now}
	ctx.row = &entryGetter{v: nullValue}
	return tabOf(eval(p.n, ctx).asTri())
}

// table returns the truth table of p for a dictionary, computing it on first use in
// this unit.
func (u *unitState) table(p *pDict, d columnar.Dict) []uint8 {
	nd := d.Len()
	if tab, ok := u.tables[p]; ok && len(tab) == nd+1 {
		return tab
	}
	tab := make([]uint8, nd+1)
	ctx := &evalCtx{now: u.now}
	g := &entryGetter{}
	ctx.row = g
	tab[nd] = u.nullTruth(p)
	if p.eq != nil && p.eqFold {
		ascii := columnar.IsASCII(*p.eq)
		for i := range nd {
			tab[i] = foldTruth(p, d.Value(int32(i)), ascii)
		}
	} else if p.eq != nil {
		// Exact equality: every entry but one has the same answer.
		other := tabFalse
		if p.eqNot {
			other = tabTrue
		}
		for i := range nd {
			tab[i] = uint8(other)
		}
		if code := findCode(d, *p.eq, u.sorted); code >= 0 {
			tab[code] = uint8(tabTrue + tabFalse - other)
		}
	} else if p.match != nil {
		for i := range nd {
			tab[i] = tabFalse
			if p.match(d.Value(int32(i))) {
				tab[i] = tabTrue
			}
		}
	} else {
		for i := range nd {
			raw := d.Value(int32(i))
			if p.col.Kind == columnar.KindJSONDict {
				g.v = parseJSONValue(raw)
			} else {
				g.v = value{k: TString, s: unsafeString(raw)}
			}
			tab[i] = tabOf(eval(p.n, ctx).asTri())
		}
	}
	if u.tables == nil {
		u.tables = map[*pDict][]uint8{}
	}
	u.tables[p] = tab
	return tab
}

// findCode returns the code of s in a dictionary, or -1. A sorted one (a segment's) is binary
// searched: a few of its pages are read.
func findCode(d columnar.Dict, s string, sorted bool) int {
	nd := d.Len()
	if nd <= 0 {
		return -1
	}
	if sorted {
		i := d.Search(0, nd, func(v []byte) bool { return string(v) >= s })
		if i < nd && string(d.Value(int32(i))) == s {
			return i
		}
		return -1
	}
	for i := range nd {
		if string(d.Value(int32(i))) == s {
			return i
		}
	}
	return -1
}

func (be *blockEval) dict(p *pDict) (t, f []uint64) {
	t, f = be.words(), be.words()
	idx := p.col.Index
	bits, off, present := be.validity(idx)
	var tab []uint8
	if present {
		tab = be.dictTable(p)
	} else {
		ctx := &evalCtx{row: &entryGetter{v: nullValue}, now: be.unit.now}
		tab = []uint8{tabOf(eval(p.n, ctx).asTri())}
	}
	nullv := tab[len(tab)-1]
	be.rowsScanned += int64(be.n)
	if !present {
		if nullv == tabTrue {
			fill(t)
		} else if nullv == tabFalse {
			fill(f)
		}
		be.tailMask(t)
		be.tailMask(f)
		return t, f
	}
	codes := be.b.Codes(idx)
	dict := be.b.Dict(idx)
	n := be.n
	for w := 0; w < be.nw; w++ {
		var tw, fw uint64
		base := w * 64
		end := min(64, n-base)
		// Rows outside the candidates may hold any value (the caller ANDs with them): skip
		// candidate-free words, and never evaluate an entry for a non-candidate row.
		var cw uint64 = ^uint64(0)
		if be.cand != nil {
			if cw = be.cand[w]; cw == 0 {
				continue
			}
		}
		if bits == nil {
			for j := 0; j < end; j++ {
				c := codes[base+j]
				v := uint64(tab[c])
				if v == tabUnknown {
					if cw&(1<<j) == 0 {
						continue
					}
					v = uint64(be.unit.entry(p, tab, dict, c))
				}
				tw |= (v & 1) << j
				fw |= (v >> 1) << j
			}
		} else {
			for j := 0; j < end; j++ {
				var v uint64
				if bitAt(bits, base+j+off) {
					c := codes[base+j]
					v = uint64(tab[c])
					if v == tabUnknown {
						if cw&(1<<j) == 0 {
							continue
						}
						v = uint64(be.unit.entry(p, tab, dict, c))
					}
				} else {
					v = uint64(nullv)
				}
				tw |= (v & 1) << j
				fw |= (v >> 1) << j
			}
		}
		t[w], f[w] = tw, fw
	}
	return t, f
}

// cmpTrue sets in t the rows where vals[r] op c holds.
func cmpTrue[T int32 | int64 | float64](vals []T, c T, op syntax.BinaryOp, t []uint64, n int) {
	for w := 0; w < len(t); w++ {
		base := w * 64
		end := min(64, n-base)
		var x uint64
		v := vals[base : base+end]
		switch op {
		case syntax.OpEq:
			for j := range v {
				if v[j] == c {
					x |= 1 << j
				}
			}
		case syntax.OpNe:
			for j := range v {
				if v[j] != c {
					x |= 1 << j
				}
			}
		case syntax.OpGt:
			for j := range v {
				if v[j] > c {
					x |= 1 << j
				}
			}
		case syntax.OpGe:
			for j := range v {
				if v[j] >= c {
					x |= 1 << j
				}
			}
		case syntax.OpLt:
			for j := range v {
				if v[j] < c {
					x |= 1 << j
				}
			}
		case syntax.OpLe:
			for j := range v {
				if v[j] <= c {
					x |= 1 << j
				}
			}
		}
		t[w] = x
	}
}

func (be *blockEval) cmp(p *pCmp) (t, f []uint64) {
	idx := p.col.Index
	valid := be.validWords(idx)
	t = be.words()
	scanned := be.n
	if be.b.Array(idx) != nil {
		switch p.col.Kind {
		case columnar.KindInt32:
			c := p.i
			if c > 1<<31-1 || c < -1<<31 {
				// Outside int32: decide by sign alone.
				for r := 0; r < be.n; r++ {
					if compareOp(p.op, value{k: TInt, i: 0}, value{k: TInt, i: c}, false) == triTrue {
						t[r>>6] |= 1 << (r & 63)
					}
				}
			} else {
				cmpTrue(be.b.Int32s(idx), int32(c), p.op, t, be.n)
			}
		case columnar.KindTime:
			cmpTrue(be.b.Int64s(idx), p.i, p.op, t, be.n)
		case columnar.KindFloat64:
			cmpTrue(be.b.Array(idx).(*array.Float64).Float64Values(), p.f, p.op, t, be.n)
		case columnar.KindBool:
			a := be.b.Array(idx).(*array.Boolean)
			bitsToWords(t, a.Data().Buffers()[1].Bytes(), a.Data().Offset(), be.n)
			if p.i == 0 {
				for i := range t {
					t[i] = ^t[i]
				}
			}
			if p.op == syntax.OpNe {
				for i := range t {
					t[i] = ^t[i]
				}
			}
		case columnar.KindGUID:
			scanned = guidEq(be.b.Array(idx).(*array.FixedSizeBinary), p.g, be.cand, t, be.n)
			if p.op == syntax.OpNe {
				for i := range t {
					t[i] = ^t[i]
				}
			}
		default:
			panic("BUG: pCmp on " + p.col.Kind.String())
		}
	}
	be.rowsScanned += int64(scanned)
	f = be.words()
	for i := range t {
		t[i] &= valid[i]
		f[i] = valid[i] &^ t[i]
	}
	// Null rows: "eq" is false, "ne" is true, the ordering operators are null. (The
	// Int32 out-of-range branch above relies on this too.)
	switch p.op {
	case syntax.OpEq:
		for i := range f {
			f[i] |= ^valid[i]
		}
	case syntax.OpNe:
		for i := range t {
			t[i] |= ^valid[i]
		}
	}
	be.tailMask(t)
	be.tailMask(f)
	be.free(valid)
	return t, f
}

func (be *blockEval) bare(p *pBare) (t, f []uint64) {
	idx := p.col.Index
	valid := be.validWords(idx)
	t, f = be.words(), be.words()
	be.rowsScanned += int64(be.n)
	if a, ok := be.b.Array(idx).(*array.Boolean); ok {
		bitsToWords(t, a.Data().Buffers()[1].Bytes(), a.Data().Offset(), be.n)
	}
	for i := range t {
		f[i] = valid[i] &^ t[i]
		t[i] &= valid[i]
	}
	be.free(valid)
	return t, f
}

// batchRow reads one row of a batch as values, for the scalar interpreter.
type batchRow struct {
	b      *columnar.Batch
	row    int
	extras []columnar.ExtraEntry
}

func (g *batchRow) get(c *columnar.Column) value {
	return cellValue(g.b, c, g.row, &g.extras)
}

// cellValue is the value of one cell. A GUID column whose input was not a GUID ("" in
// some non-interactive rows) is null in the typed column and verbatim in the extras
// column; its value is that text.
func cellValue(b *columnar.Batch, c *columnar.Column, row int, scratch *[]columnar.ExtraEntry) value {
	if !b.Valid(c.Index, row) {
		if c.Kind == columnar.KindGUID && b.Valid(b.Schema.Extras(), row) {
			var err error
			*scratch, err = b.Extras(row, *scratch)
			if err == nil {
				for _, x := range *scratch {
					if x.Kind == 1 /* raw */ && x.Path == c.Name {
						var s string
						if json.Unmarshal(x.Value, &s) == nil {
							return value{k: TString, s: s}
						}
					}
				}
			}
		}
		return nullValue
	}
	switch c.Kind {
	case columnar.KindDict, columnar.KindText, columnar.KindJSON, columnar.KindJSONDict:
		return textValue(c, b.Bytes(c.Index, row))
	case columnar.KindGUID:
		return value{k: TGUID, s: columnar.FormatGUID(b.Bytes(c.Index, row))}
	case columnar.KindTime:
		return value{k: TTime, i: b.Int64(c.Index, row)}
	case columnar.KindInt32:
		return value{k: TInt, i: int64(b.Int32(c.Index, row))}
	case columnar.KindFloat64:
		return value{k: TFloat, f: b.Float64(c.Index, row)}
	case columnar.KindBool:
		return value{k: TBool, b: b.Bool(c.Index, row)}
	}
	panic("BUG: cellValue of kind " + c.Kind.String())
}

// textValue is the value of raw, a stored value of text or JSON column c (a view of raw).
func textValue(c *columnar.Column, raw []byte) value {
	if c.Kind == columnar.KindJSON || c.Kind == columnar.KindJSONDict {
		return parseJSONValue(raw)
	}
	return value{k: TString, s: unsafeString(raw)}
}

func (be *blockEval) generic(p *pGeneric) (t, f []uint64) {
	t, f = be.words(), be.words()
	g := &batchRow{b: be.b}
	ctx := &evalCtx{row: g, now: be.unit.now}
	for w := 0; w < be.nw; w++ {
		m := ^uint64(0)
		if be.cand != nil {
			m = be.cand[w]
		}
		for m != 0 {
			j := bitsTrailing(m)
			m &= m - 1
			r := w*64 + j
			if r >= be.n {
				break
			}
			g.row = r
			be.rowsScanned++
			switch eval(p.n, ctx).asTri() {
			case triTrue:
				t[w] |= 1 << j
			case triFalse:
				f[w] |= 1 << j
			}
		}
	}
	return t, f
}

var _ arrow.Array = (*array.Int32)(nil)

// guidEq sets in t the rows of a (n rows) equal to g and returns how many it compared: only
// the candidates' when cand is not nil (rows outside them may hold any value: the caller ANDs
// with them), a word of 64 candidates at a time when the word is full. An id's or a
// correlation id's key index names blocks, not rows, so its candidates are mostly whole
// blocks; their GUIDs are compared as two words each, not through Value and bytes.Equal
// (0.32 → 0.26 ms for a warm correlation-id lookup over 10M events).
func guidEq(a *array.FixedSizeBinary, g [16]byte, cand, t []uint64, n int) int {
	data := a.Data().Buffers()[1].Bytes()[a.Data().Offset()*16:]
	data = data[:n*16]
	lo, hi := binary.LittleEndian.Uint64(g[:8]), binary.LittleEndian.Uint64(g[8:])
	eq := func(r int) bool {
		v := data[r*16 : r*16+16]
		return binary.LittleEndian.Uint64(v[:8]) == lo && binary.LittleEndian.Uint64(v[8:]) == hi
	}
	if cand == nil {
		for r := range n {
			if eq(r) {
				t[r>>6] |= 1 << (r & 63)
			}
		}
		return n
	}
	scanned := 0
	for w, m := range cand {
		if m == ^uint64(0) && w*64+64 <= n {
			for j := range 64 {
				if eq(w*64 + j) {
					t[w] |= 1 << j
				}
			}
			scanned += 64
			continue
		}
		for ; m != 0; m &= m - 1 {
			r := w*64 + bitsTrailing(m)
			if r >= n {
				break
			}
			scanned++
			if eq(r) {
				t[w] |= 1 << (r & 63)
			}
		}
	}
	return scanned
}
