package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// An admin action of tenant A on a sign-in id never colours tenant B's sign-in with the same
// id, in lists and gets, in either version, nor in the console's download: the encoder's
// overlay lookup is bound to the caller's tenant.
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
	// The console's download is written by the same encoder, with the signed-in tenant's overlay.
	for _, tc := range []struct{ tenant, detail string }{{tenantA, "adminConfirmedSigninCompromised"}, {tenantB, "none"}} {
		r := e.do(http.MethodPost, "/authlake/v1/console/links", e.token(tc.tenant, "AuditLog.Read.All"), nil)
		var out struct{ Link string }
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != http.StatusCreated {
			t.Fatalf("console link for %s: %d %s", tc.tenant, r.status, r.body)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		for _, path := range []string{out.Link, e.ts.URL + "/console/signins/download?format=json&range=all"} {
			resp, err := c.Get(path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("console %s for %s: %d %s", path, tc.tenant, resp.StatusCode, body)
			}
			if !strings.Contains(path, "download") {
				continue
			}
			var rows []map[string]any
			if err := json.Unmarshal(body, &rows); err != nil || len(rows) != 1 || rows[0]["riskDetail"] != tc.detail {
				t.Fatalf("console download for %s: %v %s", tc.tenant, err, body)
			}
		}
	}
}
