package diagnostic

import (
	"context"
	"reflect"
	"testing"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/query"
)

// TestTypedEventsAreTheJSONEvents: a diagnosis reads its events typed from the page's columns
// (query.Request.Visit); they are the events decoded from the same page as Graph JSON, field
// for field, over generated sign-ins (guests, failures, Conditional Access policies) and
// hand-made rows whose verbatim text the typed columns do not hold.
func TestTypedEventsAreTheJSONEvents(t *testing.T) {
	db := openTestDB(t)
	generated(t, db, gen.Config{Events: 3000, Seed: 5, Days: 3})
	ingestLines(t, db, [][]byte{
		[]byte(`{"id":"AAAAAAAA-0000-4000-8000-000000000001","createdDateTime":"` + testNow.Add(-3600e9).Format("2006-01-02T15:04:05.1230000Z") + `","userId":"BBBBBBBB-0000-4000-8000-000000000001","correlationId":"","status":{"errorCode":50126,"failureReason":"Invalid \"password\""},"location":null,"appliedConditionalAccessPolicies":[{"id":"p","displayName":"MFA","enforcedGrantControls":["Mfa"],"result":"failure"}]}`),
	})
	d := New(db, Options{})
	s, err := d.open(context.Background(), testTenant, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, req := range []query.Request{
		{Top: 1000},
		{Top: 1000, Where: query.Ne("status/errorCode", 0)},
		{Top: 50, Select: []string{"id", "createdDateTime", "status"}},
	} {
		typed, _, err := s.events("typed", req)
		if err != nil {
			t.Fatal(err)
		}
		jreq := req
		if jreq.Select == nil {
			jreq.Select = eventSelect
		}
		asJSON, _, err := s.eventsJSON("json", jreq)
		if err != nil {
			t.Fatal(err)
		}
		if len(typed) != len(asJSON) || len(typed) == 0 {
			t.Fatalf("%d typed events, %d from JSON", len(typed), len(asJSON))
		}
		policies := 0
		for i := range typed {
			asJSON[i].raw = nil
			if !reflect.DeepEqual(typed[i], asJSON[i]) {
				t.Fatalf("event %d:\ntyped %+v\njson  %+v", i, typed[i], asJSON[i])
			}
			policies += len(typed[i].AppliedConditionalAccessPolicies)
		}
		if req.Select == nil && policies == 0 {
			t.Fatal("no event has Conditional Access policies: the collections were not compared")
		}
	}
}
