package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Identity Protection routes are mounted behind the server's authentication, and admin
// actions on a sign-in change what the sign-in list returns (the overlay is merged at read time).
func TestIdentityProtectionMountedAndOverlayMerged(t *testing.T) {
	e := newEnv(t)
	const tid = "11111111-2222-4333-8444-555555555555"
	id := guid(42)
	e.ingest(tid, event{id: id, at: e.clock.Now().UTC().Add(-time.Hour), upn: "avery@contoso.com", device: "d1", browser: "Edge"})

	reader := e.token(tid, "IdentityRiskEvent.Read.All", "IdentityRiskyUser.Read.All", "AuditLog.Read.All")
	r := e.get("/beta/identityProtection/riskDetections", reader)
	if r.status != http.StatusOK {
		t.Fatalf("riskDetections: %d %s", r.status, r.body)
	}
	if m := r.json(t); m["value"] == nil || !strings.Contains(m["@odata.context"].(string), "riskDetections") {
		t.Fatalf("riskDetections is not Graph-shaped: %s", r.body)
	}
	if r := e.get("/v1.0/identityProtection/riskyUsers", e.token(tid, "AuditLog.Read.All")); r.status != http.StatusForbidden {
		t.Fatalf("riskyUsers without IdentityRiskyUser.Read.All: %d %s", r.status, r.body)
	}
	if r := e.get("/v1.0/identityProtection/riskyUsers", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("riskyUsers without a token: %d", r.status)
	}

	writer := e.token(tid, "IdentityRiskEvent.ReadWrite.All", "IdentityRiskyUser.ReadWrite.All")
	// Gzip-compressed, as Microsoft's Go SDK sends POST bodies (it was answered 400).
	body := bytes.NewReader(gzipped([]byte(`{"requestIds":["` + id + `"]}`)))
	if r := e.do(http.MethodPost, "/beta/auditLogs/signIns/confirmCompromised", writer, body, "Content-Type", "application/json", "Content-Encoding", "gzip"); r.status != http.StatusNoContent {
		t.Fatalf("confirmCompromised with a gzip body: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPost, "/beta/auditLogs/signIns/confirmCompromised", writer, strings.NewReader("{}"), "Content-Type", "application/json", "Content-Encoding", "br"); r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("a brotli body: %d %s", r.status, r.body)
	}
	got := e.get("/beta/auditLogs/signIns/"+id, reader)
	if got.status != http.StatusOK {
		t.Fatalf("get sign-in: %d %s", got.status, got.body)
	}
	m := got.json(t)
	// (The test event carries riskDetail but not the other risk properties; absent ones stay absent.)
	if m["riskDetail"] != "adminConfirmedSigninCompromised" {
		t.Fatalf("the overlay was not merged into the sign-in: riskDetail=%v", m["riskDetail"])
	}
	// Another tenant's token sees none of it.
	other := e.token("99999999-2222-4333-8444-555555555555", "IdentityRiskEvent.Read.All", "AuditLog.Read.All")
	if r := e.get("/beta/auditLogs/signIns/"+id, other); r.status != http.StatusNotFound {
		t.Fatalf("tenant isolation: %d", r.status)
	}
}

// The sign-in diagnostic is served behind the reader role, for the caller's tenant only.
func TestDiagnosticsMounted(t *testing.T) {
	e := newEnv(t)
	const tid = "11111111-2222-4333-8444-555555555555"
	id := guid(7)
	e.ingest(tid, event{id: id, at: e.clock.Now().UTC().Add(-time.Hour), upn: "blocked@contoso.com", device: "d1", browser: "Edge", errorCode: 50126})
	if r := e.get("/authlake/v1/diagnostics?eventId="+id, e.token(tid, "AuthLake.Ingest")); r.status != http.StatusForbidden {
		t.Fatalf("diagnostics without a reader role: %d %s", r.status, r.body)
	}
	r := e.get("/authlake/v1/diagnostics?eventId="+id, e.token(tid, "AuditLog.Read.All"))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), id) || !strings.Contains(string(r.body), "50126") {
		t.Fatalf("diagnostics of a failed sign-in: %d %s", r.status, r.body)
	}
	other := e.get("/authlake/v1/diagnostics?eventId="+id, e.token("99999999-2222-4333-8444-555555555555", "AuditLog.Read.All"))
	if other.status == http.StatusOK && strings.Contains(string(other.body), "50126") {
		t.Fatalf("another tenant's token diagnosed this tenant's event: %s", other.body)
	}
}
