package input

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// at returns the byte offset of sub in s, failing loudly if absent.
func at(s, sub string) int64 {
	i := strings.Index(s, sub)
	if i < 0 {
		panic(fmt.Sprintf("%q not in input", sub))
	}
	return int64(i)
}

func TestPrettyPrintedSingleObject(t *testing.T) {
	in := "{\n  \"id\": \"a\",\n  \"status\": {\n    \"errorCode\": 0\n  },\n  \"list\": [\n    {\"k\": 1}\n  ]\n}\n"
	expect(t, readAll(t, in), []got{{Raw: strings.TrimSpace(in), Line: 1, Col: 1, Off: 0}})
}

func TestArrayOfObjects(t *testing.T) {
	in := "[\n  {\"id\": 1},\n  {\"id\": 2}\n]\n{\"id\": 3}\n"
	expect(t, readAll(t, in), []got{
		{Raw: `{"id": 1}`, Line: 2, Col: 3, Off: 4},
		{Raw: `{"id": 2}`, Line: 3, Col: 3, Off: 17},
		{Raw: `{"id": 3}`, Line: 5, Col: 1, Off: at(in, `{"id": 3}`)},
	})
}

func TestGraphPagesPrettyPrinted(t *testing.T) {
	// Two pretty-printed pages, the second with "value" before the other keys.
	in := `{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
  "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signins?$skiptoken=x",
  "value": [
    {
      "id": "1",
      "value": "nested keys named value are just data",
      "status": {"errorCode": 0}
    },
    {"id": "2"}
  ]
}
{
  "value": [{"id": "3"}],
  "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signins?$skiptoken=y",
  "@odata.count": 3, "extra": {"value": [1, 2]}
}
`
	first := "{\n      \"id\": \"1\",\n      \"value\": \"nested keys named value are just data\",\n      \"status\": {\"errorCode\": 0}\n    }"
	expect(t, readAll(t, in), []got{
		{Raw: first, Line: 5, Col: 5, Off: at(in, first)},
		{Raw: `{"id": "2"}`, Line: 10, Col: 5, Off: at(in, `{"id": "2"}`)},
		{Raw: `{"id": "3"}`, Line: 14, Col: 13, Off: at(in, `{"id": "3"}`)},
	})
}

func TestGraphPagesOnePerLine(t *testing.T) {
	in := `{"@odata.context":"c","value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"n"}` + "\n" +
		`{"value":[]}` + "\n" +
		`{"@odata.context":"c","value":[{"id":"3"}]}{"value":[{"id":"4"}]}` + "\n" +
		`{"id":"5"}` + "\n"
	expect(t, readAll(t, in), []got{
		{Raw: `{"id":"1"}`, Line: 1, Col: 32, Off: 31},
		{Raw: `{"id":"2"}`, Line: 1, Col: 43, Off: 42},
		{Raw: `{"id":"3"}`, Line: 3, Col: 32, Off: at(in, `{"id":"3"}`)},
		{Raw: `{"id":"4"}`, Line: 3, Col: 54, Off: at(in, `{"id":"4"}`)},
		{Raw: `{"id":"5"}`, Line: 4, Col: 1, Off: at(in, `{"id":"5"}`)},
	})
}

func TestSyntaxErrorInsidePageRejectsRestOfArray(t *testing.T) {
	in := `{"value":[{"id":"1"},{"id":"2" "oops":1},{"id":"3"}]}` + "\n" + `{"id":"4"}` + "\n"
	expect(t, readAll(t, in), []got{
		{Raw: `{"id":"1"}`, Line: 1, Col: 11, Off: 10},
		{Raw: `{"id":"2" "oops":1},{"id":"3"}]}`, Line: 1, Col: 22, Off: 21, ErrPos: "1:32",
			Err: `t.json:1:32: invalid JSON: expected ',' or '}' after object member, found '"'; the rest of the array was rejected`},
		{Raw: `{"id":"4"}`, Line: 2, Col: 1, Off: at(in, `{"id":"4"}`)},
	})
}

func TestSyntaxErrorInPrettyPageSkipsToNextTopLevelLine(t *testing.T) {
	in := "{\"value\": [\n  {\"id\": \"1\"},\n  {\"id\": \"2\",\n   \"bad\": tru},\n  {\"id\": \"3\"}\n]}\n{\"id\": \"4\"}\n"
	have := readAll(t, in)
	if len(have) != 3 {
		t.Fatalf("got %v", have)
	}
	if have[0].Raw != `{"id": "1"}` || have[2].Raw != `{"id": "4"}` || have[2].Line != 7 {
		t.Errorf("good records: %v", have)
	}
	if have[1].Line != 3 || have[1].ErrPos != "4:14" || !strings.HasSuffix(have[1].Err, "the rest of the array was rejected") ||
		have[1].Raw != "{\"id\": \"2\",\n   \"bad\": tru},\n  {\"id\": \"3\"}\n]}" {
		t.Errorf("bad record: %v (at %s)", have[1], have[1].ErrPos)
	}
}

func TestNonObjectElementsAreRejectedOneByOne(t *testing.T) {
	in := `{"value":[{"id":"1"},"str",{"id":"2"},[1,{}]]}`
	have := readAll(t, in)
	if len(have) != 4 || have[0].Raw != `{"id":"1"}` || have[2].Raw != `{"id":"2"}` ||
		have[1].Raw != `"str"` || have[3].Raw != `[1,{}]` ||
		!strings.Contains(have[1].Err, "not a JSON object") || !strings.Contains(have[3].Err, "not a JSON object") {
		t.Fatalf("got %v", have)
	}
}

const diagWrapped = `{"records": [
  {"time": "2025-03-04T08:15:27Z", "resourceId": "/tenants/t/providers/Microsoft.aadiam",
   "operationName": "Sign-in activity", "category": "SignInLogs", "tenantId": "t",
   "properties": {"id": "1", "status": {"errorCode": 0}}},
  {"category": "NonInteractiveUserSignInLogs", "properties": {"id": "2"}, "time": "x"},
  {"properties": {"id": "3"}, "category": "ServicePrincipalSignInLogs"},
  {"category": "ManagedIdentitySignInLogs", "properties": {"id": "4"}},
  {"category": "AuditLogs", "properties": {"id": "5"}}
]}
`

func TestDiagnosticSettingsWrapped(t *testing.T) {
	have := readAll(t, diagWrapped)
	want := []struct{ raw, cat string }{
		{`{"id": "1", "status": {"errorCode": 0}}`, "SignInLogs"},
		{`{"id": "2"}`, "NonInteractiveUserSignInLogs"},
		{`{"id": "3"}`, "ServicePrincipalSignInLogs"},
		{`{"id": "4"}`, "ManagedIdentitySignInLogs"},
	}
	if len(have) != 5 {
		t.Fatalf("got %v", have)
	}
	for i, w := range want {
		if have[i].Raw != w.raw || have[i].Cat != w.cat || have[i].Err != "" {
			t.Errorf("record %d: got %v, want raw %s category %s", i, have[i], w.raw, w.cat)
		}
	}
	// Position is the record object's, not that of its properties.
	if have[0].Line != 2 || have[0].Col != 3 || have[1].Line != 5 {
		t.Errorf("positions: %v", have[:2])
	}
	bad := have[4]
	if bad.Err != "t.json:8:3: unsupported diagnostic category AuditLogs" ||
		bad.Raw != `{"category": "AuditLogs", "properties": {"id": "5"}}` || bad.Cat != "" {
		t.Errorf("AuditLogs record: %v", bad)
	}
}

func TestDiagnosticSettingsNDJSON(t *testing.T) {
	in := `{"time":"t","category":"SignInLogs","properties":{"id":"1"}}` + "\n" +
		`{"time":"t","category":"RiskyUsers","properties":{"id":"2"}}` + "\n" +
		`{"id":"3","category":"not diagnostic without properties"}` + "\n"
	have := readAll(t, in)
	expect(t, have, []got{
		{Raw: `{"id":"1"}`, Line: 1, Col: 1, Off: 0, Cat: "SignInLogs"},
		{Raw: `{"time":"t","category":"RiskyUsers","properties":{"id":"2"}}`, Line: 2, Col: 1, Off: at(in, `{"time":"t","category":"RiskyUsers"`),
			ErrPos: "2:1", Err: "t.json:2:1: unsupported diagnostic category RiskyUsers"},
		{Raw: `{"id":"3","category":"not diagnostic without properties"}`, Line: 3, Col: 1, Off: at(in, `{"id":"3"`)},
	})
	rd, err := NewReader(strings.NewReader(in), "d")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rd.Next()
	rec, _ := rd.Next()
	if !errors.Is(rec.Err, ErrUnsupportedCategory) {
		t.Errorf("kind: %v", rec.Err)
	}
}

func TestEventTypeForCategory(t *testing.T) {
	for cat, want := range map[string]string{
		"SignInLogs": "interactiveUser", "NonInteractiveUserSignInLogs": "nonInteractiveUser",
		"ServicePrincipalSignInLogs": "servicePrincipal", "ManagedIdentitySignInLogs": "managedIdentity",
	} {
		if got, ok := EventTypeForCategory(cat); !ok || got != want {
			t.Errorf("%s: got %q %v, want %q", cat, got, ok, want)
		}
	}
	for _, cat := range []string{"AuditLogs", "RiskyUsers", "signinlogs", ""} {
		if got, ok := EventTypeForCategory(cat); ok {
			t.Errorf("%s: got %q, want unsupported", cat, got)
		}
	}
}

func TestMaxRecordSize(t *testing.T) {
	big := `{"id":"big","pad":"` + strings.Repeat("x", 200) + `"}`
	in := `{"id":"1"}` + "\n" + big + "\n" + `{"value":[{"id":"2"},` + big + `,{"id":"3"}]}` + "\n"
	have := readAllFrom(t, &oneByte{data: []byte(in)}, Options{MaxRecordSize: 100})
	whole := readAllFrom(t, bytes.NewReader([]byte(in)), Options{MaxRecordSize: 100})
	if fmt.Sprint(have) != fmt.Sprint(whole) {
		t.Fatalf("read-size dependent:\n%v\n%v", have, whole)
	}
	if len(have) != 5 || have[0].Raw != `{"id":"1"}` || have[2].Raw != `{"id":"2"}` || have[4].Raw != `{"id":"3"}` {
		t.Fatalf("got %v", have)
	}
	for _, i := range []int{1, 3} {
		if have[i].Err != fmt.Sprintf("t.json:%d:%d: record exceeds 100 bytes", have[i].Line, have[i].Col) ||
			have[i].Raw != big[:100] {
			t.Errorf("oversized record %d: %v", i, have[i])
		}
	}
	if have[3].Line != 3 || have[3].Col != 22 {
		t.Errorf("oversized element position: %v", have[3])
	}
}

func TestDefaultMaxRecordSize(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("x", MaxRecordSize) + `"}`
	have := readAllFrom(t, strings.NewReader(big+"\n{}\n"), Options{})
	if len(have) != 2 || have[1].Raw != "{}" || have[1].Err != "" {
		t.Fatalf("got %d records", len(have))
	}
	if have[0].Err != "t.json:1:1: record exceeds 4 MiB" || len(have[0].Raw) != MaxRejectRawSize {
		t.Errorf("got err %q, raw %d bytes", have[0].Err, len(have[0].Raw))
	}
	under := `{"pad":"` + strings.Repeat("x", MaxRecordSize-20) + `"}`
	if have := readAllFrom(t, strings.NewReader(under), Options{}); len(have) != 1 || have[0].Err != "" || have[0].Raw != under {
		t.Errorf("record just under the limit was not accepted whole")
	}
}

func TestHugeWrapperPrefixIsStillAWrapper(t *testing.T) {
	in := `{"@odata.context":"` + strings.Repeat("c", 300) + `","value":[{"id":"1"}]}`
	have := readAllFrom(t, strings.NewReader(in), Options{MaxRecordSize: 100})
	if len(have) != 1 || have[0].Raw != `{"id":"1"}` || have[0].Err != "" {
		t.Fatalf("got %v", have)
	}
}
