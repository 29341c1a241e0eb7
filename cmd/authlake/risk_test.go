package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRiskCommands(t *testing.T) {
	dir := t.TempDir()
	ev, lb := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "l.ndjson")
	if _, err := run(t, "risk", "gen-attacks", "--events", "30000", "--per-scenario", "2", "-o", ev, "--labels", lb, "--lists", dir); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	const tn = "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90" // bench/gen's resource tenant
	if _, err := run(t, "ingest", "--data", db, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "risk", "detect", "--data", db, "--tenant", tn, "--anonymous-ips", filepath.Join(dir, "anonymous-ips.txt"),
		"--threat-ips", filepath.Join(dir, "threat-ips.txt"), "--leaks", filepath.Join(dir, "leaks.csv")); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "risk", "detections", "--data", db, "--tenant", tn, "--filter", "riskEventType eq 'leakedCredentials'", "--select", "userId,riskEventType")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("leaked detections: %v %q", err, out)
	}
	leaks, _ := os.ReadFile(filepath.Join(dir, "leaks.csv"))
	user := strings.Fields(string(leaks))[0]
	if _, err := run(t, "risk", "action", "confirm-compromised", "--data", db, "--tenant", tn, "--user", user, "--by", "admin-1"); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "risk", "users", "--data", db, "--tenant", tn, "--filter", "riskState eq 'confirmedCompromised'", "--format", "csv")
	if err != nil || !strings.Contains(out, user+",") || !strings.Contains(out, "adminConfirmedUserCompromised") {
		t.Fatalf("users csv: %v %q", err, out)
	}
	if _, err := run(t, "risk", "action", "require-reset", "--data", db, "--tenant", tn, "--user", user); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("require-reset for an unregistered user: %v", err)
	}
}
