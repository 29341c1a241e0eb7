package columnar

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":"plain"}`, `{"a":"plain"}`},
		{`{"a":"x\ud800y"}`, `{"a":"x\ufffdy"}`},                         // lone high surrogate
		{`{"a":"x\uDC00"}`, `{"a":"x\ufffd"}`},                           // lone low surrogate
		{`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},                 // a pair (😀) is kept
		{`{"a":"\\ud800"}`, `{"a":"\\ud800"}`},                           // an escaped backslash, then text
		{`{"a":"\\\ud800"}`, `{"a":"\\\ufffd"}`},                         // backslash, then a lone escape
		{`{"a":"\u0041\ud800\u0042"}`, `{"a":"\u0041\ufffd\u0042"}`},     // around other escapes
		{"{\"a\":\"bad \xff\xfe utf8\"}", "{\"a\":\"bad \uFFFD utf8\"}"}, // invalid bytes
		{`{"a":"\ud800\ud800\udc00"}`, `{"a":"\ufffd\ud800\udc00"}`},     // lone, then a pair
	} {
		var buf []byte
		in := []byte(c.in)
		got := string(sanitize(in, &buf))
		if got != c.want {
			t.Errorf("sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
		if string(in) != c.in {
			t.Errorf("sanitize changed its input %q", c.in)
		}
		if !utf8.ValidString(got) || !json.Valid([]byte(got)) {
			t.Errorf("sanitize(%q) = %q is not valid JSON text", c.in, got)
		}
	}
}

// TestNonUnicodeTextRoundTrip: a record with a lone surrogate escape and invalid UTF-8 is
// accepted, and what comes back is valid JSON with U+FFFD in their places and every other byte
// as sent (the lone escape used to come back as the literal text "\\ud800").
func TestNonUnicodeTextRoundTrip(t *testing.T) {
	raw := "{\"id\":\"11111111-1111-4111-8111-111111111111\",\"createdDateTime\":\"2026-11-20T10:00:00Z\"," +
		"\"userPrincipalName\":\"a\\ud800b@contoso.com\",\"appDisplayName\":\"bad \xff\xfe utf8\",\"userAgent\":\"smile \\ud83d\\ude00\"}"
	dec := NewDecoder(SignIns)
	row := NewRow(SignIns)
	if err := dec.Decode([]byte(raw), row); err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(SignIns)
	b.AppendRow(row)
	rec := b.Seal()
	defer rec.Release()
	batch, err := NewBatch(SignIns, rec)
	if err != nil {
		t.Fatal(err)
	}
	var enc Encoder
	out, err := enc.AppendJSON(nil, batch, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || !utf8.Valid(out) {
		t.Fatalf("encoded row is not valid JSON: %v\n%s", err, out)
	}
	if m["userPrincipalName"] != "a\uFFFDb@contoso.com" || m["appDisplayName"] != "bad \uFFFD utf8" || m["userAgent"] != "smile 😀" {
		t.Fatalf("decoded %q / %q / %q", m["userPrincipalName"], m["appDisplayName"], m["userAgent"])
	}
}

// FuzzSanitize: whatever the bytes, the repaired text is valid UTF-8 with no lone surrogate
// escape left, the input is never modified, and valid JSON stays valid JSON.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{`{"a":"x\ud800y"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\\ud800"}`, "{\"a\":\"\xff\"}", `\u`, `\ud8`, `"\uDBFF\uDBFF"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := string(in)
		var buf []byte
		out := sanitize(in, &buf)
		if string(in) != orig {
			t.Fatal("the input was modified")
		}
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 out of %q", orig)
		}
		if json.Valid([]byte(orig)) && !json.Valid(out) {
			t.Fatalf("valid JSON %q became invalid %q", orig, out)
		}
		var v any
		if json.Unmarshal(out, &v) == nil {
			if b, _ := json.Marshal(v); !utf8.Valid(b) {
				t.Fatalf("decoded text is not valid: %q", out)
			}
		}
	})
}
