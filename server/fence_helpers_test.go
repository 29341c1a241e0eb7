package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/flagging"
	"github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/server"
)

// fenceNow is the fixed clock of the fence tests: the engine's, the flagging windows' and
// the Identity Protection store's (the risky sign-ins report looks back 30 days from it).
var fenceNow = t0.Add(6 * time.Hour)

// fenceEnv is newEnv with every clock fixed and the Identity Protection store in the test's
// hands. edit may configure the engine (trust) and the server.
func fenceEnv(t *testing.T, edit func(*server.Config, *engine.Options)) (*env, *identityprotection.Store) {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewManual(fenceNow)
	now := clk.Now
	cfg := server.Config{}
	eo := engine.Options{Retention: -1, NoSync: true, Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg, &eo)
	}
	db, err := engine.Open(dir, eo)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := flagging.Open(filepath.Join(dir, flagging.Dir), flagging.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fm.Close() })
	risk, err := identityprotection.Open(identityprotection.Dir(dir), identityprotection.Options{Now: now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Config: cfg, DB: db, Flagging: fm, Risk: risk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		risk.Close()
		db.Close()
	})
	return &env{t: t, srv: srv, ts: ts, db: db, clock: clk, dir: dir}, risk
}

// signInOf is a sign-in of a user of home into resource. A forged one is failed and flagged and
// names itself in userAgent, so a reader can tell which version it was served.
func signInOf(id, resource, home string, forged bool) event {
	ev := event{id: id, at: t0, upn: "avery@contoso.com", device: "d1", browser: "Edge", os: "Windows 10",
		extra: map[string]any{"resourceTenantId": resource, "homeTenantId": home, "userAgent": "genuine",
			"riskState": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none"}}
	if forged {
		ev.errorCode = 50126
		ev.extra["userAgent"] = "forged"
		ev.extra["flaggedForReview"] = true
	}
	return ev
}

// getAs fetches one sign-in with tenant's reader token; nil when it is 404.
func (e *env) getAs(tenant, id string) map[string]any {
	e.t.Helper()
	r := e.get("/beta/auditLogs/signIns/"+id, e.token(tenant, "AuditLog.Read.All"), "Prefer", "include-unknown-enum-members")
	switch r.status {
	case http.StatusOK:
		return r.json(e.t)
	case http.StatusNotFound:
		return nil
	}
	e.t.Fatalf("get %s as %s: %d %s", id, tenant, r.status, r.body)
	return nil
}

// listAs lists every event type of tenant's sign-ins, by id.
func (e *env) listAs(tenant string) map[string][]map[string]any {
	e.t.Helper()
	r := e.get("/beta/auditLogs/signIns?$filter="+strings.ReplaceAll("signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')", " ", "%20"),
		e.token(tenant, "AuditLog.Read.All"), "Prefer", "include-unknown-enum-members")
	if r.status != http.StatusOK {
		e.t.Fatalf("list as %s: %d %s", tenant, r.status, r.body)
	}
	out := map[string][]map[string]any{}
	for _, v := range r.json(e.t)["value"].([]any) {
		m := v.(map[string]any)
		out[m["id"].(string)] = append(out[m["id"].(string)], m)
	}
	return out
}
