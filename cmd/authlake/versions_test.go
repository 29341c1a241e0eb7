package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogAnalyticsReEmission loads a Log Analytics export that holds one sign-in four times
// (risk evaluated, an unchanged re-emission, remediated): one sign-in, its latest state on
// every read, its history with export --versions, and loading the file again changes nothing.
func TestLogAnalyticsReEmission(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	const tenant = "11111111-aaaa-4bbb-8ccc-000000000002"
	fixture := filepath.Join("..", "..", "columnar", "input", "testdata", "la_reemitted.json")
	out, err := run(t, "ingest", "--data", data, "--retention", tenant+"=0", fixture)
	if err != nil || !strings.Contains(out, "2 accepted, 2 updated, 1 duplicates, 0 rejected") {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	out, err = run(t, "query", "--data", data, "--tenant", tenant, "--filter", "id eq 'a0000000-0000-4000-8000-0000000000a1'", "--select", "riskState,riskDetail")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"riskState":"remediated"`) || !strings.Contains(out, "userPerformedSecuredPasswordReset") {
		t.Fatalf("the sign-in does not read as its latest version: %v\n%s", err, out)
	}
	out, err = run(t, "query", "--data", data, "--tenant", tenant, "--filter", "riskState eq 'atRisk'", "--count")
	if err != nil || strings.TrimSpace(out) != "0" {
		t.Fatalf("$filter sees a superseded version: %v\n%s", err, out)
	}
	out, err = run(t, "export", "--data", data, "--tenant", tenant, "--versions")
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("export --versions: %v: %s", err, line)
		}
		if m["id"] == "a0000000-0000-4000-8000-0000000000a1" {
			history = append(history, m["riskState"].(string))
		}
	}
	if strings.Join(history, ",") != "none,atRisk,remediated" {
		t.Fatalf("export --versions history %v", history)
	}
	out, err = run(t, "ingest", "--data", data, fixture)
	if err != nil || !strings.Contains(out, "0 accepted, 0 updated, 5 duplicates, 0 rejected") {
		t.Fatalf("ingest again: %v\n%s", err, out)
	}
	out, err = run(t, "stats", "--data", data)
	if err != nil || !strings.Contains(out, "LATER VERSIONS") {
		t.Fatalf("stats: %v\n%s", err, out)
	}
}
