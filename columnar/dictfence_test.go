package columnar

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// mixedCaseUsers writes a segment of 12,000 events from as many users (12,000 dictionary values,
// 188 pages), most spelled in lower case, one in a hundred as User… and one as USER…, and
// returns its path: one file shared by the tests, read-only.
func mixedCaseUsers(t *testing.T) string {
	t.Helper()
	return sharedSegment(t, "mixed-case-users", func(dir string) string {
		path, _ := writeTestSegment(t, dir, mixedCaseEvents(t), 1024)
		return path
	})
}

func mixedCaseEvents(t *testing.T) []string {
	return withUPNs(t, testEvents(t, 12000, 5), func(i int) string {
		upn := fmt.Sprintf("user%05d@contoso.com", i)
		switch i % 100 {
		case 0:
			return "U" + upn[1:]
		case 1:
			return strings.ToUpper(upn)
		}
		return upn
	})
}

// openUPN opens the segment at path and returns it (closed at cleanup) with the UPN column.
func openUPN(t *testing.T, path string) (*Segment, int) {
	t.Helper()
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	upn, _ := SignIns.Lookup("userPrincipalName")
	return seg, upn.Index
}

// TestFencedLookupsReadTheirPages: with page fences, an equality search reads one page (the
// fences come with the frame table), and a case-insensitive lookup the windows its spellings'
// ranges end in,
// never the whole dictionary, where the same lookups in the version-8 file (no fences) read a
// window per step of each binary search and then the whole dictionary. Both find exactly what
// comparing every value finds.
func TestFencedLookupsReadTheirPages(t *testing.T) {
	path := mixedCaseUsers(t)
	v8 := filepath.Join(t.TempDir(), "v8.seg")
	rewriteSegment(t, path, v8, 8, func(_ *ColumnMeta, j, _ int, f []byte) []byte {
		if j == 0 {
			return nil
		}
		return f
	})
	seg, upn := openUPN(t, path)
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	if whole.Len() != 12000 {
		t.Fatalf("%d UPNs, want 12,000", whole.Len())
	}
	var reads, reads8 [2]int
	wholes8 := 0
	lits := []string{"user01234@contoso.com", "USER00000@CONTOSO.COM", "uSeR03901@contoso.com", "user11999@contoso.com", "user12000@contoso.com", "nobody@contoso.com", "a", "zzz"}
	for _, lit := range lits {
		var want []int32
		for i := range whole.Len() {
			if strings.EqualFold(whole.Value(i), lit) {
				want = append(want, int32(i))
			}
		}
		exact := sort.SearchStrings(slices.Collect(func(yield func(string) bool) {
			for i := range whole.Len() {
				if !yield(whole.Value(i)) {
					return
				}
			}
		}), lit)
		for v, p := range []string{path, v8} {
			s, _ := openUPN(t, p)
			got, err := s.DictionaryFold(upn, lit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q (file %d): codes %v, EqualFold over the dictionary %v", lit, v, got, want)
			}
			n := int(s.cols[upn].pages.reads.Load())
			whole := s.cols[upn].pages.whole.Load() != nil
			s2, _ := openUPN(t, p)
			d, _, err := s2.Dict(upn)
			if err != nil {
				t.Fatal(err)
			}
			if i := d.Search(0, d.Len(), func(v []byte) bool { return string(v) >= lit }); i != exact {
				t.Fatalf("%q (file %d): search gives %d, want %d", lit, v, i, exact)
			}
			m := int(s2.cols[upn].pages.reads.Load())
			if v == 0 {
				reads[0], reads[1] = max(reads[0], n), max(reads[1], m)
				if whole || m > 1 {
					t.Errorf("%q: a fold lookup read the dictionary whole (%t, %d reads), a search made %d reads; want not, and at most 1", lit, whole, n, m)
				}
			} else {
				reads8[0], reads8[1] = max(reads8[0], n), max(reads8[1], m)
				if whole {
					wholes8++
				}
			}
		}
	}
	t.Logf("12,000 values, 188 pages: at most %d reads a fold lookup and %d a search with fences; %d and %d without (%d lookups read it whole)", reads[0], reads[1], reads8[0], reads8[1], wholes8)
	if wholes8 == 0 || reads8[1] <= reads[1] {
		t.Errorf("without fences no lookup read the dictionary whole and searches made at most %d reads: the test no longer shows what fences save", reads8[1])
	}
}

// TestFencedSearchIsSortSearch: Dict.Search over any range, with any monotone predicate, gives
// what sort.Search over the whole dictionary's values gives.
func TestFencedSearchIsSortSearch(t *testing.T) {
	seg, upn := openUPN(t, mixedCaseUsers(t))
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := seg.Dict(upn)
	if err != nil {
		t.Fatal(err)
	}
	if d.seg.fenceValues() == nil {
		t.Fatal("no fences")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	n := whole.Len()
	for range 3000 {
		lo := rng.IntN(n + 1)
		hi := lo + rng.IntN(n+1-lo)
		key := whole.Value(rng.IntN(n))
		switch rng.IntN(3) {
		case 0:
			key = key[:rng.IntN(len(key)+1)] // a prefix
		case 1:
			key += "\x00" // just after a value
		}
		preds := []func(v []byte) bool{
			func(v []byte) bool { return string(v) >= key },
			func(v []byte) bool { return string(v) > key },
			func(v []byte) bool { return string(v) >= key && !strings.HasPrefix(string(v), key) },
		}
		for k, pred := range preds {
			want := lo + sort.Search(hi-lo, func(i int) bool { return pred([]byte(whole.Value(lo + i))) })
			if got := d.Search(lo, hi, pred); got != want {
				t.Fatalf("search [%d, %d) for %q (predicate %d): %d, want %d", lo, hi, key, k, got, want)
			}
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestFencesThatDisagreeFail: fences that are not ascending fail the first search with a
// CorruptError (which still answers, page by page), and a fence that is not its page's first
// value fails the first read of that page.
func TestFencesThatDisagreeFail(t *testing.T) {
	path := mixedCaseUsers(t)
	seg, upn := openUPN(t, path)
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	const page = 5
	for _, tc := range []struct {
		name   string
		fences func(f []string)
		want   string
	}{
		{"swapped", func(f []string) { f[page], f[page+1] = f[page+1], f[page] }, "fence 6 is not above fence 5"},
		{"shifted", func(f []string) { f[page] = whole.Value(page*DictPageValues + 1) }, "dictionary page 5 begins with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.seg")
			rewriteSegment(t, path, bad, SegmentVersion, func(c *ColumnMeta, j, _ int, f []byte) []byte {
				if j != 0 || c.Name != "userPrincipalName" {
					return f
				}
				var fences []string
				for lo := 0; lo < whole.Len(); lo += DictPageValues {
					fences = append(fences, whole.Value(lo))
				}
				tc.fences(fences)
				b := array.NewStringBuilder(memory.DefaultAllocator)
				defer b.Release()
				b.AppendValues(fences, nil)
				a := b.NewStringArray()
				defer a.Release()
				out, err := encodeFrameV4(KindText, a, 0, encodeTraits{guidPage: true}, false)
				if err != nil {
					t.Fatal(err)
				}
				return out
			})
			s, _ := openUPN(t, bad)
			d, _, err := s.Dict(upn)
			if err != nil {
				t.Fatal(err)
			}
			lit := whole.Value(page*DictPageValues + 10)
			i := d.Search(0, d.Len(), func(v []byte) bool { return string(v) >= lit })
			if tc.name == "swapped" && i != page*DictPageValues+10 {
				t.Errorf("search without usable fences found %d, want %d", i, page*DictPageValues+10)
			}
			var ce *CorruptError
			if err := d.Err(); !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a CorruptError saying %q", err, tc.want)
			}
		})
	}
}

// TestFencesAreEachPagesFirstValue: the fences frame the writer stores holds each page's first
// value, and a one-page dictionary has none.
func TestFencesAreEachPagesFirstValue(t *testing.T) {
	seg, upn := openUPN(t, mixedCaseUsers(t))
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	d, _, _ := seg.Dict(upn)
	f := d.seg.fenceValues()
	if f == nil || len(f.off)-1 != dictPages(uint64(whole.Len())) {
		t.Fatalf("fences %v for %d values", f, whole.Len())
	}
	for k := range len(f.off) - 1 {
		if !bytes.Equal(f.value(k), []byte(whole.Value(k*DictPageValues))) {
			t.Fatalf("fence %d is %q, page %d begins with %q", k, f.value(k), k, whole.Value(k*DictPageValues))
		}
	}
	for _, c := range seg.cols {
		if c != nil && c.isDict() && c.meta.DictLen <= DictPageValues && c.refs != nil && c.refs[0].len != 0 {
			t.Errorf("column %s of %d values has a fences frame of %d bytes", c.meta.Name, c.meta.DictLen, c.refs[0].len)
		}
	}
}

// TestFencedFoldIsEqualFold: over a dictionary with fences, case-insensitive lookups of values
// respelled at random (any letter's case, the Kelvin sign for k, cut short, one letter off) find
// exactly the values strings.EqualFold finds comparing every one.
func TestFencedFoldIsEqualFold(t *testing.T) {
	seg, upn := openUPN(t, mixedCaseUsers(t))
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for range 400 {
		b := []rune(whole.Value(rng.IntN(whole.Len())))
		for i, r := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = unicode.ToUpper(r)
			case 1:
				b[i] = unicode.ToLower(r)
			}
			if unicode.ToLower(r) == 'k' && rng.IntN(2) == 0 {
				b[i] = '\u212a'
			}
		}
		switch rng.IntN(4) {
		case 0:
			b = b[:rng.IntN(len(b)+1)]
		case 1:
			b[rng.IntN(len(b))]++
		}
		lit := string(b)
		var want []int32
		for i := range whole.Len() {
			if strings.EqualFold(whole.Value(i), lit) {
				want = append(want, int32(i))
			}
		}
		got, err := seg.DictionaryFold(upn, lit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: codes %v, EqualFold over the dictionary %v", lit, got, want)
		}
	}
}

// TestFencesReadApart: fences that did not come with the frame table (more than the bytes read
// after it) are read on their own, and searches give the same answers.
func TestFencesReadApart(t *testing.T) {
	seg, upn := openUPN(t, mixedCaseUsers(t))
	whole, err := seg.Dictionary(upn)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := openUPN(t, seg.Path)
	d, _, err := s2.Dict(upn)
	if err != nil {
		t.Fatal(err)
	}
	c := s2.cols[upn]
	if c.ahead == nil {
		t.Fatal("the fences did not come with the frame table")
	}
	c.ahead = nil // as if they were larger than fenceAheadBytes
	lit := whole.Value(4321)
	if i := d.Search(0, d.Len(), func(v []byte) bool { return string(v) >= lit }); i != 4321 {
		t.Fatalf("search gives %d, want 4321", i)
	}
	if n := c.pages.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2 (the fences, then the page)", n)
	}
}
