package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/authlake/authlake/internal/vfs"
)

// v4Case is an array of one kind as a segment stores it (dictionary kinds: the codes, with the
// dictionary's size).
type v4Case struct {
	name    string
	kind    Kind
	arr     arrow.Array
	dictLen int
}

// v4Cases builds arrays of every kind: with nulls, all null, empty strings, a single row,
// lengths that are not multiples of 8, codes needing 1, 2 and 4 bytes, extreme values, and
// slices (a non-zero Arrow offset, as a merge may hand the writer).
func v4Cases(t testing.TB) []v4Case {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(4, 4))
	var cases []v4Case
	add := func(name string, kind Kind, a arrow.Array, dictLen int) {
		cases = append(cases, v4Case{name, kind, a, dictLen})
		if a.Len() > 3 {
			cases = append(cases, v4Case{name + "/slice", kind, array.NewSlice(a, 1, int64(a.Len()-1)), dictLen})
		}
	}
	// valid reports whether row i of a case is valid: every row, none, or about a third null.
	type validity struct {
		name string
		f    func(i int) bool
	}
	valids := []validity{
		{"nonnull", func(int) bool { return true }},
		{"allnull", func(int) bool { return false }},
		{"nulls", func(i int) bool { return rng.IntN(3) != 0 }},
	}
	for _, n := range []int{1, 7, 8, 100, 4096, 4099} {
		for _, v := range valids {
			tag := fmt.Sprintf("%d/%s", n, v.name)
			for _, dictLen := range []int{0, 1, 256, 257, 65536, 65537} {
				if dictLen == 0 && v.name != "allnull" {
					continue
				}
				b := array.NewInt32Builder(mem)
				for i := range n {
					if v.f(i) {
						b.Append(int32(rng.IntN(dictLen)))
						if i == 0 {
							b.Append(0) // the first and the last code
						}
					} else {
						b.AppendNull()
					}
				}
				if dictLen > 0 && b.Len() > 0 {
					b.Append(int32(dictLen - 1))
				}
				add(fmt.Sprintf("codes%d/%s", dictLen, tag), KindDict, b.NewArray(), dictLen)
				if dictLen == 257 {
					b := array.NewInt32Builder(mem)
					b.AppendValues([]int32{256, 0, 5}, nil)
					add("jsondict codes", KindJSONDict, b.NewArray(), dictLen)
				}
			}
			tb := array.NewTimestampBuilder(mem, timeType)
			for i := range n {
				switch {
				case !v.f(i):
					tb.AppendNull()
				case i%50 == 1:
					tb.Append(arrow.Timestamp(math.MinInt64 + int64(i)))
				case i%50 == 2:
					tb.Append(arrow.Timestamp(math.MaxInt64 - int64(i)))
				default:
					tb.Append(arrow.Timestamp(1_790_000_000_000_000_000 + rng.Int64N(86400e9)))
				}
			}
			add("time/"+tag, KindTime, tb.NewArray(), 0)
			gb := array.NewFixedSizeBinaryBuilder(mem, guidType)
			ib := array.NewInt32Builder(mem)
			fb := array.NewFloat64Builder(mem)
			bb := array.NewBooleanBuilder(mem)
			sb := array.NewStringBuilder(mem)
			xb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			for i := range n {
				if !v.f(i) {
					gb.AppendNull()
					ib.AppendNull()
					fb.AppendNull()
					bb.AppendNull()
					sb.AppendNull()
					xb.AppendNull()
					continue
				}
				var g [16]byte
				binary.LittleEndian.PutUint64(g[:], rng.Uint64())
				gb.Append(g[:])
				ib.Append(int32(rng.Uint32()))
				fb.Append([]float64{rng.Float64(), math.Copysign(0, -1), math.Inf(1), math.NaN()}[i%4])
				bb.Append(rng.IntN(2) == 0)
				s := []string{"", "contoso", `{"a":[1,2]}`, "ünïcode"}[i%4]
				sb.Append(s)
				xb.Append([]byte(s + "\x00\xff"))
			}
			add("guid/"+tag, KindGUID, gb.NewArray(), 0)
			add("int32/"+tag, KindInt32, ib.NewArray(), 0)
			add("float64/"+tag, KindFloat64, fb.NewArray(), 0)
			add("bool/"+tag, KindBool, bb.NewArray(), 0)
			str := sb.NewArray()
			add("text/"+tag, KindText, str, 0)
			add("json/"+tag, KindJSON, str, 0)
			add("extras/"+tag, KindExtras, xb.NewArray(), 0)
		}
	}
	// Empty arrays: a dictionary of no entries (a column null in every row).
	add("text/empty", KindText, array.NewStringBuilder(mem).NewArray(), 0)
	return cases
}

// sameArray compares two arrays value for value, NaN equal to NaN.
func sameArray(a, b arrow.Array) bool {
	return array.ApproxEqual(a, b, array.WithNaNsEqual(true))
}

// TestFrameV4RoundTrip: every kind, through the version-4 frame writer and reader, reads back
// the same values and nulls, and a re-encoding gives the same bytes.
func TestFrameV4RoundTrip(t *testing.T) {
	for _, c := range v4Cases(t) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		frame, err := encodeFrameV4(c.kind, c.arr, c.dictLen, encodeTraits{}, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := decodeFrameV4(frame, c.kind, c.arr.Len(), c.dictLen, mem, decodeTraits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !sameArray(c.arr, got) || got.NullN() != c.arr.NullN() {
			t.Fatalf("%s: read back\n%v\nwrote\n%v", c.name, got, c.arr)
		}
		raw1, _ := appendFrameV4(nil, c.kind, c.arr, c.dictLen, encodeTraits{})
		raw2, err := appendFrameV4(nil, c.kind, got, c.dictLen, encodeTraits{})
		if err != nil || !bytes.Equal(raw1, raw2) {
			t.Fatalf("%s: re-encoding differs (%v)", c.name, err)
		}
		got.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%s: %d bytes still allocated", c.name, left)
		}
	}
}

// TestFrameV4Rejects: damaged contents give errors that say what is wrong, never a panic.
func TestFrameV4Rejects(t *testing.T) {
	mem := memory.NewGoAllocator()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "", "bc"}, []bool{true, false, true})
	str := sb.NewArray()
	good, _ := appendFrameV4(nil, KindText, str, 0, encodeTraits{})
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
		kind Kind
		rows int
	}{
		{"short header", func(b []byte) []byte { return b[:10] }, KindText, 3},
		{"rows", func(b []byte) []byte { return b }, KindText, 4},
		{"nulls above rows", func(b []byte) []byte { b[4] = 9; return b }, KindText, 3},
		{"null count", func(b []byte) []byte { b[4] = 2; return b }, KindText, 3},
		{"encoding", func(b []byte) []byte { b[8] = 1; return b }, KindText, 3},
		{"reserved", func(b []byte) []byte { b[12] = 1; return b }, KindText, 3},
		{"cut", func(b []byte) []byte { return b[:len(b)-8] }, KindText, 3},
		{"trailing", func(b []byte) []byte { return append(b, make([]byte, 8)...) }, KindText, 3},
		{"first offset", func(b []byte) []byte { b[24] = 1; return b }, KindText, 3},
		{"offset past data", func(b []byte) []byte { b[36] = 200; return b }, KindText, 3},
		{"offsets decrease", func(b []byte) []byte { b[28] = 5; return b }, KindText, 3},
		{"padding", func(b []byte) []byte { b[17] = 1; return b }, KindText, 3},
		{"wrong kind", func(b []byte) []byte { return b }, KindGUID, 3},
	} {
		b := tc.edit(slices.Clone(good))
		a, err := decodeFrameV4(zstdFast.EncodeAll(b, nil), tc.kind, tc.rows, 0, mem, decodeTraits{})
		if err == nil {
			t.Errorf("%s: accepted %v", tc.name, a)
			a.Release()
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// A code out of the dictionary's range is refused where the dictionary is joined.
	cb := array.NewInt32Builder(mem)
	cb.AppendValues([]int32{0, 2}, nil)
	codes := cb.NewArray()
	frame, err := encodeFrameV4(KindDict, codes, 3, encodeTraits{}, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := decodeFrameV4(frame, KindDict, 2, 3, mem, decodeTraits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCodes(a, 2); err == nil {
		t.Error("code 2 of a dictionary of 2 entries accepted")
	}
	a.Release()
	// Version 4 refuses out-of-range codes when decoding (Block joins them unchecked): a value
	// coded against an empty dictionary too, while a null row's code 0 is fine.
	zb := array.NewInt32Builder(mem)
	zb.AppendValues([]int32{0, 0}, []bool{false, true})
	zc := zb.NewArray()
	for _, dictLen := range []int{0, 1} {
		frame, err := encodeFrameV4(KindDict, zc, 1, encodeTraits{}, false)
		if err != nil {
			t.Fatal(err)
		}
		a, err := decodeFrameV4(frame, KindDict, 2, dictLen, mem, decodeTraits{})
		if dictLen == 0 && err == nil {
			t.Error("a value coded against an empty dictionary accepted")
		}
		if dictLen == 1 && err != nil {
			t.Errorf("code 0 of a dictionary of 1: %v", err)
		}
		if a != nil {
			a.Release()
		}
	}
	zc.Release()
}

// FuzzFrameV4 feeds the version-4 frame reader contents it did not write, for every kind. It
// must return an error or an array that validates, and whatever it accepts re-encodes to the
// bytes it read (the format has one spelling of each array) and reads back the same.
func FuzzFrameV4(f *testing.F) {
	for i, c := range v4Cases(f) {
		if c.arr.Len() > 200 && i%7 != 0 {
			continue // a few big seeds are enough
		}
		raw, err := appendFrameV4(nil, c.kind, c.arr, c.dictLen, encodeTraits{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(c.kind), uint32(c.dictLen), raw)
	}
	f.Fuzz(func(t *testing.T, k byte, dictLen uint32, raw []byte) {
		kind := Kind(k%byte(KindExtras) + 1)
		dl := int(dictLen % (1 << 17))
		rows := 0
		if len(raw) >= 4 {
			rows = int(binary.LittleEndian.Uint32(raw))
			if rows > 1<<16 {
				return // not a size the format allows for a block; a cheap early out
			}
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := fuzzDecode(t, raw, kind, rows, dl, mem, decodeTraits{})
		if a == nil {
			return
		}
		again, err := appendFrameV4(nil, kind, a, dl, encodeTraits{})
		if err != nil {
			t.Fatalf("accepted %s frame does not re-encode: %v", kind, err)
		}
		if !bytes.Equal(again, raw) {
			t.Fatalf("accepted %s frame re-encodes differently:\nread  %x\nwrote %x", kind, raw, again)
		}
		b, err := decodeFrameV4(zstdFast.EncodeAll(again, nil), kind, rows, dl, mem, decodeTraits{})
		if err != nil || !sameArray(a, b) {
			t.Fatalf("re-encoded frame reads back differently: %v", err)
		}
		_ = a.String()
		a.Release()
		b.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the arrays were released", left)
		}
	})
}

// expectRefused decodes raw, compressed, as a frame of kind and wants an error that says wants.
func expectRefused(t *testing.T, name string, raw []byte, kind Kind, rows int, traits decodeTraits, wants string) {
	t.Helper()
	a, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), kind, rows, 0, memory.NewGoAllocator(), traits)
	if err == nil {
		t.Errorf("%s: accepted %v", name, a)
		a.Release()
		return
	}
	if !strings.Contains(err.Error(), wants) {
		t.Errorf("%s: %v, want it to say %q", name, err, wants)
	}
}

// fuzzDecode decodes raw, compressed, as a frame a fuzz target made up. A refused frame must
// leave nothing allocated (nil is returned); an accepted one must validate.
func fuzzDecode(t *testing.T, raw []byte, kind Kind, rows, dictLen int, mem *memory.CheckedAllocator, traits decodeTraits) arrow.Array {
	t.Helper()
	a, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), kind, rows, dictLen, mem, traits)
	if err != nil {
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after an error", left)
		}
		return nil
	}
	if err := validateArray(a.Data()); err != nil {
		t.Fatalf("accepted an array that does not validate: %v", err)
	}
	return a
}

// frameRefsOf returns the frame table of column name in the segment file at path.
func frameRefsOf(t *testing.T, path string, name string) (ColumnMeta, []frameRef, []byte) {
	t.Helper()
	seg, raw, meta := segmentFile(t, path)
	defer seg.Close()
	for _, c := range meta.Columns {
		if c.Name == name {
			refs, err := parseFrameTableV3(raw[c.Offset:c.Offset+c.Table], int64(c.Offset+c.Table), int64(c.Offset+c.Length))
			if err != nil {
				t.Fatal(err)
			}
			return c, refs, raw
		}
	}
	t.Fatalf("no column %s", name)
	return ColumnMeta{}, nil, nil
}

// TestFrameV4CorruptContent flips bytes in the content of v4 frames and fixes the frame's CRC
// (and the table's in the footer), as a writer bug or a hostile file would: reading the block
// gives an error or the very values it had (a flip in a value), never a panic or a changed
// shape.
func TestFrameV4CorruptContent(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestSegment(t, dir, testEvents(t, 300, 12), 64)
	rng := rand.New(rand.NewPCG(5, 5))
	errs, same, changed := 0, 0, 0
	for _, name := range []string{"userPrincipalName", "createdDateTime", "id", "authenticationDetails", "isInteractive", "status/errorCode", ExtrasColumn} {
		cm, refs, orig := frameRefsOf(t, path, name)
		idx := SignIns.Extras()
		if c, ok := SignIns.Lookup(name); ok {
			idx = c.Index
		}
		for trial := 0; trial < 40; trial++ {
			blk := rng.IntN(len(refs) - 1)
			r := refs[1+blk]
			content, err := zstdDecoder.DecodeAll(orig[r.off:r.off+r.len], nil)
			if err != nil {
				t.Fatal(err)
			}
			pos := rng.IntN(len(content))
			if trial < 8 {
				pos = trial // the header
			}
			content[pos] ^= byte(1 << rng.IntN(8))
			frame := zstdFast.EncodeAll(content, nil)
			// The file with this frame in place of the old, its table and the footer fixed.
			frames := make([][]byte, len(refs))
			for i, fr := range refs {
				frames[i] = orig[fr.off : fr.off+fr.len]
			}
			frames[1+blk] = frame
			table := appendFrameTableV3(nil, frames)
			var region []byte
			region = append(region, table...)
			for _, f := range frames {
				region = append(region, f...)
			}
			file := slices.Clone(orig[:cm.Offset])
			file = append(file, region...)
			file = append(file, orig[cm.Offset+cm.Length:]...)
			p := filepath.Join(dir, "bad.seg")
			rewriteColumnMeta(t, file, p, name, uint64(len(table)), crc32.Checksum(table, castagnoli), int64(len(region))-int64(cm.Length))
			seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := seg.Block(idx, blk)
			switch {
			case err != nil:
				errs++
			default:
				want, err2 := func() (arrow.Array, error) {
					s0, err := OpenSegment(vfs.Default, path, SignIns, nil)
					if err != nil {
						return nil, err
					}
					defer s0.Close()
					return s0.Block(idx, blk)
				}()
				if err2 != nil {
					t.Fatal(err2)
				}
				if a.Len() != want.Len() || !arrow.TypeEqual(a.DataType(), want.DataType()) {
					t.Fatalf("%s block %d: flip at %d served %d rows of %s", name, blk, pos, a.Len(), a.DataType())
				}
				if sameArray(a, want) {
					same++
				} else {
					changed++ // a flipped value: the frame CRC, not this reader, catches those
				}
				_ = a.String()
				a.Release()
				want.Release()
			}
			seg.Close()
		}
	}
	t.Logf("%d flips refused, %d read as a changed value, %d unchanged", errs, changed, same)
	if errs == 0 {
		t.Fatal("no flip was refused")
	}
}

// rewriteColumnMeta writes file to p with column name's frame table length and CRC replaced and
// every later region moved by shift bytes, the footer and trailer rewritten.
func rewriteColumnMeta(t *testing.T, file []byte, p, name string, table uint64, crc uint32, shift int64) {
	t.Helper()
	flen := binary.LittleEndian.Uint32(file[len(file)-segTrailerLen:])
	footerAt := len(file) - segTrailerLen - int(flen)
	meta, err := unmarshalSegmentMeta(file[footerAt:len(file)-segTrailerLen], uint64(footerAt)+1<<40)
	if err != nil {
		t.Fatal(err)
	}
	var at uint64
	for i := range meta.Columns {
		c := &meta.Columns[i]
		if c.Name == name {
			at = c.Offset
			c.Table, c.CRC, c.Length = table, crc, uint64(int64(c.Length)+shift)
		}
	}
	for i := range meta.Columns {
		if c := &meta.Columns[i]; c.Offset > at {
			c.Offset = uint64(int64(c.Offset) + shift)
		}
	}
	out := appendFooter(slices.Clone(file[:footerAt]), meta.marshal(nil), SegmentVersion)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSegmentV4Shapes: a segment of a single row, and one whose last block is short, read back
// every row through version-4 frames.
func TestSegmentV4Shapes(t *testing.T) {
	for _, tc := range []struct{ rows, blockRows int }{{1, 4096}, {1, 1}, {7, 4}, {130, 64}} {
		events := testEvents(t, tc.rows, uint64(tc.rows))
		dir := t.TempDir()
		half := len(events) / 2
		var units []Unit
		for _, part := range [][]string{events[:half], events[half:]} {
			if len(part) > 0 {
				u := decodeUnit(t, part)
				defer u.Rec.Release()
				units = append(units, u)
			}
		}
		m, err := Merge(SignIns, units, tc.blockRows)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "s.seg")
		if _, err := WriteSegment(vfs.Default, path, "tenant-a", 20395, m, nil); err != nil {
			t.Fatal(err)
		}
		seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := exportSegment(t, seg)
		seg.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(canonicalSet(t, got), canonicalSet(t, events)) {
			t.Fatalf("%d rows in blocks of %d: the segment does not read back its events", tc.rows, tc.blockRows)
		}
	}
}

// TestSegmentVersionsAgree: a segment whose header, footer and trailer name different versions
// does not open (a version-4 file relabelled 3 would be read with the wrong frame decoder).
func TestSegmentVersionsAgree(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestSegment(t, dir, testEvents(t, 20, 13), 8)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{6, len(orig) - 9} {
		b := slices.Clone(orig)
		b[at] = 3
		p := filepath.Join(dir, "relabelled.seg")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
		if err == nil {
			seg.Close()
			t.Fatalf("a segment with version 3 at byte %d opened", at)
		}
		t.Log(err)
	}
}

// TestTimeFramesScaled: time deltas are stored in the largest unit that divides them all
// (seconds for Graph's whole-second times), which reads back exactly and is a fraction of the
// nanosecond deltas; version-4 frames (encoding 1, unscaled) still read, and a unit that is
// not the largest, or not a unit, is refused.
func TestTimeFramesScaled(t *testing.T) {
	mem := memory.NewGoAllocator()
	times := func(step, jitter int64) arrow.Array {
		b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"})
		defer b.Release()
		rng := rand.New(rand.NewPCG(9, 9))
		v := int64(1_764_547_200) * 1e9
		for i := range 4096 {
			if i%97 == 5 {
				b.AppendNull()
				continue
			}
			v += step * rng.Int64N(4)
			b.Append(arrow.Timestamp(v + jitter*rng.Int64N(3)))
		}
		return b.NewArray()
	}
	for _, tc := range []struct {
		name         string
		step, jitter int64
		unit         int64
	}{
		{"whole seconds", 1e9, 0, 1e9},
		{"milliseconds", 1e9, 1e6, 1e6},
		{"nanoseconds", 1e9, 7, 1},
	} {
		a := times(tc.step, tc.jitter)
		raw, err := appendFrameV4(nil, KindTime, a, 0, encodeTraits{})
		if err != nil {
			t.Fatal(err)
		}
		unitAt := frameV4Header + align8((a.Len()+7)/8)
		if got := int64(binary.LittleEndian.Uint64(raw[unitAt:])); got != tc.unit {
			t.Errorf("%s: unit %d, want %d", tc.name, got, tc.unit)
		}
		back, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), KindTime, a.Len(), 0, mem, decodeTraits{})
		if err != nil || !array.Equal(a, back) {
			t.Fatalf("%s: read back differently (%v)", tc.name, err)
		}
		back.Release()
		// The same values as version 4 wrote them: unscaled deltas, encoding 1, no unit.
		v4 := slices.Clone(raw[:unitAt])
		v4[8] = encTimeDelta
		var prev int64
		for _, v := range a.(*array.Timestamp).TimestampValues() {
			d := int64(v) - prev
			prev = int64(v)
			v4 = binary.LittleEndian.AppendUint64(v4, uint64(d<<1^d>>63))
		}
		old, err := decodeFrameV4(zstdFast.EncodeAll(v4, nil), KindTime, a.Len(), 0, mem, decodeTraits{})
		if err != nil || !array.Equal(a, old) {
			t.Fatalf("%s: a version-4 frame reads back differently (%v)", tc.name, err)
		}
		old.Release()
		scaled, unscaled := len(zstdFast.EncodeAll(raw, nil)), len(zstdFast.EncodeAll(v4, nil))
		t.Logf("%s: %d bytes scaled, %d as version 4", tc.name, scaled, unscaled)
		if tc.unit == 1e9 && scaled*3 > unscaled*2 {
			t.Errorf("%s: %d bytes scaled, %d unscaled", tc.name, scaled, unscaled)
		}
		// A smaller unit than the largest that divides every delta, and a unit that is none.
		if tc.unit > 1 {
			for _, unit := range []int64{tc.unit / 1000, 7} {
				bad := slices.Clone(raw[:unitAt])
				bad = binary.LittleEndian.AppendUint64(bad, uint64(unit))
				vals := carried(a.(*array.Timestamp))
				bad = append(bad, 8, 0, 0, 0, 0, 0, 0, 0)
				bad = binary.LittleEndian.AppendUint64(bad, uint64(vals[0]))
				prev = vals[0]
				for _, v := range vals {
					d := (int64(v) - prev) / unit
					prev = int64(v)
					bad = binary.LittleEndian.AppendUint64(bad, uint64(d<<1^d>>63))
				}
				if x, err := decodeFrameV4(zstdFast.EncodeAll(bad, nil), KindTime, a.Len(), 0, mem, decodeTraits{}); err == nil {
					t.Errorf("%s: unit %d accepted", tc.name, unit)
					x.Release()
				} else {
					t.Logf("%s, unit %d: %v", tc.name, unit, err)
				}
			}
		}
		// Deltas wider than they need.
		if width := raw[unitAt+8]; width < 8 {
			wide := slices.Clone(raw[:unitAt+24])
			wide[unitAt+8] = 8
			vals := carried(a.(*array.Timestamp))
			prev = vals[0]
			for _, v := range vals {
				d := (int64(v) - prev) / tc.unit
				prev = int64(v)
				wide = binary.LittleEndian.AppendUint64(wide, uint64(d<<1^d>>63))
			}
			if x, err := decodeFrameV4(zstdFast.EncodeAll(wide, nil), KindTime, a.Len(), 0, mem, decodeTraits{}); err == nil {
				t.Errorf("%s: deltas of width 8 accepted where %d hold them", tc.name, width)
				x.Release()
			} else {
				t.Logf("%s, width 8: %v", tc.name, err)
			}
		}
		a.Release()
	}
}

// carried is a's values with each null row holding the value before it, as scaled time frames
// store them.
func carried(a *array.Timestamp) []int64 {
	out := make([]int64, a.Len())
	for i := range out {
		switch {
		case a.IsValid(i):
			out[i] = int64(a.Value(i))
		case i > 0:
			out[i] = out[i-1]
		}
	}
	return out
}

// codesBound agrees with the largest code on the one thing the decoder asks of it: whether any
// code of the frame reaches the dictionary's length; and when one does, it is that code.
func TestCodesBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, w := range []int{1, 2} {
		most := 1 << (8 * w)
		for range 2000 {
			n := rng.IntN(40)
			src := make([]byte, n*w)
			spread := 1 + rng.IntN(most)
			for i := range n {
				c := rng.IntN(spread)
				if w == 1 {
					src[i] = byte(c)
				} else {
					binary.LittleEndian.PutUint16(src[2*i:], uint16(c))
				}
			}
			limit := 1 + rng.IntN(most)
			checkCodesBound(t, src, w, limit)
		}
		// The edges: limits of 1, 2, the widest and one below it; codes 0, limit−1, limit and
		// the widest, each in every position of up to 17 codes (first and last lane of a word,
		// the zero-padded tail).
		for _, limit := range []int{1, 2, most - 1, most} {
			for _, c := range []int{0, limit - 1, limit, most - 1} {
				if c < 0 || c >= most {
					continue
				}
				for n := 1; n <= 17; n++ {
					for at := range n {
						src := make([]byte, n*w)
						if w == 1 {
							src[at] = byte(c)
						} else {
							binary.LittleEndian.PutUint16(src[2*at:], uint16(c))
						}
						checkCodesBound(t, src, w, limit)
					}
				}
			}
		}
	}
}

func checkCodesBound(t *testing.T, src []byte, w, limit int) {
	t.Helper()
	top := 0
	for i := 0; i < len(src); i += w {
		c := int(src[i])
		if w == 2 {
			c = int(binary.LittleEndian.Uint16(src[i:]))
		}
		top = max(top, c)
	}
	got := int(codesBound(src, w, limit))
	if (got >= limit) != (top >= limit) || (top >= limit && got != top) {
		t.Fatalf("width %d, %d codes, largest %d, limit %d: codesBound %d", w, len(src)/w, top, limit, got)
	}
}
