package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1073741824": 1 << 30, "512MiB": 512 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40,
		"64KiB": 64 << 10, "100B": 100,
	} {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, err := parseByteSize(formatByteSize(want)); err != nil || back != want {
			t.Errorf("formatByteSize(%d) = %q does not parse back: %d, %v", want, formatByteSize(want), back, err)
		}
	}
	for _, in := range []string{"", "GiB", "1.5GiB", "-1GiB", "+1GiB", "1 GiB", "1GB", "1g", "9999999999TiB", "0x10"} {
		if n, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) = %d; want an error", in, n)
		} else if !strings.Contains(err.Error(), in) {
			t.Errorf("parseByteSize(%q): error %q does not quote the input", in, err)
		}
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"1GiB", "512MiB", "0", "1.5GiB", "9223372036854775807", "8796093022208TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("%q parsed to %d", s, n)
		}
		if back, err := parseByteSize(formatByteSize(n)); err != nil || back != n {
			t.Fatalf("%q = %d formats to %q, which parses to %d, %v", s, n, formatByteSize(n), back, err)
		}
	})
}

// --memory-limit reaches the engine of a command that opens a database, and a bad or too small
// value is refused before anything is opened.
func TestMemoryLimitFlag(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "200", "--seed", "5", "-o", in); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "ingest", "--memory-limit", "128MiB", "--data", data, in); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "stats", "--memory-limit", "256MiB", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Events      int64 `json:"events"`
		MemoryLimit int64 `json:"memoryLimit"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	if st.MemoryLimit != 256<<20 || st.Events != 200 {
		t.Fatalf("stats under --memory-limit 256MiB: limit %d, events %d", st.MemoryLimit, st.Events)
	}
	out, err = run(t, "stats", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.MemoryLimit != 1<<30 {
		t.Fatalf("stats without --memory-limit: limit %d (%v); want the 1 GiB default", st.MemoryLimit, err)
	}
	for arg, want := range map[string]string{"10MiB": "below the smallest memory limit, 64MiB", "1.5GiB": `"1.5GiB" is not a size`} {
		if _, err := run(t, "stats", "--memory-limit", arg, "--data", data); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--memory-limit %s: %v; want an error saying %q", arg, err, want)
		}
	}
}
