package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

// With every query slot taken, a sign-in fetched by id is still answered; a list waits for a
// slot and is answered once one is free; a list whose client gives up while it waits leaves
// the queue. Counted by the queue's gauge, never by time.
func TestListQueriesQueueForASlotAndGetByIDDoesNot(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *engine.Options) { c.Limits.MaxConcurrentQueries = 1 })
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	release := e.srv.HoldQuerySlots(1)
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	// Bounded, so that a get that queued fails loudly instead of hanging the test.
	bounded, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	req, _ := http.NewRequestWithContext(bounded, http.MethodGet, e.ts.URL+"/v1.0/auditLogs/signIns/"+guid(1), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("get by id with every slot taken: %v (did it wait for a slot?)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get by id with every slot taken: %d", resp.StatusCode)
	}
	if n := e.srv.QueriesWaiting(); n != 0 {
		t.Fatalf("a get by id queued: %d waiting", n)
	}

	// A client that gives up while it waits.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.ts.URL+"/v1.0/auditLogs/signIns?$top=5", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := e.ts.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gaveUp <- err
	}()
	waitFor(t, "the first list to queue", func() bool { return e.srv.QueriesWaiting() == 1 })
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled request got an answer while every slot was taken")
	}
	waitFor(t, "the cancelled list to leave the queue", func() bool { return e.srv.QueriesWaiting() == 0 })

	// A client that waits is answered once a slot is free.
	answered := make(chan response, 1)
	go func() { answered <- e.get("/v1.0/auditLogs/signIns?$top=5", tok) }()
	waitFor(t, "the second list to queue", func() bool { return e.srv.QueriesWaiting() == 1 })
	select {
	case r := <-answered:
		t.Fatalf("a list was answered while every slot was taken: %d", r.status)
	default:
	}
	release()
	released = true
	if r := <-answered; r.status != http.StatusOK || len(r.json(t)["value"].([]any)) == 0 {
		t.Fatalf("queued list: %d %s", r.status, r.body)
	}
}
