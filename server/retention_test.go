package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

// TestRetentionAPI: a tenant's manager keeps its events longer over the API, so that an
// incident of four months ago loads; the setting is the caller's tenant's only, readers cannot
// change it, and another tenant still rejects old events with a reason that names the setting.
func TestRetentionAPI(t *testing.T) {
	e := newEnv(t, func(_ *server.Config, o *engine.Options) { o.Retention = 30 })
	manager := e.token(tenantA, "AuthLake.Manage")
	reader := e.token(tenantA, "AuditLog.Read.All")
	put := func(tok, body string) response {
		return e.do(http.MethodPut, "/authlake/v1/retention", tok, strings.NewReader(body), "Content-Type", "application/json")
	}
	old := event{id: guid(1), at: e.clock.Now().Add(-120 * 24 * time.Hour), upn: "u@contoso.com"}

	if r := e.get("/authlake/v1/retention", reader); r.status != 200 || r.json(t)["retention"] != "30d" || r.json(t)["tenant"] != tenantA {
		t.Fatalf("GET retention: %d %s", r.status, r.body)
	}
	res := e.ingest(tenantA, old)
	if res.Rejected != 1 || !strings.Contains(res.Rejects[0].Reason, "retention") {
		t.Fatalf("a 120-day-old event under the default retention: %+v", res)
	}
	checkGraphError(t, "reader sets retention", put(reader, `{"retention":"400d"}`), 403, "Authorization_RequestDenied")
	checkGraphError(t, "bad retention", put(manager, `{"retention":"400 days"}`), 400, "BadRequest")
	checkGraphError(t, "unknown field", put(manager, `{"retention":"400d","tenant":"`+tenantB+`"}`), 400, "BadRequest")

	r := put(manager, `{"retention":"400d"}`)
	if r.status != 200 || r.json(t)["days"] != float64(400) || r.json(t)["source"] != "set for the tenant" {
		t.Fatalf("PUT retention: %d %s", r.status, r.body)
	}
	if res := e.ingest(tenantA, old); res.Accepted != 1 {
		t.Fatalf("the incident after the retention change: %+v", res)
	}
	// Tenant B keeps the default: its GET says so and its old events are still rejected.
	if r := e.get("/authlake/v1/retention", e.token(tenantB, "AuditLog.Read.All")); r.status != 200 || r.json(t)["retention"] != "30d" {
		t.Fatalf("tenant B's retention: %d %s", r.status, r.body)
	}
	if res := e.ingest(tenantB, old); res.Rejected != 1 {
		t.Fatalf("tenant B took an event outside its retention: %+v", res)
	}
	if r := put(manager, `{"retention":"forever"}`); r.status != 200 || r.json(t)["retention"] != "forever" || r.json(t)["days"] != float64(-1) {
		t.Fatalf("PUT forever: %d %s", r.status, r.body)
	}
}

// The config file's retention map is checked when it is read: a typo must not start a server
// that keeps (or deletes) events for a different span than the operator wrote.
func TestRetentionConfig(t *testing.T) {
	for body, wantErr := range map[string]string{
		"retention:\n  \"*\": 400d\n  " + tenantA + ": \"0\"\n": "",
		"retention:\n  \"*\": 400 days\n":                       `retention[*]: retention "400 days"`,
		"retention:\n  contoso!: 30d\n":                         `retention: invalid tenant "contoso!"`,
	} {
		path := filepath.Join(t.TempDir(), "authlake.yaml")
		os.WriteFile(path, []byte(body), 0o600)
		cfg, err := server.LoadConfig(path)
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("%q: %v", body, err)
		case wantErr == "" && (cfg.Retention["*"] != "400d" || cfg.Retention[tenantA] != "0"):
			t.Fatalf("%q: read as %v", body, cfg.Retention)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Fatalf("%q: error %v, want %q", body, err, wantErr)
		}
	}
}
