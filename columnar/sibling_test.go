package columnar

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// guidBlock builds a GUID array of the given values; a nil value is a null row.
func guidBlock(vals [][]byte) *array.FixedSizeBinary {
	b := array.NewFixedSizeBinaryBuilder(memory.NewGoAllocator(), &arrow.FixedSizeBinaryType{ByteWidth: 16})
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
		} else {
			b.Append(v)
		}
	}
	return b.NewArray().(*array.FixedSizeBinary)
}

func guidOf(n int) []byte {
	g := make([]byte, 16)
	binary.LittleEndian.PutUint64(g, uint64(n)*0x9e3779b97f4a7c15+1)
	binary.LittleEndian.PutUint64(g[8:], uint64(n))
	return g
}

// siblingCase is a block of a sibling column (ids, row i holding guidOf(i) unless null) and of
// a column repeating it: its own row's id, an id of another row before or after it, a value no
// row holds, a row whose own id is null, and nulls.
func siblingCase(rows int, seed uint64) (sib, col *array.FixedSizeBinary) {
	rng := rand.New(rand.NewPCG(seed, 3))
	ids := make([][]byte, rows)
	for i := range ids {
		if rng.IntN(9) > 0 {
			ids[i] = guidOf(i)
		}
	}
	vals := make([][]byte, rows)
	for i := range vals {
		switch rng.IntN(10) {
		case 0:
			vals[i] = nil
		case 1:
			vals[i] = guidOf(100000 + i) // in no row of the sibling
		case 2, 3:
			vals[i] = ids[rng.IntN(rows)] // any row's, maybe null
		default:
			vals[i] = ids[i] // its own (null when its id is)
		}
	}
	return guidBlock(ids), guidBlock(vals)
}

// TestSiblingReferencesRoundTrip: a GUID column with a sibling is written as references to the
// sibling's rows and literals, reads back the same values and nulls with nothing left
// allocated, and its repeated values cost almost nothing where plain frames stored 16 bytes.
func TestSiblingReferencesRoundTrip(t *testing.T) {
	for _, rows := range []int{1, 7, 64, 4096} {
		for seed := range uint64(4) {
			sib, col := siblingCase(rows, seed)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			frame, err := encodeFrameV4(KindGUID, col, 0, encodeTraits{sib: sib}, false)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			got, err := decodeFrameV4(frame, KindGUID, rows, 0, mem, decodeTraits{sib: func() (arrow.Array, error) {
				calls++
				sib.Retain()
				return sib, nil
			}})
			if err != nil {
				t.Fatalf("%d rows, seed %d: %v", rows, seed, err)
			}
			if !array.Equal(got, col) || got.NullN() != col.NullN() {
				t.Fatalf("%d rows, seed %d: read back\n%v\nwrote\n%v", rows, seed, got, col)
			}
			if calls > 1 {
				t.Fatalf("the sibling's block was asked for %d times", calls)
			}
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d rows: %d bytes still allocated", rows, left)
			}
			if rows == 4096 && seed == 0 {
				plain, err := encodeFrameV4(KindGUID, col, 0, encodeTraits{}, false)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("4,096 rows: %d bytes as references, %d plain", len(frame), len(plain))
				if len(frame) > len(plain)*2/3 {
					t.Errorf("references take %d bytes, plain %d", len(frame), len(plain))
				}
			}
		}
	}
	// Every value its own row's: the references are a run of ones.
	ids := make([][]byte, 4096)
	for i := range ids {
		ids[i] = guidOf(i)
	}
	sib := guidBlock(ids)
	frame, err := encodeFrameV4(KindGUID, sib, 0, encodeTraits{sib: sib}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) > 200 {
		t.Errorf("4,096 values equal to their own row's sibling take %d bytes", len(frame))
	}
}

// siblingFrame writes a frame of encSiblingRefs by hand: refs per row, the literals after.
func siblingFrame(rows int, valid []bool, refs []uint32, lits [][]byte) []byte {
	nulls := 0
	for _, v := range valid {
		if !v {
			nulls++
		}
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(rows))
	b = binary.LittleEndian.AppendUint32(b, uint32(nulls))
	b = append(b, encSiblingRefs, 0, 0, 0, 0, 0, 0, 0)
	if nulls > 0 {
		bm := make([]byte, (rows+7)/8)
		for i, v := range valid {
			if v {
				bm[i/8] |= 1 << (i % 8)
			}
		}
		b = pad8(append(b, bm...))
	}
	for _, r := range refs {
		b = binary.LittleEndian.AppendUint32(b, r)
	}
	b = pad8(b)
	for _, l := range lits {
		b = append(b, l...)
	}
	return b
}

// TestSiblingReferencesRejects: references that cannot be resolved get errors saying why.
func TestSiblingReferencesRejects(t *testing.T) {
	mem := memory.NewGoAllocator()
	sib := guidBlock([][]byte{guidOf(0), nil, guidOf(2)}) // row 1 null
	all := []bool{true, true, true}
	give := func() (arrow.Array, error) { sib.Retain(); return sib, nil }
	for _, tc := range []struct {
		name  string
		raw   []byte
		sib   func() (arrow.Array, error)
		wants string
	}{
		{"past the block", siblingFrame(3, all, []uint32{1, 3, 4}, nil), give, "refers to row 4"},
		{"before the block", siblingFrame(3, all, []uint32{3, 3, 1}, nil), give, "refers to row -1"},
		{"a null sibling row", siblingFrame(3, all, []uint32{1, 1, 1}, nil), give, "sibling column is null"},
		{"a null row refers", siblingFrame(3, []bool{true, false, true}, []uint32{1, 1, 1}, nil), give, "null row 1"},
		{"literal missing", siblingFrame(3, all, []uint32{1, 0, 1}, nil), give, "literals of 16 bytes"},
		{"literal too many", siblingFrame(3, all, []uint32{1, 2, 1}, [][]byte{guidOf(9)}), give, "bytes after the literals"},
		{"no sibling block", siblingFrame(3, all, []uint32{1, 2, 1}, nil), func() (arrow.Array, error) { return nil, nil }, "holds no value"},
		{"sibling unreadable", siblingFrame(3, all, []uint32{1, 2, 1}, nil), func() (arrow.Array, error) { return nil, errors.New("disk on fire") }, "disk on fire"},
		{"no sibling column", siblingFrame(3, all, []uint32{1, 2, 1}, nil), nil, "runs past the frame"},
	} {
		expectRefused(t, tc.name, tc.raw, KindGUID, 3, decodeTraits{sib: tc.sib}, tc.wants)
	}
	// The same references resolve when they point at values.
	a, err := decodeFrameV4(zstdFast.EncodeAll(siblingFrame(3, all, []uint32{1, 2, 0}, [][]byte{guidOf(7)}), nil), KindGUID, 3, 0, mem, decodeTraits{sib: give})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	if want := guidBlock([][]byte{guidOf(0), guidOf(2), guidOf(7)}); !array.Equal(a, want) {
		t.Fatalf("read %v, want %v", a, want)
	}
}

// FuzzSiblingReferences feeds the reader frames of references it did not write, against a
// block of ids with nulls. Whatever it accepts validates and, written again, reads back the same
// values (a literal equal to an id is written back as a reference: not one spelling here).
func FuzzSiblingReferences(f *testing.F) {
	for seed := range uint64(3) {
		sib, col := siblingCase(40, seed)
		raw, err := appendFrameV4(nil, KindGUID, col, 0, encodeTraits{sib: sib})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed, raw)
	}
	f.Fuzz(func(t *testing.T, seed uint64, raw []byte) {
		sib, _ := siblingCase(40, seed%3)
		give := func() (arrow.Array, error) { sib.Retain(); return sib, nil }
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := fuzzDecode(t, raw, KindGUID, 40, 0, mem, decodeTraits{sib: give})
		if a == nil {
			return
		}
		again, err := appendFrameV4(nil, KindGUID, a, 0, encodeTraits{sib: sib})
		if err != nil {
			t.Fatal(err)
		}
		b, err := decodeFrameV4(zstdFast.EncodeAll(again, nil), KindGUID, 40, 0, mem, decodeTraits{sib: give})
		if err != nil || !array.Equal(a, b) {
			t.Fatalf("re-encoded frame reads back differently: %v", err)
		}
		a.Release()
		b.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the arrays were released", left)
		}
	})
}

// TestSegmentSiblingReferences: a segment of sign-ins whose originalRequestId is mostly their
// own id, else an earlier sign-in's (in another block or the same one), a GUID no sign-in has,
// absent, or not a GUID, reads back every event exactly, the column alone and beside its
// sibling, and its region is a fraction of the id column's.
func TestSegmentSiblingReferences(t *testing.T) {
	events := testEvents(t, 1000, 21)
	rng := rand.New(rand.NewPCG(21, 1))
	ids := make([]string, len(events))
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		ids[i] = m["id"].(string)
		switch r := rng.IntN(20); {
		case r < 12:
			m["originalRequestId"] = ids[i]
		case r < 16 && i > 0:
			m["originalRequestId"] = ids[i-1-rng.IntN(min(i, 40))]
		case r < 17:
			m["originalRequestId"] = fmt.Sprintf("%08x-1111-4000-8000-%012x", rng.Uint32(), i)
		case r < 18:
			delete(m, "originalRequestId")
		case r < 19:
			m["originalRequestId"] = ""
		default:
			m["originalRequestId"] = nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		events[i] = string(b)
	}
	// With one worker the writer encodes id whole before originalRequestId starts; with more,
	// side by side. Either way each block of id reaches it once.
	prev := runtime.GOMAXPROCS(1)
	onePath, _ := writeTestSegment(t, t.TempDir(), events, 256)
	runtime.GOMAXPROCS(max(prev, 2))
	path, _ := writeTestSegment(t, t.TempDir(), events, 256)
	runtime.GOMAXPROCS(prev)
	one, err := OpenSegment(vfs.Default, onePath, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if got, err := exportSegment(t, one); err != nil || !slices.Equal(canonicalSet(t, got), canonicalSet(t, events)) {
		t.Fatalf("written with one CPU, the segment does not read back its events (%v)", err)
	}
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	got, err := exportSegment(t, seg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(canonicalSet(t, got), canonicalSet(t, events)) {
		t.Fatal("the segment does not read back its events")
	}
	// The column alone, in a segment opened afresh (no block of id read before it).
	again, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ori, _ := SignIns.Lookup("originalRequestId")
	id, _ := SignIns.Lookup("id")
	for b := range again.NumBlocks() {
		a, err := again.Block(ori.Index, b)
		if err != nil {
			t.Fatal(err)
		}
		want, err := seg.Block(ori.Index, b)
		if err != nil {
			t.Fatal(err)
		}
		if !array.Equal(a, want) {
			t.Fatalf("block %d read alone differs", b)
		}
		a.Release()
		want.Release()
	}
	var oriBytes, idBytes uint64
	for _, c := range seg.Meta.Columns {
		switch c.Name {
		case ori.Name:
			oriBytes = c.Length
		case id.Name:
			idBytes = c.Length
		}
	}
	t.Logf("1,000 rows in blocks of 256: originalRequestId %d bytes, id %d", oriBytes, idBytes)
	if oriBytes*2 > idBytes {
		t.Errorf("originalRequestId takes %d bytes, id %d", oriBytes, idBytes)
	}
}
