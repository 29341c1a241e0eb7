package query

import (
	"fmt"
	"testing"

	"github.com/authlake/authlake/columnar"
)

func TestPlanCacheIsBoundedAndKeyedByNormalizedText(t *testing.T) {
	a, err := compileCached(columnar.SignIns, "flaggedForReview  eq true", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := compileCached(columnar.SignIns, "(flaggedForReview eq true)", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the same normalized filter compiled twice")
	}
	// Each text is also a key of its own, so that a repeated text is not parsed again.
	for _, text := range []string{"flaggedForReview  eq true", "(flaggedForReview eq true)", "flaggedForReview eq true"} {
		if f, ok := plans.get(planKey{s: columnar.SignIns, text: text}); !ok || f != a {
			t.Fatalf("%q: cached %v, the same plan %v", text, ok, f == a)
		}
	}
	c, err := compileCached(columnar.SignIns, "flaggedForReview eq true", Options{Version: columnar.V1})
	if err == nil || c != nil {
		t.Fatalf("v1.0 must not reuse the beta plan: %v", err)
	}
	n1, _ := compileCached(columnar.SignIns, "createdDateTime lt now()", Options{})
	n2, _ := compileCached(columnar.SignIns, "createdDateTime lt now()", Options{})
	if n1 == n2 {
		t.Fatal("a filter using now() was cached")
	}
	for i := range planCacheSize + 10 {
		if _, err := compileCached(columnar.SignIns, fmt.Sprintf("status/errorCode eq %d", i), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if plans.len() != planCacheSize {
		t.Fatalf("cache holds %d plans, bound is %d", plans.len(), planCacheSize)
	}
}
