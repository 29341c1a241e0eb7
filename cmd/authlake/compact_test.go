package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompactCommand: `authlake compact` merges a day's segments and keeps every event (it used
// to open the database read-only and fail with "database is open read-only").
func TestCompactCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	count := func() int {
		out, err := run(t, "query", "--data", data, "--count", "--filter", "signInEventTypes/any(x: x ne 'none')")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, seed := range []string{"1", "2"} { // two ingests, two segments per day (no whole-day merge)
		in := filepath.Join(dir, "in"+seed+".ndjson")
		if _, err := run(t, "gen", "--events", "1500", "--seed", seed, "--days", "2", "-o", in); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, "ingest", "--data", data, "--retention", "0", "--merge", "tiers", in); err != nil {
			t.Fatal(err)
		}
	}
	before := count()
	out, err := run(t, "compact", "--data", data)
	if err != nil {
		t.Fatalf("compact: %v\n%s", err, out)
	}
	var from, to int
	if _, err := fmt.Sscanf(out, "segments %d → %d", &from, &to); err != nil || to >= from {
		t.Fatalf("compact said %q: want fewer segments after", out)
	}
	if after := count(); after != before || before < 2900 {
		t.Fatalf("events before %d, after %d", before, after)
	}
}
