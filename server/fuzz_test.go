package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/authlake/authlake/columnar"
)

// FuzzParseListOptions: any query string either parses into options within Graph's limits or
// is an optionError (a 400) — never a panic, never another error kind.
func FuzzParseListOptions(f *testing.F) {
	for _, s := range []string{
		"", "&$filter=flaggedforReview%20eq%20true", "$top=1000", "$top=0", "$TOP=5&filter=x", "$select=id,status",
		"$select=id,,x", "$count=true", "$skiptoken=abc", "%zz=1", "$filter=%", "$top=1&$top=2", "$search=x", "a=b=c",
		"$orderBy=createdDateTime%20DESC", "$select=flaggedForReview",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, v1 bool) {
		ver := columnar.Beta
		if v1 {
			ver = columnar.V1
		}
		o, err := parseListOptions(raw, ver)
		if err != nil {
			var oe *optionError
			if !errors.As(err, &oe) || oe.msg == "" {
				t.Fatalf("error of unexpected kind %T: %v", err, err)
			}
			return
		}
		if o.Top < 1 || o.Top > MaxPageSize {
			t.Fatalf("top %d out of range", o.Top)
		}
		for _, s := range o.Select {
			_, v, ok := lookupProperty(s)
			if !ok || v&ver == 0 {
				t.Fatalf("select %q not a property of this version", s)
			}
		}
		for _, r := range o.raw {
			if strings.EqualFold(strings.TrimPrefix(r.key, "$"), "skiptoken") {
				t.Fatalf("skiptoken kept for nextLink")
			}
		}
		// The nextLink built from the options parses back to the same options.
		link := nextLink("http://h", "/beta/auditLogs/signIns", o.raw, "tok")
		back, err := parseListOptions(link[strings.IndexByte(link, '?')+1:], ver)
		if err != nil {
			t.Fatalf("nextLink %q does not parse: %v", link, err)
		}
		if back.Filter != o.Filter || back.Top != o.Top || back.OrderBy != o.OrderBy || back.Count != o.Count || back.SkipToken != "tok" {
			t.Fatalf("nextLink round trip: %+v vs %+v", back, o)
		}
	})
}

var fuzzKey = func() []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return skipTokenKey(&SigningKey{Key: k})
}()

// FuzzSkipToken: sealed tokens open only in their own scope and anything else is rejected
// without panicking.
func FuzzSkipToken(f *testing.F) {
	f.Add("t1\x00beta\x00f\x00", "inner-token", "AQID")
	f.Add("", "", "")
	f.Add("a", strings.Repeat("x", 100), sealSkipToken(fuzzKey, "a", "x"))
	f.Fuzz(func(t *testing.T, scope, inner, arbitrary string) {
		tok := sealSkipToken(fuzzKey, scope, inner)
		got, err := openSkipToken(fuzzKey, scope, tok)
		if len(tok) <= maxSkipTokenLen && (err != nil || got != inner) {
			t.Fatalf("round trip: %q %v", got, err)
		}
		if _, err := openSkipToken(fuzzKey, scope+"x", tok); err == nil {
			t.Fatalf("token opened in another scope")
		}
		if got, err := openSkipToken(fuzzKey, scope, arbitrary); err == nil && sealSkipToken(fuzzKey, scope, got) != arbitrary {
			t.Fatalf("accepted a token that is not the sealing of its content: %q", arbitrary)
		}
	})
}

// FuzzCanonicalGUID: accepted ids are canonical lower-case GUIDs safe to embed in a filter.
func FuzzCanonicalGUID(f *testing.F) {
	for _, s := range []string{"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00", "{3F2B7A10-5C1E-4D7A-9B8E-2A6C1D0E4B00}", "x", "' or 1 eq 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, ok := canonicalGUID(s)
		if !ok {
			return
		}
		if len(g) != 36 || strings.ContainsAny(g, "'{} ") || strings.ToLower(g) != g {
			t.Fatalf("canonicalGUID(%q) = %q", s, g)
		}
		if g2, ok := canonicalGUID(g); !ok || g2 != g {
			t.Fatalf("not idempotent: %q", g)
		}
	})
}

// FuzzEncoderAdaptsAsRewriteDid: for any sign-in the decoder accepts, the encoder's
// adaptation (v1.0 members, hidden evolvable members) writes the same JSON values as the
// server's former rewrite of the row as stored (rowRewriter, kept as the reference), and
// v1.0 rows never keep a beta-only property.
func FuzzEncoderAdaptsAsRewriteDid(f *testing.F) {
	base := `"id":"00000000-0000-4000-8000-000000000001","createdDateTime":"2026-03-01T00:00:00Z"`
	f.Add([]byte(`{`+base+`,"crossTenantAccessType":"passthrough","flaggedForReview":true,"deviceDetail":{"browserId":"b","browser":"e"}}`), true, false)
	f.Add([]byte(`{`+base+`,"appliedConditionalAccessPolicies":[{"result":"reportOnlyFailure","conditionsSatisfied":"a,,b"}]}`), false, false)
	f.Add([]byte(`{`+base+`,"agent":{"agentType":"x"},"riskDetail":"y","tokenIssuerType":"UnknownFutureValue","z":1}`), true, true)
	v1Proj := columnar.Projection{}
	for _, p := range columnar.SignIns.Properties {
		if p.Version()&columnar.V1 != 0 {
			v1Proj[p.Name] = true
		}
	}
	f.Fuzz(func(t *testing.T, rec []byte, v1, keep bool) {
		d, row, bld := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns), columnar.NewBuilder(columnar.SignIns)
		if d.Decode(rec, row) != nil {
			return
		}
		bld.AppendRow(row)
		r := bld.Seal()
		defer r.Release()
		b, err := columnar.NewBatch(columnar.SignIns, r)
		if err != nil {
			t.Fatal(err)
		}
		var proj columnar.Projection
		opts := columnar.EncodeOptions{HideEvolved: !keep}
		if v1 {
			proj, opts.Version = v1Proj, columnar.V1
		}
		var enc columnar.Encoder
		stored, err := enc.AppendJSON(nil, b, 0, proj)
		if err != nil {
			t.Fatal(err)
		}
		enc.SetOptions(opts)
		got, err := enc.AppendJSON(nil, b, 0, proj)
		if err != nil {
			t.Fatal(err)
		}
		rw := &rowRewriter{v1: v1, keepEvolved: keep}
		want := rw.rewrite(nil, stored)
		if !sameJSON(t, got, want) {
			t.Fatalf("input %s\n got %s\nwant %s", rec, got, want)
		}
		var m map[string]json.RawMessage
		if v1 && json.Unmarshal(got, &m) == nil {
			for k := range m {
				if p := propertyByName(k); p == nil && !columnar.IsAnnotation(k) || p != nil && p.Version()&columnar.V1 == 0 {
					t.Fatalf("v1.0 row keeps %q", k)
				}
			}
		}
	})
}
