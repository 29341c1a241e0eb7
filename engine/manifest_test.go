package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/authlake/authlake/engine/wal"
)

// An earlier version's MANIFEST (one JSON document) is read as it is by a read-only open, which
// changes nothing, and imported into the manifest's log by the first read-write open, which
// removes it; every event stays.
func TestLegacyManifestImported(t *testing.T) {
	dir := t.TempDir()
	lines := makeEvents(400, 31, 2)
	db := mustOpen(t, dir, testOptions())
	if _, err := db.Ingest(records(lines), IngestOptions{Tenant: tenantA}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	want := len(exportSet(t, db, tenantA))
	m := db.man.clone()
	db.Close()
	// What an earlier version left: MANIFEST, no log.
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, legacyManifest), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, manifestDir)); err != nil {
		t.Fatal(err)
	}
	ro := testOptions()
	ro.ReadOnly = true
	r := mustOpen(t, dir, ro)
	if got := len(exportSet(t, r, tenantA)); got != want {
		t.Fatalf("read-only over a legacy MANIFEST: %d events, want %d", got, want)
	}
	r.Close()
	if _, err := os.Stat(filepath.Join(dir, manifestDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only open created the manifest's log (%v)", err)
	}
	w := mustOpen(t, dir, testOptions())
	if got := len(exportSet(t, w, tenantA)); got != want {
		t.Fatalf("after the import: %d events, want %d", got, want)
	}
	w.Close()
	if _, err := os.Stat(filepath.Join(dir, legacyManifest)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the legacy MANIFEST is still there after a read-write open (%v)", err)
	}
	w = mustOpen(t, dir, testOptions())
	defer w.Close()
	if got := len(exportSet(t, w, tenantA)); got != want {
		t.Fatalf("reopened from the log: %d events, want %d", got, want)
	}
}

// A flipped bit in the manifest's log, with valid records after it, fails Open with
// wal.ErrCorrupt (the file and offset) instead of opening on another list of segments; a
// read-write open refuses too, and changes nothing.
func TestManifestLogBitFlipRefused(t *testing.T) {
	dir := t.TempDir()
	lines := makeEvents(600, 32, 3)
	db := mustOpen(t, dir, testOptions())
	for i := 0; i < len(lines); i += 200 { // a snapshot, then an edit per flush
		if _, err := db.Ingest(records(lines[i:i+200]), IngestOptions{Tenant: tenantA}); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	files, _ := filepath.Glob(filepath.Join(dir, manifestDir, "*.wal"))
	if len(files) != 1 {
		t.Fatalf("the manifest's log is %d files after an open, want 1", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"snapshot"`))
	if i < 0 {
		t.Fatal("no snapshot record")
	}
	b[i+2] ^= 0x01
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{true, false} {
		opts := testOptions()
		opts.ReadOnly = readOnly
		if _, err := Open(dir, opts); !errors.Is(err, wal.ErrCorrupt) {
			t.Fatalf("open (read-only %v) over a flipped bit in the manifest: %v", readOnly, err)
		}
		if after, _ := os.ReadFile(files[0]); !bytes.Equal(after, b) {
			t.Fatalf("open (read-only %v) changed the damaged manifest log", readOnly)
		}
	}
}
