package columnar

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/authlake/authlake/internal/vfs"
)

// manyUsersSegment writes a segment of n events from n users (one dictionary page per 64 of
// them) in blocks of 64 rows, and returns it open with the UPN column's index.
func manyUsersSegment(t *testing.T, n int) (*Segment, string, int) {
	t.Helper()
	path := sharedSegment(t, fmt.Sprintf("many-users-%d", n), func(dir string) string {
		events := withUPNs(t, testEvents(t, n, 11), func(i int) string { return fmt.Sprintf("user%05d@contoso.com", i) })
		path, _ := writeTestSegment(t, dir, events, 64)
		return path
	})
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	upn, _ := SignIns.Lookup("userPrincipalName")
	return seg, path, upn.Index
}

// loadedPages counts the dictionary pages column idx has decoded, and the reads that fetched them.
func loadedPages(s *Segment, idx int) (loaded, all, reads int) {
	d := s.cols[idx].pages
	for i := range d.pages {
		if d.pages[i].Load() != nil {
			loaded++
		}
	}
	return loaded, len(d.pages), int(d.reads.Load())
}

// TestBlockBatchReadsOnlyTheDictionaryPagesItShows: a row of a block shows its users' values
// from one read of the dictionary's pages (a window of dictReadPages), not the whole dictionary
// (versions up to 5 decoded every value of every dictionary a block used), and the values are
// those of the whole dictionary.
func TestBlockBatchReadsOnlyTheDictionaryPagesItShows(t *testing.T) {
	seg, _, upn := manyUsersSegment(t, 5000)
	if c := seg.cols[upn]; c.ver != SegmentVersion || c.meta.DictLen != 5000 {
		t.Fatalf("version %d, %d UPNs", c.ver, c.meta.DictLen)
	}
	all := allColumns()
	batch, release, err := seg.BlockBatch(7, all)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var enc Encoder
	if _, err := enc.AppendJSON(nil, batch, 3, nil); err != nil {
		t.Fatal(err)
	}
	if loaded, n, reads := loadedPages(seg, upn); reads != 1 || loaded > dictReadPages || n != 79 {
		t.Fatalf("one row read %d of the UPN dictionary's %d pages in %d reads, want one read of at most %d of 79", loaded, n, reads, dictReadPages)
	}
	full, err := seg.Block(upn, 7) // carries the whole dictionary
	if err != nil {
		t.Fatal(err)
	}
	defer full.Release()
	fb := NewEmptyBatch(SignIns, full.Len())
	if err := fb.SetColumn(upn, full); err != nil {
		t.Fatal(err)
	}
	for r := range batch.Rows {
		if got, want := string(batch.Bytes(upn, r)), string(fb.Bytes(upn, r)); got != want {
			t.Fatalf("row %d: %q from pages, %q from the whole dictionary", r, got, want)
		}
	}
	if err := batch.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestDictionaryBinarySearchReadsFewPages: an equality lookup in a sorted segment dictionary
// reads the pages a binary search visits (in their windows).
func TestDictionaryBinarySearchReadsFewPages(t *testing.T) {
	seg, _, upn := manyUsersSegment(t, 5000)
	d, ok, err := seg.Dict(upn)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := "user01234@contoso.com"
	i := sort.Search(d.Len(), func(i int) bool { return string(d.Value(int32(i))) >= want })
	if i >= d.Len() || string(d.Value(int32(i))) != want {
		t.Fatalf("%s not found (at %d)", want, i)
	}
	if loaded, n, reads := loadedPages(seg, upn); reads > 4 || loaded >= n {
		t.Fatalf("a binary search read %d of %d pages in %d reads", loaded, n, reads)
	}
}

// TestCorruptDictionaryPageFails: a bit flipped in one dictionary page fails, with a
// CorruptError, the first read of a value in that page (and the column's reads after it, as a
// corrupt dictionary frame did), while rows read before it from other pages were served with
// their values.
func TestCorruptDictionaryPageFails(t *testing.T) {
	seg, path, upn := manyUsersSegment(t, 2000)
	if _, _, err := seg.Dict(upn); err != nil {
		t.Fatal(err)
	}
	c := seg.cols[upn]
	nb := seg.NumBlocks()
	bad := c.refs[1+nb+5] // page 5: codes 320–383
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[bad.off+bad.len/2] ^= 0x10
	p := filepath.Join(t.TempDir(), "bad.seg")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSegment(vfs.Default, p, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	all := allColumns()
	var enc Encoder
	served := 0
	for b := range nb {
		batch, release, err := s2.BlockBatch(b, all)
		if err != nil {
			t.Fatal(err)
		}
		for r := range batch.Rows {
			code := batch.Code(upn, r)
			js, err := enc.AppendJSON(nil, batch, r, nil)
			if code/DictPageValues == 5 {
				var ce *CorruptError
				if !errors.As(err, &ce) || !errors.As(batch.Err(), &ce) {
					t.Fatalf("block %d row %d (code %d, in the bad page): %v, batch: %v", b, r, code, err, batch.Err())
				}
				if served == 0 {
					t.Fatal("no row was served before the bad page")
				}
				release()
				return
			}
			if err != nil {
				t.Fatalf("block %d row %d (code %d): %v", b, r, code, err)
			}
			var m struct{ UserPrincipalName string }
			json.Unmarshal(js, &m)
			if want := fmt.Sprintf("user%05d@contoso.com", 0); len(m.UserPrincipalName) != len(want) {
				t.Fatalf("block %d row %d: UPN %q", b, r, m.UserPrincipalName)
			}
			served++
		}
		release()
	}
	t.Fatal("no row's value is in the bad page")
}

// TestScatteredReadsReadTheDictionaryWhole: a query that needs values from across a dictionary
// reads dictReadPages-page windows until dictWindowsBeforeWhole of them, then the rest in one
// read; every value is the whole dictionary's.
func TestScatteredReadsReadTheDictionaryWhole(t *testing.T) {
	seg, upn, d, whole := manyUsersDict(t)
	seg.cols[upn].pages.reads.Store(0) // Dictionary read it page by page: count what follows
	if loaded, _, _ := loadedPages(seg, upn); loaded != 0 {
		t.Fatalf("Dictionary kept %d pages", loaded)
	}
	for code := int32(0); code < int32(d.Len()); code += DictPageValues / 2 {
		if got, want := string(d.Value(code)), whole.Value(int(code)); got != want {
			t.Fatalf("code %d: %q from pages, %q in the dictionary", code, got, want)
		}
	}
	if _, n, reads := loadedPages(seg, upn); n <= dictReadPages*dictWindowsBeforeWhole || reads != dictWindowsBeforeWhole+1 {
		t.Fatalf("%d pages read in %d reads, want %d", n, reads, dictWindowsBeforeWhole+1)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}

// manyUsersDict is manyUsersSegment of 10,000 users with the UPN column's dictionary as pages
// (none read yet) and whole.
func manyUsersDict(t *testing.T) (seg *Segment, upn int, d Dict, whole *array.String) {
	t.Helper()
	seg, _, upn = manyUsersSegment(t, 10000)
	d, ok, err := seg.Dict(upn)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if whole, err = seg.Dictionary(upn); err != nil {
		t.Fatal(err)
	}
	return seg, upn, d, whole
}

// withUPNs sets event i's userPrincipalName to upn(i).
func withUPNs(t *testing.T, events []string, upn func(i int) string) []string {
	return withProperty(t, events, "userPrincipalName", upn)
}

// withProperty sets property name of event i to value(i), in place. The events are compact
// JSON, as encoding/json writes a map: the value is replaced where it stands, encoded as
// encoding/json would, the bytes withPropertyMap's decoding and encoding give
// (TestWithPropertyIsItsMap), without decoding and encoding each whole event.
func withProperty(t testing.TB, events []string, name string, value func(i int) string) []string {
	t.Helper()
	for i, e := range events {
		v, err := json.Marshal(value(i))
		if err != nil {
			t.Fatal(err)
		}
		vs, ve, ok := topLevelValue([]byte(e), name)
		if !ok {
			withPropertyMap(t, events[i:i+1], name, func(int) string { return value(i) })
			continue
		}
		events[i] = e[:vs] + string(v) + e[ve:]
	}
	return events
}

// topLevelValue finds the value of top-level member name in e, a compact JSON object: e[vs:ve].
func topLevelValue(e []byte, name string) (vs, ve int, ok bool) {
	if len(e) < 2 || e[0] != '{' || e[1] == '}' {
		return 0, 0, false
	}
	for i := 1; ; {
		ke, ok := rawStringEnd(e, i)
		if !ok || ke >= len(e) || e[ke] != ':' {
			return 0, 0, false
		}
		vs := ke + 1
		ve, ok := compactValueEnd(e, vs, 2)
		if !ok || ve >= len(e) {
			return 0, 0, false
		}
		if string(e[i:ke]) == `"`+name+`"` {
			return vs, ve, true
		}
		if e[ve] != ',' {
			return 0, 0, false
		}
		i = ve + 1
	}
}

// withPropertyMap is withProperty through a map: the definition.
func withPropertyMap(t testing.TB, events []string, name string, value func(i int) string) []string {
	t.Helper()
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		m[name] = value(i)
		b, _ := json.Marshal(m)
		events[i] = string(b)
	}
	return events
}

// TestWithPropertyIsItsMap: setting a property where it stands gives the bytes of the map
// encoding, for a property every event has, one some lack, and values that need escaping.
func TestWithPropertyIsItsMap(t *testing.T) {
	values := []string{"user00001@contoso.com", `a"b\c`, "<&>", "é", ""}
	for _, name := range []string{"userPrincipalName", "signInIdentifier", "riskState", "x-vendor", "zzz"} {
		value := func(i int) string { return values[i%len(values)] }
		got := withProperty(t, testEvents(t, 200, 2), name, value)
		want := withPropertyMap(t, testEvents(t, 200, 2), name, value)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s, event %d:\n got %s\nwant %s", name, i, got[i], want[i])
			}
		}
	}
}

// allColumns is every column index of SignIns, the extras column included.
func allColumns() []int {
	all := make([]int, SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	return all
}

// TestConcurrentPagesFromTheWholeDictionary: once a dictionary is read whole, pages are decoded
// without its lock; readers racing for the same pages all get the dictionary's values, each page
// is kept once (its bytes counted once), and under -race nothing is shared unsafely.
func TestConcurrentPagesFromTheWholeDictionary(t *testing.T) {
	seg, upn, d, whole := manyUsersDict(t)
	before := seg.DictionaryBytes()
	// Past the windows read one at a time, so that what follows reads from the whole.
	for w := range dictWindowsBeforeWhole + 1 {
		d.Value(int32(w * dictReadPages * DictPageValues))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 4000 {
				code := int32(rng.IntN(d.Len()))
				if got, want := string(d.Value(code)), whole.Value(int(code)); got != want {
					t.Errorf("code %d: %q, want %q", code, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	var kept int64
	for i := range seg.cols[upn].pages.pages {
		if p := seg.cols[upn].pages.pages[i].Load(); p != nil {
			kept += ArrayBytes(p.arr.Data())
		}
	}
	if got := seg.DictionaryBytes() - before; got != kept {
		t.Fatalf("dictionary bytes grew by %d for %d bytes of pages kept", got, kept)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}
