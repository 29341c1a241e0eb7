package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestFlaggedSignInsEndToEnd starts windows over HTTP (a user for themself, an admin for
// another user), ingests sign-ins of several clients and times over HTTP, and checks that the
// seed's admin queries return exactly the flagged events.
func TestFlaggedSignInsEndToEnd(t *testing.T) {
	e := newEnv(t)
	start := e.clock.Now() // 2021-10-05T09:00:00Z
	const u = "u@contoso.com"
	user := e.userToken(tenantA, "U@contoso.com", "oid-u", "openid")
	admin := e.token(tenantA, "AuthLake.Flag", "AuditLog.Read.All")
	reader := e.token(tenantA, "AuditLog.Read.All")
	asJSON := func(v any) *strings.Reader { b, _ := json.Marshal(v); return strings.NewReader(string(b)) }
	post := func(tok string, body any) response {
		return e.do(http.MethodPost, "/authlake/v1/flagging", tok, asJSON(body), "Content-Type", "application/json")
	}

	// The user flags their own Edge on Windows (no role needed, identity from the token).
	r := post(user, map[string]any{"client": map[string]string{"browser": "Edge 122.0.0", "operatingSystem": "Windows 10"}})
	if r.status != http.StatusCreated {
		t.Fatalf("user starts window: %d %s", r.status, r.body)
	}
	win := r.json(t)
	if win["userPrincipalName"] != u || win["startDateTime"] != "2021-10-05T09:00:00Z" || win["endDateTime"] != "2021-10-05T09:20:00Z" ||
		r.header.Get("Location") != e.ts.URL+"/authlake/v1/flagging/"+win["id"].(string) {
		t.Fatalf("window %s (Location %q)", r.body, r.header.Get("Location"))
	}
	// A user cannot flag someone else; a reader without the flag role cannot either.
	checkGraphError(t, "user flags other", post(user, map[string]any{"userPrincipalName": "v@contoso.com", "client": map[string]string{"deviceId": "d"}}), 403, "Authorization_RequestDenied")
	checkGraphError(t, "reader flags", post(reader, map[string]any{"userPrincipalName": "v@contoso.com", "client": map[string]string{"deviceId": "d"}}), 403, "Authorization_RequestDenied")
	checkGraphError(t, "bad body", post(admin, map[string]any{"userPrincipalName": "v@contoso.com", "client": map[string]string{"deviceId": "d"}, "extra": 1}), 400, "BadRequest")
	checkGraphError(t, "no client", post(admin, map[string]any{"userPrincipalName": "v@contoso.com"}), 400, "BadRequest")
	// The admin flags v's registered device, five minutes later.
	e.clock.Advance(5 * time.Minute)
	r = post(admin, map[string]any{"userPrincipalName": "v@contoso.com", "client": map[string]string{"deviceId": "dev-v"}})
	if r.status != http.StatusCreated {
		t.Fatalf("admin starts window: %d %s", r.status, r.body)
	}
	vWin := r.json(t)["id"].(string)

	edge := func(n int, at time.Duration, browser string) event {
		return event{id: guid(n), at: start.Add(at), upn: u, browser: browser, os: "Windows 10", errorCode: 50126}
	}
	e.ingest(tenantA,
		edge(1, 2*time.Minute, "Edge 122.0.0"),  // flagged (failure)
		edge(2, 19*time.Minute, "Edge 122.0.0"), // flagged: near the end of the window
		edge(3, 20*time.Minute, "Edge 122.0.0"), // window end is exclusive
		edge(4, -time.Minute, "Edge 122.0.0"),   // before the window
		edge(5, 3*time.Minute, "Firefox 120"),   // another browser of the same user
		event{id: guid(6), at: start.Add(3 * time.Minute), upn: "w@contoso.com", browser: "Edge 122.0.0", os: "Windows 10"},                     // another user
		event{id: guid(7), at: start.Add(6 * time.Minute), upn: "v@contoso.com", device: "dev-v", browser: "Chrome 120", os: "macOS"},           // flagged
		event{id: guid(8), at: start.Add(6 * time.Minute), upn: "v@contoso.com", device: "dev-x", browser: "Chrome 120", os: "macOS"},           // other device
		event{id: guid(9), at: start.Add(4 * time.Minute), upn: "v@contoso.com", device: "dev-v", browser: "Chrome 120", os: "macOS"},           // before v's window
		event{id: guid(10), at: start.Add(7 * time.Minute), upn: u, browser: "Edge 122.0.0", os: "Windows 10", eventType: "nonInteractiveUser"}, // flagged, non-interactive
	)
	want := func(name, filter string, expect ...string) {
		t.Helper()
		got := ids(t, e.get("/beta/auditLogs/signIns?&$filter="+url.QueryEscape(filter), reader))
		sort.Strings(got)
		sort.Strings(expect)
		if !slices.Equal(got, expect) {
			t.Errorf("%s: got %v, want %v", name, got, expect)
		}
	}
	// The seed's three admin queries (interactive sign-ins, as Graph lists by default).
	want("all flagged", "flaggedforReview eq true", guid(1), guid(2), guid(7))
	want("flagged for u", "flaggedforReview eq true and userPrincipalname eq 'u@contoso.com'", guid(1), guid(2))
	want("flagged for u since", "flaggedforReview eq true and createdDateTime ge 2021-10-01 and userPrincipalname eq 'u@contoso.com'", guid(1), guid(2))
	want("flagged for u since later", "flaggedforReview eq true and createdDateTime ge 2021-10-05T09:10:00Z and userPrincipalname eq 'u@contoso.com'", guid(2))
	want("flagged non-interactive", "flaggedForReview eq true and signInEventTypes/any(t: t eq 'nonInteractiveUser')", guid(10))

	// Listing: admins see both windows, the user only theirs.
	list := func(tok string) []string {
		var body struct{ Value []struct{ ID string } }
		r := e.get("/authlake/v1/flagging", tok)
		json.Unmarshal(r.body, &body)
		var out []string
		for _, w := range body.Value {
			out = append(out, w.ID)
		}
		sort.Strings(out)
		return out
	}
	both := []string{win["id"].(string), vWin}
	sort.Strings(both)
	if got := list(admin); !slices.Equal(got, both) {
		t.Errorf("admin lists %v, want %v", got, both)
	}
	if got := list(user); !slices.Equal(got, []string{win["id"].(string)}) {
		t.Errorf("user lists %v", got)
	}
	if got := list(e.token(tenantB, "AuthLake.Flag")); len(got) != 0 {
		t.Errorf("tenant B lists %v", got)
	}
	// The user cannot stop v's window; the admin can; then it is gone.
	checkGraphError(t, "user stops other", e.do(http.MethodDelete, "/authlake/v1/flagging/"+vWin, user, nil), 403, "Authorization_RequestDenied")
	checkGraphError(t, "tenant B stops", e.do(http.MethodDelete, "/authlake/v1/flagging/"+vWin, e.token(tenantB, "AuthLake.Flag"), nil), 404, "Request_ResourceNotFound")
	if r := e.do(http.MethodDelete, "/authlake/v1/flagging/"+vWin, admin, nil); r.status != http.StatusNoContent {
		t.Fatalf("admin stops: %d %s", r.status, r.body)
	}
	checkGraphError(t, "stop twice", e.do(http.MethodDelete, "/authlake/v1/flagging/"+vWin, admin, nil), 404, "Request_ResourceNotFound")
	e.clock.Advance(time.Minute) // now start+6m; v's window ended at start+5m
	e.ingest(tenantA, event{id: guid(11), at: start.Add(5*time.Minute + 30*time.Second), upn: "v@contoso.com", device: "dev-v"})
	want("after stop", "flaggedforReview eq true and userPrincipalName eq 'v@contoso.com'", guid(7))

	// Once u's window and its late-arrival allowance are over, nothing more is flagged.
	e.clock.Advance(time.Hour)
	// The tokens minted at the start have expired by now (one hour, and a minute of leeway).
	admin = e.token(tenantA, "AuthLake.Flag", "AuditLog.Read.All")
	reader = e.token(tenantA, "AuditLog.Read.All")
	e.ingest(tenantA, edge(12, 10*time.Minute, "Edge 122.0.0"))
	want("after expiry", "flaggedforReview eq true and userPrincipalName eq 'u@contoso.com'", guid(1), guid(2))
	if got := list(admin); len(got) != 0 {
		t.Errorf("expired windows listed: %v", got)
	}
}
