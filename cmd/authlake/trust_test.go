package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/wal"
)

// listing is every file under dir with its size.
func listing(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			st, _ := d.Info()
			out[p] = st.Size()
		}
		return nil
	})
	return out
}

func sameListing(t *testing.T, what string, a, b map[string]int64) {
	t.Helper()
	for p, n := range a {
		if m, ok := b[p]; !ok || m != n {
			t.Fatalf("%s: %s changed (%d bytes, now %d, present %v)", what, p, n, m, ok)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			t.Fatalf("%s: %s appeared", what, p)
		}
	}
}

// TestMissingManifestNeverDeletes: with its manifest moved away, a database once lost every
// segment file to any command, read-only ones included. Now every command refuses, nothing on
// disk changes, and putting the manifest back restores everything.
func TestMissingManifestNeverDeletes(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "2000", "--seed", "3", "--days", "3", "-o", in); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "ingest", "--data", data, in); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(data, "manifest")
	if err := os.Rename(manifest, filepath.Join(dir, "manifest.away")); err != nil {
		t.Fatal(err)
	}
	before := listing(t, data)
	segs := 0
	for p := range before {
		if strings.HasSuffix(p, ".seg") {
			segs++
		}
	}
	if segs == 0 {
		t.Fatal("the ingest left no segment files")
	}
	for _, args := range [][]string{
		{"stats"}, {"export", "-o", filepath.Join(dir, "out.ndjson")}, {"query", "--count"},
		{"diagnose", "--flagged"}, {"risk", "users"}, {"compact"}, {"ingest", in},
	} {
		_, err := run(t, append([]string{args[0], "--data", data}, args[1:]...)...)
		if err == nil || !strings.Contains(err.Error(), "manifest") || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("%v without a manifest: %v", args, err)
		}
		sameListing(t, strings.Join(args, " "), before, listing(t, data))
	}
	if err := os.Rename(filepath.Join(dir, "manifest.away"), manifest); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "query", "--data", data, "--count", "--filter", "signInEventTypes/any(x: x ne 'none')")
	if n, _ := strconv.Atoi(strings.TrimSpace(out)); err != nil || n < 1900 {
		t.Fatalf("after restoring the manifest: %q, %v", out, err)
	}
}

// TestWALBitFlipReportedAndRepaired: one flipped bit in the middle of the active WAL file used
// to be truncated away as a torn tail with every acknowledged event after it, by read-only
// commands too. Now every command refuses with the file and offset and changes nothing, and
// `authlake repair` recovers every event but those of the damaged record.
func TestWALBitFlipReportedAndRepaired(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "1000", "--seed", "4", "--days", "1", "-o", in); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, in))), "\n")
	// Ingest in batches of 10 through the library and close without flushing: the WAL holds
	// every acknowledged event.
	db, err := engine.Open(data, engine.Options{DisableBackground: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(lines); i += 10 {
		var recs []engine.Record
		for _, l := range lines[i:min(i+10, len(lines))] {
			recs = append(recs, engine.Record{Raw: []byte(l)})
		}
		if _, err := db.Ingest(recs, engine.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	wals, _ := filepath.Glob(filepath.Join(data, "wal", "*.wal"))
	var active string
	for _, w := range wals {
		if st, _ := os.Stat(w); st.Size() > 1<<16 {
			active = w
		}
	}
	if active == "" {
		t.Fatalf("no WAL file holds the events: %v", wals)
	}
	b := mustRead(t, active)
	b[len(b)/2] ^= 0x04
	os.WriteFile(active, b, 0o644)
	before := listing(t, data)

	for _, args := range [][]string{{"stats"}, {"query", "--count"}, {"ingest", in}} {
		_, err := run(t, append([]string{args[0], "--data", data}, args[1:]...)...)
		if !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), active) || !strings.Contains(err.Error(), "authlake repair") {
			t.Fatalf("%v over a damaged WAL: %v", args, err)
		}
		sameListing(t, strings.Join(args, " "), before, listing(t, data))
		if !bytes.Equal(mustRead(t, active), b) {
			t.Fatalf("%v changed the damaged WAL file", args)
		}
	}
	out, err := run(t, "repair", "--data", data)
	if err != nil || !strings.Contains(out, "skipped ") || !strings.Contains(out, "rewrote 1") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if kept := mustRead(t, filepath.Join(data, "wal", wal.CorruptDir, filepath.Base(active))); !bytes.Equal(kept, b) {
		t.Fatal("repair did not keep the damaged original")
	}
	out, err = run(t, "stats", "--data", data, "--json")
	var st engine.Stats
	json.Unmarshal([]byte(out), &st)
	if n := int(st.Events); err != nil || n < len(lines)-10 || n >= len(lines) {
		t.Fatalf("after repair %d of %d events (%v): want all but the damaged record's batch of at most 10", st.Events, len(lines), err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadOnlyCommandsWriteNothing: every read-only open once created and fsynced a new WAL
// file that was never deleted (35 after a few dozen queries), and each later open replayed them
// all. Reading now leaves the directory exactly as it was.
func TestReadOnlyCommandsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "1500", "--seed", "8", "--days", "2", "-o", in); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "ingest", "--data", data, in); err != nil {
		t.Fatal(err)
	}
	before := listing(t, data)
	for i := 0; i < 3; i++ {
		for _, args := range [][]string{{"stats"}, {"query", "--count"}, {"export", "-o", filepath.Join(dir, "out.ndjson")},
			{"diagnose", "--flagged"}, {"risk", "users"}} {
			// Whether the generated sample holds flagged sign-ins does not matter here: "none
			// found" is a read-only answer too.
			if _, err := run(t, append([]string{args[0], "--data", data}, args[1:]...)...); err != nil && !strings.Contains(err.Error(), "no flagged sign-ins") {
				t.Fatalf("%v: %v", args, err)
			}
		}
	}
	after := listing(t, data)
	// Identity Protection keeps its own store beside the engine's files; reading creates it.
	for p := range after {
		if strings.Contains(p, string(filepath.Separator)+"identityprotection"+string(filepath.Separator)) {
			delete(after, p)
		}
	}
	for p := range before {
		if strings.Contains(p, string(filepath.Separator)+"identityprotection"+string(filepath.Separator)) {
			delete(before, p)
		}
	}
	sameListing(t, "15 read-only commands", before, after)
}
