package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

// Tenant B holds a token with AuthLake.Ingest and writes a failed, flagged sign-in naming one
// of tenant A's users. A must not read it, and A's genuine event with the same id, ingested
// afterwards, is stored and served as A sent it (not answered as a duplicate).
func TestHTTPIngestCannotWriteAnotherTenantsLog(t *testing.T) {
	e, _ := fenceEnv(t, nil)
	x := guid(9001)
	if res := e.ingest(tenantB, signInOf(x, tenantB, tenantA, true)); res.Accepted != 1 {
		t.Fatalf("B's ingest: %+v", res)
	}
	if got := e.getAs(tenantA, x); got != nil {
		t.Fatalf("A reads B's forged event: %v", got["userAgent"])
	}
	if got := e.listAs(tenantA); len(got) != 0 {
		t.Fatalf("A lists %d events after B's forgery, want none", len(got))
	}
	flagged := e.get("/beta/auditLogs/signIns?$filter=flaggedForReview%20eq%20true", e.token(tenantA, "AuditLog.Read.All"))
	if got := ids(t, flagged); len(got) != 0 {
		t.Fatalf("A's flagged sign-ins show B's forgery: %v", got)
	}

	res := e.ingest(tenantA, signInOf(x, tenantB, tenantA, false))
	if res.Accepted != 1 || res.Duplicates != 0 {
		t.Fatalf("A's genuine event after B's forgery: %+v, want accepted", res)
	}
	if got := e.getAs(tenantA, x); got == nil || got["userAgent"] != "genuine" || got["flaggedForReview"] != false {
		t.Fatalf("A's get serves %v, want A's genuine event", got)
	}
	if got := e.listAs(tenantA)[x]; len(got) != 1 || got[0]["userAgent"] != "genuine" {
		t.Fatalf("A's list serves %v, want A's genuine event once", got)
	}
	if got := e.getAs(tenantB, x); got == nil || got["userAgent"] != "forged" {
		t.Fatalf("B's own log lost its event: %v", got)
	}
}

// With the operator's trust (A accepts B's reports, in the engine and the server config), B's
// reports of A's users' sign-ins into B appear in A's log marked as reported by B, also on
// /v1.0 and under $select; A's own event with the same id is stored and wins.
func TestHTTPTrustedCopiesMarkedNeverShadowOwn(t *testing.T) {
	trust := map[string][]string{tenantA: {tenantB}}
	e, _ := fenceEnv(t, func(c *server.Config, o *engine.Options) { c.Trust, o.Trust = trust, trust })
	x, y, w := guid(9201), guid(9202), guid(9203)
	e.ingest(tenantA, signInOf(w, tenantB, tenantA, false))
	if res := e.ingest(tenantB, signInOf(x, tenantB, tenantA, true), signInOf(y, tenantB, tenantA, true), signInOf(w, tenantB, tenantA, true)); res.Accepted != 3 {
		t.Fatalf("B's ingest: %+v", res)
	}
	for _, id := range []string{x, y} {
		got := e.getAs(tenantA, id)
		if got == nil || got["userAgent"] != "forged" || got["@authlake.reportedBy"] != tenantB {
			t.Fatalf("A's get of B's report %s: %v", id, got)
		}
	}
	if got := e.getAs(tenantA, w); got["userAgent"] != "genuine" || got["@authlake.reportedBy"] != nil {
		t.Fatalf("B's report of w shows instead of A's own: %v", got)
	}
	v1 := e.get("/v1.0/auditLogs/signIns/"+y+"?$select=id", e.token(tenantA, "AuditLog.Read.All"))
	if v1.status != http.StatusOK || v1.json(t)["@authlake.reportedBy"] != tenantB {
		t.Fatalf("/v1.0 with $select drops the mark: %d %s", v1.status, v1.body)
	}

	res := e.ingest(tenantA, signInOf(x, tenantB, tenantA, false))
	if res.Accepted != 1 || res.Duplicates != 0 {
		t.Fatalf("A's own event after B's copy: %+v", res)
	}
	if got := e.getAs(tenantA, x); got["userAgent"] != "genuine" || got["@authlake.reportedBy"] != nil {
		t.Fatalf("A's get after its own event arrived: %v", got)
	}
	listed := e.listAs(tenantA)
	if len(listed) != 3 || len(listed[x]) != 1 || listed[x][0]["userAgent"] != "genuine" || listed[y][0]["@authlake.reportedBy"] != tenantB {
		t.Fatalf("A's list: %v", listed)
	}
	if got := e.getAs(tenantB, x); got["userAgent"] != "forged" || got["@authlake.reportedBy"] != nil {
		t.Fatalf("B's own log: %v", got)
	}
}

// The server cannot change what the engine writes and reads: a config whose trust differs from
// the database's is refused.
func TestServerRefusesTrustTheDatabaseLacks(t *testing.T) {
	db, err := engine.Open(t.TempDir(), engine.Options{NoSync: true, DisableBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = server.New(server.Options{Config: server.Config{Trust: map[string][]string{tenantA: {tenantB}}}, DB: db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "trust") {
		t.Fatalf("server.New with a trust the database lacks: %v", err)
	}
}
