package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authlake/authlake/bench/gen"
)

// TestDefaultTenant: generated data lands in the resource tenant and, as copies of guests'
// sign-ins, in their home tenants. Without --tenant, read commands take $AUTHLAKE_TENANT or else
// the tenant holding the most events (the resource tenant here) instead of refusing.
func TestDefaultTenant(t *testing.T) {
	t.Setenv(envTenant, "")
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "3000", "--seed", "5", "--days", "3", "-o", in); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "ingest", "--data", data, in); err != nil {
		t.Fatal(err)
	}
	count := func(args ...string) int {
		t.Helper()
		out, err := run(t, append([]string{"query", "--data", data, "--count", "--filter", "signInEventTypes/any(x: x ne 'none')"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("count output %q", out)
		}
		return n
	}
	main := count("--tenant", gen.DefaultTenant)
	if def := count(); def != main || main == 0 {
		t.Fatalf("default tenant counts %d events, the resource tenant %d", def, main)
	}
	stats, err := run(t, "stats", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stats, gen.DefaultTenant) || !strings.Contains(stats, "(default for --tenant)") {
		t.Fatalf("stats does not name the default tenant:\n%s", stats)
	}
	// Another tenant (a guest's home tenant) through the environment.
	var other string
	for _, line := range strings.Split(stats, "\n") {
		if f := strings.Fields(line); len(f) > 1 && len(f[0]) == 36 && f[0] != gen.DefaultTenant {
			other = f[0]
			break
		}
	}
	if other == "" {
		t.Fatalf("no second tenant in:\n%s", stats)
	}
	t.Setenv(envTenant, other)
	if n := count(); n == 0 || n >= main {
		t.Fatalf("$%s=%s counts %d events (resource tenant %d)", envTenant, other, n, main)
	}
	// The flag wins over the environment.
	if n := count("--tenant", gen.DefaultTenant); n != main {
		t.Fatalf("--tenant with $%s set counts %d, want %d", envTenant, n, main)
	}
}

// TestRetentionFlag: an incident older than the default retention is rejected with a reason
// naming --retention; with --retention 400d it loads, and the database remembers the setting
// for later ingests without the flag.
func TestRetentionFlag(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "old.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "300", "--seed", "9", "--days", "2", "--end", "-120d", "-o", in); err != nil {
		t.Fatal(err)
	}
	tenant := "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"
	_, err := run(t, "ingest", "--data", data, "--tenant", tenant, "--rejects", filepath.Join(dir, "r.ndjson"), in)
	reasons, _ := os.ReadFile(filepath.Join(dir, "r.ndjson.reasons"))
	if err == nil || !strings.Contains(string(reasons), "--retention") {
		t.Fatalf("a 120-day-old incident under the default retention: %v\n%.300s", err, reasons)
	}
	out, err := run(t, "ingest", "--data", data, "--tenant", tenant, "--retention", "400d", in)
	if err != nil || !strings.Contains(out, "300 accepted") {
		t.Fatalf("with --retention 400d: %v %s", err, out)
	}
	// A later ingest without the flag keeps the remembered 400 days: the events are duplicates,
	// not rejects.
	out, err = run(t, "ingest", "--data", data, "--tenant", tenant, in)
	if err != nil || !strings.Contains(out, "0 accepted, 0 updated, 300 duplicates, 0 rejected") {
		t.Fatalf("re-ingest without the flag: %v %s", err, out)
	}
}
