package diagnostic

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// allEvents pages through every event matching filter with the public query API.
func allEvents(t testing.TB, db *engine.DB, filter string) []Event {
	t.Helper()
	var out []Event
	req := query.Request{Filter: filter}
	for {
		res, err := db.Query(context.Background(), testTenant, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			e, err := decodeEvent(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		if res.SkipToken == "" {
			return out
		}
		req.SkipToken = res.SkipToken
	}
}

// TestGeneratedDataset checks the scenario table against the generator's ground truth:
// every failure of 20K generated events is explained, and scenario counts follow the
// generator's failure mix.
func TestGeneratedDataset(t *testing.T) {
	db := openTestDB(t)
	g := generated(t, db, gen.Config{Events: 20000, Seed: 11, Days: 10})
	st := g.Stats()
	failures := allEvents(t, db, "status/errorCode ne 0")
	if int64(len(failures)) != st.Failures {
		t.Fatalf("%d failures stored, generator made %d", len(failures), st.Failures)
	}
	byCode := st.FailuresByCode
	fs, unexplained := evaluate(failures)
	if len(unexplained) > 0 {
		t.Errorf("%d failures unexplained, first %d", len(unexplained), unexplained[0].Status.ErrorCode)
	}
	count := map[string]int64{}
	insight := map[int]bool{}
	for _, f := range fs {
		count[f.Scenario] += f.Count
		if f.Scenario == "error-code-insights" {
			for _, e := range f.Evidence {
				insight[atoiField(e, "status/errorCode")] = true
			}
		}
	}
	t.Logf("scenario counts: %v", count)
	want := map[string]int64{
		"account-locked":       byCode[50053],
		"invalid-password":     byCode[50126],
		"mfa-proofup":          byCode[50072],
		"app-configuration":    byCode[50105] + byCode[65001] + byCode[700016] + byCode[500011],
		"app-service-provider": byCode[7000215] + byCode[7000222],
		"security-defaults":    byCode[530035],
		"seamless-sso":         byCode[81010],
		// Every 53003 is a block by Conditional Access: of a member or of a guest.
		"blocked-by-ca+b2b": byCode[53003],
	}
	count["blocked-by-ca+b2b"] = count["blocked-by-ca"] + count["b2b-blocked-by-ca"]
	for id, n := range want {
		if count[id] != n {
			t.Errorf("%s: %d events, generator made %d", id, count[id], n)
		}
	}
	if count["legacy-auth"] < byCode[530035] || count["legacy-auth"] > byCode[530035]+byCode[53003] {
		t.Errorf("legacy-auth %d outside [%d, %d]", count["legacy-auth"], byCode[530035], byCode[530035]+byCode[53003])
	}
	// Interactive MFA interrupts are MFA from Conditional Access, the rest fall back to
	// error code insights.
	if count["mfa-from-ca"] == 0 || count["mfa-from-ca"] > byCode[50074]+byCode[50076] {
		t.Errorf("mfa-from-ca %d", count["mfa-from-ca"])
	}
	for _, c := range []int{50058, 50140, 70044, 700082, 50173, 16003} {
		if byCode[c] > 0 && !insight[c] {
			t.Errorf("no error code insight for %d", c)
		}
	}
	// Each 53003 event alone is explained as a block.
	for i := range failures {
		e := &failures[i]
		if e.Status.ErrorCode != 53003 {
			continue
		}
		fs, _ := evaluate([]Event{*e})
		ids := scenarioIDs(fs)
		if !slices.Contains(ids, "blocked-by-ca") && !slices.Contains(ids, "b2b-blocked-by-ca") {
			t.Fatalf("53003 event %s explained as %v", e.ID, ids)
		}
	}

	// Through the full diagnosis: users with a block see every one of their blocks counted.
	checked := 0
	for i := range failures {
		e := &failures[i]
		if e.Status.ErrorCode != 53003 || checked == 3 {
			continue
		}
		checked++
		rep, err := diagnose(t, db, Input{User: e.UserID, At: e.CreatedDateTime})
		if err != nil {
			t.Fatal(err)
		}
		w := window{e.CreatedDateTime.Add(-48 * time.Hour), e.CreatedDateTime.Add(48 * time.Hour)}
		res, err := db.Query(context.Background(), testTenant, query.Request{Count: true, Top: 1,
			Filter: and("userId eq "+quote(e.UserID), "status/errorCode eq 53003", w.filter())})
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		for _, f := range rep.Findings {
			if f.Scenario == "blocked-by-ca" || f.Scenario == "b2b-blocked-by-ca" {
				got += f.Count
			}
		}
		if got != res.Count || got == 0 {
			t.Errorf("user %s: %d blocks explained, %d stored", e.UserPrincipalName, got, res.Count)
		}
	}
}

func atoiField(e Evidence, name string) int {
	for _, f := range e.Fields {
		if f.Name == name {
			n := 0
			for _, c := range f.Value {
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return -1
}

// TestFlaggedReview: flagged events → groups by user and client → diagnosis of a group.
func TestFlaggedReview(t *testing.T) {
	db := fixtureDB(t)
	rep, err := diagnose(t, db, Input{Flagged: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Flagged) != 1 || rep.Summary != nil {
		t.Fatalf("%s", mustJSON(rep.Flagged))
	}
	g := rep.Flagged[0]
	if g.UserID != userA || g.Events != 2 || g.Failures != 2 || !slices.Equal(g.Codes, []int{53003}) ||
		!slices.Contains(g.Scenarios, "blocked-by-ca") || g.Client != "AVERY-LAPTOP / Edge 120.0" {
		t.Fatalf("%+v", g)
	}
	d, err := diagnose(t, db, Input{EventID: g.DiagnoseEvent, Flagged: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Search.Matched != 2 || findingOf(d.Findings, "blocked-by-ca") == nil {
		t.Errorf("diagnosis of the flagged group: %d %v", d.Search.Matched, scenarioIDs(d.Findings))
	}

	// Generated data: every flagged event lands in exactly one group, and groups match the
	// generator's flagging windows (one user, device and browser each).
	db = openTestDB(t)
	gn := generated(t, db, gen.Config{Events: 20000, Seed: 11, Days: 10})
	st := gn.Stats()
	rep, err = diagnose(t, db, Input{Flagged: true})
	if err != nil {
		t.Fatal(err)
	}
	var events, failures int
	for _, g := range rep.Flagged {
		events += g.Events
		failures += g.Failures
		found := false
		for _, w := range gn.Windows() {
			if w.UserID == g.UserID && w.DeviceID == g.DeviceID && !g.First.Before(w.Start) {
				found = true
			}
		}
		if !found {
			t.Errorf("group %+v matches no flagging window", g)
		}
		d, err := diagnose(t, db, Input{EventID: g.DiagnoseEvent, Flagged: true})
		if err != nil {
			t.Fatalf("diagnosing flagged group %s: %v", g.User, err)
		}
		if g.Failures > 0 && !hasProblem(d.Findings) {
			t.Errorf("flagged failures of %s explained by nothing: %v", g.User, scenarioIDs(d.Findings))
		}
	}
	if int64(events) != st.Flagged || int64(failures) != st.FlaggedFailures || len(rep.Flagged) == 0 || len(rep.Flagged) > st.Windows {
		t.Errorf("groups hold %d events (%d failed) in %d groups; generator flagged %d (%d failed) in %d windows",
			events, failures, len(rep.Flagged), st.Flagged, st.FlaggedFailures, st.Windows)
	}
}
