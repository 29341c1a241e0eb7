package input

import (
	"bytes"
	"strings"
	"testing"
)

// fastAgrees frames the object at the start of data (after whitespace) with the fast path and
// with the general scanner, both over the whole input buffered, and fails if the fast path
// accepts what the general one does not, or ends elsewhere, or notes other members. It reports
// whether the fast path accepted.
func fastAgrees(t *testing.T, data []byte, root bool, max int) bool {
	t.Helper()
	open := func() *Reader {
		r, err := NewReaderOptions(bytes.NewReader(data), "t.json", Options{MaxRecordSize: max})
		if err != nil {
			t.Fatal(err)
		}
		for r.fill() {
		}
		return r
	}
	fast, general := open(), open()
	defer fast.Close()
	defer general.Close()
	c, ok := fast.skipWS()
	if !ok || c != '{' {
		return false
	}
	general.pos = fast.pos
	start := fast.abs(fast.pos)
	fast.beginRecord(start)
	general.beginRecord(start)
	if !fast.fastObject(root) {
		if fast.pos != general.pos || fast.cur.hasCat || fast.cur.hasProps || fast.cur.laColumn {
			t.Fatalf("%q: the fast path gave up but moved or noted something", data)
		}
		return false
	}
	general.pos++
	wrapper, e := general.scanMembers(root)
	switch {
	case e != nil:
		t.Fatalf("%q: the fast path framed %q; the general scanner says %s", data, data[start:fast.pos], e.msg)
	case wrapper:
		t.Fatalf("%q: the fast path framed a wrapper as a record", data)
	case general.cur.overflow || general.abs(general.pos)-start > int64(max):
		t.Fatalf("%q: the fast path framed a record over the size limit", data)
	case fast.pos != general.pos:
		t.Fatalf("%q: the fast path ends at %d, the general scanner at %d", data, fast.pos, general.pos)
	case fast.cur.hasCat != general.cur.hasCat || fast.cur.category != general.cur.category ||
		fast.cur.hasProps != general.cur.hasProps || fast.cur.propsStart != general.cur.propsStart ||
		fast.cur.propsEnd != general.cur.propsEnd || fast.cur.laColumn != general.cur.laColumn:
		t.Fatalf("%q: members noted differ: fast %+v, general %+v", data, fast.cur, general.cur)
	}
	return true
}

func TestFastFramingIsTheGeneralFraming(t *testing.T) {
	deep := func(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) }
	accept := []string{
		`{}`, `{ }`, "{\n\t\"a\" : [ ] , \"b\" :{ } }", `{"a":[1,-2.5e+3,0,true,false,null,"x",{"b":[]}]}`,
		`{"a":"\\"}`, `{"a":"\"}\""}`, `{"a":"` + strings.Repeat("x", 100) + `\n\"` + strings.Repeat("y", 50) + `"}`,
		`{"category":"SignInLogs","properties":{"id":"1","x":{"y":[{}]}},"time":"t"}`,
		`{"category":1,"properties":[1],"TimeGenerated":"t"}`,
		`{"properties":{"a":1},"properties":{"b":2},"category":"A","category":"NonInteractiveUserSignInLogs"}`,
		`{"value":{"a":[1]},"records":1}`, `{"a":{"value":[1],"category":"x","properties":{}}}`,
		`{"TimeGenerated":"2026-11-01T00:00:00Z","ResultType":"0"}`, deep(62), deep(63),
		`{"a":1}` + "\n" + `{"b":2}`, `{"a":1} x`, `{"a":0}`, `{"a":-0.0e0}`,
	}
	for _, s := range accept {
		if !fastAgrees(t, []byte(s), true, MaxRecordSize) {
			t.Errorf("%q: the fast path gave up on an object it should frame", s)
		}
	}
	giveUp := []string{
		`{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{,}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`,
		`{"a":.5}`, `{"a":tru}`, `{"a":nul}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b":1]}`, `{"a":[1}}`,
		`{"a":"x}`, `{"a":"x\"}`, `{"a" "b"}`, `{a:1}`, `{"a":1 "b":2}`, `{"value":[{"a":1}]}`,
		`{"records":[]}`, deep(64), deep(70), `{"a":+1}`, `{"a":'x'}`, "{\"a\":\x01}",
	}
	for _, s := range giveUp {
		if fastAgrees(t, []byte(s), true, MaxRecordSize) {
			t.Errorf("%q: the fast path framed what it must leave to the general scanner", s)
		}
	}
	// Quotes and escapes at every offset of the eight-byte search, and strings cut by the limit.
	for n := range 20 {
		x := strings.Repeat("x", n)
		for _, s := range []string{`{"` + x + `":1}`, `{"a":"` + x + `\"` + x + `"}`, `{"a":"` + x + `\\"}`, `{"a":"` + x + `\\\"z"}`} {
			if !fastAgrees(t, []byte(s), true, MaxRecordSize) {
				t.Errorf("%q: the fast path gave up on an object it should frame", s)
			}
			for cut := 1; cut < len(s); cut++ {
				fastAgrees(t, []byte(s[:cut]), true, MaxRecordSize)
				fastAgrees(t, []byte(s), true, cut)
			}
		}
	}
	// A wrapper's array is the general scanner's at the root only; inside an array of records
	// a "value" array is a member like any other.
	if !fastAgrees(t, []byte(`{"value":[{"a":1}]}`), false, MaxRecordSize) {
		t.Error("an array element with a value member was left to the general scanner")
	}
	// The size limit: an object of exactly the limit is framed, one byte more is not.
	obj := `{"a":"` + strings.Repeat("x", 50) + `"}`
	if !fastAgrees(t, []byte(obj), true, len(obj)) || fastAgrees(t, []byte(obj), true, len(obj)-1) {
		t.Errorf("the fast path does not honour the size limit at %d bytes", len(obj))
	}
	// A generated sign-in, the case it exists for.
	if !fastAgrees(t, []byte(graphSampleLine), true, MaxRecordSize) {
		t.Error("the fast path gave up on a Graph sign-in")
	}
}

// graphSampleLine is a compact Graph sign-in with nested collections.
const graphSampleLine = `{"id":"66ea54eb-6301-4ee5-be62-ff5a759b8100","createdDateTime":"2026-11-30T21:07:21Z",` +
	`"userPrincipalName":"a@contoso.com","status":{"errorCode":50126,"failureReason":"Invalid \"password\"",` +
	`"additionalDetails":null},"location":{"city":"Redmond","geoCoordinates":{"latitude":47.68,"longitude":-122.12}},` +
	`"appliedConditionalAccessPolicies":[{"id":"1","enforcedGrantControls":["Mfa"],"result":"success"}],` +
	`"isInteractive":true,"flaggedForReview":false,"riskEventTypes_v2":[]}`

// FuzzFastFraming: whatever the input, the fast path accepts only what the general scanner
// accepts, ending where it ends and noting the same members. (FuzzReader compares whole
// reads with one-byte reads, which never have a whole object buffered: the same comparison
// through the Reader's public behaviour.)
func FuzzFastFraming(f *testing.F) {
	for _, s := range []string{`{}`, graphSampleLine, `{"category":"SignInLogs","properties":{"a":[1]}}`,
		`{"value":[{}]}`, `{"a":"\\\""}`, `{"a":[1e5,-0.1,true]}`} {
		f.Add([]byte(s), true, 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, root bool, max int) {
		if max <= 0 || max > MaxRecordSize {
			max = MaxRecordSize
		}
		fastAgrees(t, data, root, max)
	})
}
