package gen

import "testing"

func share(n, total int64) float64 { return float64(n) / float64(total) }

func TestDistributions(t *testing.T) {
	loadFixture(t)
	evs := fixture.events
	total := int64(len(evs))
	var fails, flagged, cross, risky int64
	kinds := map[string]int64{}
	codes := map[int]int64{}
	for i := range evs {
		e := &evs[i]
		kinds[e.kind()]++
		if e.Status.ErrorCode != 0 {
			fails++
			codes[e.Status.ErrorCode]++
		}
		if e.FlaggedForReview {
			flagged++
		}
		if e.HomeTenantID != "" && e.HomeTenantID != e.ResourceTenantID {
			cross++
		}
		if e.RiskLevelDuringSignIn != "none" {
			risky++
		}
	}

	check := func(name string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s share %.4f outside [%.4f, %.4f]", name, got, lo, hi)
		}
	}
	check("failure", share(fails, total), 0.10, 0.15)
	for name, want := range map[string]float64{"interactiveUser": 0.35, "nonInteractiveUser": 0.55, "servicePrincipal": 0.07, "managedIdentity": 0.03} {
		check(name, share(kinds[name], total), want-0.025, want+0.025)
	}
	check("flagged", share(flagged, total), 0.0005, 0.002)
	check("cross-tenant", share(cross, total), 0.02, 0.045)
	check("risky", share(risky, total), 0.005, 0.018)

	// 50126 (bad password) is the most frequent failure.
	for c, n := range codes {
		if c != 50126 && n >= codes[50126] {
			t.Errorf("error %d (%d) at least as frequent as 50126 (%d)", c, n, codes[50126])
		}
	}
	for _, c := range []int{50074, 50140, 53003, 500121, 50076, 50053, 70044, 50058, 50072, 50097, 65001, 7000215, 700016, 50105, 530035, 81010} {
		if codes[c] == 0 {
			t.Errorf("no event with error %d", c)
		}
	}

	// Stats are ground truth: they must match what the data says.
	s := fixture.stats
	if s.Events != total || s.Failures != fails || s.Flagged != flagged || s.CrossTenant != cross || s.Risky != risky {
		t.Errorf("Stats %+v disagree with data: events %d failures %d flagged %d cross %d risky %d", s, total, fails, flagged, cross, risky)
	}
	for k, n := range kinds {
		if s.ByEventType[k] != n {
			t.Errorf("Stats.ByEventType[%s] = %d, data %d", k, s.ByEventType[k], n)
		}
	}
	for c, n := range codes {
		if s.FailuresByCode[c] != n {
			t.Errorf("Stats.FailuresByCode[%d] = %d, data %d", c, s.FailuresByCode[c], n)
		}
	}
	if s.Bytes != int64(len(fixture.raw)) {
		t.Errorf("Stats.Bytes = %d, output %d", s.Bytes, len(fixture.raw))
	}
}

func TestUsersAreZipfLike(t *testing.T) {
	loadFixture(t)
	perUser := map[string]int{}
	var userEvents int
	for i := range fixture.events {
		if e := &fixture.events[i]; e.UserID != "" {
			perUser[e.UserID]++
			userEvents++
		}
	}
	top, distinct := 0, len(perUser)
	for _, n := range perUser {
		top = max(top, n)
	}
	mean := float64(userEvents) / float64(distinct)
	// Heavy head, long tail: the busiest user is well above the mean but
	// does not dominate.
	if float64(top) < 4*mean || float64(top) > 0.1*float64(userEvents) {
		t.Errorf("top user %d events, mean %.1f, total %d", top, mean, userEvents)
	}
	if distinct < 200 {
		t.Errorf("only %d distinct users", distinct)
	}
}

func TestEventInvariants(t *testing.T) {
	loadFixture(t)
	for i := range fixture.events {
		e := &fixture.events[i]
		if len(e.SignInEventTypes) != 1 {
			t.Fatalf("event %d: signInEventTypes %v", i, e.SignInEventTypes)
		}
		if e.IsInteractive != (e.kind() == "interactiveUser") {
			t.Fatalf("event %d: isInteractive %v for %s", i, e.IsInteractive, e.kind())
		}
		ok := e.Status.ErrorCode == 0
		if ok != (e.UniqueTokenIdentifier != "") {
			t.Fatalf("event %d: errorCode %d with uniqueTokenIdentifier %q", i, e.Status.ErrorCode, e.UniqueTokenIdentifier)
		}
		if ok && e.Status.FailureReason != "Other." || !ok && e.Status.FailureReason == "" {
			t.Fatalf("event %d: failureReason %q for %d", i, e.Status.FailureReason, e.Status.ErrorCode)
		}
		workload := e.kind() == "servicePrincipal" || e.kind() == "managedIdentity"
		if workload != (e.UserID == "") || workload != (e.ServicePrincipalID != "") {
			t.Fatalf("event %d (%s): userId %q servicePrincipalId %q", i, e.kind(), e.UserID, e.ServicePrincipalID)
		}
		if (e.kind() == "managedIdentity") != (e.ManagedServiceIdentity != nil) {
			t.Fatalf("event %d (%s): managedServiceIdentity %v", i, e.kind(), e.ManagedServiceIdentity)
		}
		if workload && (len(e.Policies) != 0 || e.ConditionalAccessStatus != "notApplied") {
			t.Fatalf("event %d: workload sign-in with CA %s", i, e.ConditionalAccessStatus)
		}
		if e.UserType != nil && *e.UserType == "guest" != (e.CrossTenantAccessType == "b2bCollaboration") {
			t.Fatalf("event %d: userType %s with crossTenantAccessType %s", i, *e.UserType, e.CrossTenantAccessType)
		}
		if e.RiskLevelDuringSignIn != "none" && (e.RiskState != "atRisk" || len(e.RiskEventTypesV2) == 0) {
			t.Fatalf("event %d: risk %s state %s types %v", i, e.RiskLevelDuringSignIn, e.RiskState, e.RiskEventTypesV2)
		}
		if !workload {
			checkCA(t, i, e)
		}
	}
}

// checkCA recomputes conditionalAccessStatus from the policy results.
func checkCA(t *testing.T, i int, e *event) {
	t.Helper()
	if n := len(e.Policies); n < 4 || n > 8 {
		t.Fatalf("event %d: %d CA policies", i, n)
	}
	want := "notApplied"
	blockFailed := false
	for _, p := range e.Policies {
		switch p.Result {
		case "failure":
			want = "failure"
			if len(p.EnforcedGrantControls) > 0 && p.EnforcedGrantControls[0] == "Block" {
				blockFailed = true
			}
		case "success":
			if want != "failure" {
				want = "success"
			}
		case "notApplied", "reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied":
		default:
			t.Fatalf("event %d: policy result %q", i, p.Result)
		}
	}
	if e.ConditionalAccessStatus != want {
		t.Fatalf("event %d: conditionalAccessStatus %s, policies say %s", i, e.ConditionalAccessStatus, want)
	}
	if e.Status.ErrorCode == 53003 && !blockFailed {
		t.Fatalf("event %d: 53003 without a failed Block policy", i)
	}
	if e.Status.ErrorCode == 0 && e.ConditionalAccessStatus == "failure" {
		t.Fatalf("event %d: success with CA failure", i)
	}
	mfa := e.AuthenticationRequirement == "multiFactorAuthentication"
	if e.Status.ErrorCode == 0 && mfa && len(e.AuthenticationDetails) < 2 {
		t.Fatalf("event %d: MFA success with %d auth steps", i, len(e.AuthenticationDetails))
	}
}
