package columnar

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"
)

// rowViewRecords are rows whose typed view must read as their JSON does: the Graph sample, and
// rows whose extras keep verbatim text (upper-case GUIDs, 7-digit fractions, empty and bad
// GUIDs), null and absent objects, and escapes.
func rowViewRecords(t testing.TB) []string {
	const id = `"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z"`
	return []string{
		graphSample(t),
		`{` + id + `}`,
		`{"id":"3F2B7A10-5C1E-4D7A-9B8E-2A6C1D0E4B00","createdDateTime":"2025-03-04T08:15:27.1230000Z","userId":"AB2B7A10-5C1E-4D7A-9B8E-2A6C1D0E4B00"}`,
		`{` + id + `,"correlationId":"","originalRequestId":"not-a-guid","sessionId":null,"appId":"0000000c-0000-0000-c000-000000000000"}`,
		`{` + id + `,"location":null,"deviceDetail":{},"status":{"errorCode":50126,"newMember":true,"failureReason":"Invalid \"password\""}}`,
		`{` + id + `,"userDisplayName":"O'Brien \"quoted\" \\ tab\t nl\n \u0001 é 日本","isInteractive":true,"flaggedForReview":false}`,
		`{` + id + `,"appliedConditionalAccessPolicies":[{"id":"p1","displayName":"MFA \u00e9","enforcedGrantControls":["Mfa"],"result":"failure"}],"mfaDetail":null}`,
		`{` + id + `,"status":{"errorCode":-2147483648},"autonomousSystemNumber":2147483647,"isTenantRestricted":null}`,
		`{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T09:15:27.5+01:00"}`,
		`{` + id + `,"location":{"city":"Oslo","geoCoordinates":{"latitude":47.6805,"longitude":-122.1209,"altitude":1e21}},"autonomousSystemNumber":8075}`,
		`{` + id + `,"location":{"geoCoordinates":{}},"signInEventTypes":["interactiveUser"],"authenticationDetails":[{"succeeded":true,"authenticationStepRequirement":"Multifactor authentication"}]}`,
	}
}

// checkRowView compares every column of row as a RowView reads it with what JSONProps reads
// from the row's Graph JSON, through every accessor that applies to its kind.
func checkRowView(t testing.TB, b *Batch, row int, js []byte) {
	t.Helper()
	j, err := fastjson.ParseBytes(js)
	if err != nil {
		t.Fatalf("encoded row is not JSON: %v", err)
	}
	want := JSONProps{j}
	var v RowView
	v.Reset(b, row)
	fail := func(path string, got, want any) {
		t.Helper()
		t.Fatalf("%s: RowView reads %v, the JSON %v\n%s", path, got, want, js)
	}
	for _, c := range b.Schema.Columns {
		p := c.Name
		switch c.Kind {
		case KindDict, KindText, KindGUID, KindTime:
			if got, want := v.Str(p), want.Str(p); got != want {
				fail(p, got, want)
			}
			if c.Kind == KindTime {
				got, err := v.Time(p)
				w, werr := want.Time(p)
				if (err != nil) != (werr != nil) || !got.Equal(w) {
					fail(p, fmt.Sprint(got, err), fmt.Sprint(w, werr))
				}
			}
		case KindInt32:
			if got, want := v.Int(p), want.Int(p); got != want {
				fail(p, got, want)
			}
			fallthrough
		case KindFloat64:
			g, gok := v.Float(p)
			w, wok := want.Float(p)
			if g != w || gok != wok {
				fail(p, fmt.Sprint(g, gok), fmt.Sprint(w, wok))
			}
		case KindBool:
			if got, want := v.Bool(p), want.Bool(p); got != want {
				fail(p, got, want)
			}
		case KindJSON, KindJSONDict:
			got, w := v.JSON(p), j.Get(keys(p)...)
			if w == nil || w.Type() == fastjson.TypeNull {
				if got != nil && string(got) != "null" {
					fail(p, string(got), "nothing")
				}
				continue
			}
			g, err := fastjson.ParseBytes(got)
			if err != nil || string(g.MarshalTo(nil)) != string(w.MarshalTo(nil)) {
				fail(p, string(got), string(w.MarshalTo(nil)))
			}
			gi, wi := v.Items(p), want.Items(p)
			if len(gi) != len(wi) {
				fail(p, len(gi), len(wi))
			}
			for k := range gi {
				if string(gi[k].MarshalTo(nil)) != string(wi[k].MarshalTo(nil)) {
					fail(p, gi[k], wi[k])
				}
			}
		}
	}
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
}

func TestRowViewReadsAsTheJSON(t *testing.T) {
	recs := rowViewRecords(t)
	got := roundTrip(t, recs...) // the rows as the encoder writes them
	b := batchOf(t, recs...)
	for i := range recs {
		checkRowView(t, b, i, []byte(got[i]))
	}
}

func FuzzRowView(f *testing.F) {
	for _, r := range rowViewRecords(f) {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if NewDecoder(SignIns).Decode(rec, NewRow(SignIns)) != nil {
			return
		}
		b := batchOf(t, string(rec))
		var enc Encoder
		js, err := enc.AppendJSON(nil, b, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkRowView(t, b, 0, js)
	})
}
