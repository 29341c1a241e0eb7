package server_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	rtrace "runtime/trace"
	"testing"

	"golang.org/x/exp/trace"
)

// Under an execution trace each request is a task of type "http" whose handler runs in a
// region "request", with its route and client-request-id logged into it (what
// bench/tracetasks groups and attributes by).
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

	rd, err := trace.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	type task struct {
		typ         string
		logs        map[string]string
		regions     []string
		begun, done bool
	}
	tasks := map[trace.TaskID]*task{}
	of := func(id trace.TaskID) *task {
		if tasks[id] == nil {
			tasks[id] = &task{logs: map[string]string{}}
		}
		return tasks[id]
	}
	for {
		ev, err := rd.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind() {
		case trace.EventTaskBegin:
			tk := of(ev.Task().ID)
			tk.typ, tk.begun = ev.Task().Type, true
		case trace.EventTaskEnd:
			of(ev.Task().ID).done = true
		case trace.EventLog:
			of(ev.Log().Task).logs[ev.Log().Category] = ev.Log().Message
		case trace.EventRegionBegin:
			tk := of(ev.Region().Task)
			tk.regions = append(tk.regions, ev.Region().Type)
		}
	}
	found := map[string]bool{}
	for _, tk := range tasks {
		id := tk.logs["client-request-id"]
		want := map[string]string{"traced-list": "signIns.list", "traced-get": "signIns.get"}[id]
		if want == "" {
			continue
		}
		found[id] = true
		if tk.typ != "http" || !tk.begun || !tk.done || tk.logs["route"] != want || len(tk.regions) == 0 || tk.regions[0] != "request" {
			t.Errorf("%s: task %+v, want type http, begun and ended, route %s, first region request", id, tk, want)
		}
	}
	if len(found) != 2 {
		t.Fatalf("tasks of %v found among %d tasks, want both requests'", found, len(tasks))
	}
}
