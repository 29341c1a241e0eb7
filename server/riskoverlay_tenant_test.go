package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// An admin action of tenant A on a sign-in id never colours tenant B's sign-in with the same
// id, in lists and gets, in either version: the encoder's overlay lookup is bound to the
// caller's tenant.
func TestRiskOverlayNeverCrossesTenants(t *testing.T) {
	e := newEnv(t)
	id := guid(77)
	for _, tn := range []string{tenantA, tenantB} {
		e.ingest(tn, event{id: id, at: e.clock.Now().UTC().Add(-time.Hour), upn: "sam@contoso.com", device: "d1", browser: "Edge"})
	}
	writer := e.token(tenantA, "IdentityRiskEvent.ReadWrite.All", "IdentityRiskyUser.ReadWrite.All")
	if r := e.do(http.MethodPost, "/v1.0/auditLogs/signIns/confirmCompromised", writer, strings.NewReader(`{"requestIds":["`+id+`"]}`), "Content-Type", "application/json"); r.status != http.StatusNoContent {
		t.Fatalf("confirmCompromised: %d %s", r.status, r.body)
	}
	for _, ver := range []string{"v1.0", "beta"} {
		for _, tc := range []struct {
			tenant, detail string
		}{{tenantA, "adminConfirmedSigninCompromised"}, {tenantB, "none"}} {
			tok := e.token(tc.tenant, "AuditLog.Read.All")
			got := e.get("/"+ver+"/auditLogs/signIns/"+id, tok)
			if got.status != http.StatusOK {
				t.Fatalf("%s get for %s: %d %s", ver, tc.tenant, got.status, got.body)
			}
			if d := got.json(t)["riskDetail"]; d != tc.detail {
				t.Fatalf("%s get for %s: riskDetail %v, want %s", ver, tc.tenant, d, tc.detail)
			}
			list := e.get("/"+ver+"/auditLogs/signIns", tok)
			if list.status != http.StatusOK {
				t.Fatalf("%s list for %s: %d %s", ver, tc.tenant, list.status, list.body)
			}
			rows, _ := list.json(t)["value"].([]any)
			if len(rows) != 1 || rows[0].(map[string]any)["riskDetail"] != tc.detail {
				t.Fatalf("%s list for %s: %s", ver, tc.tenant, list.body)
			}
		}
	}
}
