package columnar

import (
	"encoding/json"
	"reflect"
	"testing"
)

// One encoder writes a row as each set of options asks, switching between them (its
// dictionary cache holds values as written under the options it was filled with).
func TestEncodeOptions(t *testing.T) {
	const rec = `{"id":"00000000-0000-4000-8000-000000000001","createdDateTime":"2026-03-01T00:00:00Z","riskDetail":"m365DAdminDismissedDetection","riskState":"atRisk",` +
		`"riskEventTypes_v2":["x"],"crossTenantAccessType":"passthrough","tokenIssuerType":"AzureAD",` +
		`"deviceDetail":{"browser":"Edge","browserId":"b"},"agent":{"agentType":"agentIdUser"},` +
		`"appliedConditionalAccessPolicies":[{"id":"p","result":"reportOnlyFailure","conditionsSatisfied":"application,future,other","conditionsNotSatisfied":"users"}]}`
	d, row, bld := NewDecoder(SignIns), NewRow(SignIns), NewBuilder(SignIns)
	if err := d.Decode([]byte(rec), row); err != nil {
		t.Fatal(err)
	}
	bld.AppendRow(row)
	r := bld.Seal()
	defer r.Release()
	b, err := NewBatch(SignIns, r)
	if err != nil {
		t.Fatal(err)
	}
	var enc Encoder
	write := func(o EncodeOptions) map[string]any {
		t.Helper()
		enc.SetOptions(o)
		out, err := enc.AppendJSON(nil, b, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return m
	}
	for range 2 { // twice: the second round reads the cache filled under other options
		m := write(EncodeOptions{})
		if m["riskDetail"] != "m365DAdminDismissedDetection" || m["crossTenantAccessType"] != "passthrough" || m["agent"] == nil {
			t.Fatalf("no options changed the row: %v", m)
		}
		m = write(EncodeOptions{HideEvolved: true})
		ca := m["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
		if m["riskDetail"] != "unknownFutureValue" || m["crossTenantAccessType"] != "unknownFutureValue" || m["tokenIssuerType"] != "AzureAD" ||
			m["agent"].(map[string]any)["agentType"] != "unknownFutureValue" || ca["result"] != "unknownFutureValue" ||
			ca["conditionsSatisfied"] != "application,unknownFutureValue" || ca["conditionsNotSatisfied"] != "users" {
			t.Fatalf("evolvable members not hidden: %v", m)
		}
		m = write(EncodeOptions{Version: V1})
		ca = m["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
		if _, ok := m["agent"]; ok || m["deviceDetail"].(map[string]any)["browserId"] != nil || ca["conditionsSatisfied"] != nil ||
			ca["result"] != "reportOnlyFailure" || m["crossTenantAccessType"] != nil {
			t.Fatalf("v1.0 keeps beta members: %v", m)
		}
		id := [16]byte{0: 0, 6: 0x40, 8: 0x80, 15: 1}
		risk := func(got [16]byte) (SignInRisk, bool) {
			return SignInRisk{State: "confirmedCompromised", Detail: "adminConfirmedSigninCompromised", EventTypes: []string{"a", "b"}}, got == id
		}
		m = write(EncodeOptions{HideEvolved: true, Risk: risk})
		if m["riskState"] != "confirmedCompromised" || m["riskDetail"] != "adminConfirmedSigninCompromised" ||
			!reflect.DeepEqual(m["riskEventTypes_v2"], []any{"a", "b"}) {
			t.Fatalf("overlay not written: %v", m)
		}
		if _, ok := m["riskLevelAggregated"]; ok {
			t.Fatalf("the overlay wrote a property the row does not have: %v", m)
		}
	}
}

func TestEvolvableHideFlags(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "users": "users", "future": "unknownFutureValue", "a,,b": "unknownFutureValue",
		"application, users": "application, users", "x,application,y": "unknownFutureValue,application",
	} {
		if got, _ := enumConditions.HideFlags(in); got != want {
			t.Errorf("HideFlags(%q) = %q, want %q", in, got, want)
		}
	}
}
