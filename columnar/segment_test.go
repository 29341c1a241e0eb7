package columnar

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/internal/vfs"
)

// testEvents makes n varied sign-ins from the Graph sample: several users, apps, times, nulls,
// unknown properties and exceptional values, so merges see differing dictionaries.
func testEvents(t testing.TB, n int, seed uint64) []string {
	t.Helper()
	return cachedEvents(t, n, seed)
}

// testEventMap makes event i of a seed's sequence as a map, drawing from that sequence's rng: the
// definition testEvent encodes faster (TestEventIsItsMap holds them together).
func testEventMap(t testing.TB, sample []byte, rng *rand.Rand, i int) string {
	t.Helper()
	base := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	var m map[string]any
	if err := json.Unmarshal(sample, &m); err != nil {
		t.Fatal(err)
	}
	u := rng.IntN(17)
	m["id"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i)
	m["createdDateTime"] = base.Add(time.Duration(rng.IntN(86400)) * time.Second).Format(time.RFC3339)
	m["userPrincipalName"] = fmt.Sprintf("user%02d@contoso.com", u)
	m["userDisplayName"] = fmt.Sprintf("User %d", u)
	m["appId"] = fmt.Sprintf("app-%d", rng.IntN(5))
	m["ipAddress"] = fmt.Sprintf("10.0.%d.%d", u, rng.IntN(4))
	st := m["status"].(map[string]any)
	if rng.IntN(5) == 0 {
		st["errorCode"] = []int{50126, 50074, 53003}[rng.IntN(3)]
	}
	switch rng.IntN(10) {
	case 0:
		m["location"] = nil
	case 1:
		m["x-vendor"] = map[string]any{"n": i}
	case 2:
		delete(m, "riskState")
	case 3:
		m["correlationId"] = ""
	case 4:
		m["createdDateTime"] = base.Add(time.Duration(rng.IntN(86400))*time.Second + 1234500*time.Nanosecond).Format("2006-01-02T15:04:05.0000000Z")
	}
	m["flaggedForReview"] = rng.IntN(50) == 0
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeUnit(t testing.TB, events []string) RecordUnit {
	t.Helper()
	d := NewDecoder(SignIns)
	row := NewRow(SignIns)
	bld := NewBuilder(SignIns)
	for _, e := range events {
		if err := d.Decode([]byte(e), row); err != nil {
			t.Fatal(err)
		}
		bld.AppendRow(row)
	}
	return RecordUnit{Schema: SignIns, Rec: bld.Seal()}
}

// writeTestSegment merges the events (in two units) into a segment with small blocks.
func writeTestSegment(t testing.TB, dir string, events []string, blockRows int) (string, *SegmentMeta) {
	t.Helper()
	half := len(events) / 2
	u1, u2 := decodeUnit(t, events[:half]), decodeUnit(t, events[half:])
	defer u1.Rec.Release()
	defer u2.Rec.Release()
	m, err := Merge(SignIns, []Unit{u1, u2}, blockRows)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "test.seg")
	meta, err := WriteSegment(vfs.Default, path, "tenant-a", 20395, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return path, meta
}

// exportSegment encodes every row of every block.
func exportSegment(t testing.TB, seg *Segment) ([]string, error) {
	t.Helper()
	all := allColumns()
	var out []string
	var enc Encoder
	for b := 0; b < seg.NumBlocks(); b++ {
		batch, release, err := seg.BlockBatch(b, all)
		if err != nil {
			return nil, err
		}
		for r := 0; r < batch.Rows; r++ {
			js, err := enc.AppendJSON(nil, batch, r, nil)
			if err != nil {
				release()
				return nil, err
			}
			out = append(out, string(js))
		}
		release()
	}
	return out, nil
}

// canonicalSet is the events in a form where spellings that mean the same JSON are the same
// bytes (canonicalJSON), sorted: the set of events whatever their order and key order.
func canonicalSet(t testing.TB, events []string) []string {
	t.Helper()
	out := make([]string, len(events))
	var p fastjson.Parser
	for i, e := range events {
		v, err := p.Parse(e)
		if err != nil {
			t.Fatalf("not JSON: %v: %s", err, e)
		}
		out[i] = string(canonicalJSON(t, nil, v))
	}
	sort.Strings(out)
	return out
}

// canonicalJSON appends v as encoding/json writes what it decodes v into (canonicalSetMap): keys
// sorted (the last of duplicates kept), strings re-escaped, numbers as float64s, without
// decoding into maps through reflection (most of this package's test time under -race).
func canonicalJSON(t testing.TB, dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		members := map[string]*fastjson.Value{}
		o.Visit(func(k []byte, mv *fastjson.Value) { members[string(k)] = mv })
		keys := slices.Sorted(maps.Keys(members))
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMarshal(t, dst, k)
			dst = append(dst, ':')
			dst = canonicalJSON(t, dst, members[k])
		}
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = canonicalJSON(t, dst, e)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		return appendMarshal(t, dst, string(v.GetStringBytes()))
	case fastjson.TypeNumber:
		f, err := strconv.ParseFloat(string(v.MarshalTo(nil)), 64)
		if err != nil {
			t.Fatal(err)
		}
		return appendMarshal(t, dst, f)
	default: // true, false, null
		return v.MarshalTo(dst)
	}
}

// appendMarshal appends encoding/json's encoding of v; a string that encoding/json writes as
// it is (printable ASCII but for quotes, backslashes and its HTML escapes) is written without it.
func appendMarshal(t testing.TB, dst []byte, v any) []byte {
	if s, ok := v.(string); ok && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&'
	}) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append(dst, b...)
}

// canonicalSetMap is canonicalSet through encoding/json: the definition.
func canonicalSetMap(t testing.TB, events []string) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		var v any
		if err := json.Unmarshal([]byte(e), &v); err != nil {
			t.Fatalf("not JSON: %v: %s", err, e)
		}
		b, _ := json.Marshal(v) // map keys sorted: key order does not matter
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

// TestCanonicalSetIsItsMap: canonicalSet gives encoding/json's bytes for generated events, the
// rows a segment exports from them, and hand-written spellings.
func TestCanonicalSetIsItsMap(t *testing.T) {
	events := testEvents(t, 300, 2)
	path, _ := writeTestSegment(t, t.TempDir(), events, 128)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	exported, err := exportSegment(t, seg)
	if err != nil {
		t.Fatal(err)
	}
	hand := []string{`{"b":1,"a":[1.0,2e3,-0,1E-7,12345678901234567890],"a":"dup"}`, `{"s":"\u00e9\u003c\/\"x","t":true,"n":null,"o":{}}`,
		`[]`, `"<&>"`, `{"k\u0041":[{"z":false,"y":[]}]}`}
	for _, set := range [][]string{events, exported, hand} {
		if got, want := canonicalSet(t, set), canonicalSetMap(t, set); !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("canonical form:\n got %s\nwant %s", got[i], want[i])
				}
			}
		}
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	events := testEvents(t, 1000, 1)
	path, meta := writeTestSegment(t, t.TempDir(), events, 128)
	if meta.Rows != 1000 || meta.NumBlocks() != 8 {
		t.Fatalf("rows %d blocks %d", meta.Rows, meta.NumBlocks())
	}
	seg, err := OpenSegment(vfs.Default, path, SignIns, NewBlockCache(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if seg.Meta.Tenant != "tenant-a" || seg.Meta.Day != 20395 {
		t.Fatalf("meta %+v", seg.Meta)
	}
	got, err := exportSegment(t, seg)
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalSet(t, events)
	gotSet := canonicalSet(t, got)
	if len(want) != len(gotSet) {
		t.Fatalf("got %d rows, want %d", len(gotSet), len(want))
	}
	for i := range want {
		if want[i] != gotSet[i] {
			t.Fatalf("row differs after segment round trip\nwant %s\ngot  %s", want[i], gotSet[i])
		}
	}
	checkSegmentOrder(t, got, 128)
}

// checkSegmentOrder checks that rows (a segment's, exported in order) are flagged ones first,
// then the newest min(blockRows, NewestRows) of the others, then the rest; within each by
// userPrincipalName, appId and createdDateTime. It returns how many rows each run holds.
func checkSegmentOrder(t *testing.T, got []string, blockRows int) [3]int {
	t.Helper()
	type row struct {
		Flagged bool   `json:"flaggedForReview"`
		UPN     string `json:"userPrincipalName"`
		App     string `json:"appId"`
		Time    string `json:"createdDateTime"`
		ns      int64
	}
	rows := make([]row, len(got))
	var times []int64
	for i, e := range got {
		json.Unmarshal([]byte(e), &rows[i])
		tm, _ := time.Parse(time.RFC3339Nano, rows[i].Time)
		rows[i].ns = tm.UnixNano()
		if !rows[i].Flagged {
			times = append(times, rows[i].ns)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	newest := int64(math.MaxInt64)
	if run := min(blockRows, NewestRows); len(times) > run {
		newest = times[len(times)-run]
	}
	var prev string
	counts := [3]int{}
	for _, m := range rows {
		rank := 2
		switch {
		case m.Flagged:
			rank = 0
		case m.ns >= newest:
			rank = 1
		}
		counts[rank]++
		key := fmt.Sprintf("%d|%s|%s|%020d", rank, m.UPN, m.App, m.ns)
		if key < prev {
			t.Fatalf("rows out of order: %s after %s", key, prev)
		}
		prev = key
	}
	return counts
}

// TestSegmentOrder: flagged rows first, then the newest, then the rest, in a segment of a few
// blocks and in one of many; a segment no larger than the newest run has none.
func TestSegmentOrder(t *testing.T) {
	for _, tc := range []struct {
		events, blockRows int
		newestRun         bool
	}{{1000, 128, true}, {3000, 64, true}, {60, 128, false}} {
		path, _ := writeTestSegment(t, t.TempDir(), testEvents(t, tc.events, 1), tc.blockRows)
		counts := checkSegmentOrder(t, readSegmentRows(t, path), tc.blockRows)
		if counts[0] == 0 || (counts[1] >= tc.blockRows) != tc.newestRun || (counts[1] > 0) != tc.newestRun || tc.newestRun && counts[2] == 0 {
			t.Fatalf("%d events in blocks of %d: %v rows flagged, newest, other", tc.events, tc.blockRows, counts)
		}
	}
}

func TestSegmentCorruptionDetected(t *testing.T) {
	events := testEvents(t, 300, 2)
	dir := t.TempDir()
	path, meta := writeTestSegment(t, dir, events, 64)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalSet(t, events)
	rng := rand.New(rand.NewPCG(3, 3))
	// Flip one byte at many positions: either open or read must fail with a CorruptError, or the
	// flip landed in bytes that do not affect any value (IPC padding) and the output is identical.
	// Never different rows.
	positions := []int{0, 6, len(orig) - 1, len(orig) - 10, len(orig) - 17}
	for _, c := range meta.Columns {
		positions = append(positions, int(c.Offset)+rng.IntN(int(c.Length)))
	}
	for i := 0; i < 60; i++ {
		positions = append(positions, rng.IntN(len(orig)))
	}
	for _, pos := range positions {
		bad := append([]byte(nil), orig...)
		bad[pos] ^= 1 << rng.IntN(8)
		p := filepath.Join(dir, "bad.seg")
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("flip at %d: open failed with a non-corruption error: %v", pos, err)
			}
			continue
		}
		got, err := exportSegment(t, seg)
		seg.Close()
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("flip at %d: read failed with a non-corruption error: %v", pos, err)
			}
			continue
		}
		gotSet := canonicalSet(t, got)
		for i := range want {
			if gotSet[i] != want[i] {
				t.Fatalf("flip at %d served different data without an error", pos)
			}
		}
	}
	// Truncation anywhere is detected at open.
	for _, n := range []int{0, 5, len(orig) / 2, len(orig) - 1} {
		p := filepath.Join(dir, "short.seg")
		os.WriteFile(p, orig[:n], 0o644)
		if _, err := OpenSegment(vfs.Default, p, SignIns, nil); err == nil {
			t.Fatalf("truncated to %d bytes: open succeeded", n)
		}
	}
}

func TestSegmentNewerVersionRefused(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), testEvents(t, 10, 4), 64)
	b, _ := os.ReadFile(path)
	b[6] = SegmentVersion + 1
	os.WriteFile(path, b, 0o644)
	_, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("want a version error, got %v", err)
	}
}

func FuzzSegmentFooter(f *testing.F) {
	m := &SegmentMeta{Tenant: "t", Day: 1, Rows: 10, BlockRows: 4, Columns: []ColumnMeta{{Name: "id", Kind: KindGUID, Offset: 8, Length: 10, CRC: 1}}}
	f.Add(m.marshal(nil), uint64(100))
	f.Add([]byte{1}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, size uint64) {
		meta, err := unmarshalSegmentMeta(b, size)
		if err != nil {
			return
		}
		// Whatever decodes must survive a re-encode unchanged.
		again, err := unmarshalSegmentMeta(meta.marshal(nil), size)
		if err != nil || !reflect.DeepEqual(meta, again) {
			t.Fatalf("re-encoded footer differs: %v", err)
		}
	})
}

// A segment's dictionary is the one its blocks carry, without decoding a block.
func TestSegmentDictionaryMatchesTheBlocks(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), testEvents(t, 500, 9), 128)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	checked := 0
	for _, c := range SignIns.Columns {
		d, err := seg.Dictionary(c.Index)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != KindDict && c.Kind != KindJSONDict {
			if d != nil {
				t.Fatalf("%s (%v) has a dictionary", c.Name, c.Kind)
			}
			continue
		}
		b, err := seg.Block(c.Index, seg.NumBlocks()-1)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			if d != nil {
				t.Fatalf("%s: dictionary for a column the segment does not store", c.Name)
			}
			continue
		}
		if !array.Equal(d, b.(*array.Dictionary).Dictionary()) {
			t.Fatalf("%s: dictionary differs from the block's", c.Name)
		}
		b.Release()
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d dictionary columns checked", checked)
	}
}

// TestSegmentOfSomeRowsKeepsTheirValuesOnly: a segment made from a few rows of a larger batch
// (what a flush does when versions or copies hide the rest) stores only the dictionary values
// those rows use. It used to carry the whole batch's dictionary, which broke the footer's
// "dictionary ≤ rows + 1" rule, so the flush could not read back what it wrote.
func TestSegmentOfSomeRowsKeepsTheirValuesOnly(t *testing.T) {
	u := decodeUnit(t, testEvents(t, 200, 5))
	defer u.Rec.Release()
	some := Take(SignIns, u.Rec, []int{3, 150})
	defer some.Release()
	m, err := Merge(SignIns, []Unit{RecordUnit{Schema: SignIns, Rec: some}}, 64)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "some.seg")
	meta, err := WriteSegment(vfs.Default, path, "tenant-a", 20395, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range meta.Columns {
		if c.DictLen > 3 {
			t.Errorf("column %s: dictionary of %d values for 2 rows", c.Name, c.DictLen)
		}
	}
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatalf("the segment cannot be read back: %v", err)
	}
	defer seg.Close()
	got, err := exportSegment(t, seg)
	if err != nil || len(got) != 2 {
		t.Fatalf("read back %d rows: %v", len(got), err)
	}
}

// openCountingReads opens the segment at path on a file system that counts its reads.
func openCountingReads(t *testing.T, path string) (*Segment, *atomic.Int64) {
	t.Helper()
	reads := new(atomic.Int64)
	fsys := vfs.Inject(vfs.Default, func(op vfs.Op) error {
		if op.Kind == vfs.OpRead {
			reads.Add(1)
		}
		return nil
	})
	seg, err := OpenSegment(fsys, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	return seg, reads
}

// TestAllNullColumnIsNotRead: a column null in every row of a segment reads as one the segment
// does not store (Block and Dictionary nil) without a byte of it read, while a column holding
// values is read and checked as before.
func TestAllNullColumnIsNotRead(t *testing.T) {
	path, meta := writeTestSegment(t, t.TempDir(), testEvents(t, 500, 9), 128)
	var allNull, stored *ColumnMeta
	for i := range meta.Columns {
		c := &meta.Columns[i]
		switch {
		case c.Nulls == uint64(meta.Rows) && c.Kind == KindDict && allNull == nil:
			allNull = c
		case c.Nulls == 0 && c.Kind == KindDict && stored == nil:
			stored = c
		}
	}
	if allNull == nil || stored == nil {
		t.Fatal("the test events have no all-null or no fully stored dictionary column")
	}
	seg, reads := openCountingReads(t, path)
	col := func(m *ColumnMeta) int { c, _ := SignIns.Lookup(m.Name); return c.Index }
	before := reads.Load()
	for b := 0; b < seg.NumBlocks(); b++ {
		a, err := seg.Block(col(allNull), b)
		if err != nil || a != nil {
			t.Fatalf("%s block %d: %v, %v; want nil", allNull.Name, b, a, err)
		}
	}
	if d, err := seg.Dictionary(col(allNull)); d != nil || err != nil {
		t.Fatalf("%s dictionary: %v, %v; want nil", allNull.Name, d, err)
	}
	if n := reads.Load() - before; n != 0 {
		t.Fatalf("reading the all-null column %s read the file %d times", allNull.Name, n)
	}
	a, err := seg.Block(col(stored), 0)
	if err != nil || a == nil || a.NullN() != 0 {
		t.Fatalf("%s block 0: %v, %v", stored.Name, a, err)
	}
	a.Release()
	if reads.Load() == before {
		t.Fatalf("reading %s read nothing: the counter does not see reads", stored.Name)
	}
}

// TestConstantColumnReadsNoFrames: a dictionary column with one value and no nulls in a segment
// reads from its dictionary alone, every row that value, without reading a block's frame.
func TestConstantColumnReadsNoFrames(t *testing.T) {
	path, meta := writeTestSegment(t, t.TempDir(), testEvents(t, 500, 9), 128)
	var constant *ColumnMeta
	for i := range meta.Columns {
		if c := &meta.Columns[i]; c.Kind == KindDict && c.DictLen == 1 && c.Nulls == 0 {
			constant = c
			break
		}
	}
	if constant == nil {
		t.Fatal("the test events have no constant dictionary column")
	}
	seg, reads := openCountingReads(t, path)
	c, _ := SignIns.Lookup(constant.Name)
	d, err := seg.Dictionary(c.Index)
	if err != nil || d == nil || d.Len() != 1 {
		t.Fatalf("%s dictionary: %v, %v", c.Name, d, err)
	}
	before := reads.Load()
	rows := 0
	for b := 0; b < seg.NumBlocks(); b++ {
		a, err := seg.Block(c.Index, b)
		if err != nil || a == nil {
			t.Fatalf("%s block %d: %v, %v", c.Name, b, a, err)
		}
		da := a.(*array.Dictionary)
		if da.Len() != seg.BlockLen(b) || da.NullN() != 0 {
			t.Fatalf("%s block %d: %d rows, %d null; want %d, 0", c.Name, b, da.Len(), da.NullN(), seg.BlockLen(b))
		}
		for r := 0; r < da.Len(); r++ {
			if v := da.Dictionary().(*array.String).Value(da.GetValueIndex(r)); v != d.Value(0) {
				t.Fatalf("%s block %d row %d: %q, want %q", c.Name, b, r, v, d.Value(0))
			}
		}
		rows += da.Len()
		a.Release()
	}
	if rows != meta.Rows {
		t.Fatalf("read %d rows of %d", rows, meta.Rows)
	}
	if n := reads.Load() - before; n != 0 {
		t.Fatalf("reading the constant column %s read the file %d times", c.Name, n)
	}
}
