package identityprotection

import (
	"strings"
	"testing"
	"time"
)

// Any tenant can store an event under any request id in its own log and act on it; the overlay
// is keyed by (tenant, id), so one tenant's action never shows in another tenant's event with
// the same id, whatever order the tenants were created in.
func TestOverlayKeyedByTenant(t *testing.T) {
	st, err := Open(t.TempDir(), Options{NoSync: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := fixedNow().Add(-time.Hour)
	ref := SigninRef{RequestID: "req-1", User: UserRef{ID: "u1"}, At: at}
	// Several tenants act on the same id, so a lookup by id alone would find the wrong one.
	for _, tn := range []string{"b1", "b2", "b3", "b4"} {
		if err := st.SigninAction(tn, ActSigninConfirmCompromised, "admin", []SigninRef{ref}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SigninAction("a", ActSigninConfirmSafe, "admin", []SigninRef{ref}); err != nil {
		t.Fatal(err)
	}
	row := []byte(`{"id":"req-1","riskState":"none","riskDetail":"none","riskLevelAggregated":"none"}`)
	for range 20 {
		if got := string(st.MergeSignIn("a", row)); !strings.Contains(got, `"riskState":"confirmedSafe"`) {
			t.Fatalf("tenant a reads another tenant's overlay: %s", got)
		}
		if got := string(st.MergeSignIn("b2", row)); !strings.Contains(got, `"riskState":"confirmedCompromised"`) {
			t.Fatalf("tenant b2 lost its own overlay: %s", got)
		}
		if got := string(st.MergeSignIn("c", row)); got != string(row) {
			t.Fatalf("tenant c without an overlay reads %s", got)
		}
	}
	if got := st.RiskySignins("c", at.Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("tenant c lists others' risky sign-ins: %+v", got)
	}
	if got := st.RiskySignins("a", at.Add(-time.Hour)); len(got) != 1 || got[0].RiskState != StateConfirmedSafe {
		t.Fatalf("tenant a's risky sign-ins: %+v", got)
	}
}
