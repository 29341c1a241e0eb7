package query_test

import (
	"context"
	"slices"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// FuzzCompile: Compile never panics, an accepted filter compiles again from its
// normalized text, and it runs over a small engine DB (segments and memtable) with the
// same answer with and without indexes.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"flaggedforReview eq true and userPrincipalname eq 'user@contoso.com'",
		"signInEventTypes/any(t: t ne 'interactiveUser')",
		"appliedConditionalAccessPolicies/any(p: p/result eq 'failure' and p/enforcedGrantControls/all(c: c ne 'Block'))",
		"status/errorCode add 1 mod 3 eq -2 or not (location/geoCoordinates/latitude gt 1.5e1)",
		"createdDateTime ge 2021-10-01 and year(createdDateTime) eq 2021",
		"matchesPattern(appDisplayName,'^A.*') and substring(userDisplayName, 1, 2) eq 'ab'",
		"riskState in ('atRisk', microsoft.graph.riskState'none', null)",
		"mfaDetail/authMethod eq 'x' and id eq 3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00",
	} {
		f.Add(s)
	}
	fix := getFixture(f, 300, 64, 11)
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := query.Compile(columnar.SignIns, s, query.Options{})
		if err != nil {
			if _, ok := err.(*query.Error); !ok {
				t.Fatalf("Compile(%q) returned %T, want *query.Error", s, err)
			}
			return
		}
		if _, err := query.Compile(columnar.SignIns, flt.String(), query.Options{}); err != nil {
			t.Fatalf("normalized %q of %q does not compile: %v", flt.String(), s, err)
		}
		a, err := query.MatchIDs(context.Background(), columnar.SignIns, fix.src, s, false)
		if err != nil {
			t.Fatalf("run %q: %v", s, err)
		}
		b, err := query.MatchIDs(context.Background(), columnar.SignIns, fix.src, s, true)
		if err != nil {
			t.Fatalf("run %q without indexes: %v", s, err)
		}
		if !slices.Equal(sortedCopy(a), sortedCopy(b)) {
			t.Fatalf("%q: %d rows with indexes, %d without", s, len(a), len(b))
		}
	})
}
