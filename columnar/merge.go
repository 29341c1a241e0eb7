package columnar

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBlockRows is the number of rows per segment block: large enough that per-block overhead
// (a frame header, a zone-map entry, a frame-table entry; until format version 4 an IPC schema
// and record-batch message too: about 3.7 B/event in all then) stays small,
// small enough that a page decodes little more than it returns. A block is the unit every
// column is decompressed in, and a page of one user's sign-ins takes a few rows from a block of
// each day: at 65,536 rows that page decoded 26 blocks of every column (cold 1.98 s on 2M
// events), at 4,096 rows 0.51 s; ingest took the same time (about 10% more CPU) and scans and
// aggregations did not change (measured 2026-12-04, docs/format/segment.md).
const DefaultBlockRows = 1 << 12

// Unit is one input of a merge: a memtable chunk or one block of a segment. Column is called
// once per column, in schema order, so segment inputs decode one column at a time and a merge
// never holds every column of its inputs in memory at once.
type Unit interface {
	Rows() int
	Column(idx int) (arrow.Array, error) // nil means the unit has no such column: all null
}

// RecordUnit adapts an in-memory record batch (a memtable chunk) of schema s.
type RecordUnit struct {
	Schema *Schema
	Rec    arrow.RecordBatch
}

func (u RecordUnit) Rows() int { return int(u.Rec.NumRows()) }

func (u RecordUnit) Column(idx int) (arrow.Array, error) {
	name := ExtrasColumn
	if idx < len(u.Schema.Columns) {
		name = u.Schema.Columns[idx].Name
	}
	ix := u.Rec.Schema().FieldIndices(name)
	if len(ix) == 0 {
		return nil, nil
	}
	return u.Rec.Column(ix[0]), nil
}

// columnReleaser is implemented by units that hold the decoded columns they hand out (segment
// blocks). A merge lets go of a column's inputs as soon as it has gathered it, so compacting a
// day holds one column of its inputs at a time: holding them all to the end took 13 GB for a
// 3M-row day and the 100M-event benchmark was killed for it.
type columnReleaser interface{ ReleaseColumn(idx int) }

func (m *Merged) releaseColumn(idx int) {
	for _, u := range m.units {
		if r, ok := u.(columnReleaser); ok {
			r.ReleaseColumn(idx)
		}
	}
}

// rowRef addresses one input row.
type rowRef struct {
	unit uint32
	row  uint32
}

// Merged is the sorted union of some units, produced one column at a time.
type Merged struct {
	Schema    *Schema
	Rows      int
	BlockRows int
	MinTime   int64
	MaxTime   int64
	// BetterCompression spends more CPU for smaller files (compaction output, read for weeks).
	BetterCompression bool
	units             []Unit
	order             []rowRef
	// span[u] is the first and last position in order of unit u's rows ({-1, -1}: none). A
	// merge of sorted segments walks each input block by block, so a column's gather binds an
	// input block when the output first needs it and lets go of it after its last row: it holds
	// about one block per input segment, not the whole column of every input.
	span [][2]int
}

var (
	colFlagged = SignIns.byName["flaggedForReview"]
	colUPN     = SignIns.byName["userPrincipalName"]
	colAppID   = SignIns.byName["appId"]
)

// orderColumns are the columns the segment order is computed from.
var orderColumns = []*Column{colFlagged, colUPN, colAppID, colCreated, colID}

// NewestRows is how many of a segment's newest rows (not flagged) sort before the rest: a Graph
// page holds at most 1,000. The run costs one-user pages in small segments, where most users
// have a row among the newest: 60 users' full histories on 1M events (days of 8 blocks) read
// 9% more blocks and took 1.6x as long (a run of 4,096 rows: 3.4x). It is in every segment
// larger than the run, not only in large ones, so that a merge finds each input's newest rows
// at its front: inputs without it would have their newest rows in every block, and the merge
// would hold every input block of a column at once to write the output's run.
const NewestRows = 1024

// Merge computes the segment order of the rows of units: flagged for review first, then the
// NewestRows newest of the others (fewer when a block is smaller), then the rest; within each,
// by userPrincipalName, appId, createdDateTime and id (see docs/format/segment.md for why).
// Only those five columns are read here; the others are gathered by Column.
func Merge(s *Schema, units []Unit, blockRows int) (*Merged, error) {
	if blockRows <= 0 {
		blockRows = DefaultBlockRows
	}
	m := &Merged{Schema: s, BlockRows: blockRows, units: units}
	for _, u := range units {
		m.Rows += u.Rows()
	}
	if m.Rows == 0 {
		return m, nil
	}
	// Only the remappings are needed to order rows; the unified dictionaries themselves are
	// built again, per column, when the columns are gathered.
	upns, err := m.columnOfEach(colUPN.Index)
	if err != nil {
		return nil, err
	}
	upnDict, upnRemap := m.unifiedDict(upns)
	upnDict.Release()
	apps, err := m.columnOfEach(colAppID.Index)
	if err != nil {
		return nil, err
	}
	appDict, appRemap := m.unifiedDict(apps)
	appDict.Release()
	// 32 bytes a row: the id, the last tie-breaker, is looked up in its unit's column when
	// needed (a slice of it here made the key 56 bytes, 80 MB more for a 3.3M-row day).
	type key struct {
		k1  uint64
		t   int64
		ref rowRef
		k0  uint8 // 0 flagged, 1 the NewestRows newest of the others, 2 the rest
	}
	keys := make([]key, 0, m.Rows)
	idsOf := make([]*array.FixedSizeBinary, len(units))
	m.MinTime, m.MaxTime = int64(^uint64(0)>>1), -int64(^uint64(0)>>1)-1
	for ui, u := range units {
		flagged, err := u.Column(colFlagged.Index)
		if err != nil {
			return nil, err
		}
		fv, _ := flagged.(*array.Boolean)
		upn, app := upns[ui], apps[ui]
		ts, err := u.Column(colCreated.Index)
		if err != nil {
			return nil, err
		}
		ids, err := u.Column(colID.Index)
		if err != nil {
			return nil, err
		}
		if ts == nil || ids == nil {
			return nil, fmt.Errorf("merge: input %d lacks createdDateTime or id", ui)
		}
		tv := ts.(*array.Timestamp).TimestampValues()
		idsOf[ui] = ids.(*array.FixedSizeBinary)
		for r := 0; r < u.Rows(); r++ {
			k := key{k0: 2, ref: rowRef{uint32(ui), uint32(r)}, t: int64(tv[r])}
			if fv != nil && fv.IsValid(r) && fv.Value(r) {
				k.k0 = 0
			}
			k.k1 = uint64(remapCode(upn, upnRemap[ui], r))<<32 | uint64(remapCode(app, appRemap[ui], r))
			m.MinTime = min(m.MinTime, k.t)
			m.MaxTime = max(m.MaxTime, k.t)
			keys = append(keys, k)
		}
	}
	// The newest NewestRows of the unflagged rows come next: the Graph list's default page is
	// the newest sign-ins, which otherwise sit in every block of a day sorted by user (10M
	// events: 1,000 rows from 81 blocks).
	var times []int64
	for i := range keys {
		if keys[i].k0 == 2 {
			times = append(times, keys[i].t)
		}
	}
	if run := min(blockRows, NewestRows); len(times) > run {
		slices.Sort(times)
		newest := times[len(times)-run]
		for i := range keys {
			if keys[i].k0 == 2 && keys[i].t >= newest {
				keys[i].k0 = 1
			}
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.k0, b.k0); c != 0 {
			return c
		}
		if c := cmp.Compare(a.k1, b.k1); c != 0 {
			return c
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return bytes.Compare(idsOf[a.ref.unit].Value(int(a.ref.row)), idsOf[b.ref.unit].Value(int(b.ref.row)))
	})
	m.order = make([]rowRef, len(keys))
	for i := range keys {
		m.order[i] = keys[i].ref
	}
	m.setSpans()
	for _, c := range orderColumns {
		m.releaseColumn(c.Index)
	}
	return m, nil
}

// remapCode returns the unified code of a dictionary cell; nulls sort first (code 0, shifted).
func remapCode(a arrow.Array, remap []int32, r int) uint32 {
	if a == nil || a.IsNull(r) {
		return 0
	}
	return uint32(remap[a.(*array.Dictionary).GetValueIndex(r)]) + 1
}

// columnOfEach returns column idx of every unit (nil for a unit without it).
func (m *Merged) columnOfEach(idx int) ([]arrow.Array, error) {
	cols := make([]arrow.Array, len(m.units))
	for ui, u := range m.units {
		a, err := u.Column(idx)
		if err != nil {
			return nil, err
		}
		cols[ui] = a
	}
	return cols, nil
}

// unifiedDict builds the sorted union of the dictionaries of a dictionary column's inputs cols
// (one per unit, nil for none), and per unit the remapping from its codes to the union's.
//
// The blocks of one segment share its dictionary, so the work is per distinct dictionary,
// not per unit: a whole-day merge of a 3.3M-row day has ~800 input blocks from ~30 segments,
// and used flags and a remapping per block, each the size of its segment's dictionary, took
// 1.5 GB of the 100M-event stream's final merges (and walked every dictionary 800 times).
func (m *Merged) unifiedDict(cols []arrow.Array) (*array.String, [][]int32) {
	// Only the values the merged rows use: a merge may take a subset of a unit's rows
	// (superseded versions, hidden copies, duplicates), and a segment's dictionary must not
	// outgrow its rows (the footer's limit) or carry values no row has.
	type source struct {
		dict  *array.String
		used  []bool
		remap []int32
	}
	var sources []*source
	byDict := map[arrow.ArrayData]*source{}
	of := make([]*source, len(cols))
	codes := make([]*array.Int32, len(cols))
	for ui, a := range cols {
		if a == nil {
			continue
		}
		da := a.(*array.Dictionary)
		codes[ui] = da.Indices().(*array.Int32)
		key := da.Data().Dictionary()
		src := byDict[key]
		if src == nil {
			src = &source{dict: da.Dictionary().(*array.String)}
			src.used = make([]bool, src.dict.Len())
			if m.order == nil { // ordering the rows (Merge): every value ranks
				for i := range src.used {
					src.used[i] = true
				}
			}
			byDict[key] = src
			sources = append(sources, src)
		}
		of[ui] = src
	}
	for _, ref := range m.order {
		c := codes[ref.unit]
		if c != nil && c.IsValid(int(ref.row)) {
			of[ref.unit].used[c.Value(int(ref.row))] = true
		}
	}
	seen := map[string]struct{}{}
	var vals []string
	for _, src := range sources {
		for i, u := range src.used {
			if !u {
				continue
			}
			v := src.dict.Value(i)
			if _, ok := seen[v]; !ok {
				seen[v] = struct{}{}
				vals = append(vals, v)
			}
		}
	}
	seen = nil
	sort.Strings(vals)
	pos := make(map[string]int32, len(vals))
	var data []byte
	offsets := make([]int32, 0, len(vals)+1)
	offsets = append(offsets, 0)
	for i, v := range vals {
		pos[v] = int32(i)
		data = append(data, v...)
		offsets = append(offsets, int32(len(data)))
	}
	for _, src := range sources {
		src.remap = make([]int32, src.dict.Len())
		for i, u := range src.used {
			if u {
				src.remap[i] = pos[src.dict.Value(i)]
			}
		}
		src.used = nil
	}
	remaps := make([][]int32, len(cols))
	for ui, src := range of {
		if src != nil {
			remaps[ui] = src.remap
		}
	}
	if data == nil {
		data = []byte{}
	}
	dict := array.NewStringData(array.NewData(arrow.BinaryTypes.String, len(vals),
		[]*memory.Buffer{nil, memory.NewBufferBytes(int32Bytes(offsets)), memory.NewBufferBytes(data)}, nil, 0, 0))
	return dict, remaps
}

// NumBlocks is the number of output blocks.
func (m *Merged) NumBlocks() int { return (m.Rows + m.BlockRows - 1) / m.BlockRows }

// Column gathers column idx in segment order, one array per block. Dictionary columns share one
// sorted dictionary across all blocks. The caller releases the arrays.
func (m *Merged) Column(idx int) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, m.NumBlocks())
	err := m.ColumnBlocks(idx, func(_ int, a arrow.Array) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		for _, a := range out {
			a.Release()
		}
		return nil, err
	}
	return out, nil
}

// setSpans computes span from order.
func (m *Merged) setSpans() {
	m.span = make([][2]int, len(m.units))
	for i := range m.span {
		m.span[i] = [2]int{-1, -1}
	}
	for i, ref := range m.order {
		sp := &m.span[ref.unit]
		if sp[0] < 0 {
			sp[0] = i
		}
		sp[1] = i
	}
}

// ColumnBlocks gathers column idx in segment order and hands each output block to fn, in
// order, as soon as it is built; fn owns (and releases) the array. Inputs of a non-dictionary
// column are bound when the output first reaches them and released after their last row, so a
// column of a large merge never sits in memory whole, neither its inputs nor its output.
func (m *Merged) ColumnBlocks(idx int, fn func(block int, a arrow.Array) error) error {
	return m.columnBlocks(idx, nil, fn)
}

// columnBlocks is ColumnBlocks with the blocks' buffers from pool when it is not nil: for a
// caller that holds no block, nor any slice of one, past its release (the segment writer).
func (m *Merged) columnBlocks(idx int, pool *bufPool, fn func(block int, a arrow.Array) error) error {
	defer m.releaseColumn(idx) // gather copied what it needs
	kind := KindExtras
	if idx < len(m.Schema.Columns) {
		kind = m.Schema.Columns[idx].Kind
	}
	srcs := make([]colReader, len(m.units))
	bound := make([]bool, len(m.units))
	bind := func(ui int) error {
		bound[ui] = true
		a, err := m.units[ui].Column(idx)
		if err != nil || a == nil {
			return err
		}
		return srcs[ui].bind(kind, a)
	}
	var (
		dict   *array.String
		remaps [][]int32
	)
	if kind == KindDict || kind == KindJSONDict {
		// The unified dictionary needs every input's dictionary first; codes are 4 bytes a
		// row, so these columns bind all inputs at once.
		cols, err := m.columnOfEach(idx)
		if err != nil {
			return err
		}
		dict, remaps = m.unifiedDict(cols)
		defer dict.Release()
		for ui, a := range cols {
			bound[ui] = true
			if a != nil {
				if err := srcs[ui].bind(kind, a); err != nil {
					return err
				}
			}
		}
	}
	lazy := m.span != nil && dict == nil
	if !lazy {
		for ui := range m.units {
			if !bound[ui] {
				if err := bind(ui); err != nil {
					return err
				}
			}
		}
	}
	for b, start := 0, 0; start < m.Rows; b, start = b+1, start+m.BlockRows {
		end := min(start+m.BlockRows, m.Rows)
		if lazy {
			for ui, sp := range m.span {
				if !bound[ui] && sp[0] >= 0 && sp[0] < end {
					if err := bind(ui); err != nil {
						return err
					}
				}
			}
		}
		a := gather(kind, srcs, m.order[start:end], dict, remaps, pool)
		if lazy {
			for ui, sp := range m.span {
				if bound[ui] && srcs[ui].present && sp[1] < end {
					if r, ok := m.units[ui].(columnReleaser); ok {
						r.ReleaseColumn(idx) // this unit's, before the column is done
					}
					srcs[ui] = colReader{}
				}
			}
		}
		if err := fn(b, a); err != nil {
			return err
		}
	}
	return nil
}

func (c *colReader) isValid(row int) bool {
	if !c.present {
		return false
	}
	if c.valid == nil {
		return true
	}
	i := row + c.offset
	return c.valid[i>>3]&(1<<(i&7)) != 0
}

// Take returns the given rows of rec (in that order) as a new record batch of schema s.
func Take(s *Schema, rec arrow.RecordBatch, rows []int) arrow.RecordBatch {
	m := &Merged{Schema: s, Rows: len(rows), BlockRows: len(rows), units: []Unit{RecordUnit{Schema: s, Rec: rec}}}
	m.order = make([]rowRef, len(rows))
	for i, r := range rows {
		m.order[i] = rowRef{0, uint32(r)}
	}
	m.setSpans()
	arrs := make([]arrow.Array, s.NumColumns())
	for i := range arrs {
		blocks, err := m.Column(i)
		if err != nil || len(blocks) != 1 {
			panic(fmt.Sprintf("BUG: Take of an in-memory record failed: %v", err))
		}
		arrs[i] = blocks[0]
	}
	out := array.NewRecordBatch(s.Arrow(), arrs, int64(len(rows)))
	for _, a := range arrs {
		a.Release()
	}
	return Shareable(out)
}
