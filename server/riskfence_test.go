package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/authlake/authlake/identityprotection"
)

// Tenant B ingests a copy of one of A's sign-in ids into its own log and acts on it. A's view of
// its own event (get, list, risky users, the risky sign-ins report) must not change.
func TestRiskActionOfAnotherTenantLeavesViewUnchanged(t *testing.T) {
	e, risk := fenceEnv(t, nil)
	var xs []string
	for i := range 8 { // several ids: the old lookup picked a tenant in map order
		xs = append(xs, guid(9100+i))
	}
	var own, copies []event
	for _, x := range xs {
		own = append(own, signInOf(x, tenantA, tenantA, false))
		copies = append(copies, signInOf(x, tenantB, tenantB, true))
	}
	e.ingest(tenantA, own...)
	e.ingest(tenantB, copies...)

	// A's admin confirms its own sign-ins safe: A's overlay, which A's report lists.
	post := func(tenant, action string) {
		t.Helper()
		tok := e.token(tenant, "IdentityRiskEvent.ReadWrite.All", "IdentityRiskyUser.ReadWrite.All")
		body := `{"requestIds":["` + strings.Join(xs, `","`) + `"]}`
		if r := e.do(http.MethodPost, "/beta/auditLogs/signIns/"+action, tok, strings.NewReader(body), "Content-Type", "application/json"); r.status != http.StatusNoContent {
			t.Fatalf("%s by %s: %d %s", action, tenant, r.status, r.body)
		}
	}
	post(tenantA, "confirmSafe")
	before := map[string]map[string]any{}
	for _, x := range xs {
		before[x] = e.getAs(tenantA, x)
	}
	reader := e.token(tenantA, "IdentityRiskyUser.Read.All", "IdentityRiskEvent.Read.All")
	usersBefore := string(e.get("/beta/identityProtection/riskyUsers", reader).body)

	post(tenantB, "confirmCompromised")

	for _, x := range xs {
		got := e.getAs(tenantA, x)
		for _, k := range []string{"riskState", "riskDetail", "riskLevelAggregated", "userAgent"} {
			if got[k] != before[x][k] {
				t.Fatalf("A's get of %s: %s changed from %v to %v after B's action", x, k, before[x][k], got[k])
			}
		}
		if got["riskState"] != "confirmedSafe" {
			t.Fatalf("A's get of %s: riskState %v, want A's confirmedSafe", x, got["riskState"])
		}
	}
	listed := e.listAs(tenantA)
	for _, x := range xs {
		if got := listed[x]; len(got) != 1 || got[0]["riskState"] != "confirmedSafe" {
			t.Fatalf("A's list of %s: %v, want A's confirmedSafe", x, got)
		}
	}
	if after := string(e.get("/beta/identityProtection/riskyUsers", reader).body); after != usersBefore {
		t.Fatalf("A's risky users changed after B's action:\nbefore %s\nafter  %s", usersBefore, after)
	}
	rep, err := risk.ListRiskySignins(context.Background(), e.db, tenantA, identityprotection.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != len(xs) {
		t.Fatalf("A's risky sign-ins report has %d rows, want %d", len(rep.Rows), len(xs))
	}
	for _, row := range rep.Rows {
		if row["riskState"] != "confirmedSafe" || row["userAgent"] != "genuine" {
			t.Fatalf("A's risky sign-ins report row %v: riskState %v userAgent %v, want A's confirmedSafe genuine event", row["id"], row["riskState"], row["userAgent"])
		}
	}
	// B's own view has B's action.
	if got := e.getAs(tenantB, xs[0]); got["riskState"] != "confirmedCompromised" {
		t.Fatalf("B's get: riskState %v, want confirmedCompromised", got["riskState"])
	}
}
