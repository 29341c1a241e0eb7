package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A flush that cannot finish (its lock held here; a slow disk, or before flushes stopped waiting
// for merges, a long compaction) keeps the memtable full. Ingest must then stop at twice the
// memtable limit instead of growing memory until the process is killed, which is what happened
// at 100M events while a 3M-row day was being merged.
func TestIngestWaitsWhileMaintenanceIsBusy(t *testing.T) {
	opts := testOptions()
	opts.DisableBackground = false
	opts.MemtableRows = 100
	opts.MemtableAge = time.Hour
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(1000, 7, 1)

	db.flushMu.Lock() // a flush that cannot finish
	released := false
	defer func() {
		if !released {
			db.flushMu.Unlock()
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
	// Wait (bounded) until it is waiting for room, by state; it must not have returned.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("ingest returned (%v) while the memtable was full and nothing could flush", err)
		default:
		}
		db.mu.RLock()
		w := db.roomWaiters
		db.mu.RUnlock()
		if w > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ingest neither waited for room nor returned within a minute")
		}
	}
	db.flushMu.Unlock()
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

// An ingest waiting for room returns the context's error when its context ends, and stores
// nothing: a pipeline shutting down or a client that left is not held behind a merge.
func TestIngestContextCancelsTheWait(t *testing.T) {
	opts := testOptions()
	opts.DisableBackground = false
	opts.MemtableRows = 100
	opts.MemtableAge = time.Hour
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(400, 8, 1)
	db.flushMu.Lock() // nothing can flush
	defer db.flushMu.Unlock()
	n := 0
	for ; n+50 <= len(lines); n += 50 {
		if _, err := db.Ingest(records(lines[n:n+50]), IngestOptions{NoWait: true}); err != nil {
			break
		}
	}
	before := db.Stats().MemtableRows
	// Already cancelled: no wait at all.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.IngestContext(ctx, records(lines[n:n+50]), IngestOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
	// Cancelled while waiting.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := db.IngestContext(ctx, records(lines[n:n+50]), IngestOptions{})
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		db.mu.Lock()
		w := db.roomWaiters
		db.mu.Unlock()
		if w == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ingest never started waiting for room")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled while waiting: %v", err)
		}
	case <-time.After(time.Minute): // against a hang only
		t.Fatal("the waiting ingest did not return a minute after its context ended")
	}
	if after := db.Stats().MemtableRows; after != before {
		t.Fatalf("a cancelled ingest stored rows: %d → %d", before, after)
	}
}
