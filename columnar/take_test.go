package columnar

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// takes returns the row sets a sparse read is tried with on a block of rows rows: none, the
// first, the last, every row, every other row, and random subsets of a few rows.
func takes(rng *rand.Rand, rows int) [][]int {
	out := [][]int{{}, {0}, {rows - 1}}
	all, odd := make([]int, rows), []int{}
	for i := range all {
		all[i] = i
		if i%2 == 1 {
			odd = append(odd, i)
		}
	}
	out = append(out, all, odd)
	for range 6 {
		set := map[int]bool{}
		for range 1 + rng.IntN(min(rows, 12)) {
			set[rng.IntN(rows)] = true
		}
		var t []int
		for r := range set {
			t = append(t, r)
		}
		slices.Sort(t)
		out = append(out, t)
	}
	return out
}

// sameRows checks that row j of sparse is row take[j] of full, value for value (through
// one-row slices, so that the comparison does not rest on takeArray).
func sameRows(t *testing.T, what string, full, sparse arrow.Array, take []int) {
	t.Helper()
	if sparse.Len() != len(take) {
		t.Fatalf("%s: %d rows read for %d taken", what, sparse.Len(), len(take))
	}
	if err := validateArray(sparse.Data()); err != nil {
		t.Fatalf("%s: the sparse array does not validate: %v", what, err)
	}
	for j, r := range take {
		a, b := array.NewSlice(full, int64(r), int64(r+1)), array.NewSlice(sparse, int64(j), int64(j+1))
		same := sameArray(a, b)
		a.Release()
		b.Release()
		if !same {
			t.Fatalf("%s: taken row %d (block row %d) differs", what, j, r)
		}
	}
}

// TestSparseFramesAreTakenRows: every kind of frame, with and without nulls, codes of every
// width, decoded for a few rows is those rows of the frame decoded whole, and leaves nothing
// allocated once released.
func TestSparseFramesAreTakenRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range v4Cases(t) {
		raw, err := appendFrameV4(nil, c.kind, c.arr, c.dictLen, encodeTraits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		frame := zstdFast.EncodeAll(raw, nil)
		rows := c.arr.Len()
		full, err := decodeFrameV4(frame, c.kind, rows, c.dictLen, memory.NewGoAllocator(), decodeTraits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rows == 0 {
			full.Release()
			continue
		}
		for _, take := range takes(rng, rows) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			sparse, err := decodeFrameV4(frame, c.kind, rows, c.dictLen, mem, decodeTraits{take: take})
			if err != nil {
				t.Fatalf("%s, rows %v: %v", c.name, take, err)
			}
			sameRows(t, fmt.Sprintf("%s, %d rows taken", c.name, len(take)), full, sparse, take)
			sparse.Release()
			// The frame passed a whole check above: a read that knows it checks only its rows.
			checked, err := decodeFrameV4(frame, c.kind, rows, c.dictLen, mem, decodeTraits{take: take, checked: true})
			if err != nil {
				t.Fatalf("%s, rows %v, checked before: %v", c.name, take, err)
			}
			sameRows(t, fmt.Sprintf("%s, %d rows taken, checked before", c.name, len(take)), full, checked, take)
			checked.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%s: %d bytes still allocated after the sparse array was released", c.name, left)
			}
		}
		full.Release()
	}
}

// TestCheckedBlockDictsTakeTheirRows: a block dictionary (the extras column's encoding) read
// for a few rows once its frame passed a whole check (blockDictTaken) gives those rows of the
// full read, and a segment reads a block's later sparse reads that way once one read of it
// checked the frame whole.
func TestCheckedBlockDictsTakeTheirRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 5, 300, 4096} {
		arr := extrasCase(n, 3)
		raw, err := appendFrameV4(nil, KindExtras, arr, 0, encodeTraits{blockDict: true})
		arr.Release()
		if err != nil {
			t.Fatal(err)
		}
		frame := zstdFast.EncodeAll(raw, nil)
		traits := decodeTraits{blockDict: true}
		full, err := decodeFrameV4(frame, KindExtras, n, 0, memory.NewGoAllocator(), traits)
		if err != nil {
			t.Fatal(err)
		}
		for _, take := range takes(rng, n) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			tr := traits
			tr.take, tr.checked = take, true
			got, err := decodeFrameV4(frame, KindExtras, n, 0, mem, tr)
			if err != nil {
				t.Fatalf("%d rows, taking %v: %v", n, take, err)
			}
			sameRows(t, fmt.Sprintf("%d rows, %d taken", n, len(take)), full, got, take)
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d bytes still allocated after the sparse array was released", left)
			}
		}
		full.Release()
	}
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 600), 512)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	col, ok := SignIns.Lookup("authenticationDetails")
	if !ok {
		t.Fatal("no authenticationDetails column")
	}
	c, first, err := seg.cachedBlock(col.Index, 0, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	if !c.blockChecked(0) || c.blockChecked(1) {
		t.Fatalf("after a sparse read of block 0: block 0 checked %v, block 1 %v", c.blockChecked(0), c.blockChecked(1))
	}
}

// sparseEvents are generated sign-ins whose columns take every encoding a segment writes:
// tokens, references to a sibling (originalRequestId to id), scaled times, JSON with times,
// the extras block dictionary, and dictionary codes of one and two bytes.
func sparseEvents(t *testing.T, n int) []string {
	events := testEvents(t, n, 41)
	rng := rand.New(rand.NewPCG(41, 2))
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		tok := make([]byte, 16)
		for k := range tok {
			tok[k] = byte(rng.Uint32())
		}
		m["uniqueTokenIdentifier"] = base64.RawURLEncoding.EncodeToString(tok)
		if rng.IntN(10) == 0 {
			m["uniqueTokenIdentifier"] = fmt.Sprintf("not-a-token-%d", i)
		}
		if rng.IntN(3) > 0 {
			m["originalRequestId"] = m["id"]
		}
		m["ipAddress"] = fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(30), rng.IntN(30))
		if rng.IntN(7) == 0 {
			m["x-vendor"] = map[string]any{"n": rng.IntN(5), "at": "2026-11-03T10:00:00Z"}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		events[i] = string(b)
	}
	return events
}

// TestSparseBlocksAreTakenRows: every column of every block of a real segment, read for a few
// rows (a sparse read, and one taken from the cached block), is those rows of the block read
// whole; and the Graph JSON of a BlockRows batch is the JSON of the same rows of BlockBatch's.
func TestSparseBlocksAreTakenRows(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 3000), 512)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	cached, err := OpenSegment(vfs.Default, path, SignIns, NewBlockCache(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	all := allColumns()
	rng := rand.New(rand.NewPCG(6, 6))
	seen := map[byte]bool{} // encodings of the frames read
	var enc Encoder
	for b := range seg.NumBlocks() {
		for _, take := range takes(rng, seg.BlockLen(b)) {
			for idx := range SignIns.NumColumns() {
				c, full, err := seg.cachedBlock(idx, b, nil)
				if err != nil {
					t.Fatal(err)
				}
				if c == nil {
					continue
				}
				if frame, err := c.readFrame(seg, 1+b); err == nil && !c.constant() {
					if content, err := zstdDecoder.DecodeAll(frame, nil); err == nil && len(content) > 8 {
						seen[content[8]] = true
						if c.isDict() {
							seen[byte(100+codeWidth(int(c.meta.DictLen)))] = true
						}
					}
				}
				for _, s := range []*Segment{seg, cached} {
					_, sparse, err := s.cachedBlock(idx, b, take)
					if err != nil {
						t.Fatalf("column %s block %d rows %v: %v", c.meta.Name, b, take, err)
					}
					sameRows(t, fmt.Sprintf("column %s block %d", c.meta.Name, b), full, sparse, take)
					sparse.Release()
				}
				full.Release()
			}
			whole, releaseWhole, err := seg.BlockBatch(b, all)
			if err != nil {
				t.Fatal(err)
			}
			some, releaseSome, err := cached.BlockRows(b, all, take)
			if err != nil {
				t.Fatal(err)
			}
			for j, r := range take {
				want, err1 := enc.AppendJSON(nil, whole, r, nil)
				got, err2 := enc.AppendJSON(nil, some, j, nil)
				if err1 != nil || err2 != nil || string(got) != string(want) {
					t.Fatalf("block %d row %d: BlockRows reads\n%s\nBlockBatch\n%s\n(%v, %v)", b, r, got, want, err1, err2)
				}
			}
			releaseWhole()
			releaseSome()
		}
	}
	// Codes of 4 bytes (dictionaries of more than 65,536 values) are in TestSparseFramesAreTakenRows.
	for _, e := range []byte{encPlain, encSiblingRefs, encTimeScaled, encTokens, encJSONTimes, encBlockDict, 101, 102} {
		if !seen[e] {
			t.Errorf("no frame of encoding %d (101, 102: codes of that width) was read: the test misses a path", e)
		}
	}
}

// TestBlockRowsRefusesBadRows: rows out of order, repeated or outside the block are a caller's
// bug, refused before anything is read.
func TestBlockRowsRefusesBadRows(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), testEvents(t, 100, 3), 64)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	for _, rows := range [][]int{{3, 2}, {1, 1}, {-1}, {64}} {
		if _, _, err := seg.BlockRows(0, []int{0}, rows); err == nil {
			t.Errorf("rows %v accepted", rows)
		}
	}
}

// TestSparseReadsRefuseWhatFullReadsRefuse: damaged frames of every column of a real segment
// (bytes of their content changed, recompressed so that they reach the decoder) are refused by
// a sparse read exactly when a full read refuses them, and when both accept one, the sparse
// rows are the full rows. A sparse read checks the whole frame: a frame never reads one way
// in a page and another way in a scan.
func TestSparseReadsRefuseWhatFullReadsRefuse(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 1200), 512)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	var refused, accepted int
	for idx := range SignIns.NumColumns() {
		c := seg.stored(idx)
		if c == nil {
			continue
		}
		if err := c.load(seg); err != nil {
			t.Fatal(err)
		}
		for b := range seg.NumBlocks() {
			frame, err := c.readFrame(seg, 1+b)
			if err != nil {
				t.Fatal(err)
			}
			content, err := zstdDecoder.DecodeAll(frame, nil)
			if err != nil {
				t.Fatal(err)
			}
			rows := seg.BlockLen(b)
			traits := seg.blockTraits(c, idx, b)
			for range 40 {
				bad := slices.Clone(content)
				for range 1 + rng.IntN(3) {
					i := rng.IntN(len(bad))
					switch rng.IntN(3) {
					case 0:
						bad[i] ^= 1 << rng.IntN(8)
					case 1:
						bad[i] = 0
					default:
						bad[i]++
					}
				}
				damaged := zstdFast.EncodeAll(bad, nil)
				full, errFull := c.decode(damaged, c.meta.Kind, rows, memory.NewGoAllocator(), traits)
				take := takes(rng, rows)[5+rng.IntN(6)]
				st := traits
				st.take = take
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				sparse, errSparse := c.decode(damaged, c.meta.Kind, rows, mem, st)
				if (errFull == nil) != (errSparse == nil) {
					t.Fatalf("column %s block %d: a full read says %v, a sparse read of rows %v says %v", c.meta.Name, b, errFull, take, errSparse)
				}
				if errFull != nil {
					refused++
					if left := mem.CurrentAlloc(); left != 0 {
						t.Fatalf("column %s: %d bytes still allocated after a refusal", c.meta.Name, left)
					}
					continue
				}
				accepted++
				sameRows(t, fmt.Sprintf("damaged column %s block %d", c.meta.Name, b), full, sparse, take)
				full.Release()
				sparse.Release()
			}
		}
	}
	if refused == 0 || accepted == 0 {
		t.Fatalf("%d damaged frames refused, %d accepted: the test should see both", refused, accepted)
	}
	t.Logf("%d damaged frames refused by both reads, %d accepted by both with the same rows", refused, accepted)
}

// FuzzSparseFrame: any frame a full read accepts, a sparse read of any rows accepts with those
// rows; any frame a full read refuses, a sparse read refuses, leaving nothing allocated.
func FuzzSparseFrame(f *testing.F) {
	for i, c := range v4Cases(f) {
		if c.arr.Len() > 200 && i%7 != 0 {
			continue
		}
		raw, err := appendFrameV4(nil, c.kind, c.arr, c.dictLen, encodeTraits{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(c.kind), uint32(c.dictLen), uint64(i), raw)
	}
	// Seeds of the encodings a segment writes with traits: block dictionaries, tokens.
	for i, c := range []struct {
		kind   Kind
		arr    arrow.Array
		traits encodeTraits
		pick   uint64
	}{
		{KindExtras, extrasCase(300, 3), encodeTraits{blockDict: true}, 1 << 63},
		{KindText, tokenCase(300, 1), encodeTraits{tokens: true}, 1 << 61},
	} {
		raw, err := appendFrameV4(nil, c.kind, c.arr, 0, c.traits)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(c.kind-1), uint32(0), c.pick|uint64(i), raw)
	}
	f.Fuzz(func(t *testing.T, k byte, dictLen uint32, pick uint64, raw []byte) {
		kind := Kind(k%byte(KindExtras) + 1)
		dl := int(dictLen % (1 << 17))
		if len(raw) < 4 {
			return
		}
		rows := int(binary.LittleEndian.Uint32(raw))
		if rows == 0 || rows > 1<<16 {
			return
		}
		frame := zstdFast.EncodeAll(raw, nil)
		// The traits that select the other encodings (tokens, GUID pages, block dictionaries),
		// from the pick's high bits.
		traits := decodeTraits{tokens: pick>>61&1 == 1, guidPage: pick>>62&1 == 1, blockDict: pick>>63 == 1}
		full, errFull := decodeFrameV4(frame, kind, rows, dl, memory.NewGoAllocator(), traits)
		rng := rand.New(rand.NewPCG(pick, 1))
		all := takes(rng, rows)
		traits.take = all[int(pick%uint64(len(all)))]
		take := traits.take
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		sparse, errSparse := decodeFrameV4(frame, kind, rows, dl, mem, traits)
		if (errFull == nil) != (errSparse == nil) {
			t.Fatalf("%s frame: a full read says %v, a sparse read of rows %v says %v", kind, errFull, take, errSparse)
		}
		// A read told the frame was checked before checks only what its rows use: it gives
		// the full read's rows for a frame that passed, and for any other it still refuses or
		// reads, leaving nothing allocated after a refusal (never a panic).
		ctraits := traits
		ctraits.checked = true
		checked, errChecked := decodeFrameV4(frame, kind, rows, dl, mem, ctraits)
		if errFull != nil {
			if errChecked == nil {
				checked.Release()
			}
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d bytes still allocated after a refusal", left)
			}
			return
		}
		if errChecked != nil {
			t.Fatalf("%s frame: a full read accepts it, a read of rows %v told it was checked says %v", kind, take, errChecked)
		}
		sameRows(t, kind.String(), full, sparse, take)
		sameRows(t, kind.String()+", checked before", full, checked, take)
		full.Release()
		sparse.Release()
		checked.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the sparse array was released", left)
		}
	})
}

// TestTakeFromOffsetText: a text array whose offsets do not start at 0 (as an older, Arrow IPC
// frame may hold them: validateArray accepts it) is taken value for value.
func TestTakeFromOffsetText(t *testing.T) {
	data := array.NewData(arrow.BinaryTypes.String, 3, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{1, 2, 3, 7})),
		memory.NewBufferBytes([]byte("abcdefg"))}, nil, 0, 0)
	defer data.Release()
	if err := validateArray(data); err != nil {
		t.Fatal(err)
	}
	full := array.MakeFromData(data)
	defer full.Release()
	for _, take := range [][]int{{0, 1, 2}, {2}, {0, 2}} {
		got, err := takeArray(full, take, memory.NewGoAllocator())
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, fmt.Sprintf("rows %v", take), full, got, take)
		got.Release()
	}
}

// TestSparseReadsCheckTheWholeBlocksSize: a block dictionary whose one large entry, used by
// every row, would expand past the frame limit is refused by a sparse read of one row as by a
// full read (a sparse read checks what a full read would write, not only its rows).
func TestSparseReadsCheckTheWholeBlocksSize(t *testing.T) {
	rows := 4096
	raw := make([]byte, frameV4Header)
	binary.LittleEndian.PutUint32(raw, uint32(rows))
	raw[8] = encBlockDict
	raw = appendBlockDict(raw, [][]byte{bytes.Repeat([]byte("a"), maxFrameBytes/rows+1)}, make([]int32, rows))
	frame := zstdFast.EncodeAll(raw, nil)
	_, errFull := decodeFrameV4(frame, KindExtras, rows, 0, memory.NewGoAllocator(), decodeTraits{blockDict: true})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	sparse, errSparse := decodeFrameV4(frame, KindExtras, rows, 0, mem, decodeTraits{blockDict: true, take: []int{7}})
	if errFull == nil || errSparse == nil {
		t.Fatalf("a full read says %v, a sparse read says %v (and %v): both must refuse", errFull, errSparse, sparse)
	}
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated after a refusal", left)
	}
}
