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
	code := func(i int) int {
		switch w {
		case 1:
			return int(codes[i])
		case 2:
			return int(binary.LittleEndian.Uint16(codes[2*i:]))
		}
		return int(binary.LittleEndian.Uint32(codes[4*i:]))
	}
	var tv *array.Timestamp
	if needTimes {
		a, err := times()
		if err != nil {
			return nil, fmt.Errorf("time column: %w", err)
		}
		defer a.Release()
		ts, ok := a.(*array.Timestamp)
		if !ok || ts.Len() != rows {
			return nil, fmt.Errorf("time column block is %s of %d rows, want %d", a.DataType(), a.Len(), rows)
		}
		tv = ts
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
	out := text.Bytes()[:0]
	outOffs[0] = 0
	// The last time written, and its text: a row's steps are usually all at its time.
	var (
		lastAt, lastK = int64(0), -1
		lastText      []byte
		utc           utctime.Writer
	)
	taking = taker{take: take}
	for i := range rows {
		dst := taking.dest(i)
		if validity == nil || bitutil.BitIsSet(validity.Bytes(), i) {
			t := &tmpls[code(i)]
			for j, m := range t.marks {
				at, ok := utctime.Add(int64(tv.Value(i)), m.delta)
				if !ok {
					return nil, fmt.Errorf("row %d: time %d%+d ns is out of range", i, tv.Value(i), m.delta)
				}
				if at%utctime.FracUnit[m.k] != 0 {
					// The writer's offset makes the time exactly the text's: one spelling.
					return nil, fmt.Errorf("row %d: time %d%+d ns is finer than its %d fraction digits", i, tv.Value(i), m.delta, m.k)
				}
				if dst < 0 {
					continue // not taken: checked as a full decode checks it, not written
				}
				out = append(out, t.lits[j]...)
				if at != lastAt || m.k != lastK {
					start := len(out)
					out = utc.Append(out, at, m.k)
					lastAt, lastK, lastText = at, m.k, out[start:]
					continue
				}
				out = append(out, lastText...)
			}
			if dst >= 0 {
				out = append(out, t.lits[len(t.marks)]...)
			}
		}
		if dst >= 0 {
			outOffs[dst+1] = int32(len(out))
		}
	}
	if len(out) != total {
		return nil, fmt.Errorf("BUG: expanded %d bytes of %d", len(out), total)
	}
	ad := array.NewData(typ, length, []*memory.Buffer{nv, offsets, text}, nil, outNulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}
