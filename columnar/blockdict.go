package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/utctime"
)

// Block dictionaries (version 7): a block of text, JSON or extras stored as its distinct
// entries in order of first use and a code per row, for columns whose rows mostly repeat a few
// values that are not worth a segment dictionary. Two encodings have this layout:
//
//   - encJSONTimes (5): JSON whose entries are templates with marks for times relative to the
//     row's (Column.Times; jsontimes.go);
//   - encBlockDict (6): the extras column, whose entries are values (most rows hold the same
//     few absent and empty properties: as text, their offsets alone kept 2.3 B/event).
//
// The layout, after the frame's validity bitmap, each section padded to 8 bytes (docs/format/
// segment.md, "Block dictionaries"):
//
//	count u32 │ bytes u32
//	offsets   (count+1) × u32, the first 0, the last bytes
//	entries   bytes bytes
//	codes     rows × codeWidth(count) bytes

// binaryValues returns the data buffer and the offsets of a string or binary block: value i
// is data[offs[i]:offs[i+1]].
func binaryValues(arr arrow.Array) (data []byte, offs []int32, err error) {
	switch a := arr.(type) {
	case *array.String:
		offs = a.ValueOffsets()
	case *array.Binary:
		offs = a.ValueOffsets()
	default:
		return nil, nil, fmt.Errorf("BUG: block dictionary of %s", arr.DataType())
	}
	if bufs := arr.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	return data, offs, nil
}

// blockDictEntries turns block arr's values into a block dictionary: its entries in order of
// first use and each row's code (0 for a null row). With times (the same block of the
// column's Times column) the entries are templates of marks (appendTimesTemplate), else values.
func blockDictEntries(arr arrow.Array, times *array.Timestamp) (entries [][]byte, codes []int32, err error) {
	data, offs, err := binaryValues(arr)
	if err != nil {
		return nil, nil, err
	}
	codes = make([]int32, arr.Len())
	seen := map[string]int32{}
	var scratch []byte
	for i := range arr.Len() {
		if arr.IsNull(i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		if times != nil && times.IsValid(i) {
			scratch = appendTimesTemplate(scratch[:0], v, int64(times.Value(i)))
			v = scratch
		}
		c, found := seen[string(v)]
		if !found {
			c = int32(len(entries))
			e := bytes.Clone(v)
			seen[string(e)] = c
			entries = append(entries, e)
		}
		codes[i] = c
	}
	return entries, codes, nil
}

// appendBlockDict appends a block dictionary's layout.
func appendBlockDict(dst []byte, entries [][]byte, codes []int32) []byte {
	total := 0
	for _, e := range entries {
		total += len(e)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(entries)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(total))
	off := 0
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	for _, e := range entries {
		off += len(e)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
	}
	dst = pad8(dst)
	for _, e := range entries {
		dst = append(dst, e...)
	}
	dst = pad8(dst)
	return pad8(appendCodes(dst, codes, codeWidth(len(entries))))
}

// blockDictValues writes a block dictionary's rows (entries at offsets offs over data, codes
// of w bytes) into one new buffer from mem: validity (copied), offsets, values, as an array of
// typ. With times (encJSONTimes: the block of the column's Times column, read only when an
// entry has a mark or spells a time) entries are templates whose marks are expanded with the
// row's time; without, values. A frame has one spelling: entries distinct and first used in
// order, every one used, code 0 under null rows, and (templates) no entry of a row with a time
// (utctime.InRange) spelling one as text.
func blockDictValues(typ arrow.DataType, offs []uint32, data, codes []byte, w int, validity *memory.Buffer, rows, nulls int, mem memory.Allocator, times func() (arrow.Array, error), take []int) (arrow.Array, error) {
	if mem == nil {
		return nil, fmt.Errorf("BUG: block dictionary without an allocator")
	}
	n := len(offs) - 1
	tmpls := make([]timesTemplate, n)
	spells := make([]bool, n)
	distinct := make(map[string]struct{}, n)
	needTimes := false
	for i := range n {
		if offs[i] > offs[i+1] || int(offs[i+1]) > len(data) {
			return nil, fmt.Errorf("entry %d spans bytes [%d,%d) of %d", i, offs[i], offs[i+1], len(data))
		}
		raw := data[offs[i]:offs[i+1]]
		if _, dup := distinct[string(raw)]; dup {
			return nil, fmt.Errorf("entry %d repeats an earlier one", i)
		}
		distinct[string(raw)] = struct{}{}
		if times == nil {
			tmpls[i] = timesTemplate{lits: [][]byte{raw}, size: len(raw)}
			continue
		}
		t, err := parseTimesTemplate(raw)
		if err != nil {
			return nil, fmt.Errorf("template %d: %w", i, err)
		}
		tmpls[i], spells[i] = t, spellsTime(raw)
		needTimes = needTimes || len(t.marks) > 0 || spells[i]
	}
	code := func(i int) int { return blockCode(codes, w, i) }
	var tv *array.Timestamp
	if needTimes {
		var err error
		if tv, err = timesBlock(times, rows); err != nil {
			return nil, err
		}
		defer tv.Release()
	}
	total, next := 0, 0 // the bytes of the rows taken; and of every row, held to the limit
	whole := 0
	taking := taker{take: take}
	for i := range rows {
		dst := taking.dest(i)
		c := code(i)
		if validity != nil && !bitutil.BitIsSet(validity.Bytes(), i) {
			if c != 0 {
				return nil, fmt.Errorf("null row %d has entry %d", i, c)
			}
			continue
		}
		if c > next || c >= n {
			return nil, fmt.Errorf("row %d uses entry %d of %d, the next new one being %d", i, c, n, next)
		}
		if c == next {
			next++
		}
		if tv != nil {
			timed := tv.IsValid(i) && utctime.InRange(int64(tv.Value(i)))
			switch {
			case timed && spells[c]:
				return nil, fmt.Errorf("row %d has a time, and its template %d spells one as text", i, c)
			case !timed && len(tmpls[c].marks) > 0:
				return nil, fmt.Errorf("row %d has no time for its template %d's marks", i, c)
			}
		}
		if dst >= 0 {
			total += tmpls[c].size
		}
		whole += tmpls[c].size
	}
	if next != n {
		return nil, fmt.Errorf("%d of %d entries are used", next, n)
	}
	if whole > maxFrameBytes {
		return nil, fmt.Errorf("values of %d bytes", whole)
	}
	length := outLen(take, rows)
	nv, parts, outNulls := resolvedBuffers(mem, validity, take, nulls, (length+1)*4, total)
	offsets, text := parts[0], parts[1]
	defer release(nv, offsets, text)
	outOffs := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	rw := rowWriter{out: text.Bytes()[:0], lastK: -1}
	outOffs[0] = 0
	taking = taker{take: take}
	for i := range rows {
		dst := taking.dest(i)
		if validity == nil || bitutil.BitIsSet(validity.Bytes(), i) {
			// A row not taken is checked as a full decode checks it, not written.
			if err := rw.row(&tmpls[code(i)], tv, i, dst >= 0); err != nil {
				return nil, err
			}
		}
		if dst >= 0 {
			outOffs[dst+1] = int32(len(rw.out))
		}
	}
	if len(rw.out) != total {
		return nil, fmt.Errorf("BUG: expanded %d bytes of %d", len(rw.out), total)
	}
	ad := array.NewData(typ, length, []*memory.Buffer{nv, offsets, text}, nil, outNulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

// blockCode is row i's entry in codes of w bytes each.
func blockCode(codes []byte, w, i int) int {
	switch w {
	case 1:
		return int(codes[i])
	case 2:
		return int(binary.LittleEndian.Uint16(codes[2*i:]))
	}
	return int(binary.LittleEndian.Uint32(codes[4*i:]))
}

// rowWriter writes block dictionary rows: a template's literals with its marks expanded at
// the row's time. It keeps the last time written and its text: a row's steps are usually
// all at its time.
type rowWriter struct {
	out      []byte
	lastAt   int64
	lastK    int
	lastText []byte
	utc      utctime.Writer
}

// row checks row i's marks of template t against the row's time (tv; nil only when t has no
// mark) and, when write, appends the row's value.
func (w *rowWriter) row(t *timesTemplate, tv *array.Timestamp, i int, write bool) error {
	for j, m := range t.marks {
		at, ok := utctime.Add(int64(tv.Value(i)), m.delta)
		if !ok {
			return fmt.Errorf("row %d: time %d%+d ns is out of range", i, tv.Value(i), m.delta)
		}
		if at%utctime.FracUnit[m.k] != 0 {
			// The writer's offset makes the time exactly the text's: one spelling.
			return fmt.Errorf("row %d: time %d%+d ns is finer than its %d fraction digits", i, tv.Value(i), m.delta, m.k)
		}
		if !write {
			continue
		}
		w.out = append(w.out, t.lits[j]...)
		if at != w.lastAt || m.k != w.lastK {
			start := len(w.out)
			w.out = w.utc.Append(w.out, at, m.k)
			w.lastAt, w.lastK, w.lastText = at, m.k, w.out[start:]
			continue
		}
		w.out = append(w.out, w.lastText...)
	}
	if write {
		w.out = append(w.out, t.lits[len(t.marks)]...)
	}
	return nil
}

// blockDictTaken is blockDictValues for the rows take (not nil) of a frame whose content
// passed blockDictValues's checks whole before (decodeTraits.checked: the segment remembers
// it per block): it checks and writes the rows taken and the entries they use, not every row
// and entry of the block again. What it still checks is what writing those rows relies on
// (entries within the data, codes within the entries, a time under every mark), so a frame
// that changed since (the file rewritten under its reader) is refused or read, never a panic.
// One user's sign-ins over 30 days at 10M events read 8 rows of each day's 4,096-row block;
// checking authenticationDetails' whole block again cost 290 µs a block, a seventh of the page.
func blockDictTaken(typ arrow.DataType, offs []uint32, data, codes []byte, w int, validity *memory.Buffer, rows, nulls int, mem memory.Allocator, times func() (arrow.Array, error), take []int) (arrow.Array, error) {
	if mem == nil {
		return nil, fmt.Errorf("BUG: block dictionary without an allocator")
	}
	n := len(offs) - 1
	tmpls := make([]timesTemplate, n)
	parsed := make([]bool, n)
	needTimes := false
	total := 0
	valid := func(i int) bool { return validity == nil || bitutil.BitIsSet(validity.Bytes(), i) }
	for _, r := range take {
		if !valid(r) {
			continue
		}
		c := blockCode(codes, w, r)
		if c >= n {
			return nil, fmt.Errorf("row %d uses entry %d of %d", r, c, n)
		}
		if !parsed[c] {
			if offs[c] > offs[c+1] || int(offs[c+1]) > len(data) {
				return nil, fmt.Errorf("entry %d spans bytes [%d,%d) of %d", c, offs[c], offs[c+1], len(data))
			}
			raw := data[offs[c]:offs[c+1]]
			if times == nil {
				tmpls[c] = timesTemplate{lits: [][]byte{raw}, size: len(raw)}
			} else {
				t, err := parseTimesTemplate(raw)
				if err != nil {
					return nil, fmt.Errorf("template %d: %w", c, err)
				}
				tmpls[c] = t
				needTimes = needTimes || len(t.marks) > 0
			}
			parsed[c] = true
		}
		total += tmpls[c].size
	}
	if total > maxFrameBytes {
		return nil, fmt.Errorf("values of %d bytes", total)
	}
	var tv *array.Timestamp
	if needTimes {
		var err error
		if tv, err = timesBlock(times, rows); err != nil {
			return nil, err
		}
		defer tv.Release()
	}
	nv, parts, outNulls := resolvedBuffers(mem, validity, take, nulls, (len(take)+1)*4, total)
	offsets, text := parts[0], parts[1]
	defer release(nv, offsets, text)
	outOffs := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	rw := rowWriter{out: text.Bytes()[:0], lastK: -1}
	outOffs[0] = 0
	for j, r := range take {
		if valid(r) {
			t := &tmpls[blockCode(codes, w, r)]
			if len(t.marks) > 0 && !(tv.IsValid(r) && utctime.InRange(int64(tv.Value(r)))) {
				return nil, fmt.Errorf("row %d has no time for its template's marks", r)
			}
			if err := rw.row(t, tv, r, true); err != nil {
				return nil, err
			}
		}
		outOffs[j+1] = int32(len(rw.out))
	}
	if len(rw.out) != total {
		return nil, fmt.Errorf("BUG: expanded %d bytes of %d", len(rw.out), total)
	}
	ad := array.NewData(typ, len(take), []*memory.Buffer{nv, offsets, text}, nil, outNulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

// timesBlock reads the block of a column's Times column that a block dictionary's templates
// are expanded with, checked to be rows times. The caller releases it.
func timesBlock(times func() (arrow.Array, error), rows int) (*array.Timestamp, error) {
	a, err := times()
	if err != nil {
		return nil, fmt.Errorf("time column: %w", err)
	}
	ts, ok := a.(*array.Timestamp)
	if !ok || ts.Len() != rows {
		a.Release()
		return nil, fmt.Errorf("time column block is %s of %d rows, want %d", a.DataType(), a.Len(), rows)
	}
	return ts, nil
}
