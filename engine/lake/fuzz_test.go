package lake

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzTypedJSON: whatever JSON text a sign-in carries in a property authlake keeps as JSON, the
// Parquet conversion never panics, gives one value per row, and counts a value as unfit only
// when it is not written (null).
func FuzzTypedJSON(f *testing.F) {
	f.Add(`[{"id":"p1","result":"success","enforcedGrantControls":["Mfa"],"includeRulesSatisfied":[{"ruleSatisfied":"x"}]}]`)
	f.Add(`[{"authenticationStepDateTime":"2026-11-20T12:00:00.1234567Z","succeeded":true}]`)
	f.Add(`{"signInSessionStatusCode": 3}`)
	f.Add(`[{"succeeded":"yes"}]`)
	f.Add(`{"a":`)
	f.Fuzz(func(t *testing.T, text string) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		for name, typ := range jsonTypes {
			var unfit int64
			a := parseJSONValues(mem, typ, 2, func(i int) (string, bool) { return text, i == 0 }, &unfit)
			if a.Len() != 2 || !a.IsNull(1) {
				t.Fatalf("%s: %d values, second null %v", name, a.Len(), a.IsNull(1))
			}
			if unfit > 1 || (unfit == 1 && !a.IsNull(0)) {
				t.Fatalf("%s: %d unfit but the value was written", name, unfit)
			}
			a.Release()
		}
		mem.AssertSize(t, 0)
	})
}
