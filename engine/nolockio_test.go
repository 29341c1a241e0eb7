package engine

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/vfs"
	"github.com/authlake/authlake/query"
)

// TestManifestSyncHoldsUpNoQuery: while a flush is inside the manifest's fsync (held there by
// the file system until the test lets it go), a query, an export and an ingest all complete:
// the manifest is saved outside the lock they take. The test waits on states (the flush is in
// the fsync; the query returned), each wait bounded and failing loudly.
func TestManifestSyncHoldsUpNoQuery(t *testing.T) {
	mem := vfs.NewCrashableMem()
	inSync, release := make(chan struct{}), make(chan struct{})
	var hold atomic.Bool
	opts := testOptions()
	opts.NoSync = false
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.FS = vfs.Inject(mem, func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && strings.Contains(op.Path, "/manifest/") && hold.CompareAndSwap(true, false) {
			close(inSync)
			<-release
		}
		return nil
	})
	db := mustOpen(t, "/data", opts)
	defer db.Close()
	lines := makeEvents(300, 17, 2)
	ingestAll(t, db, lines[:200], 100)

	hold.Store(true)
	flushed := make(chan error, 1)
	go func() { flushed <- db.Flush() }()
	select {
	case <-inSync:
	case <-time.After(time.Minute):
		t.Fatal("the flush never reached the manifest's fsync")
	}
	done := make(chan error, 1)
	go func() {
		res, err := db.Query(context.Background(), tenantA, query.Request{Filter: "status/errorCode ge 0", Count: true, Top: 5})
		if err == nil && res.Count != 200 {
			t.Errorf("during the manifest's fsync a query counted %d sign-ins, want 200", res.Count)
		}
		if err == nil {
			_, err = db.Ingest(records(lines[200:]), IngestOptions{})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		close(release)
		t.Fatal("a query and an ingest waited for the manifest's fsync")
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	checkIDs(t, db, lines, "after the flush")
}

// TestFlushDoesNotWaitForCompaction: while a compaction is held inside the write of its merged
// segment, a flush (and the ingest before it) completes; then the compaction completes too, and
// every sign-in is there once. (One maintenance lock used to serialize them, so ingest stalled
// on backpressure behind every whole-day merge.)
func TestFlushDoesNotWaitForCompaction(t *testing.T) {
	mem := vfs.NewCrashableMem()
	inMerge, release := make(chan struct{}), make(chan struct{})
	var hold atomic.Bool
	opts := testOptions()
	opts.CompactMinSegments = 2
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.FS = vfs.Inject(mem, func(op vfs.Op) error {
		if op.Kind == vfs.OpCreate && strings.HasSuffix(op.Path, ".seg.tmp") && hold.CompareAndSwap(true, false) {
			close(inMerge)
			<-release
		}
		return nil
	})
	db := mustOpen(t, "/data", opts)
	defer func() { db.Close() }()
	lines := makeEvents(300, 19, 1)
	for i := 0; i < 200; i += 100 {
		ingestAll(t, db, lines[i:i+100], 100)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	hold.Store(true)
	compacted := make(chan error, 1)
	go func() { compacted <- db.Compact() }()
	select {
	case <-inMerge:
	case <-time.After(time.Minute):
		t.Fatal("the compaction never wrote its segment")
	}
	flushed := make(chan error, 1)
	go func() {
		ingestAll(t, db, lines[200:], 100)
		flushed <- db.Flush()
	}()
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		close(release)
		t.Fatal("a flush waited for a compaction")
	}
	close(release)
	if err := <-compacted; err != nil {
		t.Fatal(err)
	}
	checkIDs(t, db, lines, "after the flush and the compaction")
	db.Close()
	db = mustOpen(t, "/data", opts)
	checkIDs(t, db, lines, "after a reopen")
}
