package engine

import (
	"errors"
	"testing"
	"time"
)

// A long compaction holds the maintenance lock, so no flush can run. Ingest must then stop at
// twice the memtable limit instead of growing memory until the process is killed, which is
// what happened at 100M events while a 3M-row day was being merged.
func TestIngestWaitsWhileMaintenanceIsBusy(t *testing.T) {
	opts := testOptions()
	opts.DisableBackground = false
	opts.MemtableRows = 100
	opts.MemtableAge = time.Hour
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(1000, 7, 1)

	db.maintMu.Lock() // a compaction that has not finished
	released := false
	defer func() {
		if !released {
			db.maintMu.Unlock()
		}
	}()
	const batch = 50
	accepted, n := 0, 0
	var err error
	for n+batch <= len(lines) {
		var res IngestResult
		res, err = db.Ingest(records(lines[n:n+batch]), IngestOptions{NoWait: true})
		if err != nil {
			break
		}
		accepted += res.Accepted
		n += batch
	}
	if !errors.Is(err, ErrBackpressure) {
		t.Fatalf("after %d events with maintenance busy: err %v, want ErrBackpressure", n, err)
	}
	// Home-tenant copies count as memtable rows too: one batch adds at most 2×batch.
	if rows := db.Stats().MemtableRows; rows < 200 || rows >= 200+2*batch {
		t.Fatalf("memtable holds %d rows when ingest is refused; want [200, %d)", rows, 200+2*batch)
	}

	// A waiting ingest neither fails nor returns until a flush has made room.
	done := make(chan error, 1)
	go func() {
		res, err := db.Ingest(records(lines[n:n+batch]), IngestOptions{})
		accepted += res.Accepted
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("ingest returned (%v) while the memtable was full and nothing could flush", err)
	case <-time.After(200 * time.Millisecond):
	}
	db.maintMu.Unlock()
	released = true
	db.kickMaintenance()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting ingest failed after the flush: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waiting ingest still blocked 30 s after maintenance was released")
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := len(exportSet(t, db, tenantA)) + len(exportSet(t, db, tenantB)); got < accepted {
		t.Fatalf("exported %d events, %d were accepted", got, accepted)
	}
}
