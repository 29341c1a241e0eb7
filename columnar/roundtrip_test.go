package columnar

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// batchOf decodes each record and seals them into one batch, released when the test ends.
func batchOf(t testing.TB, records ...string) *Batch {
	t.Helper()
	d, row, bld := NewDecoder(SignIns), NewRow(SignIns), NewBuilder(SignIns)
	for _, r := range records {
		if err := d.Decode([]byte(r), row); err != nil {
			t.Fatalf("decode %s: %v", r, err)
		}
		bld.AppendRow(row)
	}
	rec := bld.Seal()
	t.Cleanup(rec.Release)
	b, err := NewBatch(SignIns, rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip decodes each record, seals them into one record batch and encodes every row back.
func roundTrip(t *testing.T, records ...string) []string {
	t.Helper()
	b := batchOf(t, records...)
	var enc Encoder
	out := make([]string, b.Rows)
	for i := range out {
		js, err := enc.AppendJSON(nil, b, i, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(js)
	}
	return out
}

func jsonEqual(t *testing.T, want, got string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("encoded output is not JSON: %v\n%s", err, got)
	}
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("round trip changed the event\nwant %s\ngot  %s", want, got)
	}
}

// graphSample is testdata/graph_beta_sample.json as one compact line.
func graphSample(t testing.TB) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/graph_beta_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	return compact.String()
}

func TestRoundTripGraphSample(t *testing.T) {
	sample := graphSample(t)
	jsonEqual(t, sample, roundTrip(t, sample)[0])
}

func TestRoundTripEdgeCases(t *testing.T) {
	const id = `"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z"`
	f := func(rec string) {
		t.Helper()
		got := roundTrip(t, rec)
		jsonEqual(t, rec, got[0])
	}
	f(`{` + id + `}`)                                                                                   // everything else absent
	f(`{` + id + `,"vendorField":{"a":[1,2,{"b":null}]},"x":"y"}`)                                      // unknown top-level properties
	f(`{` + id + `,"status":{"errorCode":50126,"newMember":true}}`)                                     // unknown member of a flattened object
	f(`{` + id + `,"location":null,"deviceDetail":{}}`)                                                 // null object, empty object
	f(`{` + id + `,"location":{"geoCoordinates":{}}}`)                                                  // Graph's "{}" for unknown coordinates
	f(`{` + id + `,"location":{"geoCoordinates":null,"city":"Oslo"}}`)                                  // nested null object
	f(`{"id":"3F2B7A10-5C1E-4D7A-9B8E-2A6C1D0E4B00","createdDateTime":"2025-03-04T08:15:27.1230000Z"}`) // upper-case GUID, 7-digit fraction
	f(`{` + id + `,"createdDateTime2":1,"correlationId":"","originalRequestId":"not-a-guid","sessionId":null}`)
	f(`{` + id + `,"userDisplayName":"O'Brien \"quoted\" \\ tab\t nl\n \u0001 é 日本"}`)
	f(`{` + id + `,"signInEventTypes":["interactiveUser"],"appliedConditionalAccessPolicies":[],"mfaDetail":null}`)
	f(`{` + id + `,"location":{"geoCoordinates":{"latitude":47.6805,"longitude":-122.1209,"altitude":1e21}}}`)
	f(`{` + id + `,"status":{"errorCode":-2147483648},"autonomousSystemNumber":2147483647}`)
	f(`{` + id + `,"flaggedForReview":true,"isInteractive":false,"isTenantRestricted":null}`)
}

func TestDecodeRejects(t *testing.T) {
	const id = `"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z"`
	d := NewDecoder(SignIns)
	row := NewRow(SignIns)
	f := func(rec, wantSubstr string) {
		t.Helper()
		err := d.Decode([]byte(rec), row)
		if err == nil {
			t.Fatalf("decode %s: want error containing %q, got none", rec, wantSubstr)
		}
		if !IsDecodeError(err) || !strings.Contains(err.Error(), wantSubstr) {
			t.Fatalf("decode %s: want error containing %q, got %v", rec, wantSubstr, err)
		}
	}
	f(`not json`, "not valid JSON")
	f(`[1,2]`, "not a JSON object")
	f(`{"createdDateTime":"2025-03-04T08:15:27Z"}`, "id: missing")
	f(`{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00"}`, "createdDateTime: missing")
	f(`{"id":"abc","createdDateTime":"2025-03-04T08:15:27Z"}`, "not a GUID")
	f(`{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"yesterday"}`, "not an RFC 3339")
	f(`{`+id+`,"status":{"errorCode":"50126"}}`, "status/errorCode: expected an integer")
	f(`{`+id+`,"status":{"errorCode":1.5}}`, "not a 32-bit integer")
	f(`{`+id+`,"status":{"errorCode":4294967296}}`, "not a 32-bit integer")
	f(`{`+id+`,"flaggedForReview":"true"}`, "flaggedForReview: expected true or false")
	f(`{`+id+`,"userPrincipalName":42}`, "userPrincipalName: expected a string")
	f(`{`+id+`,"location":"Oslo"}`, "location: expected an object")
	f(`{`+id+`,"appId":"a","appId":"b"}`, "appId: duplicate property")
	f(`{`+id+`,"createdDateTime":"2025-03-04T08:15:27Z"}`, "createdDateTime: duplicate")
}

// One encoder used with different projections writes exactly the projected properties each time.
func TestEncoderProjections(t *testing.T) {
	d, row, bld := NewDecoder(SignIns), NewRow(SignIns), NewBuilder(SignIns)
	if err := d.Decode([]byte(graphSample(t)), row); err != nil {
		t.Fatal(err)
	}
	bld.AppendRow(row)
	rec := bld.Seal()
	defer rec.Release()
	b, _ := NewBatch(SignIns, rec)
	var enc Encoder
	f := func(proj Projection, want ...string) {
		t.Helper()
		out, err := enc.AppendJSON(nil, b, 0, proj)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != len(want) {
			t.Fatalf("projection %v gave %d properties: %s", proj, len(m), out)
		}
		for _, w := range want {
			if _, ok := m[w]; !ok {
				t.Fatalf("projection %v lacks %s: %s", proj, w, out)
			}
		}
	}
	f(Projection{"id": true, "createdDateTime": true}, "id", "createdDateTime")
	f(Projection{"id": true, "status": true}, "id", "status")
	f(Projection{"id": true, "status": true}, "id", "status")
	f(Projection{"id": true}, "id")
	f(Projection{"id": true, "location": true, "nope": true}, "id", "location")
	f(Projection{"id": true, "location": false}, "id")
}

// TestDictCellsWrittenDirectOrCachedAlike: a dictionary cell is written straight from the
// dictionary until the dictionary has served an eighth of its size in cells, then from a cache
// of written values; both write the same bytes, under every encoding option.
func TestDictCellsWrittenDirectOrCachedAlike(t *testing.T) {
	b := batchOf(t, testEvents(t, 400, 11)...)
	for _, opts := range []EncodeOptions{{}, {Version: V1}, {HideEvolved: true}, {Version: V1, HideEvolved: true}} {
		var warm Encoder
		warm.SetOptions(opts)
		for r := 0; r < b.Rows; r++ {
			var cold Encoder // every cell of a large dictionary written direct
			cold.SetOptions(opts)
			want, err := cold.AppendJSON(nil, b, r, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := warm.AppendJSON(nil, b, r, nil) // cached once past an eighth
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%+v row %d: cached\n%s\ndirect\n%s", opts, r, got, want)
			}
		}
		cached := 0
		for _, d := range warm.dicts {
			if len(d.vals) > 0 {
				cached++
			}
		}
		if cached == 0 {
			t.Fatalf("%+v: %d rows never filled a dictionary cache", opts, b.Rows)
		}
	}
}
