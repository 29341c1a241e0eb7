package identityprotection

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// apiFixture is a labelled dataset with detections, served on loopback.
// publicBase is the reader's server's public URL: links are built from it, as on the sign-in
// routes (they once ignored --public-url).
const publicBase = "https://authlake.example.com"

func apiFixture(t *testing.T) (*labelled, *httptest.Server, map[string]Caller) {
	t.Helper()
	l := copyOfRunLabelled(t)
	callers := map[string]Caller{
		"reader": {Tenant: l.tenant, Roles: []string{PermRiskEventRead, PermRiskyUserRead}, ID: "reader-1", BaseURL: publicBase},
		"writer": {Tenant: l.tenant, Roles: []string{PermRiskEventRead, PermRiskyUserReadWrite}, ID: "admin-7"},
		"none":   {Tenant: l.tenant, ID: "nobody"},
	}
	h := NewHandler(l.store, l.db, func(r *http.Request) (Caller, error) {
		c, ok := callers[r.Header.Get("X-Test-Caller")]
		if !ok {
			return Caller{}, errors.New("no token")
		}
		return c, nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return l, srv, callers
}

func call(t *testing.T, srv *httptest.Server, who, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("X-Test-Caller", who)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestGraphAPI(t *testing.T) {
	l, srv, _ := apiFixture(t)

	// The seed's first example, verbatim.
	code, body := call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskDetections?$filter="+url.QueryEscape("detectionTimingType eq 'offline'"), "")
	if code != 200 {
		t.Fatalf("riskDetections: %d %v", code, body)
	}
	if body["@odata.context"] != publicBase+"/v1.0/$metadata#identityProtection/riskDetections" {
		t.Errorf("context %v", body["@odata.context"])
	}
	vals := body["value"].([]any)
	if next, _ := body["@odata.nextLink"].(string); len(vals) != DetectionsDefaultTop || !strings.HasPrefix(next, publicBase+"/v1.0/identityProtection/riskDetections?") {
		t.Fatalf("default page: %d rows, nextLink %v", len(vals), body["@odata.nextLink"])
	}
	d0 := vals[0].(map[string]any)
	for _, k := range []string{"id", "requestId", "correlationId", "riskEventType", "riskState", "riskLevel", "riskDetail", "source",
		"detectionTimingType", "activity", "tokenIssuerType", "ipAddress", "location", "activityDateTime", "detectedDateTime",
		"lastUpdatedDateTime", "userId", "userDisplayName", "userPrincipalName", "additionalInfo"} {
		if _, ok := d0[k]; !ok {
			t.Errorf("detection lacks %s", k)
		}
	}
	for _, v := range vals {
		if v.(map[string]any)["detectionTimingType"] != "offline" {
			t.Fatalf("filter not applied: %v", v)
		}
	}
	var info []map[string]any
	if err := json.Unmarshal([]byte(d0["additionalInfo"].(string)), &info); err != nil || info[0]["Key"] == nil {
		t.Errorf("additionalInfo is not a JSON text array of {Key,Value}: %v", d0["additionalInfo"])
	}
	// nextLink paging visits every offline detection exactly once.
	seen := map[string]bool{}
	next := srv.URL + "/v1.0/identityProtection/riskDetections?$filter=" + url.QueryEscape("detectionTimingType eq 'offline'") + "&$top=7"
	for next != "" {
		u, _ := url.Parse(next)
		_, page := call(t, srv, "reader", "GET", u.RequestURI(), "")
		for _, v := range page["value"].([]any) {
			id := v.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("duplicate across pages: %s", id)
			}
			seen[id] = true
		}
		next, _ = page["@odata.nextLink"].(string)
	}
	want := 0
	for _, d := range l.store.Detections(l.tenant) {
		if d.DetectionTimingType == TimingOffline {
			want++
		}
	}
	if len(seen) != want {
		t.Errorf("paged %d offline detections, store has %d", len(seen), want)
	}
	// $top over 500 is capped; bad filters are Graph errors.
	if _, b := call(t, srv, "reader", "GET", "/beta/identityProtection/riskDetections?$top=900", ""); len(b["value"].([]any)) > DetectionsMaxTop {
		t.Error("$top not capped at 500")
	}
	code, b := call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskDetections?$filter="+url.QueryEscape("riskLevl eq 'high'"), "")
	if code != 400 || b["error"].(map[string]any)["code"] != "BadRequest" || !strings.HasPrefix(b["error"].(map[string]any)["message"].(string), "Invalid filter clause") {
		t.Errorf("bad filter: %d %v", code, b)
	}
	if inner := b["error"].(map[string]any)["innerError"].(map[string]any); inner["request-id"] == "" || inner["date"] == "" {
		t.Errorf("innerError: %v", inner)
	}
	// $select is a column chooser.
	_, b = call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskDetections?$select=id,riskEventType&$top=1", "")
	if r := b["value"].([]any)[0].(map[string]any); len(r) != 2 {
		t.Errorf("$select gave %v", r)
	}

	// Permissions: reads need a read permission, actions need ReadWrite; no token is 401.
	if code, _ := call(t, srv, "none", "GET", "/v1.0/identityProtection/riskyUsers", ""); code != 403 {
		t.Errorf("no permission: %d", code)
	}
	if code, _ := call(t, srv, "anonymous", "GET", "/v1.0/identityProtection/riskyUsers", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	victim := l.out.Labels[0].UserID
	if code, b := call(t, srv, "reader", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", `{"userIds":["`+victim+`"]}`); code != 403 ||
		b["error"].(map[string]any)["code"] != "Authorization_RequestDenied" {
		t.Errorf("write without ReadWrite: %d %v", code, b)
	}

	// A risky user, then the admin dismisses it: state, detail, level, history with who.
	code, b = call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskyUsers/"+victim, "")
	if code != 200 || b["riskState"] != StateAtRisk {
		t.Fatalf("risky user: %d %v", code, b)
	}
	for i := 0; i < 2; i++ { // the second one is a no-op: idempotent
		if code, b := call(t, srv, "writer", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", `{"userIds":["`+victim+`"]}`); code != 204 {
			t.Fatalf("dismiss: %d %v", code, b)
		}
	}
	_, b = call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskyUsers/"+victim, "")
	if b["riskState"] != StateDismissed || b["riskLevel"] != LevelNone || b["riskDetail"] != DetailAdminDismissedAllRiskForUser {
		t.Errorf("after dismiss: %v", b)
	}
	_, b = call(t, srv, "reader", "GET", "/beta/identityProtection/riskyUsers/"+victim+"/history", "")
	hist := b["value"].([]any)
	if len(hist) != 2 {
		t.Fatalf("history: %v", hist)
	}
	top := hist[0].(map[string]any)
	if top["initiatedBy"] != "admin-7" || top["activity"].(map[string]any)["detail"] != DetailAdminDismissedAllRiskForUser || top["userId"] != victim {
		t.Errorf("history item: %v", top)
	}
	// Item ids as Graph gives them (current = the user's id, older = id + ticks), each one
	// fetchable on its own; timestamps carry at most 7 fractional digits.
	older := hist[1].(map[string]any)
	if top["id"] != victim || !strings.HasPrefix(older["id"].(string), victim) || older["id"] == victim {
		t.Fatalf("history item ids %v, %v", top["id"], older["id"])
	}
	for _, item := range hist {
		id := item.(map[string]any)["id"].(string)
		code, got := call(t, srv, "reader", "GET", "/beta/identityProtection/riskyUsers/"+victim+"/history/"+id, "")
		if code != 200 || got["id"] != id || !strings.HasSuffix(got["@odata.context"].(string), "/history/$entity") {
			t.Fatalf("history item %s: %d %v", id, code, got)
		}
		ts := got["riskLastUpdatedDateTime"].(string)
		if i := strings.IndexByte(ts, '.'); i >= 0 && len(strings.TrimSuffix(ts[i+1:], "Z")) > 7 {
			t.Errorf("timestamp %s has more than 7 fractional digits", ts)
		}
	}
	// Unknown ids are reported and nothing is applied.
	code, b = call(t, srv, "writer", "POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised",
		`{"userIds":["`+l.out.Labels[1].UserID+`","00000000-0000-4000-8000-000000000001"]}`)
	if code != 404 || !strings.Contains(b["error"].(map[string]any)["message"].(string), "00000000-0000-4000-8000-000000000001") {
		t.Errorf("unknown user: %d %v", code, b)
	}
	if u, _ := l.store.RiskyUser(l.tenant, l.out.Labels[1].UserID); u.RiskState == StateConfirmedCompromised {
		t.Error("partial apply on unknown ids")
	}
	// Sign-in actions by request id.
	req := l.out.Labels[1].RequestID
	if code, b := call(t, srv, "writer", "POST", "/beta/auditLogs/signIns/confirmCompromised", `{"requestIds":["`+req+`"]}`); code != 204 {
		t.Fatalf("signIns/confirmCompromised: %d %v", code, b)
	}
	u, _ := l.store.RiskyUser(l.tenant, l.out.Labels[1].UserID)
	if u.RiskLevel != LevelHigh {
		t.Errorf("user after sign-in compromised: %+v", u)
	}
	if code, _ := call(t, srv, "writer", "POST", "/beta/auditLogs/signIns/confirmSafe", `{"requestIds":["11111111-2222-4333-8444-555555555555"]}`); code != 404 {
		t.Errorf("unknown request id: %d", code)
	}
}

func TestSeedRiskyUsersExample(t *testing.T) {
	l, srv, _ := apiFixture(t)
	// A user at risk passes MFA under a risk policy in a later sign-in: self-remediation.
	var victim string
	for _, lb := range l.out.Labels {
		if lb.Type == TypeAnonymizedIP {
			victim = lb.UserID
		}
	}
	if _, err := l.store.AddObservations(l.tenant, []Observation{{ID: "obs-1", Kind: ObsRiskPolicyMFA, UserID: victim, At: l.now}}); err != nil {
		t.Fatal(err)
	}
	code, b := call(t, srv, "reader", "GET", "/v1.0/identityProtection/riskyUsers?$filter="+url.QueryEscape("riskDetail eq 'userPassedMFADrivenByRiskBasedPolicy'"), "")
	if code != 200 {
		t.Fatal(code, b)
	}
	vals := b["value"].([]any)
	if len(vals) != 1 || vals[0].(map[string]any)["id"] != victim || vals[0].(map[string]any)["riskState"] != StateRemediated {
		t.Fatalf("seed example: %v", vals)
	}
	for _, d := range l.store.Detections(l.tenant) {
		if d.UserID == victim && d.RiskState != StateRemediated {
			t.Errorf("detection not remediated: %+v", d)
		}
	}
}
