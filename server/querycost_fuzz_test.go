package server

import (
	"strings"
	"testing"
)

// FuzzFilterShape: filterShape reads any text (it lexes a filter only to take its literals
// out, before the filter is parsed): it never panics, a shape is its own shape, and two
// filters that differ only inside one quoted literal have one shape.
//
//	go test -run XXX -fuzz FuzzFilterShape ./server
func FuzzFilterShape(f *testing.F) {
	for _, s := range []string{
		"userPrincipalName eq 'ann@contoso.com'",
		"createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode eq 50126",
		"appDisplayName eq 'O''Brien''s app' or id eq 'a'",
		"'unterminated",
		"x eq 1.5e3 and y in ('a','b')",
		"",
	} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, filter, lit string) {
		shape := func(s string) string {
			var b strings.Builder
			filterShape(&b, s)
			return b.String()
		}
		once := shape(filter)
		if again := shape(once); again != once {
			t.Fatalf("the shape of %q is %q, whose shape is %q", filter, once, again)
		}
		// Put lit, quoted, in place of the first complete quoted literal of filter.
		i := strings.IndexByte(filter, '\'')
		if i < 0 {
			return
		}
		j := i + 1
		for j < len(filter) {
			if filter[j] == '\'' {
				if j+1 < len(filter) && filter[j+1] == '\'' {
					j += 2
					continue
				}
				break
			}
			j++
		}
		if j >= len(filter) {
			return // unterminated: nothing after it to keep
		}
		other := filter[:i] + "'" + strings.ReplaceAll(lit, "'", "''") + "'" + filter[j+1:]
		if shape(other) != once {
			t.Fatalf("%q and %q differ only in a literal, but their shapes are %q and %q", filter, other, once, shape(other))
		}
	})
}
