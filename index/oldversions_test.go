package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// Sidecars live as long as their segments, so every format version this reader has written
// stays readable. testdata holds sidecars of newRefSegment(41, 500, 64) written by the code
// of those versions (v1 at 8e58a5f^, v2 at f4f9351, v3 at 48aa432, v4 at da4f61f, v5 at e246abb, v6 at 1354cc7); asVersion2 rewrites
// a sidecar as version 2 with the version-2 keys writer below, asVersion5 as version 5 and
// asVersion6 as version 6, for cases the files do not cover. Their builders write keys in
// layout 3 (oldKeysBuilder): layout 4 keeps fewer fingerprint bits than the layouts before it.

// marshalKeysCompact is the keys writer of format version 2 (layout 1), kept for tests.
func marshalKeysCompact(dst []byte, hashes []uint64, rows []uint32, segRows uint32) []byte {
	sk := sortKeys(hashes, rows)
	w := rowWidth(segRows)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(sk.fps)))
	dst = append(dst, sk.b, keysLayoutCompact, byte(w), 0)
	for _, e := range sk.ends {
		dst = binary.LittleEndian.AppendUint32(dst, e)
	}
	for _, fp := range sk.fps {
		dst = binary.LittleEndian.AppendUint16(dst, fp)
	}
	return appendLE(dst, sk.rows, w)
}

// groupedToCompact rewrites a layout-2 keys payload, or a layout-3 one of 1-row blocks, as
// layout 1 of a segment of rows rows: the same entries in the same order, with the bucket ends
// made absolute, the groups' fingerprints and rows concatenated, and rows as wide as layout 1
// has them.
func groupedToCompact(p []byte, segRows uint32) []byte {
	n, b, w, g, e := binary.LittleEndian.Uint32(p), p[4], int(p[6]), p[7], int(p[8])
	oldKeys(p)
	if p[5] == keysLayoutBlocks && (p[9] != 1 || p[10] != 0 || p[11] != 0) {
		panic("BUG: groupedToCompact of blocks of more than a row")
	}
	ng, gb := 1<<(b-g), 1<<g
	ow := rowWidth(segRows)
	out := binary.LittleEndian.AppendUint32(nil, n)
	out = append(out, b, keysLayoutCompact, byte(ow), 0)
	var fps, rows []byte
	at := keysGroupedHeaderLen + keyGroupEntryLen*ng + 4
	for j := range ng {
		start := binary.LittleEndian.Uint32(p[keysGroupedHeaderLen+keyGroupEntryLen*j:])
		end := binary.LittleEndian.Uint32(p[keysGroupedHeaderLen+keyGroupEntryLen*(j+1):])
		for range gb {
			rel := uint32(binary.LittleEndian.Uint16(p[at:]))
			if e == 4 {
				rel = binary.LittleEndian.Uint32(p[at:])
			}
			out = binary.LittleEndian.AppendUint32(out, start+rel)
			at += e
		}
		c := int(end - start)
		fps = append(fps, p[at:at+2*c]...)
		for i := range c {
			var r uint32
			for k := w - 1; k >= 0; k-- {
				r = r<<8 | uint32(p[at+2*c+w*i+k])
			}
			rows = appendLE(rows, []uint32{r}, ow)
		}
		at += (2 + w) * c
	}
	return append(append(out, fps...), rows...)
}

// postingsOfPayload reads back what a version-6 or 7 postings payload holds. A run list decodes
// to run containers; RunOptimize gives each container the form the writer's bitmap had
// (bitmapOfSorted), so that re-serializing it in roaring writes that bitmap's bytes.
func postingsOfPayload(p []byte, withValues bool) ([]int32, []*roaring.Bitmap) {
	ps, err := openPostingsGrouped(bytes.NewReader(p), 0, int64(len(p)), 1<<31, withValues, false)
	if err != nil {
		panic(err)
	}
	bitmaps := make([]*roaring.Bitmap, ps.n+1)
	for i := range bitmaps {
		if bitmaps[i], err = ps.bitmap(i); err != nil {
			panic(err)
		}
		bitmaps[i].RunOptimize()
	}
	return ps.values, bitmaps
}

// groupedToWhole rewrites a version-6 postings payload in the layout of versions 1 to 3: the
// same bitmaps, with the table of ends alone and no checksums.
func groupedToWhole(p []byte, withValues bool) []byte {
	values, bitmaps := postingsOfPayload(p, withValues)
	return marshalPostings(nil, values, bitmaps)
}

// groupedToPaged rewrites a version-6 postings payload in the layout of versions 4 and 5.
func groupedToPaged(p []byte, withValues bool) []byte {
	values, bitmaps := postingsOfPayload(p, withValues)
	return marshalPostingsPaged(nil, values, bitmaps)
}

// asVersion2 marshals what b holds as a version-2 sidecar; its keys sections must name rows
// (blocks of one row: refSegment.builderWith(1)).
func asVersion2(b *Builder) []byte {
	return rewritten(b, 2, func(s builtSection) []byte {
		switch s.kind {
		case KindKeys:
			return groupedToCompact(s.payload, b.rows)
		case KindCodes, KindBools, KindInt32:
			return groupedToWhole(s.payload, s.kind == KindInt32)
		}
		return s.payload
	})
}

// asVersion5 marshals what b holds as a version-5 sidecar: postings a posting at a time.
func asVersion5(b *Builder) []byte {
	return rewritten(b, 5, func(s builtSection) []byte {
		switch s.kind {
		case KindCodes, KindBools, KindInt32:
			return groupedToPaged(s.payload, s.kind == KindInt32)
		case KindKeys:
			oldKeys(s.payload)
		}
		return s.payload
	})
}

// asVersion6 marshals what b holds as a version-6 sidecar: keys in layout 3, run lists of at
// most maxRunList bytes.
func asVersion6(b *Builder) []byte {
	return rewritten(b, 6, func(s builtSection) []byte {
		switch s.kind {
		case KindKeys:
			oldKeys(s.payload)
		case KindCodes, KindBools, KindInt32:
			values, bitmaps := postingsOfPayload(s.payload, s.kind == KindInt32)
			return marshalPostingsGroupedMax(nil, values, bitmaps, maxRunList)
		}
		return s.payload
	})
}

// oldKeys panics unless keys payload p is of layout 3 or 2, which a rewriter can turn into the
// versions before 7 (a builder of oldKeysBuilder writes them).
func oldKeys(p []byte) {
	if len(p) > 5 && p[5] == keysLayoutPacked {
		panic("BUG: keys of layout 4 rewritten for an older version; build them with oldKeysBuilder")
	}
}

// rewritten marshals b's sections, each payload as payload says, as a sidecar of version v.
func rewritten(b *Builder, v byte, payload func(builtSection) []byte) []byte {
	old := &Builder{rows: b.rows}
	for _, s := range b.sections {
		s.payload = payload(s)
		old.sections = append(old.sections, s)
	}
	data := old.Marshal(nil)
	data[4] = v
	tr := data[len(data)-trailerLen:]
	tr[20] = v
	binary.LittleEndian.PutUint32(tr[24:], crc32c(tr[:24]))
	return data
}

func checkProbes(t *testing.T, rd *Reader, ps []probe) {
	t.Helper()
	for _, p := range ps {
		got, err := p.run(rd)
		if err != nil || got != p.want {
			t.Fatalf("%s: %v\n got %s\nwant %s", p.name, err, got, p.want)
		}
	}
}

func TestReadsOldVersions(t *testing.T) {
	s := newRefSegment(41, 500, 64)
	for _, f := range []struct {
		file    string
		version uint8
	}{{"testdata/v1-ref41.alix", 1}, {"testdata/v2-ref41.alix", 2}, {"testdata/v3-ref41.alix", 3}, {"testdata/v4-ref41.alix", 4}, {"testdata/v5-ref41.alix", 5}, {"testdata/v6-ref41.alix", 6}} {
		data, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		rd := openBytes(t, data)
		if rd.version != f.version {
			t.Fatalf("%s: version %d, want %d", f.file, rd.version, f.version)
		}
		checkProbes(t, rd, s.probes())
	}
	// The version-5 and version-6 writers kept for tests write what those versions' code wrote,
	// byte for byte.
	if want, err := os.ReadFile("testdata/v5-ref41.alix"); err != nil || !bytes.Equal(asVersion5(s.builderOld(s.blockRows)), want) {
		t.Fatalf("asVersion5 of the reference segment is not testdata/v5-ref41.alix (%v)", err)
	}
	if want, err := os.ReadFile("testdata/v6-ref41.alix"); err != nil || !bytes.Equal(asVersion6(s.builderOld(s.blockRows)), want) {
		t.Fatalf("asVersion6 of the reference segment is not testdata/v6-ref41.alix (%v)", err)
	}
	// Rewritten: 2- and 3-byte row ids, several groups.
	for _, s := range []*refSegment{s, newRefSegment(42, 70_000, 65_536)} {
		rd := openBytes(t, asVersion2(s.builderOld(1)))
		if rd.version != 2 {
			t.Fatalf("version %d, want 2", rd.version)
		}
		checkProbes(t, rd, s.probes())
	}
}

// marshalPostingsPaged is the postings writer of format versions 4 and 5, kept for tests: it
// appends a postings payload with a table entry (end, CRC) per posting, each posting 8-aligned.
// bitmaps has n+1 entries, the last the null posting; values is nil for codes and bools.
func marshalPostingsPaged(dst []byte, values []int32, bitmaps []*roaring.Bitmap) []byte {
	n := len(bitmaps) - 1
	if n < 0 || (values != nil && len(values) != n) {
		panic(fmt.Sprintf("BUG: marshalPostingsPaged: %d bitmaps for %d values", len(bitmaps), len(values)))
	}
	base := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	for _, v := range values {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
	}
	dst = binary.LittleEndian.AppendUint32(dst, crc32c(dst[base:]))
	entriesAt := len(dst)
	dst = append(dst, make([]byte, postingEntryLen*(n+1))...)
	for (len(dst)-base)&7 != 0 {
		dst = append(dst, 0)
	}
	area := len(dst)
	for i, bm := range bitmaps {
		for (len(dst)-area)&7 != 0 {
			dst = append(dst, 0)
		}
		start := len(dst)
		dst = append(dst, encodePosting(bm, maxRunList)...)
		e := dst[entriesAt+postingEntryLen*i:]
		binary.LittleEndian.PutUint32(e, uint32(len(dst)-area))
		binary.LittleEndian.PutUint32(e[4:], postingCRC(i, dst[start:]))
	}
	return dst
}

// marshalPostings is the postings writer of format versions 1 to 3, kept for tests: it appends a postings payload. bitmaps has n+1 entries, the last one being
// the null posting; values is nil for codes and bools. dst must start at the section
// start: bitmaps are 8-aligned relative to len(dst) at entry, which the reader mirrors by
// reading each section into an 8-aligned buffer, so that roaring's zero-copy decode sees
// aligned uint64 and uint16 arrays.
func marshalPostings(dst []byte, values []int32, bitmaps []*roaring.Bitmap) []byte {
	n := len(bitmaps) - 1
	if n < 0 || (values != nil && len(values) != n) {
		panic(fmt.Sprintf("BUG: marshalPostings: %d bitmaps for %d values", len(bitmaps), len(values)))
	}
	size := 8 + 4*len(values) + 4*(n+1)
	for _, bm := range bitmaps {
		size += int(bm.GetSerializedSizeInBytes()) + 7
	}
	dst = slices.Grow(dst, size)
	base := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	for _, v := range values {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
	}
	endsAt := len(dst)
	dst = append(dst, make([]byte, 4*(n+1))...)
	for len(dst)-base != align8(len(dst)-base) {
		dst = append(dst, 0)
	}
	area := len(dst)
	w := appendWriter{b: dst}
	for i, bm := range bitmaps {
		for (len(w.b)-area)&7 != 0 {
			w.b = append(w.b, 0)
		}
		if bm != nil && !bm.IsEmpty() {
			if _, err := bm.WriteTo(&w); err != nil {
				panic(fmt.Sprintf("BUG: roaring WriteTo into memory failed: %s", err))
			}
		}
		binary.LittleEndian.PutUint32(w.b[endsAt+4*i:], uint32(len(w.b)-area))
	}
	return w.b
}
