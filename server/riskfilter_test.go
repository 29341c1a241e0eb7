package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestRiskFilterAgreesWithRows: after admin actions on sign-ins, $filter, $count, $orderby and
// $apply on risk properties see the state the rows show (it once filtered on the ingested
// riskState and returned a row shown as "dismissed" for riskState eq 'atRisk'), and another
// tenant's sign-ins with the same ids keep their own.
func TestRiskFilterAgreesWithRows(t *testing.T) {
	e, _ := fenceEnv(t, nil)
	var xs []string
	var own, other []event
	for i := range 6 {
		x := guid(9300 + i)
		xs = append(xs, x)
		ev := signInOf(x, tenantA, tenantA, false)
		ev.extra["riskState"], ev.extra["riskLevelDuringSignIn"] = "atRisk", "high"
		own = append(own, ev)
		evB := signInOf(x, tenantB, tenantB, false)
		evB.extra["riskState"] = "atRisk"
		other = append(other, evB)
	}
	e.ingest(tenantA, own...)
	e.ingest(tenantB, other...)
	dismissed, safe := xs[:2], xs[2:3]
	act := func(action string, ids []string) {
		t.Helper()
		tok := e.token(tenantA, "IdentityRiskEvent.ReadWrite.All")
		body := `{"requestIds":["` + strings.Join(ids, `","`) + `"]}`
		if r := e.do(http.MethodPost, "/beta/auditLogs/signIns/"+action, tok, strings.NewReader(body), "Content-Type", "application/json"); r.status != http.StatusNoContent {
			t.Fatalf("%s: %d %s", action, r.status, r.body)
		}
	}
	act("dismiss", dismissed)
	act("confirmSafe", safe)

	list := func(tenant, query string) (ids []string, states []string, count float64) {
		t.Helper()
		r := e.get("/beta/auditLogs/signIns?"+query, e.token(tenant, "AuditLog.Read.All"))
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		body := r.json(t)
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			ids = append(ids, m["id"].(string))
			states = append(states, m["riskState"].(string))
		}
		c, _ := body["@odata.count"].(float64)
		return ids, states, c
	}
	q := func(filter string) string { return "$count=true&$filter=" + url.QueryEscape(filter) }
	for state, want := range map[string][]string{"atRisk": xs[3:], "dismissed": dismissed, "confirmedSafe": safe} {
		ids, states, count := list(tenantA, q("riskState eq '"+state+"'"))
		slices.Sort(ids)
		if !slices.Equal(ids, want) || int(count) != len(want) {
			t.Fatalf("riskState eq '%s': %v (count %v), want %v", state, ids, count, want)
		}
		for _, s := range states {
			if s != state {
				t.Fatalf("riskState eq '%s' returned a row shown as %s", state, s)
			}
		}
	}
	// Ordered by riskState, the rows come in the order of what they show.
	_, states, _ := list(tenantA, "$orderby=riskState")
	if !slices.IsSorted(states) || len(states) != 6 {
		t.Fatalf("$orderby=riskState: %v", states)
	}
	// Aggregated, the counts are those of the rows shown.
	r := e.get("/beta/auditLogs/signIns?$apply="+url.QueryEscape("groupby((riskState),aggregate($count as n))"), e.token(tenantA, "AuditLog.Read.All"))
	got := map[string]float64{}
	for _, v := range r.json(t)["value"].([]any) {
		m := v.(map[string]any)
		got[m["riskState"].(string)] = m["n"].(float64)
	}
	if got["atRisk"] != 3 || got["dismissed"] != 2 || got["confirmedSafe"] != 1 || len(got) != 3 {
		t.Fatalf("$apply groupby riskState: %v", got)
	}
	// Tenant B's sign-ins with the same ids are untouched by A's actions.
	ids, _, count := list(tenantB, q("riskState eq 'atRisk'"))
	if len(ids) != 6 || count != 6 {
		t.Fatalf("tenant B's atRisk sign-ins: %v (count %v)", ids, count)
	}
}
