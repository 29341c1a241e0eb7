package engine

import (
	"errors"
	"syscall"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
)

// TestDiskFullRefusesThenResumes: while the WAL cannot sync (ENOSPC injected), ingest fails with
// ErrNotDurable naming the directory, Writable says why, reads keep working; once the disk has
// room again ingest resumes without a restart, and after a reopen every acknowledged event is
// there exactly once.
func TestDiskFullRefusesThenResumes(t *testing.T) {
	dir := t.TempDir()
	// The WAL's disk fills: its writes come up short and its syncs fail with ENOSPC.
	full := &vfs.Switch{Errno: syscall.ENOSPC, Kinds: []vfs.OpKind{vfs.OpWrite, vfs.OpSync, vfs.OpCreate}, Path: "/wal/"}
	opts := testOptions()
	opts.NoSync = false
	opts.FS = vfs.Inject(vfs.Default, full.Inject)
	db := mustOpen(t, dir, opts)
	lines := makeEvents(300, 21, 2)
	if res, err := db.Ingest(records(lines[:100]), IngestOptions{Tenant: tenantA}); err != nil || res.Accepted != 100 {
		t.Fatalf("before the disk fills: %+v %v", res, err)
	}
	full.On()
	_, err := db.Ingest(records(lines[100:200]), IngestOptions{Tenant: tenantA})
	if !errors.Is(err, ErrNotDurable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("ingest on a full disk: %v", err)
	}
	if err := db.Writable(); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("Writable on a full disk: %v", err)
	}
	if n := len(exportSet(t, db, tenantA)); n != 100 {
		t.Fatalf("reads on a full disk: %d events, want the 100 acknowledged", n)
	}
	// Still full: the next ingests are refused too (and do not spin on reopening).
	if _, err := db.Ingest(records(lines[100:200]), IngestOptions{Tenant: tenantA}); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("second ingest on a full disk: %v", err)
	}
	full.Off()
	db.healMu.Lock()
	db.lastHeal = db.lastHeal.AddDate(0, 0, -1) // the pacing is a second of wall time; do not wait for it
	db.healMu.Unlock()
	res, err := db.Ingest(records(lines[100:300]), IngestOptions{Tenant: tenantA})
	if err != nil || res.Accepted != 200 || db.Writable() != nil {
		t.Fatalf("after space is freed: %+v %v (writable: %v)", res, err, db.Writable())
	}
	db.Close()
	db = mustOpen(t, dir, opts)
	defer db.Close()
	got := exportSet(t, db, tenantA)
	seen := map[string]bool{}
	for _, l := range got {
		if seen[l] {
			t.Fatal("an event is stored twice")
		}
		seen[l] = true
	}
	if len(got) != 300 {
		t.Fatalf("after reopening: %d events, want every acknowledged one (300)", len(got))
	}
}
