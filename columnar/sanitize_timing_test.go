package columnar

import (
	"bytes"
	"testing"
)

// BenchmarkSanitize is the per-record cost of the non-Unicode check on a clean 5.5 KB record
// (the generator's size), which is what nearly every record pays.
func BenchmarkSanitize(b *testing.B) {
	rec := []byte(`{"id":"11111111-1111-4111-8111-111111111111","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",` +
		`"appliedConditionalAccessPolicies":[` + string(bytes.Repeat([]byte(`{"id":"a","displayName":"Require MFA for all users","result":"success"},`), 70)) + `{}]}`)
	var scratch []byte
	b.SetBytes(int64(len(rec)))
	for i := 0; i < b.N; i++ {
		sanitize(rec, &scratch)
	}
}
