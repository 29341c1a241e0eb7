package columnar

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// guidCase is text as a dictionary page of a GUID column holds it: mostly canonical GUIDs, and
// what such a column may also hold: empty text, upper-case and mixed-case GUIDs (not canonical:
// they stay text, byte for byte), braces, a character outside hex, a hyphen out of place, 35 or
// 37 characters, non-ASCII text of 36 bytes; and nulls, which pages never have but a frame may.
func guidCase(rows int, seed uint64) *array.String {
	rng := rand.New(rand.NewPCG(seed, 9))
	b := array.NewStringBuilder(memory.NewGoAllocator())
	defer b.Release()
	guid := func() string {
		var g [16]byte
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		return FormatGUID(g[:])
	}
	for range rows {
		switch rng.IntN(24) {
		case 0:
			b.AppendNull()
		case 1:
			b.Append("")
		case 2:
			b.Append(strings.ToUpper(guid()))
		case 3:
			g := guid()
			b.Append("A" + g[1:]) // one upper-case digit
		case 4:
			b.Append("{" + guid() + "}")
		case 5:
			b.Append("g" + guid()[1:])
		case 6:
			g := guid()
			b.Append(g[:7] + "-" + g[7:8] + g[9:])
		case 7:
			b.Append(guid()[:35])
		case 8:
			b.Append(guid() + "0")
		case 9:
			b.Append(strings.Repeat("é", 18))
		default:
			b.Append(guid())
		}
	}
	return b.NewArray().(*array.String)
}

// TestGUIDPagesRoundTrip: dictionary pages of version 8 read back every value and null,
// re-encode to the same bytes, leave nothing allocated, and hold GUIDs in fewer bytes than text.
func TestGUIDPagesRoundTrip(t *testing.T) {
	for _, rows := range []int{0, 1, 9, 64, 4096} {
		for seed := range uint64(3) {
			a := guidCase(rows, seed)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			frame, err := encodeFrameV4(KindText, a, 0, encodeTraits{guidPage: true}, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeFrameV4(frame, KindText, rows, 0, mem, decodeTraits{guidPage: true})
			if err != nil {
				t.Fatalf("%d rows, seed %d: %v", rows, seed, err)
			}
			if !array.Equal(got, a) || got.NullN() != a.NullN() {
				t.Fatalf("%d rows, seed %d: read back\n%v\nwrote\n%v", rows, seed, got, a)
			}
			raw1, _ := appendFrameV4(nil, KindText, a, 0, encodeTraits{guidPage: true})
			raw2, err := appendFrameV4(nil, KindText, got, 0, encodeTraits{guidPage: true})
			if err != nil || !bytes.Equal(raw1, raw2) {
				t.Fatalf("%d rows: re-encoding differs (%v)", rows, err)
			}
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d rows: %d bytes still allocated", rows, left)
			}
		}
	}
	// A page as the writer makes one: 64 sorted canonical GUIDs. As bytes about 16 a value
	// (and zstd's few bytes of frame), where their text took over 20.
	rng := rand.New(rand.NewPCG(3, 3))
	var vals []string
	for range DictPageValues {
		var g [16]byte
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		vals = append(vals, FormatGUID(g[:]))
	}
	sort.Strings(vals)
	b := array.NewStringBuilder(memory.NewGoAllocator())
	b.AppendValues(vals, nil)
	page := b.NewArray()
	packed, _ := encodeFrameV4(KindText, page, 0, encodeTraits{guidPage: true}, false)
	plain, _ := encodeFrameV4(KindText, page, 0, encodeTraits{}, false)
	t.Logf("a page of 64 GUIDs: %d bytes, %d as text", len(packed), len(plain))
	if len(packed) > 64*17 || len(plain) < 64*20 {
		t.Errorf("a page of 64 GUIDs takes %d bytes, as text %d", len(packed), len(plain))
	}
	// A page without a GUID is plain text, as before; a version-8 reader refuses a page of
	// GUIDs stored as text (one spelling), and a frame of GUIDs read as something else is
	// refused, not misread.
	b.AppendValues([]string{"alice@contoso.com", "bob@contoso.com", strings.ToUpper(vals[0])}, nil)
	noGUIDs := array.NewSlice(b.NewArray(), 0, 3)
	f, _ := appendFrameV4(nil, KindText, noGUIDs, 0, encodeTraits{guidPage: true})
	if f[8] != encPlain {
		t.Errorf("a page without a GUID written in encoding %d", f[8])
	}
	if x, err := decodeFrameV4(zstdFast.EncodeAll(f, nil), KindText, 3, 0, memory.NewGoAllocator(), decodeTraits{guidPage: true}); err != nil || !array.Equal(x, noGUIDs) {
		t.Errorf("a page without a GUID read back %v, %v", x, err)
	}
	if x, err := decodeFrameV4(plain, KindText, 64, 0, memory.NewGoAllocator(), decodeTraits{guidPage: true}); err == nil || !strings.Contains(err.Error(), "is a GUID in a page stored as text") {
		t.Errorf("a page of GUIDs as text read as a version-8 page: %v %v", x, err)
	}
	for _, tr := range []decodeTraits{{}, {tokens: true}} {
		if x, err := decodeFrameV4(packed, KindText, 64, 0, memory.NewGoAllocator(), tr); err == nil {
			t.Errorf("a page of GUIDs read with %+v: %v", tr, x)
		}
	}
}

// TestGUIDPagesRefuse: pages of GUIDs that do not say one thing one way are refused.
func TestGUIDPagesRefuse(t *testing.T) {
	g := bytes.Repeat([]byte{0xab}, 16)
	text := FormatGUID(g)
	yes, no := true, false
	page := func(valid, isGUID []bool, guids [][]byte, lits []string) []byte {
		raw := tokenFrame(valid, isGUID, guids, lits)
		raw[8] = encGUIDText
		return raw
	}
	for _, tc := range []struct {
		name  string
		raw   []byte
		wants string
	}{
		{"a GUID as text", page([]bool{yes, yes}, []bool{yes, no}, [][]byte{g}, []string{text}), "is a GUID stored as text"},
		{"a null GUID", page([]bool{yes, no, yes}, []bool{no, yes, yes}, [][]byte{g, g}, nil), "null row 1 is marked a GUID"},
		{"GUIDs short", page([]bool{yes, yes}, []bool{yes, yes}, [][]byte{g}, nil), "runs past"},
		{"a literal too many", page([]bool{yes, yes}, []bool{yes, no}, [][]byte{g}, []string{"a", "b"}), "bytes after the literals"},
		{"no GUID", page([]bool{yes, yes}, []bool{no, no}, nil, []string{"a", "b"}), "a page of GUIDs without one"},
	} {
		expectRefused(t, tc.name, tc.raw, KindText, int(binary.LittleEndian.Uint32(tc.raw)), decodeTraits{guidPage: true}, tc.wants)
	}
	// Upper-case text is not a canonical GUID: it stays text, and reads back as written.
	upper := strings.ToUpper(text)
	raw := page([]bool{yes, yes}, []bool{yes, no}, [][]byte{g}, []string{upper})
	a, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), KindText, 2, 0, memory.NewGoAllocator(), decodeTraits{guidPage: true})
	if err != nil || a.(*array.String).Value(0) != text || a.(*array.String).Value(1) != upper {
		t.Fatalf("a GUID and its upper-case text: %v %v", a, err)
	}
}

// FuzzGUIDPages feeds the reader of version-8 dictionary pages frames it did not write.
func FuzzGUIDPages(f *testing.F) {
	var seeds []*array.String
	for seed := range uint64(3) {
		seeds = append(seeds, guidCase(30, seed))
	}
	fuzzPacked(f, seeds, guidSpelling)
}

// TestReadsVersion7: a segment whose dictionary pages are plain text, as version 7 wrote them,
// reads the same rows as the version-8 segment it was rewritten from, and its GUID
// dictionaries took more bytes.
func TestReadsVersion7(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestSegment(t, dir, testEvents(t, 600, 5), 64)
	v7 := filepath.Join(dir, "v7.seg")
	rewriteAsVersion7(t, path, v7)
	want, got := readSegmentRows(t, path), readSegmentRows(t, v7)
	if len(want) != 600 || !slices.Equal(want, got) {
		t.Fatalf("version 7 read %d rows, version 8 %d; equal: %t", len(got), len(want), slices.Equal(want, got))
	}
	sizes := func(p string) (total, userID uint64) {
		seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		for _, c := range seg.Meta.Columns {
			total += c.Length
			if c.Name == "userId" {
				userID = c.Length
			}
		}
		return total, userID
	}
	all8, user8 := sizes(path)
	all7, user7 := sizes(v7)
	t.Logf("600 rows: columns %d bytes, userId %d (version 8); %d, %d (version 7)", all8, user8, all7, user7)
	if all8 > all7 || user8 >= user7 {
		t.Errorf("version 8 takes %d bytes (userId %d), version 7 %d (%d)", all8, user8, all7, user7)
	}
}

// rewriteAsVersion7 rewrites a segment of this build's version as version 7: its dictionary pages
// as plain text frames, no page fences, every other frame as it is.
func rewriteAsVersion7(t *testing.T, path, out string) {
	t.Helper()
	rewriteSegment(t, path, out, 7, func(c *ColumnMeta, j, nb int, f []byte) []byte {
		if j == 0 {
			return nil // page fences came with version 9
		}
		if j <= nb {
			return f
		}
		rows := min(DictPageValues, int(c.DictLen)-(j-nb-1)*DictPageValues)
		a, err := decodeFrameV4(f, KindText, rows, 0, memory.DefaultAllocator, decodeTraits{guidPage: true})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		if f, err = encodeFrameV4(KindText, a, 0, encodeTraits{}, false); err != nil {
			t.Fatal(err)
		}
		return f
	})
}

// rewriteSegment writes the segment at path to out as the given version, each frame j of each
// column c (of a segment of nb blocks) replaced by frame(c, j, nb, f), with frame tables, CRCs
// and the footer made anew.
func rewriteSegment(t *testing.T, path, out string, version byte, frame func(c *ColumnMeta, j, nb int, f []byte) []byte) {
	t.Helper()
	seg, raw, meta := segmentFile(t, path)
	defer seg.Close()
	file := append([]byte(segMagic), version, 0)
	nb := seg.NumBlocks()
	for i := range meta.Columns {
		c := &meta.Columns[i]
		refs, err := parseFrameTableV3(raw[c.Offset:c.Offset+c.Table], int64(c.Offset+c.Table), int64(c.Offset+c.Length))
		if err != nil {
			t.Fatal(err)
		}
		frames := make([][]byte, len(refs))
		for j, r := range refs {
			frames[j] = frame(c, j, nb, raw[r.off:r.off+r.len])
		}
		region := appendFrameTableV3(nil, frames)
		c.Table = uint64(len(region))
		c.CRC = crc32.Checksum(region, castagnoli)
		for _, f := range frames {
			region = append(region, f...)
		}
		c.Offset, c.Length = uint64(len(file)), uint64(len(region))
		file = append(file, region...)
	}
	file = appendFooter(file, meta.marshalVersion(nil, version), version)
	if err := os.WriteFile(out, file, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMutatedGUIDPagesFailCleanly runs FuzzGUIDPages' check over 20,000 damaged pages (one to
// three bytes changed: a bitmap bit, a GUID byte, an offset, the encoding), since `go test
// -fuzz` is not part of the test run: each is refused, or read as a page that re-encodes to
// its bytes. (A sixth of them under the race detector: mutationRounds.)
func TestMutatedGUIDPagesFailCleanly(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var seeds [][]byte
	for seed := range uint64(4) {
		raw, err := appendFrameV4(nil, KindText, guidCase(40, seed), 0, encodeTraits{guidPage: true})
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, raw)
	}
	accepted := 0
	n := 20000 / mutationRounds
	for i := range n {
		raw := slices.Clone(seeds[i%len(seeds)])
		for range 1 + rng.IntN(3) {
			j := rng.IntN(len(raw))
			if rng.IntN(2) == 0 {
				raw[j] ^= 1 << rng.IntN(8)
			} else {
				raw[j] = byte(rng.Uint32())
			}
		}
		if packedFrameRoundTrips(t, raw, guidSpelling) {
			accepted++
		}
	}
	t.Logf("%d damaged pages: %d read (each re-encodes to its bytes), the rest refused", n, accepted)
}
