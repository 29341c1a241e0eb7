package columnar

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"
)

// Batch gives typed, allocation-free access to the columns of one record batch of a schema
// (a memtable chunk or a segment block). Columns the batch does not carry read as null.
type Batch struct {
	Schema *Schema
	Rows   int
	cols   []colReader
	lazy   []*segDict // the segment dictionaries bound (Err)
}

type colReader struct {
	present bool
	valid   []byte // validity bits, nil = all valid
	offset  int
	// one of:
	codes  []int32 // dict/jsondict
	dict   Dict
	i32    []int32
	i64    []int64
	f64    []float64
	bits   []byte // bool values
	fixed  []byte // guid
	varOff []int32
	varBuf []byte
	arr    arrow.Array
}

// NewBatch wraps rec, whose columns are matched by name against s.
func NewBatch(s *Schema, rec arrow.RecordBatch) (*Batch, error) {
	b := &Batch{Schema: s, Rows: int(rec.NumRows()), cols: make([]colReader, s.NumColumns())}
	for i, f := range rec.Schema().Fields() {
		idx := -1
		var kind Kind
		if f.Name == ExtrasColumn {
			idx, kind = s.Extras(), KindExtras
		} else if c, ok := s.byName[f.Name]; ok {
			idx, kind = c.Index, c.Kind
		} else {
			continue // a column this build does not know: ignore
		}
		if err := b.cols[idx].bind(kind, rec.Column(i)); err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	return b, nil
}

// BatchColumns is NewBatch with only the columns cols bound (and the others absent, as in a
// block read with those columns: Segment.BlockBatch), in a pooled batch that release gives
// back. A query binds what its filter and its consumer read: binding all ~75 columns of every
// memtable chunk, in a new batch each, for every query was 8% of a loaded server's CPU (a
// chunk per HTTP batch of 1,000 events, a hundred or so until a flush).
func BatchColumns(s *Schema, rec arrow.RecordBatch, cols []int) (b *Batch, release func(), err error) {
	b = getBatch(s, int(rec.NumRows()))
	release = func() { putBatch(b) }
	rs := rec.Schema()
	for _, idx := range cols {
		i := -1
		name, kind := ExtrasColumn, KindExtras
		if idx < len(s.Columns) {
			name, kind = s.Columns[idx].Name, s.Columns[idx].Kind
		}
		// A chunk sealed by a Builder of s has its columns in s's order; another's (a WAL
		// written by an older build) are found by name, as NewBatch finds them.
		if idx < rs.NumFields() && rs.Field(idx).Name == name {
			i = idx
		} else if is := rs.FieldIndices(name); len(is) > 0 {
			i = is[0]
		}
		if i < 0 {
			continue
		}
		if err := b.cols[idx].bind(kind, rec.Column(i)); err != nil {
			release()
			return nil, nil, fmt.Errorf("column %s: %w", name, err)
		}
	}
	return b, release, nil
}

// SetColumn binds one column array (used when blocks are assembled column by column).
func (b *Batch) SetColumn(idx int, a arrow.Array) error {
	kind := KindExtras
	if idx < len(b.Schema.Columns) {
		kind = b.Schema.Columns[idx].Kind
	}
	return b.cols[idx].bind(kind, a)
}

// NewEmptyBatch returns a batch of n rows with no columns bound (all null until SetColumn).
func NewEmptyBatch(s *Schema, n int) *Batch {
	return &Batch{Schema: s, Rows: n, cols: make([]colReader, s.NumColumns())}
}

func (c *colReader) bind(kind Kind, a arrow.Array) error {
	if !arrow.TypeEqual(a.DataType(), kind.ArrowType()) {
		return fmt.Errorf("type %s does not match kind %s", a.DataType(), kind)
	}
	d := a.Data()
	*c = colReader{present: true, offset: d.Offset(), arr: a}
	if a.NullN() > 0 {
		c.valid = d.Buffers()[0].Bytes()
	}
	switch kind {
	case KindDict, KindJSONDict:
		da := a.(*array.Dictionary)
		c.codes = da.Indices().(*array.Int32).Int32Values()
		dict := da.Dictionary().(*array.String)
		c.dict = Dict{off: dict.ValueOffsets(), data: dict.ValueBytes()}
	case KindGUID:
		c.fixed = d.Buffers()[1].Bytes()[d.Offset()*16:]
	case KindTime:
		c.i64 = arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]
	case KindInt32:
		c.i32 = a.(*array.Int32).Int32Values()
	case KindFloat64:
		c.f64 = a.(*array.Float64).Float64Values()
	case KindBool:
		c.bits = d.Buffers()[1].Bytes()
	case KindText, KindJSON:
		s := a.(*array.String)
		c.varOff = s.ValueOffsets()
		c.varBuf = s.ValueBytes()
	case KindExtras:
		bb := a.(*array.Binary)
		c.varOff = bb.ValueOffsets()
		c.varBuf = bb.ValueBytes()
	}
	return nil
}

// Has reports whether the batch carries column idx (a block read with some columns only does
// not carry the others).
func (b *Batch) Has(idx int) bool { return b.cols[idx].present }

// Valid reports whether column idx has a value in row.
func (b *Batch) Valid(idx, row int) bool {
	c := &b.cols[idx]
	if !c.present {
		return false
	}
	if c.valid == nil {
		return true
	}
	i := row + c.offset
	return c.valid[i>>3]&(1<<(i&7)) != 0
}

// NoNulls reports whether column idx is bound and has a value in every row of the batch.
func (b *Batch) NoNulls(idx int) bool { c := &b.cols[idx]; return c.present && c.valid == nil }

// Code returns the dictionary code of a dict column.
func (b *Batch) Code(idx, row int) int32 { return b.cols[idx].codes[row] }

// bindCodes binds a dictionary column from its codes and dictionary.
func (b *Batch) bindCodes(idx int, codes arrow.Array, dict Dict) error {
	c := &b.cols[idx]
	i32, ok := codes.(*array.Int32)
	if !ok {
		return fmt.Errorf("dictionary codes are %s, not int32", codes.DataType())
	}
	*c = colReader{present: true, offset: codes.Data().Offset(), arr: codes, codes: i32.Int32Values(), dict: dict}
	if dict.seg != nil {
		b.lazy = append(b.lazy, dict.seg)
	}
	if codes.NullN() > 0 {
		c.valid = codes.Data().Buffers()[0].Bytes()
	}
	return nil
}

// Dict returns the dictionary of a dict column.
func (b *Batch) Dict(idx int) Dict { return b.cols[idx].dict }

// Err is the first error reading the batch's dictionary values met: a segment's dictionary
// page that could not be read or failed its checksum (its values read as nil). Whoever reads
// values from a segment's batch checks it before trusting what it read.
func (b *Batch) Err() error {
	for _, d := range b.lazy {
		if err := d.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Codes returns the code vector of a dict column.
func (b *Batch) Codes(idx int) []int32 { return b.cols[idx].codes }

// Bytes returns the value of a dict, text, json, guid or extras column (nil when null).
func (b *Batch) Bytes(idx, row int) []byte {
	if !b.Valid(idx, row) {
		return nil
	}
	c := &b.cols[idx]
	switch {
	case c.codes != nil:
		return c.dict.Value(c.codes[row])
	case c.fixed != nil:
		return c.fixed[row*16 : row*16+16]
	case c.varOff != nil:
		return c.varBuf[c.varOff[row]:c.varOff[row+1]]
	}
	return nil
}

// Int64 returns a time column's unix nanoseconds.
func (b *Batch) Int64(idx, row int) int64 { return b.cols[idx].i64[row] }

// Int64s returns a time column's values.
func (b *Batch) Int64s(idx int) []int64 { return b.cols[idx].i64 }

// Int32 returns an int32 column's value.
func (b *Batch) Int32(idx, row int) int32 { return b.cols[idx].i32[row] }

// Int32s returns an int32 column's values.
func (b *Batch) Int32s(idx int) []int32 { return b.cols[idx].i32 }

// Float64 returns a float64 column's value.
func (b *Batch) Float64(idx, row int) float64 { return b.cols[idx].f64[row] }

// Bool returns a bool column's value.
func (b *Batch) Bool(idx, row int) bool {
	c := &b.cols[idx]
	i := row + c.offset
	return c.bits[i>>3]&(1<<(i&7)) != 0
}

// Array returns the Arrow array bound to column idx (nil when absent).
func (b *Batch) Array(idx int) arrow.Array { return b.cols[idx].arr }

// Extras returns the decoded extras of a row.
func (b *Batch) Extras(row int, dst []ExtraEntry) ([]ExtraEntry, error) {
	raw := b.Bytes(b.Schema.Extras(), row)
	if raw == nil {
		return dst[:0], nil
	}
	return DecodeExtras(raw, dst[:0])
}

// Encoder writes rows as Graph JSON objects.
type Encoder struct {
	extras []ExtraEntry
	// byPath indexes extras by kind and path when a row has many of them (events that leave out
	// most properties), so that each column does not rescan the list.
	byPath  map[extraKey]int
	indexed bool // byPath holds this row's extras
	proj    projected
	// mask has the pathBit of every path the row's extras mention as absent, null or raw, and
	// objMask that of every object one of its raw extras is a member of: a column or object
	// whose bit is clear is written without a lookup in the extras.
	mask, objMask uint64
	// dicts caches, per dictionary column, its entries as written (quoted and escaped), for the
	// dictionary the rows being written use: a page's rows mostly share their segments'
	// dictionaries, so a value is escaped once per page, not once per row.
	dicts []dictJSON

	opts EncodeOptions
	// risk is the overlay of the row being written, when hasRisk.
	risk    SignInRisk
	hasRisk bool
	p       fastjson.Parser
	arena   fastjson.Arena
}

// EncodeOptions adapt the rows written to one response, in the pass that writes them (a row
// used to be written as stored, then parsed again by the server to adapt it).
type EncodeOptions struct {
	// Version V1 writes only what v1.0 has: its top-level properties (also left to the
	// Projection), the v1.0 members of flattened objects, and of the items of collections
	// (Column.Items). 0 or Beta writes everything.
	Version Version
	// HideEvolved writes an evolvable enum's sentinel in place of members past it
	// (Column.Enum, and the enums of collection items), for clients that did not send
	// "Prefer: include-unknown-enum-members".
	HideEvolved bool
	// Risk, when set, gives Identity Protection's overlay of a row by its id: its values are
	// written in place of the stored ones for the columns that hold them (Column.Risk). The
	// caller binds it to the tenant whose rows are written; the encoder knows no tenant.
	Risk RiskLookup
}

// SignInRisk is what Identity Protection says of a sign-in's risk, as the reader may see it
// (its licence already applied).
type SignInRisk struct {
	State, Detail, LevelAggregated, LevelDuringSignIn string
	EventTypes                                        []string // riskEventTypes_v2
}

// RiskLookup finds the risk overlay of the sign-in with id.
type RiskLookup func(id [16]byte) (SignInRisk, bool)

// SetOptions sets how the following rows are written.
func (e *Encoder) SetOptions(o EncodeOptions) {
	if o.Version != e.opts.Version || o.HideEvolved != e.opts.HideEvolved {
		// The dictionary cache holds values as written under the old options.
		clear(e.dicts)
	}
	e.opts = o
}

func (e *Encoder) v1() bool { return e.opts.Version == V1 }

// adapts reports whether the options change what column c writes (besides the overlay).
func (e *Encoder) adapts(c *Column) bool {
	return c.Enum != nil && e.opts.HideEvolved || c.Items != nil && (e.opts.HideEvolved || e.v1())
}

type dictJSON struct {
	id     unsafe.Pointer // the dictionary cached (Dict.ID)
	vals   [][]byte
	direct int // cells of this dictionary written without the cache (see appendDict)
}

// appendDict appends a dictionary cell (valid), from a per-dictionary cache of written values
// once the dictionary has served enough cells to pay for one. A page of a few rows from each
// of many segments (one user's month: ~10 rows from each of 30 days) met each day's
// dictionaries of thousands of users, addresses and devices, and clearing a cache the size of
// each was 17% of that page; a page of many rows from one segment still writes each value once.
func (e *Encoder) appendDict(dst []byte, b *Batch, c *Column, row int) []byte {
	dict := b.Dict(c.Index)
	code := b.Code(c.Index, row)
	if c.Index >= len(e.dicts) {
		e.dicts = append(e.dicts, make([]dictJSON, c.Index+1-len(e.dicts))...)
	}
	d := &e.dicts[c.Index]
	// The same dictionary is the same ID (arrays are immutable, a segment's dictionary lives
	// while the segment is open, and the cache's pointer keeps Go's allocator from reusing that
	// memory for another one).
	if id := dict.ID(); d.id != id {
		d.id = id
		d.vals, d.direct = d.vals[:0], 0
	}
	n := dict.Len()
	if len(d.vals) != n {
		if d.direct < n/8 {
			d.direct++
			return e.appendDictValue(dst, c, dict.Value(code))
		}
		if cap(d.vals) >= n {
			d.vals = d.vals[:n]
			clear(d.vals)
		} else {
			d.vals = make([][]byte, n)
		}
	}
	v := d.vals[code]
	if v == nil {
		v = e.appendDictValue(nil, c, dict.Value(code))
		d.vals[code] = v
	}
	return append(dst, v...)
}

// appendDictValue appends the JSON of dictionary value raw of c.
func (e *Encoder) appendDictValue(dst []byte, c *Column, raw []byte) []byte {
	if c.Kind == KindJSONDict {
		return e.adaptJSON(dst, c, raw)
	}
	return e.appendString(dst, c, unsafe.String(unsafe.SliceData(raw), len(raw)))
}

// appendString appends a string value of c as written: an evolvable member hidden as asked.
func (e *Encoder) appendString(dst []byte, c *Column, s string) []byte {
	if c.Enum != nil && e.opts.HideEvolved {
		s, _ = c.Enum.Hide(s)
	}
	return AppendJSONString(dst, s)
}

// adaptJSON appends the JSON value raw of c as written under the options (raw itself when they
// change nothing in it). Only collection items and enum strings are adapted: a dictionary's
// values are adapted once per page (appendDict), raw extras once per row.
func (e *Encoder) adaptJSON(dst []byte, c *Column, raw []byte) []byte {
	if !e.adapts(c) {
		return append(dst, raw...)
	}
	v, err := e.p.ParseBytes(raw)
	if err != nil {
		return append(dst, raw...)
	}
	switch {
	case c.Enum != nil && v.Type() == fastjson.TypeString:
		return e.appendString(dst, c, string(v.GetStringBytes()))
	case c.Items != nil && v.Type() == fastjson.TypeArray:
		if !e.adaptItems(c.Items, v) {
			return append(dst, raw...)
		}
		return v.MarshalTo(dst)
	}
	return append(dst, raw...)
}

// adaptItems narrows the objects of a collection to v1.0's members and hides their evolvable
// members, as the options ask; it reports whether it changed anything.
func (e *Encoder) adaptItems(it *Items, v *fastjson.Value) bool {
	e.arena.Reset()
	changed := false
	var drop []string
	for _, item := range v.GetArray() {
		o, err := item.Object()
		if err != nil {
			continue
		}
		if e.v1() {
			drop = drop[:0]
			o.Visit(func(k []byte, _ *fastjson.Value) {
				if m := it.Member(string(k)); m == nil || m.Version&V1 == 0 {
					drop = append(drop, string(k))
				}
			})
			for _, k := range drop {
				o.Del(k)
			}
			changed = changed || len(drop) > 0
		}
		if !e.opts.HideEvolved {
			continue
		}
		for i := range it.Members {
			m := &it.Members[i]
			if m.Enum == nil {
				continue
			}
			mv := o.Get(m.Name)
			if mv == nil || mv.Type() != fastjson.TypeString {
				continue
			}
			hide := m.Enum.Hide
			if m.Flags {
				hide = m.Enum.HideFlags
			}
			if s, ok := hide(string(mv.GetStringBytes())); ok {
				o.Set(m.Name, e.arena.NewString(s))
				changed = true
			}
		}
	}
	return changed
}

// appendRisk appends the overlay's value of column c.
func (e *Encoder) appendRisk(dst []byte, c *Column) []byte {
	switch c.Risk {
	case RiskStateField:
		return e.appendString(dst, c, e.risk.State)
	case RiskDetailField:
		return e.appendString(dst, c, e.risk.Detail)
	case RiskLevelAggregatedField:
		return e.appendString(dst, c, e.risk.LevelAggregated)
	case RiskLevelDuringSignInField:
		return e.appendString(dst, c, e.risk.LevelDuringSignIn)
	case RiskEventTypesV2Field:
		dst = append(dst, '[')
		for i, t := range e.risk.EventTypes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, t)
		}
		return append(dst, ']')
	}
	panic("BUG: appendRisk on a column the overlay does not hold")
}

func (e *Encoder) propsFor(s *Schema, proj Projection) []int {
	if e.proj.schema == s && len(e.proj.names) == len(proj) {
		same := true
		for _, n := range e.proj.names {
			if !proj[n] {
				same = false
				break
			}
		}
		if same {
			return e.proj.props
		}
	}
	names := make([]string, 0, len(proj))
	for n, keep := range proj {
		if keep {
			names = append(names, n)
		}
	}
	if len(names) != len(proj) {
		names = nil // a false entry: do not cache, compute every time
	}
	props := make([]int, 0, len(proj))
	for i := range s.Properties {
		if proj[s.Properties[i].Name] {
			props = append(props, i)
		}
	}
	if names != nil {
		e.proj = projected{names: names, schema: s, props: props}
	}
	return props
}

// projected caches, for the last projection seen, which properties it keeps (in schema
// order), so that a projected row costs its selected properties only, not a map probe for
// every property of the schema. The cache is checked against the projection's contents (a
// handful of names), never trusted by identity alone.
type projected struct {
	names  []string
	schema *Schema
	props  []int
}

type extraKey struct {
	kind byte
	path string
}

// manyExtras is the row extras count from which a lookup map beats a linear scan.
const manyExtras = 8

// Projection selects which top-level properties to write; nil writes every property.
type Projection map[string]bool

// AppendJSON appends row of b as a Graph signIn JSON object. With proj == nil the output is the
// event exactly as ingested (same JSON values; key order follows the schema, then unknown keys in
// input order).
func (e *Encoder) AppendJSON(dst []byte, b *Batch, row int, proj Projection) ([]byte, error) {
	var err error
	e.extras, err = b.Extras(row, e.extras)
	if err != nil {
		return dst, fmt.Errorf("row %d: %w", row, err)
	}
	e.indexed = false // byPath is built on the row's first lookup, if it has one
	e.hasRisk = false
	if e.opts.Risk != nil {
		// The overlay is found by the row's stored id, whether or not the id is written.
		if id, ok := b.Schema.Lookup("id"); ok && id.Kind == KindGUID && b.Valid(id.Index, row) {
			e.risk, e.hasRisk = e.opts.Risk([16]byte(b.Bytes(id.Index, row)))
		}
	}
	e.mask, e.objMask = 0, 0
	for _, x := range e.extras {
		e.mask |= pathBit(x.Path)
		if i := strings.LastIndexByte(x.Path, '/'); i > 0 && x.Kind == extrasRaw {
			e.objMask |= pathBit(x.Path[:i])
		}
	}
	dst = append(dst, '{')
	first := true
	var props []int
	if proj != nil {
		props = e.propsFor(b.Schema, proj)
	}
	for n := range b.Schema.Properties {
		i := n
		if proj != nil {
			if n >= len(props) {
				break
			}
			i = props[n]
		}
		p := &b.Schema.Properties[i]
		if proj == nil && e.v1() && p.Version()&V1 == 0 {
			continue
		}
		if p.Column != nil {
			dst, first = e.appendColumn(dst, first, p.Column, b, row)
		} else {
			dst, first = e.appendObject(dst, first, p.Object, b, row)
		}
	}
	// Unknown top-level properties, in input order. A projection leaves them out, except the
	// annotation that says which tenant reported the row: it is not a property but whose event
	// this is, which a reader needs whatever it selected. v1.0 leaves them out too, except
	// authlake's annotations, which are not beta properties.
	for _, x := range e.extras {
		keep := x.Path == ReportedBy
		if proj == nil {
			keep = !e.v1() || IsAnnotation(x.Path)
		}
		if x.Kind == extrasRaw && !strings.Contains(x.Path, "/") && keep {
			if _, known := b.Schema.byName[x.Path]; known {
				continue
			}
			dst = appendKey(dst, &first, x.Path)
			dst = append(dst, x.Value...)
		}
	}
	// A segment's dictionary page that could not be read left its values out: fail the row.
	if err := b.Err(); err != nil {
		return dst, fmt.Errorf("row %d: %w", row, err)
	}
	return append(dst, '}'), nil
}

func (e *Encoder) find(kind byte, path string) (ExtraEntry, bool) {
	if len(e.extras) >= manyExtras {
		if !e.indexed {
			if e.byPath == nil {
				e.byPath = map[extraKey]int{}
			}
			clear(e.byPath)
			for i, x := range e.extras {
				e.byPath[extraKey{x.Kind, x.Path}] = i
			}
			e.indexed = true
		}
		i, ok := e.byPath[extraKey{kind, path}]
		if !ok {
			return ExtraEntry{}, false
		}
		return e.extras[i], true
	}
	for _, x := range e.extras {
		if x.Kind == kind && x.Path == path {
			return x, true
		}
	}
	return ExtraEntry{}, false
}

func appendKey(dst []byte, first *bool, key string) []byte {
	if !*first {
		dst = append(dst, ',')
	}
	*first = false
	dst = AppendJSONString(dst, key)
	return append(dst, ':')
}

// appendKeyJSON is appendKey with the key already escaped, colon included.
func appendKeyJSON(dst []byte, first *bool, key []byte) []byte {
	if !*first {
		dst = append(dst, ',')
	}
	*first = false
	return append(dst, key...)
}

func (e *Encoder) appendColumn(dst []byte, first bool, c *Column, b *Batch, row int) ([]byte, bool) {
	if e.mask&c.enc.bit != 0 {
		if _, ok := e.find(extrasAbsent, c.Name); ok {
			return dst, first
		}
		if e.hasRisk && c.Risk != RiskNone {
			dst = appendKeyJSON(dst, &first, c.enc.key)
			return e.appendRisk(dst, c), first
		}
		if x, ok := e.find(extrasRaw, c.Name); ok {
			dst = appendKeyJSON(dst, &first, c.enc.key)
			return e.adaptJSON(dst, c, x.Value), first
		}
	}
	dst = appendKeyJSON(dst, &first, c.enc.key)
	if e.hasRisk && c.Risk != RiskNone {
		return e.appendRisk(dst, c), first
	}
	if (c.Kind == KindDict || c.Kind == KindJSONDict && e.adapts(c)) && b.Valid(c.Index, row) {
		return e.appendDict(dst, b, c, row), first
	}
	if c.Kind == KindJSON && e.adapts(c) && b.Valid(c.Index, row) {
		return e.adaptJSON(dst, c, b.Bytes(c.Index, row)), first
	}
	return AppendValue(dst, b, c, row), first
}

// AppendValue appends the JSON form of one typed cell (null when the cell is null).
func AppendValue(dst []byte, b *Batch, c *Column, row int) []byte {
	if !b.Valid(c.Index, row) {
		return append(dst, "null"...)
	}
	switch c.Kind {
	case KindDict, KindText:
		return AppendJSONString(dst, b.Bytes(c.Index, row))
	case KindGUID:
		dst = append(dst, '"')
		dst = AppendGUID(dst, b.Bytes(c.Index, row))
		return append(dst, '"')
	case KindTime:
		dst = append(dst, '"')
		dst = AppendTime(dst, b.Int64(c.Index, row))
		return append(dst, '"')
	case KindInt32:
		return strconv.AppendInt(dst, int64(b.Int32(c.Index, row)), 10)
	case KindFloat64:
		return strconv.AppendFloat(dst, b.Float64(c.Index, row), 'g', -1, 64)
	case KindBool:
		return strconv.AppendBool(dst, b.Bool(c.Index, row))
	case KindJSON, KindJSONDict:
		return append(dst, b.Bytes(c.Index, row)...)
	}
	panic("BUG: AppendValue on kind " + c.Kind.String())
}

func (e *Encoder) appendObject(dst []byte, first bool, o *Object, b *Batch, row int) ([]byte, bool) {
	if e.mask&o.enc.bit != 0 {
		if _, ok := e.find(extrasAbsent, o.Name); ok {
			return dst, first
		}
		if _, ok := e.find(extrasNull, o.Name); ok {
			dst = appendKeyJSON(dst, &first, o.enc.key)
			return append(dst, "null"...), first
		}
	}
	dst = appendKeyJSON(dst, &first, o.enc.key)
	dst = append(dst, '{')
	inner := true
	for i := range o.Members {
		m := &o.Members[i]
		if e.v1() && m.Version()&V1 == 0 {
			continue
		}
		if m.Column != nil {
			dst, inner = e.appendColumn(dst, inner, m.Column, b, row)
		} else {
			dst, inner = e.appendObject(dst, inner, m.Object, b, row)
		}
	}
	if e.objMask&o.enc.bit == 0 {
		return append(dst, '}'), first
	}
	// Unknown members of this object, in input order.
	prefix := o.Name + "/"
	for _, x := range e.extras {
		if x.Kind != extrasRaw || !strings.HasPrefix(x.Path, prefix) {
			continue
		}
		rest := x.Path[len(prefix):]
		if strings.Contains(rest, "/") || o.hasMember(rest) {
			continue
		}
		dst = appendKey(dst, &inner, rest)
		dst = append(dst, x.Value...)
	}
	return append(dst, '}'), first
}

// Version is the versions that have the property.
func (p *Property) Version() Version {
	if p.Column != nil {
		return p.Column.Version
	}
	return p.Object.Version
}

// Version is the versions that have the member.
func (m *Member) Version() Version {
	if m.Column != nil {
		return m.Column.Version
	}
	return m.Object.Version
}

func (o *Object) hasMember(name string) bool {
	for i := range o.Members {
		if o.Members[i].Name == name {
			return true
		}
	}
	return false
}

// AppendJSONString appends s as a JSON string. Invalid UTF-8 is passed through unchanged so
// that export returns exactly the bytes that were ingested.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
