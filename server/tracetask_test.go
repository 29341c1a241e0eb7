package server_test

import (
	"bytes"
	"net/http"
	rtrace "runtime/trace"
	"testing"

	"github.com/authlake/authlake/internal/tasktrace"
)

// Under an execution trace each request is a task of type "http" whose handler runs in a
// region "request", with its route and client-request-id logged into it (what
// internal/tasktrace groups and attributes by).
func TestRequestIsATraceTask(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	var buf bytes.Buffer
	if err := rtrace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	r := e.get("/beta/auditLogs/signIns?$filter=userPrincipalName%20eq%20'avery@contoso.com'", tok, "client-request-id", "traced-list")
	g := e.get("/beta/auditLogs/signIns/"+guid(1), tok, "client-request-id", "traced-get")
	rtrace.Stop()
	if r.status != http.StatusOK || g.status != http.StatusOK {
		t.Fatalf("list %d %s, get %d %s", r.status, r.body, g.status, g.body)
	}

	tasks, err := tasktrace.Analyze(&buf)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, tk := range tasks {
		id := tk.Logs["client-request-id"]
		want := map[string]string{"traced-list": "signIns.list", "traced-get": "signIns.get"}[id]
		if want == "" {
			continue
		}
		found[id] = true
		if tk.Type != "http" || tk.Logs["route"] != want || tk.Handler["running"] <= 0 {
			t.Errorf("%s: task %+v, want type http, route %s, its handler running in region %s", id, tk, want, tasktrace.HandlerRegion)
		}
	}
	if len(found) != 2 {
		t.Fatalf("tasks of %v found among %d tasks, want both requests'", found, len(tasks))
	}
}
