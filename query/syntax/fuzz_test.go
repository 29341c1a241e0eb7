package syntax

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics, that every error is positioned
// inside the input, and that accepted inputs satisfy the normalization
// round trip: Parse(String(Parse(s))) prints identically.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"flaggedforReview eq true and createdDateTime ge 2021-10-01 and userPrincipalname eq 'user@contoso.com'",
		"signInEventTypes/any(t: t eq 'interactiveUser') or not (a eq -5)",
		"x in (1,2,-3) eq true", "-x mul y add -(5) sub --INF", "x eq duration'P1DT2H' and y eq 07:59:59.999",
		"x has Ns.E'a,b' and g eq DE8BC8B5-D9F9-48B1-A8AD-B748DA725064", "[\"a\",{\"k\":[1,'x']}] eq y",
		"case(a:1,true:2) eq cast(x,Edm.Int32)", "Products/Model.Fn(p=@a)/all(v:v/x eq 2021-10-01T12:00:00.5+02:00)",
		"'o''brien' eq substring(x,1,2)", "a eq 'unterminated", "startwith(a,'b')", "((((a))))", "x in []",
	} {
		f.Add(s)
	}
	// The conformance inputs are a good corpus too.
	if b, err := os.ReadFile("testdata/cases/conformance_filter"); err == nil {
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "filter") && i+1 < len(lines) {
				f.Add(lines[i+1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			se, ok := err.(*Error)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if se.Pos.Offset < 0 || se.Pos.Offset > len(s) || se.Pos.Line < 1 || se.Pos.Column < 1 {
				t.Fatalf("error position %+v outside input of length %d", se.Pos, len(s))
			}
			return
		}
		n1 := String(e)
		e2, err := ParseFilter(n1)
		if err != nil {
			t.Fatalf("normalized %q of %q does not parse: %v", n1, s, err)
		}
		if n2 := String(e2); n2 != n1 {
			t.Fatalf("normalization not stable for %q: %q -> %q", s, n1, n2)
		}
	})
}

// FuzzParseApply checks the same properties for $apply and $orderby.
func FuzzParseApply(f *testing.F) {
	for _, s := range []string{
		"filter(a eq 1)/groupby((a,b/c),aggregate($count as n,x with sum as s))/orderby(n desc)/top(5)",
		"compute(year(d) as y)/skip(2)", "aggregate(x with Custom.f as z)", "a desc,b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseApply(s); err == nil {
			n := a.String()
			a2, err := ParseApply(n)
			if err != nil || a2.String() != n {
				t.Fatalf("apply round trip of %q via %q failed: %v", s, n, err)
			}
		} else if _, ok := err.(*Error); !ok {
			t.Fatalf("error of type %T", err)
		}
		if items, err := ParseOrderBy(s); err == nil {
			n := OrderByString(items)
			again, err := ParseOrderBy(n)
			if err != nil || OrderByString(again) != n {
				t.Fatalf("orderby round trip of %q via %q failed: %v", s, n, err)
			}
		}
	})
}

// FuzzShape: Shape reads any text without panicking, a shape is its own shape, and replacing
// one string literal of the input by another leaves the shape as it was.
func FuzzShape(f *testing.F) {
	for _, s := range []string{
		"userPrincipalName eq 'ann@contoso.com'",
		"createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode eq 50126",
		"appDisplayName eq 'O''Brien''s app' or id eq 'a'",
		"'unterminated", "x eq 1.5e3 and y in ('a','b')", "x eq duration'PT1H'", `["a",'b'] eq y`, "",
		// Literals whose stand-ins once read as one token with a neighbour (a review found them).
		"1.5.5", "x eq 2026-01-01.5", "12:30e5", "2026-01-01e5", "1e5e5", "a+1'x'", "1+2",
	} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, s, lit string) {
		once := Shape(s)
		if again := Shape(once); again != once {
			t.Fatalf("the shape of %q is %q, whose shape is %q", s, once, again)
		}
		l, err := lexDef.LexString("", s)
		if err != nil {
			t.Fatal(err)
		}
		for {
			tok, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			if tok.EOF() {
				return
			}
			if tok.Type != tokString {
				continue
			}
			at := tok.Pos.Offset
			other := s[:at] + "'" + strings.ReplaceAll(lit, "'", "''") + "'" + s[at+len(tok.Value):]
			if got := Shape(other); got != once {
				t.Fatalf("%q and %q differ only in a string literal, but their shapes are %q and %q", s, other, once, got)
			}
			return
		}
	})
}
