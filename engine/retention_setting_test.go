package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRetentionSettingPersists: a retention chosen for a tenant (or as the database's default)
// is remembered across opens, wins over the process's defaults, lets an old incident load, and
// a record outside it is rejected with a reason naming the setting.
func TestRetentionSettingPersists(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions() // 30 days by default
	// An incident of 120 days ago: one day of events, 120 days before the tests' clock.
	var old []string
	for i, l := range makeEvents(50, 7, 1) {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		at, _ := time.Parse(time.RFC3339Nano, m["createdDateTime"].(string))
		m["createdDateTime"] = at.AddDate(0, 0, -120).Format(time.RFC3339Nano)
		m["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		b, _ := json.Marshal(m)
		old = append(old, string(b))
	}
	db := mustOpen(t, dir, opts)
	res, err := db.Ingest(records(old), IngestOptions{Tenant: tenantA})
	if err != nil || res.Accepted != 0 || len(res.Rejected) != len(old) || !strings.Contains(res.Rejected[0].Reason, "--retention") {
		t.Fatalf("a 120-day-old incident under 30 days: %+v %v", res, err)
	}
	if err := db.SetRetention(tenantA, 400); err != nil {
		t.Fatal(err)
	}
	if res, err := db.Ingest(records(old), IngestOptions{Tenant: tenantA}); err != nil || res.Accepted != len(old) {
		t.Fatalf("the same incident under 400 days: %+v %v", res, err)
	}
	db.Close()

	db = mustOpen(t, dir, opts)
	defer db.Close()
	if d, src := db.RetentionOf(tenantA); d != 400 || src != "set for the tenant" {
		t.Fatalf("after reopening: %d (%s)", d, src)
	}
	if err := db.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if n := len(exportSet(t, db, tenantA)); n != len(old) {
		t.Fatalf("retention pass under the remembered 400 days kept %d of %d", n, len(old))
	}
	// Another tenant keeps the process default until the database default is set.
	if d, _ := db.RetentionOf(tenantB); d != 30 {
		t.Fatalf("tenant B: %d days", d)
	}
	if err := db.SetRetention("", Forever); err != nil {
		t.Fatal(err)
	}
	if d, src := db.RetentionOf(tenantB); d != Forever || src != "the database's default" {
		t.Fatalf("tenant B after the database default: %d (%s)", d, src)
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]int{"400d": 400, "8w": 56, "2y": 730, "30": 30, "0": Forever, " 7D ": 7} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-3d", "forever", "1.5y", "400x"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("ParseRetention(%q) accepted", bad)
		}
	}
}

// FuzzParseRetention: the retention parser never panics, and what it accepts is Forever or a
// positive number of days that formats back to a readable value.
func FuzzParseRetention(f *testing.F) {
	for _, s := range []string{"400d", "8w", "2y", "0", "30", "-1", "1e9", "", "y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRetention(s)
		if err != nil {
			return
		}
		if d != Forever && (d <= 0 || d > 100*365*365) {
			t.Fatalf("ParseRetention(%q) = %d", s, d)
		}
		if FormatRetention(d) == "" {
			t.Fatal("empty format")
		}
	})
}
