package index

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	f.Add(newRefSegment(31, 40, 16).build())
	f.Add(newRefSegment(32, 3, 1).build())
	f.Add(NewBuilder(0).Marshal(nil))
	f.Add([]byte("ALIX\x01\x00\x00\x00"))
	for _, old := range []string{"testdata/v1-ref41.alix", "testdata/v2-ref41.alix", "testdata/v3-ref41.alix", "testdata/v4-ref41.alix"} {
		data, err := os.ReadFile(old)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(asVersion2(newRefSegment(37, 40, 16).builderOld(1)))
}

// FuzzOpen opens arbitrary bytes and probes every section: any outcome but a panic or
// a row id beyond the segment is acceptable.
func FuzzOpen(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		checkRows := func(rows []uint32) {
			for _, r := range rows {
				if r >= rd.Rows() {
					t.Fatalf("row %d >= %d rows", r, rd.Rows())
				}
			}
		}
		for _, sec := range rd.Sections() {
			switch sec.Kind {
			case KindCodes:
				n, err := rd.Cardinality(sec.Column)
				if err != nil {
					continue
				}
				for c := uint32(0); c <= min(n, 64); c++ {
					if bm, err := rd.Codes(sec.Column, c); err == nil {
						checkRows(bm.ToArray())
					}
				}
				if bm, err := rd.CodesNull(sec.Column); err == nil {
					checkRows(bm.ToArray())
				}
			case KindBools:
				for _, v := range []bool{false, true} {
					if bm, err := rd.Bools(sec.Column, v); err == nil {
						checkRows(bm.ToArray())
					}
				}
				if bm, err := rd.BoolsNull(sec.Column); err == nil {
					checkRows(bm.ToArray())
				}
			case KindInt32:
				vals, _ := rd.Int32Values(sec.Column)
				for _, v := range append(vals[:min(len(vals), 64)], 0, -1) {
					if bm, err := rd.Int32(sec.Column, v); err == nil {
						checkRows(bm.ToArray())
					}
				}
				if bm, err := rd.Int32Null(sec.Column); err == nil {
					checkRows(bm.ToArray())
				}
			case KindKeys:
				for _, k := range [][]byte{nil, []byte("a"), data[:min(len(data), 16)]} {
					if rows, err := rd.AppendKeyRows(nil, sec.Column, k); err == nil {
						checkRows(rows)
					}
				}
			case KindZoneMapInt64:
				if zm, err := rd.ZoneMapInt64(sec.Column); err == nil {
					_ = zm.PruneRange(-1, 1)
				}
			case KindZoneMapFloat64:
				if zm, err := rd.ZoneMapFloat64(sec.Column); err == nil {
					_ = zm.PruneRange(-1, 1)
				}
			}
		}
	})
}

// The section decoders are fuzzed directly too: a crafted section with a valid CRC
// reaches them with arbitrary bytes.
func FuzzPostingsSection(f *testing.F) {
	s := newRefSegment(33, 50, 16)
	f.Add(groupedToWhole(sectionPayload(f, s.build(), "app", KindCodes), false), uint32(50), false)
	f.Add(groupedToWhole(sectionPayload(f, s.build(), "status/errorCode", KindInt32), true), uint32(50), true)
	f.Fuzz(func(t *testing.T, data []byte, rows uint32, withValues bool) {
		var ps postingsSection
		if ps.unmarshal(alignedCopy(data), rows, withValues) != nil {
			return
		}
		for i := 0; i <= min(ps.n, 64); i++ {
			bm, err := ps.bitmap(i)
			if err == nil && !bm.IsEmpty() && bm.Maximum() >= rows {
				t.Fatalf("row %d >= %d rows", bm.Maximum(), rows)
			}
		}
	})
}

// FuzzPostingsPaged fuzzes the postings of format versions 4 and 5 through the io.ReaderAt path the
// Reader uses, probing every posting from the file and again from the section in memory. With
// resign, the header's and every locatable posting's CRC are recomputed first, to reach the
// structural checks and roaring's decoder.
func FuzzPostingsPaged(f *testing.F) {
	s := newRefSegment(39, 300, 16)
	f.Add(groupedToPaged(sectionPayload(f, s.build(), "app", KindCodes), false), uint32(300), false, false)
	f.Add(groupedToPaged(sectionPayload(f, s.build(), "status/errorCode", KindInt32), true), uint32(300), true, true)
	f.Add(groupedToPaged(sectionPayload(f, s.build(), "flaggedForReview", KindBools), false), uint32(300), false, true)
	f.Fuzz(func(t *testing.T, data []byte, rows uint32, withValues, resign bool) {
		if resign {
			resignPostings(data, withValues)
		}
		for _, trusted := range []bool{false, true} {
			ps, err := openPostingsPaged(bytes.NewReader(data), 0, int64(len(data)), rows, withValues, trusted)
			if err != nil {
				return
			}
			for range 2 { // the second pass may read the section whole
				for i := 0; i <= min(ps.n, 64); i++ {
					bm, err := ps.bitmap(i)
					if err == nil && !trusted && !bm.IsEmpty() && bm.Maximum() >= rows {
						t.Fatalf("row %d >= %d rows", bm.Maximum(), rows)
					}
				}
				ps.whole.grant()
			}
		}
	})
}

// resignPostings recomputes the CRCs of a version-4 postings payload wherever its count and
// table let it find what they cover.
func resignPostings(p []byte, withValues bool) {
	if len(p) < 4 {
		return
	}
	n := int(binary.LittleEndian.Uint32(p))
	head := 4
	if withValues {
		head += 4 * n
	}
	if n > 1<<16 || head+4 > len(p) {
		return
	}
	binary.LittleEndian.PutUint32(p[head:], crc32c(p[:head]))
	entries := head + 4
	area := align8(entries + postingEntryLen*(n+1))
	if area > len(p) {
		return
	}
	prev := 0
	for i := 0; i <= n; i++ {
		e := p[entries+postingEntryLen*i:]
		end := int(binary.LittleEndian.Uint32(e))
		start := align8(prev)
		if i == 0 {
			start = 0
		}
		if start <= end && area+end <= len(p) {
			binary.LittleEndian.PutUint32(e[4:], postingCRC(i, p[area+start:area+end]))
		}
		prev = end
	}
}

// FuzzPostingsGrouped fuzzes the postings of format version 6 through the io.ReaderAt path the
// Reader uses, probing every posting from the file and again from the section in memory. With
// resign, the header's and every group's CRC are recomputed first, to reach the structural checks
// (lengths, alignment, run lists) and roaring's decoder.
func FuzzPostingsGrouped(f *testing.F) {
	s := newRefSegment(39, 300, 16)
	f.Add(sectionPayload(f, s.build(), "app", KindCodes), uint32(300), false, false)
	f.Add(sectionPayload(f, s.build(), "user", KindCodes), uint32(300), false, true)
	f.Add(sectionPayload(f, s.build(), "status/errorCode", KindInt32), uint32(300), true, true)
	f.Add(sectionPayload(f, s.build(), "flaggedForReview", KindBools), uint32(300), false, true)
	f.Fuzz(func(t *testing.T, data []byte, rows uint32, withValues, resign bool) {
		if resign {
			resignPostingsGrouped(data, withValues)
		}
		for _, trusted := range []bool{false, true} {
			ps, err := openPostingsGrouped(bytes.NewReader(data), 0, int64(len(data)), rows, withValues, trusted)
			if err != nil {
				return
			}
			for range 2 { // the second pass may read the section whole
				for i := 0; i <= min(ps.n, 200); i++ {
					bm, err := ps.bitmap(i)
					if err == nil && !trusted && !bm.IsEmpty() && bm.Maximum() >= rows {
						t.Fatalf("row %d >= %d rows", bm.Maximum(), rows)
					}
				}
				ps.whole.grant()
			}
		}
	})
}

// resignPostingsGrouped recomputes the CRCs of a version-6 postings payload wherever its header
// and table let it find what they cover.
func resignPostingsGrouped(p []byte, withValues bool) {
	if len(p) < groupHeaderLen {
		return
	}
	var l postingsGroupedLayout
	if l.set(int(binary.LittleEndian.Uint32(p)), int(p[4]), int(p[5]), withValues, int64(len(p))) != nil || l.n > 1<<16 {
		return
	}
	binary.LittleEndian.PutUint32(p[l.head:], crc32c(p[:l.head]))
	for k := range l.groups {
		rec := p[l.tableAt+int64(k)*l.recLen : l.tableAt+int64(k+1)*l.recLen]
		start, total := int64(binary.LittleEndian.Uint32(rec)), int64(0)
		for m := range l.g {
			total += int64(getLen(rec[8+m*l.w:], l.w))
		}
		if start+total <= l.areaSize {
			binary.LittleEndian.PutUint32(rec[4:], postingsGroupCRC(k, rec, p[l.areaAt+start:l.areaAt+start+total]))
		}
	}
}

// FuzzKeysSection fuzzes the whole-section keys decoder of format versions 1 and 2.
func FuzzKeysSection(f *testing.F) {
	s := newRefSegment(34, 50, 16)
	f.Add(sectionPayload(f, asVersion2(s.builderOld(1)), "id", KindKeys), uint32(50), []byte("k"))
	f.Fuzz(func(t *testing.T, data []byte, rows uint32, key []byte) {
		var ks keysSection
		if ks.unmarshal(alignedCopy(data), rows) != nil {
			return
		}
		got, err := appendRows(&ks, nil, KeyHash(key))
		for _, r := range got {
			if err == nil && r >= rows {
				t.Fatalf("row %d >= %d rows", r, rows)
			}
		}
	})
}

// FuzzKeysGroups fuzzes the grouped keys layout of format version 3 through the io.ReaderAt
// path the Reader uses. Its CRCs would stop most mutations at the first check, so with resign the
// header's and every locatable group's CRC are recomputed first, to reach the structural checks.
func FuzzKeysGroups(f *testing.F) {
	s := newRefSegment(38, 300, 16)
	f.Add(sectionPayload(f, s.build(), "id", KindKeys), uint32(300), []byte("k"), false)
	f.Add(sectionPayload(f, s.build(), "id", KindKeys), uint32(300), s.ids[1], true)
	hashes, rows := make([]uint64, 200), make([]uint32, 200)
	for i := range hashes {
		hashes[i], rows[i] = uint64(i)*0x9e3779b97f4a7c15, uint32(i)
	}
	f.Add(marshalKeysGrouped(nil, sortKeys(hashes, rows), 200, 1, 64, keysLayoutPacked), uint32(200), []byte{}, true)
	f.Add(marshalKeysGrouped(nil, sortKeys(hashes, rows), 200, 1, 64, keysLayoutBlocks), uint32(200), []byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, rows uint32, key []byte, resign bool) {
		if resign {
			resignKeys(data)
		}
		kg, err := openKeysPayload(data, rows)
		if err != nil {
			return
		}
		for _, h := range []uint64{KeyHash(key), 0, 1 << 63, ^uint64(0)} {
			got, err := appendRows(kg, nil, h)
			for _, r := range got {
				if err == nil && r >= rows {
					t.Fatalf("row %d >= %d rows", r, rows)
				}
			}
		}
	})
}

// resignKeys recomputes the CRCs of a layout-2, 3 or 4 keys payload wherever its header and table let
// it find what they cover.
func resignKeys(p []byte) {
	if len(p) < keysGroupedHeaderLen {
		return
	}
	binary.LittleEndian.PutUint32(p[12:], crc32c(p[:12]))
	b, w, g, e := p[4], int(p[6]), p[7], int(p[8])
	if b > maxKeyBucketBits || g > b || w < 1 || w > 6 || (e != 2 && e != 4) {
		return
	}
	entryLen := 2 + w // layouts 2 and 3: a fingerprint and a row or block
	if p[5] == keysLayoutPacked {
		entryLen = w
	}
	ng, gb := 1<<(b-g), 1<<g
	groups := keysGroupedHeaderLen + keyGroupEntryLen*ng + 4
	if len(p) < groups {
		return
	}
	for j := range ng {
		ent := p[keysGroupedHeaderLen+keyGroupEntryLen*j:]
		start, end := binary.LittleEndian.Uint32(ent), binary.LittleEndian.Uint32(ent[8:])
		at := groups + j*gb*e + int(start)*entryLen
		n := gb*e + int(end-start)*entryLen
		if start <= end && end-start < 1<<24 && at+n <= len(p) {
			binary.LittleEndian.PutUint32(ent[4:], groupCRC(start, end, p[at:at+n]))
		}
	}
}

func FuzzZoneMapSection(f *testing.F) {
	s := newRefSegment(35, 50, 16)
	f.Add(sectionPayload(f, s.build(), "createdDateTime", KindZoneMapInt64), uint32(50))
	f.Fuzz(func(t *testing.T, data []byte, rows uint32) {
		var zi ZoneMap[int64]
		if zi.unmarshal(data, rows) == nil {
			for _, blk := range zi.PruneRange(-1<<62, 1<<62) {
				if blk >= zi.Blocks() {
					t.Fatalf("block %d of %d", blk, zi.Blocks())
				}
			}
		}
		var zf ZoneMap[float64]
		if zf.unmarshal(data, rows) == nil {
			_ = zf.PruneRange(-1, 1)
		}
	})
}

func FuzzDirectory(f *testing.F) {
	data := newRefSegment(36, 50, 16).build()
	rd := openBytes(f, data)
	secs := rd.Sections()
	last := secs[len(secs)-1]
	dirOffset := last.Offset + last.Length
	f.Add(data[dirOffset:len(data)-trailerLen], uint64(dirOffset))
	f.Fuzz(func(t *testing.T, dir []byte, dirOffset uint64) {
		entries, _, err := unmarshalDirectory(dir, dirOffset)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.offset < headerLen || e.offset+e.length > dirOffset {
				t.Fatalf("entry %+v escapes [%d, %d)", e, headerLen, dirOffset)
			}
		}
	})
}

func FuzzTrailer(f *testing.F) {
	f.Add((&trailer{dirOffset: 8, rows: 1, version: formatVersion}).marshal(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr trailer
		if _, err := tr.unmarshal(b); err != nil {
			return
		}
		if again := tr.marshal(nil); !bytes.Equal(again, b[:trailerLen]) {
			t.Fatalf("re-marshal differs:\n%x\n%x", again, b[:trailerLen])
		}
	})
}

// sectionPayload extracts one section's bytes from a sidecar, for seeding fuzzers.
func sectionPayload(tb testing.TB, data []byte, column string, kind Kind) []byte {
	rd := openBytes(tb, data)
	for _, s := range rd.Sections() {
		if s.Column == column && s.Kind == kind {
			return data[s.Offset : s.Offset+s.Length]
		}
	}
	tb.Fatalf("no section %s %q", kind, column)
	return nil
}

// FuzzDecodeBitmap feeds arbitrary bytes to roaring's in-place decoder through our
// checks; the recover in decodeBitmap must turn any library panic into an error.
func FuzzDecodeBitmap(f *testing.F) {
	for _, rows := range [][]uint32{{0}, {1, 2, 3, 70_000}, {65_535, 65_536}} {
		bm := bitmapOfSorted(rows)
		b, _ := bm.ToBytes()
		f.Add(b, uint32(100_000))
	}
	run := bitmapOfSorted([]uint32{10, 11, 12, 13, 14})
	b, _ := run.ToBytes()
	f.Add(b, uint32(15))
	f.Fuzz(func(t *testing.T, data []byte, rows uint32) {
		bm, err := decodeBitmap(alignedCopy(data), rows, true)
		if err != nil {
			return
		}
		if bm.Maximum() >= rows {
			t.Fatalf("row %d >= %d rows", bm.Maximum(), rows)
		}
		bm.Or(AllRows(min(rows, 1000))) // copy-on-write paths must cope too
		_ = bm.GetCardinality()
	})
}
