package query

import (
	"strings"
	"testing"
)

// equalFold is strings.EqualFold, ASCII literals taking a short cut.
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
	if got, want := equalFold(e, lit, isASCII(lit)), strings.EqualFold(string(e), lit); got != want {
		t.Fatalf("equalFold(%q, %q) = %v, strings.EqualFold says %v", e, lit, got, want)
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
		if got := isASCII(s); got != want {
			t.Errorf("isASCII(%q) = %v", s, got)
		}
	}
}
