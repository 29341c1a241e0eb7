package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authlake/authlake/internal/clock"
)

var updateDiagnose = flag.Bool("update-diagnose", false, "rewrite the diagnose golden files in ../../diagnostic/testdata")

const (
	diagFixture = "../../diagnostic/testdata/fixture.ndjson"
	diagTenant  = "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"
	diagNow     = "2026-11-23T12:00:00Z" // the fixture's clock
)

// diagnoseData ingests the fixture with the process clock set to the fixture's time, which the
// rest of the test keeps: the fixture is dated, the test is not.
func diagnoseData(t *testing.T) string {
	t.Helper()
	t.Setenv(clock.EnvNow, diagNow)
	data := filepath.Join(t.TempDir(), "data")
	if _, err := run(t, "ingest", "--data", data, diagFixture); err != nil {
		t.Fatal(err)
	}
	return data
}

func diagnoseGolden(t *testing.T, name, got string) {
	t.Helper()
	path := "../../diagnostic/testdata/" + name
	if *updateDiagnose {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./cmd/authlake -run %s -update-diagnose to accept):\n%s", path, t.Name(), got)
	}
}

func TestDiagnoseCLIGolden(t *testing.T) {
	data := diagnoseData(t)
	base := []string{"diagnose", "--data", data, "--tenant", diagTenant}
	out, err := run(t, append(base, "--user", "Avery Smith", "--top", "4")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[error] Blocked by Conditional Access", "'Block access outside allowed countries'",
		"A client replays an old password", "Authentication summary (4 of 11 events", "Correlated flows", "next page: the same command with --skip-token"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	diagnoseGolden(t, "cli_avery.golden.txt", out)

	// JSON is the same report the HTTP handler serves.
	out, err = run(t, append(base, "--user", "Avery Smith", "--top", "5", "--format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	httpGolden, err := os.ReadFile("../../diagnostic/testdata/http_avery.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(httpGolden, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("CLI JSON differs from the HTTP golden report:\n%s\n%s", ja, jb)
	}

	// The flagged review lists the group and how to diagnose it; following it works.
	out, err = run(t, append(base, "--flagged")...)
	if err != nil {
		t.Fatal(err)
	}
	diagnoseGolden(t, "cli_flagged.golden.txt", strings.ReplaceAll(out, data, "DATA"))
	// The hint is a whole command: run it as printed.
	i := strings.Index(out, "diagnose:  authlake diagnose ")
	if i < 0 {
		t.Fatal("no diagnose hint")
	}
	hint := strings.Fields(strings.SplitN(out[i+len("diagnose:  authlake "):], "\n", 2)[0])
	out, err = run(t, append(hint, "--flagged", "--explain")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Blocked by Conditional Access") || !strings.Contains(out, "Query plans") || !strings.Contains(out, "flaggedForReview eq true") {
		t.Errorf("diagnosis of the flagged event:\n%s", out)
	}
}

func TestDiagnoseCLIBadInput(t *testing.T) {
	data := diagnoseData(t)
	base := []string{"diagnose", "--data", data, "--tenant", diagTenant}
	for _, c := range []struct {
		args []string
		says []string
	}{
		{[]string{"--user", "avery"}, []string{"matches 2 users", "candidate: Avery Smithson", "try: give the user's full userPrincipalName"}},
		{[]string{"--user", "nobody"}, []string{"no user matching \"nobody\"", "searched:"}},
		{[]string{"--user", "Avery Smith", "--app", "Payroll"}, []string{"no application matching \"Payroll\""}},
		{[]string{"--user", "Avery Smith", "--at", "2019-05-01T00:00:00Z"}, []string{"no events are stored around 2019-05-01T00:00:00Z", "tenant holds events from"}},
		{[]string{"--correlation-id", "cccccccc-0000-4000-8000-000000000003", "--user", "Avery Smithson"}, []string{"belong to avery.smith@contoso.com"}},
		{[]string{}, []string{"nothing to search for"}},
		{[]string{"--user", "x", "--format", "xml"}, []string{"--format must be text or json"}},
	} {
		out, err := run(t, append(base, c.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Errorf("%v: want exit 1, got %v", c.args, err)
			continue
		}
		if out != "" {
			t.Errorf("%v: printed a report on bad input:\n%s", c.args, out)
		}
		for _, s := range c.says {
			if !strings.Contains(ee.msg, s) {
				t.Errorf("%v: message lacks %q:\n%s", c.args, s, ee.msg)
			}
		}
	}
	// --format json puts the error on stdout as JSON.
	out, err := run(t, append(base, "--user", "avery", "--format", "json")...)
	if err == nil || !strings.Contains(out, `"kind": "ambiguous"`) {
		t.Errorf("json error: %v %s", err, out)
	}
}
