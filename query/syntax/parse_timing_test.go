package syntax

import "testing"

func benchmarkParse(b *testing.B, s string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := ParseFilter(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSeed(b *testing.B) {
	benchmarkParse(b, "flaggedforReview eq true and createdDateTime ge 2021-10-01 and userPrincipalname eq 'user@contoso.com'")
}

func BenchmarkParseComplex(b *testing.B) {
	benchmarkParse(b, "(createdDateTime ge 2024-01-13T14:13:32Z and createdDateTime le 2024-01-14T17:43:26Z) and "+
		"signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal') and "+
		"(startswith(tolower(userPrincipalName),'jn') or appId in ('de8bc8b5-d9f9-48b1-a8ad-b748da725064','x')) and "+
		"status/errorCode ne 0 and not (location/countryOrRegion eq 'US') and "+
		"authenticationProcessingDetails/any(x:x/key eq 'legacy tls (tls 1.0, 1.1, 3des)' and x/value eq '1')")
}

func BenchmarkString(b *testing.B) {
	e, err := ParseFilter("flaggedforReview eq true and createdDateTime ge 2021-10-01 and userPrincipalname eq 'user@contoso.com'")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = String(e)
	}
}

// BenchmarkShape: the server takes every query's shape before it admits the query.
func BenchmarkShape(b *testing.B) {
	s := "flaggedforReview eq true and createdDateTime ge 2021-10-01 and userPrincipalname eq 'user@contoso.com'"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Shape(s)
	}
}
