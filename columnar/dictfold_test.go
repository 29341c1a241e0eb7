package columnar

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/authlake/authlake/internal/vfs"
)

// DictionaryFold finds exactly the entries strings.EqualFold finds by comparing every one:
// ASCII case, the Kelvin sign and the long s (which fold to ASCII letters), other scripts,
// U+FFFD, the empty string, and literals no entry matches.
func TestDictionaryFoldIsEqualFold(t *testing.T) {
	names := []string{"Ann@x.com", "ann@x.com", "ANN@X.COM", "kelvin@x.com", "\u212aelvin@x.com",
		"\u017fam@x.com", "sam@x.com", "SAM@X.COM", "stra\u00dfe@x.com", "STRA\u1e9eE@x.com",
		"\u00e9lise@x.com", "\u00c9LISE@x.com", "\ufffd@x.com", "", "a", "b", "\u03a3\u03c3\u03c2@x.gr", "\u03c3\u03a3\u03a3@X.GR"}
	events := testEvents(t, 360, 3)
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		m["userPrincipalName"] = names[i%len(names)]
		b, _ := json.Marshal(m)
		events[i] = string(b)
	}
	path, _ := writeTestSegment(t, t.TempDir(), events, 64)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	col, _ := SignIns.Lookup("userPrincipalName")
	d, err := seg.Dictionary(col.Index)
	if err != nil || d == nil || d.Len() != len(names) {
		t.Fatalf("dictionary of %v entries (%v); want %d", d, err, len(names))
	}
	lits := append(slices.Clone(names), "ANN@x.COM", "KELVIN@X.COM", "nobody@x.com", "\ufffd@X.COM", "Ann@x.co", "A")
	for _, lit := range lits {
		var want []int32
		for i := range d.Len() {
			if strings.EqualFold(d.Value(i), lit) {
				want = append(want, int32(i))
			}
		}
		// A segment's first lookup of a column compares entries, later ones use the table:
		// a freshly opened segment checks both.
		fresh, err := OpenSegment(vfs.Default, path, SignIns, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"first lookup", "table"} {
			got, err := fresh.DictionaryFold(col.Index, lit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q (%s): fold lookup gives codes %v, EqualFold over the dictionary %v", lit, how, got, want)
			}
		}
		fresh.Close()
	}
	if got, _ := seg.DictionaryFold(col.Index, "kelvin@x.com"); len(got) != 2 {
		t.Errorf("kelvin@x.com matches %d entries; want 2 (the Kelvin sign folds to k)", len(got))
	}
}

// FuzzFoldHash: strings that are strings.EqualFold hash alike. b is a spelled with other
// members of each rune's case-folding orbit, chosen by the bytes of pick.
func FuzzFoldHash(f *testing.F) {
	f.Add("Ann@Contoso.com", []byte{1, 2, 3})
	f.Add("kelvin \u212a", []byte{2, 2, 2})
	f.Add("\u03a3\u03c3\u03c2 \u017f \u00df \xff", []byte{0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, a string, pick []byte) {
		var b strings.Builder
		for i, r := range []rune(a) {
			if r == utf8.RuneError {
				b.WriteRune(r)
				continue
			}
			n := 0
			if i < len(pick) {
				n = int(pick[i])
			}
			for range n % 4 {
				r = unicode.SimpleFold(r)
			}
			b.WriteRune(r)
		}
		if !strings.EqualFold(a, b.String()) {
			return // a held invalid UTF-8 that []rune read differently
		}
		if foldHash(a) != foldHash(b.String()) {
			t.Fatalf("%q and %q are EqualFold but hash %x and %x", a, b.String(), foldHash(a), foldHash(b.String()))
		}
	})
}

// EqualFold is strings.EqualFold, ASCII literals taking a short cut.
func TestEqualFold(t *testing.T) {
	for _, c := range [][2]string{
		{"Hiro.Moreau28@contoso.com", "hiro.moreau28@CONTOSO.com"}, {"a@b", "a@c"}, {"", ""}, {"a", ""},
		{"\u212a", "k"}, {"\u212aelvin", "KELVIN"}, {"\u017fam", "SAM"}, {"é", "É"}, {"@", "`"}, {"[", "{"}, {"abc", "ab"},
	} {
		checkEqualFold(t, []byte(c[0]), c[1])
		checkEqualFold(t, []byte(c[1]), c[0])
	}
}

func checkEqualFold(t *testing.T, e []byte, lit string) {
	t.Helper()
	if got, want := EqualFold(e, lit, IsASCII(lit)), strings.EqualFold(string(e), lit); got != want {
		t.Fatalf("EqualFold(%q, %q) = %v, strings.EqualFold says %v", e, lit, got, want)
	}
}

func FuzzEqualFold(f *testing.F) {
	f.Add([]byte("\u212aelvin"), "kelvin")
	f.Add([]byte("User@Contoso.com"), "user@contoso.COM")
	f.Fuzz(func(t *testing.T, e []byte, lit string) { checkEqualFold(t, e, lit) })
}

func TestIsASCII(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "abcdefg\u00e9", "\u00e9abcdefgh", "abcdefgh\x80", "hiro.moreau28@contoso.com"} {
		want := true
		for _, r := range []byte(s) {
			if r >= 0x80 {
				want = false
			}
		}
		if got := IsASCII(s); got != want {
			t.Errorf("IsASCII(%q) = %v", s, got)
		}
	}
}
