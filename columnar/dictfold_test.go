package columnar

import (
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
	events := withUPNs(t, testEvents(t, 360, 3), func(i int) string { return names[i%len(names)] })
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
		got, err := seg.DictionaryFold(col.Index, lit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: fold lookup gives codes %v, EqualFold over the dictionary %v", lit, got, want)
		}
	}
	if got, _ := seg.DictionaryFold(col.Index, "kelvin@x.com"); len(got) != 2 {
		t.Errorf("kelvin@x.com matches %d entries; want 2 (the Kelvin sign folds to k)", len(got))
	}
}

// FuzzDictionaryFold: the range search of a sorted dictionary finds exactly the entries that
// strings.EqualFold finds comparing every one. The entries are the lines of entries, each also
// spelled with other members of its runes' case-folding orbits (chosen by the bytes of pick),
// so that matches are common; lit is a line's spelling too.
func FuzzDictionaryFold(f *testing.F) {
	f.Add("Ann@Contoso.com\nann@contoso.com\nbob", []byte{1, 2, 3}, 0)
	f.Add("kelvin \u212a\nKELVIN K", []byte{2, 2, 2}, 1)
	f.Add("\u03a3\u03c3\u03c2 \u017f \u00df \xff\n\u00c9lise\n", []byte{0, 1, 2, 3, 4}, 2)
	f.Fuzz(func(t *testing.T, entries string, pick []byte, which int) {
		respell := func(a string, seed int) string {
			var b strings.Builder
			for i, r := range a {
				n := seed
				if i < len(pick) {
					n += int(pick[i])
				}
				if r != utf8.RuneError {
					for range n % 4 {
						r = unicode.SimpleFold(r)
					}
				}
				b.WriteRune(r)
			}
			return b.String()
		}
		lines := strings.Split(entries, "\n")
		var vals []string
		for i, l := range lines {
			vals = append(vals, l, respell(l, i+1))
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		d := Dict{off: []int32{0}}
		for _, v := range vals {
			d.data = append(d.data, v...)
			d.off = append(d.off, int32(len(d.data)))
		}
		lit := respell(lines[max(which, -which)%len(lines)], which)
		if !utf8.ValidString(lit) || strings.ContainsRune(lit, utf8.RuneError) {
			return // DictionaryFold compares every entry then
		}
		var want []int32
		for i, v := range vals {
			if strings.EqualFold(v, lit) {
				want = append(want, int32(i))
			}
		}
		if got := foldSorted(d, lit); !slices.Equal(got, want) {
			t.Fatalf("%q in %q: range search finds %v, EqualFold %v", lit, vals, got, want)
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
