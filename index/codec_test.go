package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"
)

func TestTrailerMarshalUnmarshal(t *testing.T) {
	f := func(tr trailer) {
		t.Helper()
		b := tr.marshal([]byte("prefix"))
		if len(b) != len("prefix")+trailerLen || string(b[:6]) != "prefix" {
			t.Fatalf("marshal appended %d bytes, want %d", len(b)-6, trailerLen)
		}
		var got trailer
		tail, err := got.unmarshal(append(b[6:], "tail"...))
		if err != nil {
			t.Fatalf("unmarshal: %s", err)
		}
		if got != tr || string(tail) != "tail" {
			t.Fatalf("got %+v tail %q, want %+v", got, tail, tr)
		}
	}
	f(trailer{version: formatVersion})
	f(trailer{dirOffset: 8, dirLen: 1, dirCRC: 0xdeadbeef, rows: 3, version: formatVersion})
	f(trailer{dirOffset: 1 << 40, dirLen: maxDirectoryLen, rows: maxRows, version: formatVersion})
}

func TestTrailerRejects(t *testing.T) {
	good := (&trailer{dirOffset: 8, dirLen: 1, rows: 1, version: formatVersion}).marshal(nil)
	f := func(mutate func(b []byte) []byte) {
		t.Helper()
		var tr trailer
		if _, err := tr.unmarshal(mutate(slices.Clone(good))); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	resign := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[24:], crc32c(b[:24]))
		return b
	}
	f(func(b []byte) []byte { return b[:trailerLen-1] })
	f(func(b []byte) []byte { b[31] = 'Y'; return b })
	f(func(b []byte) []byte { b[0]++; return b })                            // crc mismatch
	f(func(b []byte) []byte { b[20] = formatVersion + 1; return resign(b) }) // unknown version
	f(func(b []byte) []byte { b[21] = 1; return resign(b) })                 // reserved
	f(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16:], maxRows+1); return resign(b) })
	f(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], maxDirectoryLen+1); return resign(b) })
}

func TestDirectoryMarshalUnmarshal(t *testing.T) {
	f := func(dirOffset uint64, entries ...dirEntry) {
		t.Helper()
		b := marshalDirectory(nil, entries)
		got, tail, err := unmarshalDirectory(append(b, 0xAA), dirOffset)
		if err != nil {
			t.Fatalf("unmarshal: %s", err)
		}
		if len(tail) != 1 || tail[0] != 0xAA || len(got) != len(entries) {
			t.Fatalf("tail %x, %d entries", tail, len(got))
		}
		for i := range got {
			if got[i] != entries[i] {
				t.Fatalf("entry %d: got %+v, want %+v", i, got[i], entries[i])
			}
		}
	}
	f(8)
	f(100, dirEntry{column: "a", kind: KindCodes, offset: 8, length: 92, crc: 1})
	f(1<<33,
		dirEntry{column: "a", kind: KindCodes, offset: 8, length: 10},
		dirEntry{column: "a", kind: KindZoneMapInt64, offset: 18, length: 0},
		dirEntry{column: "z" + string(make([]byte, maxColumnNameLen-1)), kind: KindKeys, offset: 1 << 32, length: maxSectionLen},
	)
}

func TestDirectoryRejects(t *testing.T) {
	f := func(dirOffset uint64, entries ...dirEntry) {
		t.Helper()
		b := marshalDirectory(nil, entries)
		if _, _, err := unmarshalDirectory(b, dirOffset); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	f(100, dirEntry{column: "a", kind: KindCodes, offset: 4, length: 1})                                        // overlaps header
	f(100, dirEntry{column: "a", kind: KindCodes, offset: 50, length: 51})                                      // past directory
	f(100, dirEntry{column: "", kind: KindCodes, offset: 8, length: 1})                                         // empty name
	f(100, dirEntry{column: string(make([]byte, maxColumnNameLen+1)), kind: KindCodes, offset: 8, length: 1})   // long name
	f(100, dirEntry{column: "a", kind: 0, offset: 8, length: 1})                                                // bad kind
	f(100, dirEntry{column: "a", kind: KindKeys, offset: 8}, dirEntry{column: "a", kind: KindCodes, offset: 8}) // unsorted
	f(100, dirEntry{column: "a", kind: KindKeys, offset: 8}, dirEntry{column: "a", kind: KindKeys, offset: 8})  // duplicate
	f(math.MaxUint64, dirEntry{column: "a", kind: KindKeys, offset: 8, length: maxSectionLen + 1})
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func TestPostingsMarshalUnmarshal(t *testing.T) {
	f := func(rows uint32, values []int32, postings [][]uint32, wantLen int) {
		t.Helper()
		bms := make([]*roaring.Bitmap, len(postings))
		for i, p := range postings {
			bms[i] = roaring.BitmapOf(p...)
			bms[i].RunOptimize()
		}
		b := marshalPostings(nil, values, bms)
		if wantLen >= 0 && len(b) != wantLen {
			t.Fatalf("encoded %d bytes, want %d", len(b), wantLen)
		}
		var ps postingsSection
		if err := ps.unmarshal(alignedCopy(b), rows, values != nil); err != nil {
			t.Fatalf("unmarshal: %s", err)
		}
		if ps.n != len(postings)-1 {
			t.Fatalf("n = %d, want %d", ps.n, len(postings)-1)
		}
		for i, p := range postings {
			bm, err := ps.bitmap(i)
			if err != nil {
				t.Fatalf("bitmap %d: %s", i, err)
			}
			if !slices.Equal(bm.ToArray(), sortedCopy(p)) && !(len(p) == 0 && bm.IsEmpty()) {
				t.Fatalf("bitmap %d = %v, want %v", i, bm.ToArray(), p)
			}
		}
		for i, v := range values {
			if ps.find(v) != i {
				t.Fatalf("find(%d) = %d, want %d", v, ps.find(v), i)
			}
		}
	}
	// Empty postings cost only their 4-byte end: n(4) + ends(4) = 8.
	f(0, nil, [][]uint32{{}}, 8)
	f(10, nil, [][]uint32{{}, {}, {}}, 16)
	f(10, []int32{-5, 7}, [][]uint32{{}, {}, {}}, 4+8+12)
	f(10, []int32{-5}, [][]uint32{{}, {}}, 4+4+8+0)
	f(10, nil, [][]uint32{{}, {}}, 4+8+4) // padded to 8 before the area
	f(10, nil, [][]uint32{{1, 2, 3}, {}, {9}}, -1)
	f(200_000, []int32{0, 50126}, [][]uint32{{0, 65_536, 199_999}, {1, 2, 3, 4}, {}}, -1)
	run := make([]uint32, 0, 100_000)
	for r := uint32(1000); r < 101_000; r++ {
		run = append(run, r)
	}
	// A run spanning two containers is a few dozen bytes after RunOptimize.
	f(200_000, nil, [][]uint32{run, {}}, -1)
}

func TestPostingsRejects(t *testing.T) {
	good := marshalPostings(nil, []int32{1, 2}, []*roaring.Bitmap{roaring.BitmapOf(1), roaring.BitmapOf(5), roaring.New()})
	f := func(rows uint32, mutate func(b []byte) []byte) {
		t.Helper()
		var ps postingsSection
		b := mutate(slices.Clone(good))
		err := ps.unmarshal(alignedCopy(b), rows, true)
		if err == nil {
			for i := 0; i <= ps.n && err == nil; i++ {
				_, err = ps.bitmap(i)
			}
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	f(10, func(b []byte) []byte { return b[:3] })
	f(10, func(b []byte) []byte { binary.LittleEndian.PutUint32(b, maxPostings+1); return b })
	f(10, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 3); return b })       // values not increasing
	f(10, func(b []byte) []byte { return b[:len(b)-1] })                                     // area shorter than ends
	f(10, func(b []byte) []byte { return append(b, 0, 0, 0, 0, 0, 0, 0, 0) })                // trailing bytes
	f(5, func(b []byte) []byte { return b })                                                 // row 5 out of range
	f(10, func(b []byte) []byte { b[len(b)-2] ^= 0xff; return b })                           // roaring payload
	f(10, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 0xffff); return b }) // ends past area
}

// openKeysPayload opens a keys payload (layout 2, 3 or 4) on its own, as the reader opens it in
// a file.
func openKeysPayload(p []byte, rows uint32) (*keysGroups, error) {
	layout := byte(keysLayoutPacked)
	if len(p) > 5 {
		layout = p[5]
	}
	return openKeysGroups(bytes.NewReader(p), 0, int64(len(p)), rows, layout)
}

func TestKeysMarshalUnmarshal(t *testing.T) {
	f := func(keys []string, wantBucketBits, wantGroupBits uint8) {
		t.Helper()
		hashes := make([]uint64, len(keys))
		rows := make([]uint32, len(keys))
		for i, k := range keys {
			hashes[i], rows[i] = xxhash.Sum64String(k), uint32(i)
		}
		b := marshalKeys(nil, hashes, rows, uint32(len(keys)), 1, 0)
		kg, err := openKeysPayload(b, uint32(len(keys)))
		if err != nil {
			t.Fatalf("open: %s", err)
		}
		if kg.b != wantBucketBits || kg.g != wantGroupBits {
			t.Fatalf("bucket bits %d, %d a group; want %d, %d", kg.b, kg.g, wantBucketBits, wantGroupBits)
		}
		groups := 1 << (wantBucketBits - wantGroupBits)
		width, _ := packedEntry(uint32(len(keys)))
		if want := keysGroupedHeaderLen + 8*groups + 4 + 2<<wantBucketBits + width*int(kg.n); len(b) != want || kg.w != width {
			t.Fatalf("encoded %d bytes in %d-byte entries, want %d in %d-byte ones", len(b), kg.w, want, width)
		}
		for i, k := range keys {
			got, err := appendRows(kg, nil, KeyHash([]byte(k)))
			if err != nil || !slices.Contains(got, uint32(i)) {
				t.Fatalf("key %q: rows %v, %v; want to contain %d", k, got, err, i)
			}
		}
	}
	f(nil, 0, 0)
	f([]string{"a"}, 0, 0)
	f([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, 1, 1)
	f([]string{"a", "a", "a"}, 0, 0)
	many := make([]string, 70_000) // 3-byte row ids; ~23 bytes a bucket, 128 buckets a group
	for i := range many {
		many[i] = string(rune(i)) + "key"
	}
	f(many, 14, 7)
}

// A key on more rows than a 2-byte bucket end counts makes the writer use 4-byte ends.
func TestKeysWideBucketEnds(t *testing.T) {
	n := 70_000
	hashes := make([]uint64, n)
	rows := make([]uint32, n)
	for i := range hashes {
		hashes[i], rows[i] = 42, uint32(i)
	}
	hashes[7] = 1 << 63
	b := marshalKeys(nil, hashes, rows, uint32(n), 1, 0)
	kg, err := openKeysPayload(b, uint32(n))
	if err != nil || kg.e != 4 {
		t.Fatalf("open: %v, %d-byte ends; want 4", err, kg.e)
	}
	got, err := appendRows(kg, nil, 42)
	if err != nil || len(got) != n-1 {
		t.Fatalf("%d rows, %v; want %d", len(got), err, n-1)
	}
	if got, err := appendRows(kg, nil, 1<<63); err != nil || !slices.Equal(got, []uint32{7}) {
		t.Fatalf("rows %v, %v; want [7]", got, err)
	}
}

func TestKeysGroupedRejects(t *testing.T) {
	hashes := make([]uint64, 100)
	rows := make([]uint32, 100)
	for i := range hashes {
		hashes[i], rows[i] = xxhash.Sum64String(fmt.Sprint(i)), uint32(i)
	}
	good := marshalKeysGrouped(nil, sortKeys(hashes, rows), 100, 1, 64, keysLayoutPacked)
	resign := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[12:], crc32c(b[:12]))
		return b
	}
	f := func(rows uint32, mutate func(b []byte) []byte) {
		t.Helper()
		b := mutate(slices.Clone(good))
		kg, err := openKeysPayload(b, rows)
		for i := 0; err == nil && i < len(hashes); i++ {
			_, err = appendRows(kg, nil, hashes[i])
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	f(100, func(b []byte) []byte { return b[:15] })
	f(100, func(b []byte) []byte { return b[:len(b)-1] })
	f(99, func(b []byte) []byte { return b })                                                // more entries than rows
	f(1<<17, func(b []byte) []byte { return b })                                             // 2-byte row ids for 131072 rows
	f(100, func(b []byte) []byte { b[0]++; return b })                                       // header crc
	f(100, func(b []byte) []byte { b[4] = maxKeyBucketBits + 1; return resign(b) })          // bucket bits
	f(100, func(b []byte) []byte { b[5] = keysLayoutCompact; return resign(b) })             // layout
	f(100, func(b []byte) []byte { b[6] = 5; return resign(b) })                             // entry width
	f(100, func(b []byte) []byte { b[6] = 4; return resign(b) })                             // entry width: wider than 100 blocks need
	f(100, func(b []byte) []byte { b[5] = keysLayoutBlocks; return resign(b) })              // layout 3 of a layout-4 section
	f(100, func(b []byte) []byte { b[7] = b[4] + 1; return resign(b) })                      // group bits > bucket bits
	f(100, func(b []byte) []byte { b[8] = 3; return resign(b) })                             // end width
	f(100, func(b []byte) []byte { b[9] = 0; return resign(b) })                             // blocks of 0 rows
	f(100, func(b []byte) []byte { b[9] = 2; return resign(b) })                             // 1-byte block numbers, but 50 blocks of 2 rows: the width is 1; entries past the blocks
	f(100, func(b []byte) []byte { b[5] = keysLayoutGrouped; return resign(b) })             // layout 2 with a block size in its reserved bytes
	f(100, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })                             // a byte of the last group
	f(100, func(b []byte) []byte { b[16+4] ^= 1; return b })                                 // group 0's stored crc
	f(100, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16+8:], 101); return b }) // start past n
	f(100, func(b []byte) []byte {                                                           // a start the group's crc does not cover (it covers both)
		binary.LittleEndian.PutUint32(b[16+8:], binary.LittleEndian.Uint32(b[16+8:])-1)
		return b
	})
}

// A keys section of format version 1 (4-byte fingerprints and rows) still decodes.
func TestKeysWideLayout(t *testing.T) {
	keys := []string{"x", "y", "z"}
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(keys)))
	b = append(b, 0, keysLayoutWide, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys))) // one bucket
	type entry struct{ fp, row uint32 }
	var es []entry
	for i, k := range keys {
		es = append(es, entry{uint32(xxhash.Sum64String(k)), uint32(i)})
	}
	slices.SortFunc(es, func(a, b entry) int { return int(int64(a.fp) - int64(b.fp)) })
	for _, e := range es {
		b = binary.LittleEndian.AppendUint32(b, e.fp)
	}
	for _, e := range es {
		b = binary.LittleEndian.AppendUint32(b, e.row)
	}
	var ks keysSection
	if err := ks.unmarshal(alignedCopy(b), 3); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if got, err := appendRows(&ks, nil, KeyHash([]byte(k))); err != nil || !slices.Equal(got, []uint32{uint32(i)}) {
			t.Fatalf("key %q: %v %v", k, got, err)
		}
	}
}

// A keys section of format version 2 (layout 1) still decodes, and its checks hold.
func TestKeysCompactLayout(t *testing.T) {
	keys := make([]string, 70_000) // 3-byte row ids
	hashes := make([]uint64, len(keys))
	rows := make([]uint32, len(keys))
	for i := range keys {
		keys[i] = string(rune(i)) + "key"
		hashes[i], rows[i] = xxhash.Sum64String(keys[i]), uint32(i)
	}
	b := marshalKeysCompact(nil, hashes, rows, uint32(len(keys)))
	if want := keysHeaderLen + 4<<14 + 5*len(keys); len(b) != want {
		t.Fatalf("encoded %d bytes, want %d", len(b), want)
	}
	var ks keysSection
	if err := ks.unmarshal(alignedCopy(b), uint32(len(keys))); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if got, err := appendRows(&ks, nil, KeyHash([]byte(k))); err != nil || !slices.Contains(got, uint32(i)) {
			t.Fatalf("key %q: rows %v, %v; want to contain %d", k, got, err, i)
		}
	}
}

func TestKeysCompactRejects(t *testing.T) {
	// Ten entries: two buckets.
	good := marshalKeysCompact(nil, []uint64{1, 1 << 63, 5, 7, 9, 11, 13, 1<<63 | 3, 1<<63 | 5, 1<<63 | 7}, []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10)
	f := func(rows uint32, mutate func(b []byte) []byte) {
		t.Helper()
		var ks keysSection
		if err := ks.unmarshal(alignedCopy(mutate(slices.Clone(good))), rows); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	f(10, func(b []byte) []byte { return b[:7] })
	f(10, func(b []byte) []byte { return b[:len(b)-1] })
	f(9, func(b []byte) []byte { return b }) // more entries than rows
	f(10, func(b []byte) []byte { b[4] = maxKeyBucketBits + 1; return b })
	f(10, func(b []byte) []byte { b[5] = 2; return b })                                 // unknown layout
	f(10, func(b []byte) []byte { b[6] = 1; return b })                                 // row ids of 1 byte
	f(1<<17, func(b []byte) []byte { return b })                                        // 2-byte row ids for 131072 rows
	f(10, func(b []byte) []byte { b[7] = 1; return b })                                 // reserved
	f(10, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 11); return b }) // bucket end > n
	f(10, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 9); return b }) // last end != n
}

func TestZoneMapMarshalUnmarshal(t *testing.T) {
	f := func(zm *ZoneMap[float64], rows uint32, wantLen int) {
		t.Helper()
		if err := zm.check(rows); err != nil {
			t.Fatalf("check: %s", err)
		}
		b := zm.marshal(nil)
		if len(b) != wantLen {
			t.Fatalf("encoded %d bytes, want %d", len(b), wantLen)
		}
		var got ZoneMap[float64]
		if err := got.unmarshal(b, rows); err != nil {
			t.Fatalf("unmarshal: %s", err)
		}
		if zoneString(&got) != zoneString(zm) {
			t.Fatalf("got %s, want %s", zoneString(&got), zoneString(zm))
		}
	}
	f(&ZoneMap[float64]{BlockRows: 4}, 0, 8)
	f(&ZoneMap[float64]{BlockRows: 4, Min: []float64{-1.5}, Max: []float64{math.Inf(1)}, Nulls: []uint32{0}}, 3, 28)
	f(&ZoneMap[float64]{BlockRows: 2, Min: []float64{7, 1}, Max: []float64{9, 1}, Nulls: []uint32{2, 0}}, 3, 48)
}

func TestZoneMapRejects(t *testing.T) {
	good := (&ZoneMap[int64]{BlockRows: 2, Rows: 3, Min: []int64{1, 2}, Max: []int64{3, 2}, Nulls: []uint32{0, 0}}).marshal(nil)
	f := func(rows uint32, mutate func(b []byte) []byte) {
		t.Helper()
		var zm ZoneMap[int64]
		if err := zm.unmarshal(mutate(slices.Clone(good)), rows); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	}
	f(3, func(b []byte) []byte { return b[:7] })
	f(5, func(b []byte) []byte { return b })                                                 // block count
	f(3, func(b []byte) []byte { return b[:len(b)-1] })                                      // length
	f(3, func(b []byte) []byte { binary.LittleEndian.PutUint32(b, 0); return b })            // block rows
	f(3, func(b []byte) []byte { binary.LittleEndian.PutUint64(b[8:], 4); return b })        // min > max
	f(3, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[len(b)-4:], 2); return b }) // nulls > block len
}

func alignedCopy(b []byte) []byte {
	out := alignedBytes(len(b))
	copy(out, b)
	return out
}

// TestKeysNameBlocks: layout 3 files a key under the blocks that hold it, once a block, in as
// few bytes as the segment's block count needs, and a probe returns every row of those blocks.
func TestKeysNameBlocks(t *testing.T) {
	const n, blockRows = 10_000, 256
	hashes := make([]uint64, n)
	rows := make([]uint32, n)
	for i := range hashes {
		k := fmt.Sprint("k", i)
		if i == 5 || i == 6 || i == 7 || i == 300 {
			k = "dup"
		}
		hashes[i], rows[i] = xxhash.Sum64String(k), uint32(i)
	}
	b := marshalKeys(nil, hashes, rows, n, blockRows, 0)
	kg, err := openKeysPayload(b, n)
	if err != nil {
		t.Fatal(err)
	}
	if kg.w != 3 || kg.fpBits != 16 || kg.blockRows != blockRows || kg.n > n-2 || kg.n < n-10 {
		t.Fatalf("%d-byte entries (%d-bit fingerprints), blocks of %d, %d entries; want 3-byte (16-bit), %d, about %d", kg.w, kg.fpBits, kg.blockRows, kg.n, blockRows, n-2)
	}
	got, err := appendRows(kg, nil, xxhash.Sum64String("dup"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint32, 2*blockRows)
	for i := range want {
		want[i] = uint32(i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("dup: %d rows from %v; want blocks 0 and 1", len(got), got[:min(len(got), 3)])
	}
	got, err = appendRows(kg, nil, xxhash.Sum64String("k9999"))
	if err != nil || len(got) != n-39*blockRows || got[0] != 39*blockRows || got[len(got)-1] != n-1 {
		t.Fatalf("the last, short block: %d rows, %v", len(got), err)
	}
	byRow := marshalKeysGrouped(nil, sortKeys(slices.Clone(hashes), slices.Clone(rows)), n, 0, keyGroupBytes, keysLayoutGrouped)
	t.Logf("%d keys: %d bytes naming blocks, %d naming rows", n, len(b), len(byRow))
	if len(b) >= len(byRow)*4/5 {
		t.Fatalf("%d bytes naming blocks, %d naming rows", len(b), len(byRow))
	}
	// A block past the segment is refused.
	if _, err := openKeysPayload(b, 39*blockRows); err == nil {
		t.Fatal("a section of 40 blocks opened for a segment of 39")
	}
}

// TestKeysPackedEntries: layout 4 packs a fingerprint and a block into the fewest bytes that
// keep 12 fingerprint bits (at most 16), so a segment of 257 to 4,096 blocks (a day of a
// million events and more, in blocks of 4,096 rows) takes 3 bytes an entry where layout 3 took
// 4; every key's probe still returns its rows, and few others.
func TestKeysPackedEntries(t *testing.T) {
	for _, c := range []struct {
		blocks        uint32
		width, fpBits int
	}{{1, 2, 16}, {16, 2, 12}, {17, 3, 16}, {256, 3, 16}, {257, 3, 15}, {831, 3, 14}, {4096, 3, 12}, {4097, 4, 16}, {1 << 20, 4, 12}, {1<<20 + 1, 5, 16}, {1 << 24, 5, 16}} {
		if w, fp := packedEntry(c.blocks); w != c.width || int(fp) != c.fpBits {
			t.Errorf("%d blocks: %d-byte entries, %d-bit fingerprints; want %d, %d", c.blocks, w, fp, c.width, c.fpBits)
		}
	}
	const blockRows, blocks = 16, 831
	n := uint32(blockRows * blocks)
	hashes, rows := make([]uint64, n), make([]uint32, n)
	for i := range hashes {
		hashes[i], rows[i] = KeyHash(binary.LittleEndian.AppendUint32(nil, uint32(i))), uint32(i)
	}
	packed := marshalKeys(nil, hashes, rows, n, blockRows, 0)
	old := marshalKeys(nil, hashes, rows, n, blockRows, keysLayoutBlocks)
	kg, err := openKeysPayload(packed, n)
	if err != nil {
		t.Fatal(err)
	}
	if kg.layout != keysLayoutPacked || kg.w != 3 || kg.fpBits != 14 {
		t.Fatalf("layout %d, %d-byte entries, %d-bit fingerprints", kg.layout, kg.w, kg.fpBits)
	}
	extra := 0
	for i, h := range hashes {
		got, err := appendRows(kg, nil, h)
		if err != nil || !slices.Contains(got, uint32(i)) {
			t.Fatalf("key %d: %d rows, %v", i, len(got), err)
		}
		extra += len(got)/blockRows - 1
	}
	t.Logf("%d keys in %d blocks: %d bytes (layout 3: %d); %d false candidate blocks in %d probes", n, blocks, len(packed), len(old), extra, n)
	if len(packed) > len(old)*4/5 || extra > int(n)/100 {
		t.Fatalf("%d bytes against layout 3's %d; %d false candidate blocks in %d probes", len(packed), len(old), extra, n)
	}
}
