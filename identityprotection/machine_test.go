package identityprotection

import (
	"fmt"
	"strings"
	"testing"
)

// TestTransitionTable covers every event from every state; the expected table is written
// out so that a change to the machine shows up as a diff here.
func TestTransitionTable(t *testing.T) {
	want := `
none detect atRisk/none H
none confirmCompromised confirmedCompromised/adminConfirmedUserCompromised H
none dismiss none/ -
none confirmSafe none/ -
none tempPassword none/ H
none requireReset none/ H
none block none/ H
none unblock none/ H
none mfaRemediation none/ -
none passwordChange none/ -
none passwordReset none/ -
none signinCompromised atRisk/adminConfirmedSigninCompromised H
none allClosed none/ -
atRisk detect atRisk/none H
atRisk confirmCompromised confirmedCompromised/adminConfirmedUserCompromised H
atRisk dismiss dismissed/adminDismissedAllRiskForUser H C
atRisk confirmSafe confirmedSafe/adminConfirmedAccountSafe H C
atRisk tempPassword remediated/adminGeneratedTemporaryPassword H C
atRisk requireReset atRisk/ H
atRisk block atRisk/ H
atRisk unblock atRisk/ H
atRisk mfaRemediation remediated/userPassedMFADrivenByRiskBasedPolicy H C
atRisk passwordChange remediated/userPerformedSecuredPasswordChange H C
atRisk passwordReset remediated/userPerformedSecuredPasswordReset H C
atRisk signinCompromised atRisk/adminConfirmedSigninCompromised H
atRisk allClosed dismissed/aiConfirmedSigninSafe H
confirmedCompromised detect confirmedCompromised/ H
confirmedCompromised confirmCompromised confirmedCompromised/ -
confirmedCompromised dismiss dismissed/adminDismissedAllRiskForUser H C
confirmedCompromised confirmSafe confirmedSafe/adminConfirmedAccountSafe H C
confirmedCompromised tempPassword remediated/adminGeneratedTemporaryPassword H C
confirmedCompromised requireReset confirmedCompromised/ H
confirmedCompromised block confirmedCompromised/ H
confirmedCompromised unblock confirmedCompromised/ H
confirmedCompromised mfaRemediation confirmedCompromised/ -
confirmedCompromised passwordChange remediated/userPerformedSecuredPasswordChange H C
confirmedCompromised passwordReset remediated/userPerformedSecuredPasswordReset H C
confirmedCompromised signinCompromised confirmedCompromised/ H
confirmedCompromised allClosed confirmedCompromised/ -
`
	var b strings.Builder
	b.WriteString("\n")
	for _, from := range UserStates {
		for _, ev := range UserEvents {
			st := Transition(from, ev, DetailAIConfirmedSigninSafe)
			h, c := "-", ""
			if st.History {
				h = "H"
			}
			if st.Closes {
				c = " C"
			}
			line := fmt.Sprintf("%s %s %s/%s %s%s\n", from, ev, st.To, st.Detail, h, c)
			if from == StateNone || from == StateAtRisk || from == StateConfirmedCompromised {
				b.WriteString(line)
			}
			// Closed states: a detection reopens risk, admin confirmations apply, nothing
			// else remediates what is not at risk.
			if from == StateRemediated || from == StateDismissed || from == StateConfirmedSafe {
				switch ev {
				case EvDetect:
					if st.To != StateAtRisk {
						t.Errorf("%s %s -> %s", from, ev, st.To)
					}
				case EvConfirmCompromised:
					if st.To != StateConfirmedCompromised {
						t.Errorf("%s %s -> %s", from, ev, st.To)
					}
				case EvMFARemediation, EvPasswordChange, EvPasswordReset, EvAllClosed:
					if st.To != from || st.History {
						t.Errorf("%s %s changed a closed user: %+v", from, ev, st)
					}
				case EvDismiss:
					if (from == StateDismissed) != (st.To == from && !st.History) {
						t.Errorf("%s %s: %+v", from, ev, st)
					}
				}
			}
		}
	}
	if b.String() != want {
		t.Errorf("transition table changed:\n%s", b.String())
	}
}

// TestActionsOnStore drives actions through the store and checks detections, overlay and
// history together.
func TestActionsOnStore(t *testing.T) {
	st, err := Open(t.TempDir(), Options{NoSync: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const tn = "t1"
	e := craftEvent("req-1", "u1", fixedNow())
	d := signinDetection(tn, TypeUnfamiliarFeatures, LevelMedium, TimingRealtime, e, fixedNow())
	if n, _ := st.AddDetections(tn, []Detection{d, d}); n != 1 {
		t.Fatalf("added %d, want 1 (dedupe by id)", n)
	}
	row := []byte(`{"id":"req-1","riskState":"none","riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskEventTypes_v2":[],"status":{"errorCode":0}}`)
	if got := string(st.MergeSignIn(tn, row)); !strings.Contains(got, `"riskState":"atRisk"`) || !strings.Contains(got, `"riskLevelDuringSignIn":"medium"`) ||
		!strings.Contains(got, `"riskEventTypes_v2":["unfamiliarFeatures"]`) {
		t.Errorf("merged: %s", got)
	}
	// require reset refused for an unregistered user, accepted once registered
	if err := st.UserAction(tn, EvRequireReset, "admin", []UserRef{{ID: "u1"}}); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("require reset: %v", err)
	}
	if err := st.SetTenantConfig(tn, TenantConfig{Licence: LicenceP2, Registrations: map[string]Registration{"u1": {MFA: true, SSPR: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.UserAction(tn, EvRequireReset, "admin", []UserRef{{ID: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.UserAction(tn, EvTempPassword, "admin", []UserRef{{ID: "u1"}}); err != nil {
		t.Fatal(err)
	}
	u, _ := st.RiskyUser(tn, "u1")
	if u.RiskState != StateRemediated || u.RiskDetail != DetailAdminGeneratedTemporaryPassword || u.RiskLevel != LevelNone {
		t.Errorf("after temp password: %+v", u)
	}
	if got := string(st.MergeSignIn(tn, row)); !strings.Contains(got, `"riskState":"remediated"`) {
		t.Errorf("overlay after remediation: %s", got)
	}
	// block, policy, unblock
	if err := st.UserAction(tn, EvBlock, "admin", []UserRef{{ID: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if p, b := st.BlockedByRiskPolicy(tn, "u1", LevelNone); !b || p != "adminBlocked" {
		t.Errorf("blocked: %q %v", p, b)
	}
	st.UserAction(tn, EvUnblock, "admin", []UserRef{{ID: "u1"}})
	tc := st.TenantConfig(tn)
	tc.SignInRiskPolicy = &Policy{Name: "Block high sign-in risk", Enabled: true, Level: LevelHigh, Action: PolicyBlock, Excluded: []string{"u2"}}
	if err := st.SetTenantConfig(tn, tc); err != nil {
		t.Fatal(err)
	}
	if p, b := st.BlockedByRiskPolicy(tn, "u1", LevelHigh); !b || p != "Block high sign-in risk" {
		t.Errorf("policy: %q %v", p, b)
	}
	if _, b := st.BlockedByRiskPolicy(tn, "u1", LevelMedium); b {
		t.Error("medium blocked by a high policy")
	}
	if _, b := st.BlockedByRiskPolicy(tn, "u2", LevelHigh); b {
		t.Error("excluded user blocked")
	}
	tc.SignInRiskPolicy.Level = "severe"
	if err := st.SetTenantConfig(tn, tc); err == nil {
		t.Error("bad policy level accepted")
	}
	h, _ := st.History(tn, "u1")
	var kinds []string
	for _, it := range h {
		by := "system"
		if it.InitiatedBy != nil {
			by = *it.InitiatedBy
		}
		kinds = append(kinds, it.RiskState+"/"+it.Activity.Detail+"@"+by)
	}
	want := "atRisk/none@system atRisk/none@admin remediated/adminGeneratedTemporaryPassword@admin remediated/none@admin remediated/none@admin"
	if strings.Join(kinds, " ") != want {
		t.Errorf("history:\n got %s\nwant %s", strings.Join(kinds, " "), want)
	}
	// licence: P1 hides levels and details, detections become generic
	tc.Licence = LicenceP1
	tc.SignInRiskPolicy = nil
	st.SetTenantConfig(tn, tc)
	if ds := st.Detections(tn); ds[0].RiskEventType != TypeGeneric || ds[0].RiskLevel != LevelHidden {
		t.Errorf("P1 detection: %+v", ds[0])
	}
	if got := string(st.MergeSignIn(tn, row)); !strings.Contains(got, `"riskDetail":"hidden"`) {
		t.Errorf("P1 overlay: %s", got)
	}
}
