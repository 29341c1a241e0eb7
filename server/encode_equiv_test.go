package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/query"
)

// equivNow is the one clock of the equivalence fixture.
var equivNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// equivRows are hand-written sign-ins with what generated ones rarely have: evolvable members
// at every place they occur, beta-only members of nested objects and of CA policies, unknown
// properties, values of the wrong type (kept as raw extras), and empty flags members.
var equivRows = []string{
	`{"id":"00000000-0000-4000-8000-000000000001","createdDateTime":"2026-03-09T10:00:00Z","userPrincipalName":"a@contoso.com",` +
		`"signInEventTypes":["interactiveUser"],"crossTenantAccessType":"passthrough","incomingTokenType":"remoteDesktopToken",` +
		`"tokenIssuerType":"AzureADBackupAuth","authenticationProtocol":"authenticationTransfer","riskDetail":"m365DAdminDismissedDetection",` +
		`"riskState":"atRisk","riskLevelAggregated":"high","riskLevelDuringSignIn":"medium","riskEventTypes_v2":["unfamiliarFeatures"],` +
		`"agent":{"agentType":"agentIdUser","agentSubjectType":"notAgentic","agentSubjectParentId":"p","parentAppId":"x"},` +
		`"deviceDetail":{"deviceId":"d","browser":"Edge","browserId":"bid","futureMember":7},"status":{"errorCode":0,"futureStatus":"x"},` +
		`"location":{"city":"Oslo","geoCoordinates":{"latitude":59.9,"longitude":10.7}},` +
		`"appliedConditionalAccessPolicies":[{"id":"p1","displayName":"MFA","enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],` +
		`"result":"reportOnlyFailure","conditionsSatisfied":"application,authenticationFlows,users","conditionsNotSatisfied":"a,,b",` +
		`"includeRulesSatisfied":[{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]},` +
		`{"id":"p2","displayName":"Block","result":"success","conditionsSatisfied":"none"}],"futureTopLevel":{"x":1}}`,
	`{"id":"00000000-0000-4000-8000-000000000002","createdDateTime":"2026-03-09T11:00:00Z","signInEventTypes":["interactiveUser"],` +
		`"crossTenantAccessType":"b2bCollaboration","authenticationProtocol":"deviceCode","riskDetail":"none","riskState":"none","riskEventTypes_v2":[],"tokenIssuerType":"UnknownFutureValue",` +
		`"appliedConditionalAccessPolicies":{"not":"an array"},"agent":null}`,
	`{"id":"00000000-0000-4000-8000-000000000003","createdDateTime":"2026-03-09T12:00:00Z","signInEventTypes":["interactiveUser"],` +
		`"riskDetail":"hidden","riskState":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskEventTypes_v2":null,` +
		`"appliedConditionalAccessPolicies":[]}`,
}

const (
	equivTenant = "aaaaaaaa-1111-4111-8111-111111111111"
	equivOther  = "bbbbbbbb-2222-4222-8222-222222222222"
)

// equivFixture is a database of generated and hand-written sign-ins for two tenants (the
// hand-written ones in both, under the same ids) and an Identity Protection store whose
// overlays touch some of them, for the first tenant only on the shared ids.
func equivFixture(t *testing.T) (*engine.DB, *identityprotection.Store, [][]byte) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := engine.Open(t.TempDir(), engine.Options{Retention: -1, NoSync: true, Now: func() time.Time { return equivNow }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var genBuf bytes.Buffer
	if _, _, err := gen.Write(&genBuf, gen.Config{Events: 3000, Seed: 5, Tenant: equivTenant, Start: equivNow.AddDate(0, 0, -3), End: equivNow}); err != nil {
		t.Fatal(err)
	}
	hand := strings.Join(equivRows, "\n") + "\n"
	for _, src := range []struct {
		tenant string
		body   string
	}{{equivTenant, genBuf.String() + hand}, {equivOther, hand}} {
		rej := &rejects{}
		if _, err := load.Load(context.Background(), db, []load.Source{{Name: "t", R: strings.NewReader(src.body)}}, load.Options{Tenant: src.tenant, Rejects: rej}); err != nil {
			t.Fatal(err)
		}
		if len(rej.reasons) > 0 {
			t.Fatalf("rejected: %v", rej.reasons)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := identityprotection.Open(t.TempDir(), identityprotection.Options{NoSync: true, Now: func() time.Time { return equivNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Overlay every 37th generated sign-in and the hand-written ones, in three kinds.
	var ids []string
	for i, line := range bytes.Split(bytes.TrimSpace(genBuf.Bytes()), []byte("\n")) {
		if i%37 != 0 {
			continue
		}
		var m struct{ ID string }
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	ids = append(ids, "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003")
	kinds := []string{identityprotection.ActSigninConfirmCompromised, identityprotection.ActSigninConfirmSafe, identityprotection.ActSigninDismiss}
	for i, id := range ids {
		ref := identityprotection.SigninRef{RequestID: id, User: identityprotection.UserRef{ID: "u" + id[:4]}, At: equivNow.Add(-time.Hour)}
		if err := st.SigninAction(equivTenant, kinds[i%3], "admin", []identityprotection.SigninRef{ref}); err != nil {
			t.Fatal(err)
		}
	}
	// The other tenant has an overlay too (so its lookup is not simply nil), on another id.
	if err := st.SigninAction(equivOther, identityprotection.ActSigninConfirmCompromised, "admin",
		[]identityprotection.SigninRef{{RequestID: "00000000-0000-4000-8000-0000000000ff", User: identityprotection.UserRef{ID: "u"}, At: equivNow}}); err != nil {
		t.Fatal(err)
	}
	return db, st, nil
}

type rejects struct{ reasons []string }

func (r *rejects) Reject(source string, line, column int, reason string, raw []byte) error {
	r.reasons = append(r.reasons, fmt.Sprintf("line %d: %s", line, reason))
	return nil
}

func equivQuery(t *testing.T, db *engine.DB, tenant string, req query.Request) [][]byte {
	t.Helper()
	snap, err := db.Snapshot(tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	req.Top = 10_000
	req.Now = func() time.Time { return equivNow }
	res, err := query.Run(context.Background(), columnar.SignIns, snap.Source(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

// The encoder's adaptation (v1.0 projection, hidden evolvable members, risk overlay) writes
// the same JSON values as the server's former path: rows encoded as stored, merged with the
// overlay (MergeSignIn) and rewritten after a parse (rowRewriter).
func TestEncoderAdaptsAsRewriteDid(t *testing.T) {
	db, st, _ := equivFixture(t)
	for _, tenant := range []string{equivTenant, equivOther} {
		for _, v1 := range []bool{false, true} {
			for _, keep := range []bool{false, true} {
				for _, overlay := range []bool{false, true} {
					for _, sel := range [][]string{nil, {"id", "riskDetail", "riskState", "riskEventTypes_v2", "appliedConditionalAccessPolicies", "deviceDetail", "status"}} {
						name := fmt.Sprintf("%s/v1=%v/keep=%v/overlay=%v/select=%d", tenant[:4], v1, keep, overlay, len(sel))
						t.Run(name, func(t *testing.T) {
							ver := columnar.Beta
							if v1 {
								ver = columnar.V1
							}
							if v1 && sel != nil {
								sel = []string{"id", "riskDetail", "riskState", "riskEventTypes_v2", "appliedConditionalAccessPolicies", "deviceDetail", "status"}
							}
							// The rows as the server got them before: in beta, narrowed to v1.0's
							// top-level properties by the projection alone.
							storedSel := sel
							if v1 && sel == nil {
								for _, p := range columnar.SignIns.Properties {
									if p.Version()&columnar.V1 != 0 {
										storedSel = append(storedSel, p.Name)
									}
								}
							}
							stored := equivQuery(t, db, tenant, query.Request{Select: storedSel})
							req := query.Request{Version: ver, Select: sel, HideEvolvedEnums: !keep}
							if overlay {
								req.Risk = st.RiskLookup(tenant)
							}
							got := equivQuery(t, db, tenant, req)
							if len(got) != len(stored) || len(got) < len(equivRows) {
								t.Fatalf("%d rows, %d stored", len(got), len(stored))
							}
							rw := &rowRewriter{v1: v1, keepEvolved: keep}
							changed := 0
							for i := range got {
								if !bytes.Equal(got[i], stored[i]) {
									changed++
								}
								if i%equivRowSample != 0 && !bytes.Contains(got[i], []byte(`"id":"00000000-0000-4000-8000-`)) {
									continue
								}
								row := stored[i]
								if overlay {
									row = st.MergeSignIn(tenant, row)
								}
								want := rw.rewrite(nil, row)
								if !sameJSON(t, got[i], want) {
									t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], want)
								}
							}
							if (v1 || !keep || overlay && tenant == equivTenant) && changed == 0 {
								t.Fatalf("no row was adapted: the fixture does not exercise this case")
							}
						})
					}
				}
			}
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// An overlay of tenant A never colours tenant B's sign-in with the same id: B's rows are
// written with B's lookup, which cannot find A's entries.
func TestRiskOverlayIsPerTenant(t *testing.T) {
	db, st, _ := equivFixture(t)
	const id = "00000000-0000-4000-8000-000000000001"
	find := func(tenant string) map[string]any {
		rows := equivQuery(t, db, tenant, query.Request{Risk: st.RiskLookup(tenant), HideEvolvedEnums: true})
		for _, r := range rows {
			var m map[string]any
			if err := json.Unmarshal(r, &m); err != nil {
				t.Fatal(err)
			}
			if m["id"] == id {
				return m
			}
		}
		t.Fatalf("tenant %s has no sign-in %s", tenant, id)
		return nil
	}
	// id is the first overlaid id of its kind list index: see equivFixture (confirmCompromised,
	// confirmSafe or dismiss, all of which change riskState).
	if a := find(equivTenant); a["riskState"] == "atRisk" {
		t.Fatalf("tenant A's own overlay is not applied: %v", a["riskState"])
	}
	b := find(equivOther)
	if b["riskState"] != "atRisk" || b["riskLevelAggregated"] != "high" || !reflect.DeepEqual(b["riskEventTypes_v2"], []any{"unfamiliarFeatures"}) {
		t.Fatalf("tenant B's sign-in shows another tenant's overlay: %v %v %v", b["riskState"], b["riskLevelAggregated"], b["riskEventTypes_v2"])
	}
}
