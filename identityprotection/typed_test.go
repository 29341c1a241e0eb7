package identityprotection

import (
	"context"
	"reflect"
	"testing"

	"github.com/authlake/authlake/query"
)

// TestTypedEventsAreTheJSONEvents: detection reads its sign-ins typed from the page's columns
// (queryEvents); they are the events ParseEvent reads from the same pages as Graph JSON, field
// for field, over generated sign-ins with every attack scenario injected (MFA, fraud reports,
// password resets, risk policies, trusted locations, geo coordinates), segments and memtable.
func TestTypedEventsAreTheJSONEvents(t *testing.T) {
	l := newLabelled(t, 20000, 3, 2)
	ingest(t, l.db, genLines(t, 300, 4)) // unflushed rows too
	ctx := context.Background()
	req := query.Request{Top: query.DefaultTop, Select: jobFields}
	var seen, mfa, geo, fraud int
	for {
		typed, next, err := queryEvents(ctx, l.db, l.tenant, req)
		if err != nil {
			t.Fatal(err)
		}
		res, err := l.db.Query(ctx, l.tenant, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(typed) != len(res.Rows) || next != res.SkipToken {
			t.Fatalf("%d typed events (next %q), %d JSON rows (next %q)", len(typed), next, len(res.Rows), res.SkipToken)
		}
		for i, row := range res.Rows {
			want, err := ParseEvent(row)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(typed[i], want) {
				t.Fatalf("event %d:\ntyped %+v\njson  %+v", seen+i, *typed[i], *want)
			}
			if want.MFASucceeded {
				mfa++
			}
			if want.HasGeo {
				geo++
			}
			if want.FraudReported {
				fraud++
			}
		}
		seen += len(typed)
		if next == "" {
			break
		}
		req.SkipToken = next
	}
	if seen < 20300 || mfa == 0 || geo == 0 || fraud == 0 {
		t.Fatalf("%d events compared (%d with MFA, %d with coordinates, %d fraud reports): too few to test the mapping", seen, mfa, geo, fraud)
	}
}
