package diagnostic

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/engine"
)

func fixtureDB(t testing.TB) *engine.DB {
	t.Helper()
	db := openTestDB(t)
	ingestLines(t, db, fixtureLines())
	return db
}

func wantInputErr(t *testing.T, err error, kind string, says ...string) *InputError {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("want an InputError %s, got %v", kind, err)
	}
	if ie.Kind != kind {
		t.Fatalf("kind %s, want %s: %v", ie.Kind, kind, ie)
	}
	for _, s := range says {
		if !strings.Contains(ie.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, ie)
		}
	}
	if len(ie.Try) == 0 && ie.Kind != ErrAmbiguous {
		t.Errorf("error suggests nothing to try: %v", ie)
	}
	return ie
}

func TestDiagnoseUserStory(t *testing.T) {
	db := fixtureDB(t)
	rep, err := diagnose(t, db, Input{User: "Avery Smith"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Search.User == nil || rep.Search.User.ID != userA {
		t.Fatalf("resolved %+v", rep.Search.User)
	}
	// 2 MFA + 3 blocked + 6 replays.
	if rep.Search.Matched != 11 || rep.Search.Diagnosed != 11 {
		t.Fatalf("matched %d diagnosed %d", rep.Search.Matched, rep.Search.Diagnosed)
	}
	got := scenarioIDs(rep.Findings)
	for _, want := range []string{"blocked-by-ca", "mfa-from-ca", "invalid-password", "stale-password-replay"} {
		if findingOf(rep.Findings, want) == nil {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	if f := findingOf(rep.Findings, "blocked-by-ca"); f != nil && (f.Count != 3 || !strings.Contains(f.What, "Block access outside allowed countries")) {
		t.Errorf("blocked-by-ca: %+v", f)
	}
	if findingOf(rep.Findings, "unexplained") != nil || findingOf(rep.Findings, "password-spray-ip") != nil {
		t.Errorf("unexpected findings %v", got)
	}
	if rep.Findings[0].Severity != SevError {
		t.Errorf("errors come first: %v", got)
	}
	// Summary: newest first, default columns, a flow per correlation with both MFA steps.
	s := rep.Summary
	if len(s.Rows) != 11 || len(s.Columns) != len(DefaultColumns) {
		t.Fatalf("summary %d rows, %d columns", len(s.Rows), len(s.Columns))
	}
	for i := 1; i < len(s.Rows); i++ {
		if s.Rows[i-1].Values[0] < s.Rows[i].Values[0] {
			t.Fatalf("summary not newest first at %d", i)
		}
	}
	mfaFlow := s.Flows[s.Rows[len(s.Rows)-1].CorrelationID]
	if len(mfaFlow) != 2 || mfaFlow[0].ErrorCode != 50074 || mfaFlow[1].ErrorCode != 0 || mfaFlow[1].OriginalRequestID != mfaFlow[0].ID {
		t.Errorf("MFA flow %+v", mfaFlow)
	}
}

func TestDiagnoseSummaryColumnsAndPaging(t *testing.T) {
	db := fixtureDB(t)
	in := Input{User: "avery.smith@contoso.com", Top: 4, Columns: []string{"id", "status/errorCode", "deviceDetail/displayName", "location"}}
	var ids []string
	for page := 0; ; page++ {
		rep, err := diagnose(t, db, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Summary.Rows {
			if len(r.Values) != 4 || r.Values[0] != r.ID || r.Values[1] == "" {
				t.Fatalf("row %+v", r)
			}
			ids = append(ids, r.ID)
		}
		if rep.Summary.SkipToken == "" {
			break
		}
		in.SkipToken = rep.Summary.SkipToken
	}
	if len(ids) != 11 {
		t.Fatalf("paged %d events, want 11", len(ids))
	}
	in.SkipToken = "bogus"
	_, err := diagnose(t, db, in)
	wantInputErr(t, err, ErrInvalid, "skip token")
}

func TestDiagnoseWindowScenarios(t *testing.T) {
	db := fixtureDB(t)
	// The spray shows when diagnosing one of its victims.
	rep, err := diagnose(t, db, Input{User: "user3@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	f := findingOf(rep.Findings, "password-spray-ip")
	if f == nil || f.Count != 12 || !strings.Contains(f.What, sprayIP) || !strings.Contains(f.What, "6 different users") || len(f.Histogram) == 0 {
		t.Fatalf("spray: %v %+v", scenarioIDs(rep.Findings), f)
	}
	sum := 0
	for _, h := range f.Histogram {
		sum += h.Count
	}
	if sum != 12 {
		t.Errorf("histogram holds %d failures, want 12", sum)
	}
	// Near miss: Avery's six replays come from one address that only she uses.
	rep, err = diagnose(t, db, Input{User: "Avery Smith"})
	if err != nil {
		t.Fatal(err)
	}
	if findingOf(rep.Findings, "password-spray-ip") != nil || findingOf(rep.Findings, "many-failures-user") != nil {
		t.Errorf("Avery has 9 failures (< 10): %v", scenarioIDs(rep.Findings))
	}
}

func TestManyFailuresAndOfficeIP(t *testing.T) {
	db := openTestDB(t)
	var lines [][]byte
	office := "203.0.113.200"
	// Avery fails 12 times in two hours (plus expected interrupts that do not count);
	// five colleagues fail from the same office address, which mostly succeeds.
	for i := range 12 {
		lines = append(lines, line(craft(code(50126), set("ipAddress", office), at(testNow.Add(-time.Duration(i)*10*time.Minute)))))
	}
	for i := range 30 {
		lines = append(lines, line(craft(code(50140), at(testNow.Add(-time.Duration(i)*time.Minute)))))
	}
	for i := range 60 {
		u := i % 6
		m := craft(user("ffffffff-0000-4000-8000-00000000010"+string(rune('0'+u)), "colleague"+string(rune('0'+u))+"@contoso.com", "Colleague"),
			set("ipAddress", office), at(testNow.Add(-time.Duration(i)*time.Minute)))
		if i < 10 {
			code(50126)(m)
		}
		lines = append(lines, line(m))
	}
	ingestLines(t, db, lines)
	rep, err := diagnose(t, db, Input{User: "avery"})
	if err != nil {
		t.Fatal(err)
	}
	f := findingOf(rep.Findings, "many-failures-user")
	if f == nil || f.Count != 12 || !strings.Contains(f.What, "AADSTS50126 ×12") || len(f.Histogram) != 3 {
		t.Fatalf("%v %+v", scenarioIDs(rep.Findings), f)
	}
	// 22 failures by 6 users from the office address, but 22 of 102 sign-ins: not a spray.
	if findingOf(rep.Findings, "password-spray-ip") != nil {
		t.Errorf("office address reported as a spray")
	}
	// Near miss for the volume: 9 failures.
	db2 := openTestDB(t)
	ingestLines(t, db2, lines[3:])
	rep, err = diagnose(t, db2, Input{User: "avery"})
	if err != nil {
		t.Fatal(err)
	}
	if findingOf(rep.Findings, "many-failures-user") != nil {
		t.Errorf("9 failures reported as many")
	}
}

func TestNothingExplains(t *testing.T) {
	db := openTestDB(t)
	ingestLines(t, db, [][]byte{line(craft()), line(craft())}) // CA success, single factor, no failure
	rep, err := diagnose(t, db, Input{User: "avery"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Scenario != "unexplained" ||
		!strings.Contains(rep.Findings[0].What, "None of the 2 sign-in(s)") || !strings.Contains(rep.Findings[0].Action, "support request") {
		t.Fatalf("%s", mustJSON(rep.Findings))
	}
}

func TestLaunchFromEvent(t *testing.T) {
	db := fixtureDB(t)
	evs := fixtureEvents()
	blocked := evs[2] // first 53003
	rep, err := diagnose(t, db, Input{EventID: blocked["id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Search.Event != blocked["id"] || rep.Search.User.ID != userA || rep.Search.App.ID != appSP {
		t.Fatalf("search %+v", rep.Search)
	}
	if !strings.Contains(rep.Search.Filter, "appId eq") || findingOf(rep.Findings, "blocked-by-ca") == nil {
		t.Errorf("%s %v", rep.Search.Filter, scenarioIDs(rep.Findings))
	}
	// Outlook replays are another application: not in this diagnosis.
	if findingOf(rep.Findings, "invalid-password") != nil {
		t.Errorf("launch from a SharePoint event diagnosed Outlook: %v", scenarioIDs(rep.Findings))
	}
	// A request id diagnoses its correlation.
	rep, err = diagnose(t, db, Input{RequestID: blocked["id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Search.Matched != 2 || !strings.HasPrefix(rep.Search.Filter, "correlationId eq") {
		t.Errorf("request id: matched %d with %s", rep.Search.Matched, rep.Search.Filter)
	}
	// A correlation id, with the user who owns it.
	rep, err = diagnose(t, db, Input{CorrelationID: blocked["correlationId"].(string), User: "avery.smith@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Search.Matched != 2 || findingOf(rep.Findings, "blocked-by-ca").Count != 2 {
		t.Errorf("correlation: %d %v", rep.Search.Matched, scenarioIDs(rep.Findings))
	}
}

func TestBadInput(t *testing.T) {
	db := fixtureDB(t)
	evs := fixtureEvents()
	cases := []struct {
		name string
		in   Input
		kind string
		says []string
	}{
		{"nothing", Input{}, ErrInvalid, []string{"nothing to search"}},
		{"unknown user", Input{User: "zed"}, ErrNotFound, []string{`"zed"`, "searched: users matching 'zed'"}},
		{"unknown app", Input{User: "Avery Smith", App: "Payroll"}, ErrNotFound, []string{`"Payroll"`, "used by avery.smith@contoso.com"}},
		{"ambiguous", Input{User: "avery"}, ErrAmbiguous, []string{"2 users", "Avery Smithson", "avery.smith@contoso.com"}},
		{"unknown event", Input{EventID: "12345678-1234-4234-8234-123456789012"}, ErrNotFound, []string{"no sign-in with id"}},
		{"malformed id", Input{CorrelationID: "not-a-guid"}, ErrInvalid, []string{"not a GUID"}},
		{"unknown correlation", Input{CorrelationID: "12345678-1234-4234-8234-123456789012"}, ErrNotFound, []string{"correlation id"}},
		{"far in the past", Input{User: "Avery Smith", At: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrOutOfRange, []string{"tenant holds events from"}},
		{"far in the future", Input{User: "Avery Smith", At: testNow.Add(30 * 24 * time.Hour)}, ErrOutOfRange, []string{"--at"}},
		{"correlation of another user", Input{CorrelationID: evs[2]["correlationId"].(string), User: "Avery Smithson"}, ErrConflict,
			[]string{"belong to avery.smith@contoso.com", "not to the user"}},
		{"event of another user", Input{EventID: evs[2]["id"].(string), User: "sam@fabrikam.com"}, ErrConflict, []string{"not of \"sam@fabrikam.com\""}},
		{"event and other correlation", Input{EventID: evs[2]["id"].(string), CorrelationID: evs[0]["correlationId"].(string)}, ErrConflict, []string{"belongs to correlation"}},
		{"no flagged of user", Input{User: "Avery Smithson", Flagged: true}, ErrNotFound, []string{"no flagged sign-ins of avery.smithson@contoso.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := diagnose(t, db, c.in)
			if rep != nil {
				t.Fatalf("bad input produced a report")
			}
			ie := wantInputErr(t, err, c.kind, c.says...)
			if c.kind == ErrAmbiguous && len(ie.Candidates) != 2 {
				t.Errorf("candidates %+v", ie.Candidates)
			}
		})
	}
	// Exact names are not ambiguous although they are prefixes of others.
	if rep, err := diagnose(t, db, Input{User: "avery smith"}); err != nil || rep.Search.User.ID != userA {
		t.Errorf("exact display name: %v", err)
	}
	// A known user outside the window: say when she was last seen.
	old := openTestDB(t)
	ingestLines(t, old, [][]byte{line(craft(at(testNow.Add(-6 * 24 * time.Hour)))), line(craft(user(userB, "avery.smithson@contoso.com", "Avery Smithson")))})
	_, err := diagnose(t, old, Input{User: "avery.smith@contoso.com"})
	wantInputErr(t, err, ErrNotFound, "latest sign-in is at "+stamp(testNow.Add(-6*24*time.Hour)))
	// An unknown tenant.
	_, err = New(db, Options{Now: func() time.Time { return testNow }}).Diagnose(t.Context(), "00000000-0000-4000-8000-000000000000", Input{User: "x"})
	wantInputErr(t, err, ErrNotFound, "has no sign-in events")
}
