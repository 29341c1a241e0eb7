package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ip "github.com/authlake/authlake/identityprotection"
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
	// A userPrincipalName works as --user, and the action says what it left.
	out, err = run(t, "risk", "users", "--data", db, "--tenant", tn, "--filter", "riskState eq 'confirmedCompromised'", "--format", "table")
	if err != nil || !strings.Contains(out, "USERPRINCIPALNAME") || !strings.Contains(out, user) {
		t.Fatalf("users table: %v %q", err, out)
	}
	var upn string
	for _, f := range strings.Fields(out) {
		if strings.Contains(f, "@") {
			upn = f
		}
	}
	out, err = run(t, "risk", "action", "dismiss", "--data", db, "--tenant", tn, "--user", strings.ToUpper(upn))
	if err != nil || !strings.Contains(out, "dismiss applied to 1 user(s)") || !strings.Contains(out, user) || !strings.Contains(out, "dismissed") {
		t.Fatalf("dismiss by userPrincipalName %s: %v %q", upn, err, out)
	}
	if _, err := run(t, "risk", "action", "dismiss", "--data", db, "--tenant", tn, "--user", "nobody@contoso.com"); err == nil || !strings.Contains(err.Error(), "no sign-in of that user") {
		t.Errorf("dismiss of an unknown userPrincipalName: %v", err)
	}
	for _, list := range []string{"detections", "signins"} {
		if out, err := run(t, "risk", list, "--data", db, "--tenant", tn, "--format", "table", "--top", "5"); err != nil || !strings.Contains(out, "ID") {
			t.Errorf("risk %s --format table: %v %q", list, err, out)
		}
	}
	// Beside a process that holds the store (a server), lists still read it and an action
	// says what to do instead.
	held, err := ip.Open(ip.Dir(db), ip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if out, err := run(t, "risk", "users", "--data", db, "--tenant", tn, "--format", "csv"); err != nil || !strings.Contains(out, user) {
		t.Fatalf("risk users beside a holder: %v %q", err, out)
	}
	if _, err := run(t, "risk", "action", "confirm-safe", "--data", db, "--tenant", tn, "--user", user); err == nil || !strings.Contains(err.Error(), "act through its API") {
		t.Fatalf("risk action beside a holder: %v", err)
	}
}
