package columnar

import (
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Builder accumulates decoded rows column by column and seals them into Arrow record batches.
//
// It is hand-written rather than built from arrow's array builders because ingest is the
// bottleneck: arrow's dictionary builder hashes through a generic memo table on every append,
// while a row here costs one Go map probe per dictionary column (skipped entirely when the
// value repeats the previous row's, which is common in sign-in flows). Sealing wraps the
// accumulated slices as Arrow buffers without copying.
type Builder struct {
	schema *Schema
	cols   []colBuilder
	rows   int
	sizes  *RowSizes // learns from Seal when set (NewSizedBuilder)
	// capRows is the rows reserved for (NewSizedBuilder, Grow), appended ones included.
	capRows int
}

// NewBuilder returns an empty builder for schema s.
func NewBuilder(s *Schema) *Builder {
	b := &Builder{schema: s}
	b.cols = make([]colBuilder, s.NumColumns())
	for i, c := range s.Columns {
		b.cols[i] = newColBuilder(c.Kind)
	}
	b.cols[s.Extras()] = newColBuilder(KindExtras)
	return b
}

// RowSizes remembers how many bytes of values a row of each column took in the last batch a
// builder sealed, so that the next builder of the same stream (one ingest worker's) reserves its
// buffers once. Grown from empty by doubling, the buffers of a batch's wide text columns were
// copied and cleared several times over: a tenth of ingest's CPU in a one-core profile.
// A dictionary column's distinct values are learned too: its index map, grown from empty, was
// rehashed several times a batch (a tenth of a 60,000-user stream's CPU went to dictionary maps).
// A RowSizes serves one goroutine at a time.
type RowSizes struct {
	perRow   []int // value bytes per row, by column (Extras included; a dictionary's distinct values); 0 before the first Seal
	distinct []int // a dictionary column's distinct values per 1,024 rows
}

// Clone returns a copy of r that learns apart from it.
func (r *RowSizes) Clone() RowSizes {
	return RowSizes{perRow: slices.Clone(r.perRow), distinct: slices.Clone(r.distinct)}
}

// minLearnRows is the fewest rows a sealed batch must have for its sizes to be learned.
const minLearnRows = 64

// NewSizedBuilder returns an empty builder for schema s with room for rows rows, each column's
// values sized as sizes says the last batch's were (sizes may be nil: no learning). Room a
// batch does not fill is given back at Seal, so a sealed record holds no more than its rows.
func NewSizedBuilder(s *Schema, rows int, sizes *RowSizes) *Builder {
	b := NewBuilder(s)
	b.sizes = sizes
	if sizes != nil && (len(sizes.perRow) != len(b.cols) || len(sizes.distinct) != len(b.cols)) {
		sizes.perRow, sizes.distinct = make([]int, len(b.cols)), make([]int, len(b.cols))
	}
	b.Grow(rows)
	return b
}

// Grow makes room for rows more rows, each column's values sized as the builder's RowSizes
// says (nothing without one). Reserving is not free: the room is cleared memory, so a caller
// that does not know how many rows will come grows in steps (Room says when) rather than
// reserving for the most it might get.
func (b *Builder) Grow(rows int) {
	if b.sizes == nil || rows <= 0 {
		return
	}
	for i, c := range b.cols {
		// An eighth more than the last batch took: rows vary, and one regrowth costs more.
		c.reserve(rows, rows*b.sizes.perRow[i]+rows*b.sizes.perRow[i]/8)
		if d, ok := c.(*dictBuilder); ok {
			n := rows * b.sizes.distinct[i] / 1024
			d.reserveValues(n + n/8)
		}
	}
	b.capRows = b.rows + rows
}

// Room is how many more rows fit in the room made by NewSizedBuilder and Grow.
func (b *Builder) Room() int { return max(0, b.capRows-b.rows) }

// Len is the number of rows appended since the last Seal.
func (b *Builder) Len() int { return b.rows }

// Schema returns the builder's schema.
func (b *Builder) Schema() *Schema { return b.schema }

// AppendRow appends one staged row (see Row). The row must come from the same schema.
func (b *Builder) AppendRow(r *Row) {
	for i, c := range b.cols[:b.schema.Extras()] {
		v := &r.vals[i]
		if v.state != stateValue {
			c.appendNull()
			continue
		}
		c.appendVal(v)
	}
	if len(r.extras) > 0 {
		b.cols[b.schema.Extras()].appendVal(&val{state: stateValue, b: r.extras})
	} else {
		b.cols[b.schema.Extras()].appendNull()
	}
	b.rows++
}

// Seal returns the rows appended so far as a record batch and resets the builder. The
// returned record owns its memory; the caller must Release it.
func (b *Builder) Seal() arrow.RecordBatch {
	arrs := make([]arrow.Array, len(b.cols))
	for i, c := range b.cols {
		// Only text values vary in size; other columns' room follows from the rows. A chunk of a
		// few rows teaches nothing: its sizes are noise, and a call's chunks seal in no set
		// order, so a guest's three rows sealed last made the next call's large chunk regrow.
		if b.sizes != nil && len(b.sizes.perRow) == len(b.cols) && b.rows >= minLearnRows {
			switch v := c.(type) {
			case *varBuilder:
				b.sizes.perRow[i] = (len(v.data) + b.rows - 1) / b.rows
			case *dictBuilder:
				b.sizes.perRow[i] = (len(v.data) + b.rows - 1) / b.rows
				b.sizes.distinct[i] = (max(0, len(v.offsets)-1)*1024 + b.rows - 1) / b.rows
			}
		}
		c.trim()
		arrs[i] = c.finish()
	}
	rec := array.NewRecordBatch(b.schema.Arrow(), arrs, int64(b.rows))
	for _, a := range arrs {
		a.Release()
	}
	for i, c := range b.schema.Columns {
		b.cols[i] = newColBuilder(c.Kind)
	}
	b.cols[b.schema.Extras()] = newColBuilder(KindExtras)
	b.rows, b.capRows = 0, 0
	return Shareable(rec)
}

// Shareable readies rec to be read by several goroutines at once: arrow-go builds a dictionary
// array's values array lazily, on the first call to Dictionary, which is a write. Memtable
// chunks are read by concurrent snapshots and ingests (a record compared with a pending one).
func Shareable(rec arrow.RecordBatch) arrow.RecordBatch {
	for _, c := range rec.Columns() {
		if d, ok := c.(*array.Dictionary); ok {
			d.Dictionary()
		}
	}
	return rec
}

// val is one staged cell.
type val struct {
	state uint8 // stateAbsent, stateNull or stateValue
	b     []byte
	i     int64
	f     float64
}

const (
	stateAbsent uint8 = iota
	stateNull
	stateValue
)

type colBuilder interface {
	appendNull()
	appendVal(v *val)
	finish() arrow.Array
	// reserve makes room for rows more rows (and, for text, bytes more bytes of values).
	reserve(rows, bytes int)
	// trim gives back reserved room the rows did not fill, where it is worth a copy.
	trim()
}

func newColBuilder(k Kind) colBuilder {
	switch k {
	case KindDict, KindJSONDict:
		return &dictBuilder{index: map[string]int32{}, last: -1}
	case KindGUID:
		return &guidBuilder{}
	case KindTime:
		return &fixedBuilder[int64]{typ: timeType}
	case KindInt32:
		return &fixedBuilder[int32]{typ: arrow.PrimitiveTypes.Int32}
	case KindFloat64:
		return &fixedBuilder[float64]{typ: arrow.PrimitiveTypes.Float64}
	case KindBool:
		return &boolBuilder{}
	case KindText, KindJSON:
		return &varBuilder{typ: arrow.BinaryTypes.String, offsets: []int32{0}}
	case KindExtras:
		return &varBuilder{typ: arrow.BinaryTypes.Binary, offsets: []int32{0}}
	}
	panic("BUG: unknown kind")
}

// validity is an Arrow validity bitmap under construction.
type validity struct {
	bits  []byte
	n     int
	nulls int
}

func (v *validity) append(valid bool) {
	if v.n%8 == 0 {
		v.bits = append(v.bits, 0)
	}
	if valid {
		v.bits[v.n/8] |= 1 << (v.n % 8)
	} else {
		v.nulls++
	}
	v.n++
}

// buffer returns the bitmap, or nil when there are no nulls (Arrow's "all valid").
func (v *validity) buffer() *memory.Buffer {
	if v.nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(v.bits)
}

type dictBuilder struct {
	valid   validity
	codes   []int32
	index   map[string]int32
	offsets []int32
	data    []byte
	last    int32
}

func (d *dictBuilder) appendNull() {
	d.valid.append(false)
	d.codes = append(d.codes, 0)
}

func (d *dictBuilder) appendVal(v *val) {
	d.valid.append(true)
	// Consecutive rows often repeat a value (one user's flow, one app): compare with the previous
	// entry before paying for a map probe.
	if d.last >= 0 {
		lo, hi := d.offsets[d.last], d.offsets[d.last+1]
		if string(d.data[lo:hi]) == string(v.b) {
			d.codes = append(d.codes, d.last)
			return
		}
	}
	code, ok := d.index[string(v.b)]
	if !ok {
		if len(d.offsets) == 0 {
			d.offsets = append(d.offsets, 0)
		}
		code = int32(len(d.offsets) - 1)
		d.data = append(d.data, v.b...)
		d.offsets = append(d.offsets, int32(len(d.data)))
		d.index[string(v.b)] = code
	}
	d.last = code
	d.codes = append(d.codes, code)
}

func (d *dictBuilder) finish() arrow.Array {
	if len(d.offsets) == 0 {
		d.offsets = append(d.offsets, 0)
	}
	dict := array.NewStringData(array.NewData(arrow.BinaryTypes.String, len(d.offsets)-1,
		[]*memory.Buffer{nil, memory.NewBufferBytes(int32Bytes(d.offsets)), memory.NewBufferBytes(d.data)}, nil, 0, 0))
	defer dict.Release()
	idx := array.NewData(arrow.PrimitiveTypes.Int32, len(d.codes),
		[]*memory.Buffer{d.valid.buffer(), memory.NewBufferBytes(int32Bytes(d.codes))}, nil, d.valid.nulls, 0)
	defer idx.Release()
	data := array.NewData(dictUTF8, len(d.codes), idx.Buffers(), nil, d.valid.nulls, 0)
	data.SetDictionary(dict.Data())
	defer data.Release()
	return array.MakeFromData(data)
}

type guidBuilder struct {
	valid validity
	data  []byte
}

func (g *guidBuilder) appendNull() {
	g.valid.append(false)
	g.data = append(g.data, zeroGUID[:]...)
}

func (g *guidBuilder) appendVal(v *val) {
	g.valid.append(true)
	g.data = append(g.data, v.b...)
}

func (g *guidBuilder) finish() arrow.Array {
	data := array.NewData(guidType, g.valid.n, []*memory.Buffer{g.valid.buffer(), memory.NewBufferBytes(g.data)}, nil, g.valid.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

var zeroGUID [16]byte

type fixed interface{ int32 | int64 | float64 }

type fixedBuilder[T fixed] struct {
	typ   arrow.DataType
	valid validity
	vals  []T
}

func (f *fixedBuilder[T]) appendNull() {
	f.valid.append(false)
	f.vals = append(f.vals, 0)
}

func (f *fixedBuilder[T]) appendVal(v *val) {
	f.valid.append(true)
	var x T
	switch any(x).(type) {
	case float64:
		f.vals = append(f.vals, T(v.f))
	default:
		f.vals = append(f.vals, T(v.i))
	}
}

func (f *fixedBuilder[T]) finish() arrow.Array {
	var raw []byte
	if len(f.vals) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&f.vals[0])), len(f.vals)*int(unsafe.Sizeof(f.vals[0])))
	}
	data := array.NewData(f.typ, f.valid.n, []*memory.Buffer{f.valid.buffer(), memory.NewBufferBytes(raw)}, nil, f.valid.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

type boolBuilder struct {
	valid  validity
	values validity // reuses the bitmap logic: "valid" bit = value true
}

func (b *boolBuilder) appendNull() {
	b.valid.append(false)
	b.values.append(false)
}

func (b *boolBuilder) appendVal(v *val) {
	b.valid.append(true)
	b.values.append(v.i != 0)
}

func (b *boolBuilder) finish() arrow.Array {
	bits := b.values.bits
	if bits == nil {
		bits = []byte{}
	}
	data := array.NewData(arrow.FixedWidthTypes.Boolean, b.valid.n, []*memory.Buffer{b.valid.buffer(), memory.NewBufferBytes(bits)}, nil, b.valid.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

type varBuilder struct {
	typ     arrow.DataType
	valid   validity
	offsets []int32
	data    []byte
}

func (s *varBuilder) appendNull() {
	s.valid.append(false)
	s.offsets = append(s.offsets, int32(len(s.data)))
}

func (s *varBuilder) appendVal(v *val) {
	s.valid.append(true)
	s.data = append(s.data, v.b...)
	s.offsets = append(s.offsets, int32(len(s.data)))
}

func (s *varBuilder) finish() arrow.Array {
	data := array.NewData(s.typ, s.valid.n, []*memory.Buffer{s.valid.buffer(), memory.NewBufferBytes(int32Bytes(s.offsets)), memory.NewBufferBytes(s.data)}, nil, s.valid.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

func int32Bytes(v []int32) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
}

// Reserving capacity up front: a merge knows each output block's rows (and a text column's
// bytes) before it gathers them, and growing from empty by doubling copied and cleared a wide
// column's block several times over (a sixth of ingest's CPU, in a profile of 1M events).
func (v *validity) reserve(rows int) { v.bits = slices.Grow(v.bits, (rows+7)/8) }

func (s *varBuilder) reserve(rows, bytes int) {
	s.valid.reserve(rows)
	s.offsets = slices.Grow(s.offsets, rows)
	s.data = slices.Grow(s.data, bytes)
}

func (d *dictBuilder) reserve(rows, bytes int) {
	d.valid.reserve(rows)
	d.codes = slices.Grow(d.codes, rows)
	d.data = slices.Grow(d.data, bytes)
}

// reserveValues makes room for n more distinct values; the index map is made at its size while
// it is still empty (a map cannot grow but by rehashing).
func (d *dictBuilder) reserveValues(n int) {
	if n <= 0 {
		return
	}
	if len(d.index) == 0 {
		d.index = make(map[string]int32, n)
	}
	d.offsets = slices.Grow(d.offsets, n+1)
}

func (g *guidBuilder) reserve(rows, _ int) {
	g.valid.reserve(rows)
	g.data = slices.Grow(g.data, 16*rows)
}

func (f *fixedBuilder[T]) reserve(rows, _ int) {
	f.valid.reserve(rows)
	f.vals = slices.Grow(f.vals, rows)
}

func (b *boolBuilder) reserve(rows, _ int) {
	b.valid.reserve(rows)
	b.values.reserve(rows)
}

// trimmed returns v, or a copy of it without its unused capacity when that is more than half
// its length (and more than a page): a sealed chunk lives in the memtable until its flush.
func trimmed[T any](v []T) []T {
	var zero T
	if unused := (cap(v) - len(v)) * int(unsafe.Sizeof(zero)); unused > 4096 && unused > len(v)*int(unsafe.Sizeof(zero))/2 {
		return append(make([]T, 0, len(v)), v...)
	}
	return v
}

func (v *validity) trim() { v.bits = trimmed(v.bits) }

func (s *varBuilder) trim() {
	s.valid.trim()
	s.offsets = trimmed(s.offsets)
	s.data = trimmed(s.data)
}

func (d *dictBuilder) trim() {
	d.valid.trim()
	d.codes = trimmed(d.codes)
	d.data = trimmed(d.data)
	d.offsets = trimmed(d.offsets)
}

func (g *guidBuilder) trim() {
	g.valid.trim()
	g.data = trimmed(g.data)
}

func (f *fixedBuilder[T]) trim() {
	f.valid.trim()
	f.vals = trimmed(f.vals)
}

func (b *boolBuilder) trim() {
	b.valid.trim()
	b.values.trim()
}
