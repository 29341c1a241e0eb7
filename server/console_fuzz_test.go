package server

import (
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authlake/authlake/query/syntax"
)

// FuzzConsoleFilter: whatever a user types into the sign-in filters, the $filter the console
// builds parses, has one term per filter given (nothing typed can add, drop or reshape a term:
// no injection), and carries each typed value intact as a string literal.
func FuzzConsoleFilter(f *testing.F) {
	f.Add("ana@contoso.com", "10.0.0.1", "Browser", "c-1")
	f.Add("o'brien@contoso.com", "' or 1 eq 1 or '", "x') or (true", "')")
	f.Add("a@b", "", "", "")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, user, ip, clientApp, correlation string) {
		form := signInForm{Tab: "interactive", Range: "all", User: "u@" + user, IP: ip, ClientApp: clientApp, CorrelationID: correlation}
		filter, err := form.filter(now)
		if err != nil {
			t.Fatalf("filter: %v", err)
		}
		// The form's terms come in the order the form lists its fields.
		var want []string
		for _, v := range []string{correlation, form.User, ip, clientApp} {
			if v != "" {
				want = append(want, v)
			}
		}
		e, err := syntax.ParseFilter(filter)
		if err != nil {
			// The parser refuses text that is not UTF-8 and filters over its size limit: the
			// console then shows that error, it does not run something else.
			if !utf8.ValidString(filter) || len(filter) > 64<<10 {
				return
			}
			t.Fatalf("the console built a $filter that does not parse: %v\n%s", err, filter)
		}
		var terms []syntax.Expr
		var flatten func(syntax.Expr)
		flatten = func(x syntax.Expr) {
			if b, ok := x.(*syntax.BinaryExpr); ok && b.Op == syntax.OpAnd {
				flatten(b.Left)
				flatten(b.Right)
				return
			}
			terms = append(terms, x)
		}
		flatten(e)
		if len(terms) != 1+len(want) { // the tab's event type, then one term per value
			t.Fatalf("%d terms for %d values: %s", len(terms), len(want), filter)
		}
		var got []string
		for _, x := range terms[1:] {
			b, ok := x.(*syntax.BinaryExpr)
			lit, isLit := b.Right.(*syntax.Literal)
			if !ok || b.Op != syntax.OpEq || !isLit || lit.Kind != syntax.LitString {
				t.Fatalf("term %s is not a comparison with a string: %s", syntax.String(x), filter)
			}
			got = append(got, lit.Str)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("values %q came out as %q: %s", want, got, filter)
		}
	})
}
