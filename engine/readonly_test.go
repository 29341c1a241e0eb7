package engine

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestReaderBesideWriter: while a writer holds the directory (ingesting, flushing and
// compacting), read-only opens succeed and each sees at least every event acknowledged before
// it began, exactly once; ingest through a reader is refused.
func TestReaderBesideWriter(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.MemtableRows = 250
	w := mustOpen(t, dir, opts)
	defer w.Close()
	lines := makeEvents(1200, 11, 3)
	var acked atomic.Int64
	var wg sync.WaitGroup
	// The writer announces each batch and goes on with the next (ingest, and every fifth batch
	// a flush and a compaction) while the reader opens: every read overlaps the writer's work,
	// and the number of reads does not depend on the machine's speed.
	step := make(chan struct{})
	wg.Go(func() {
		defer close(step)
		for i := 0; i < len(lines); i += 100 {
			res, err := w.Ingest(records(lines[i:i+100]), IngestOptions{Tenant: tenantA})
			if err != nil {
				t.Error(err)
				return
			}
			acked.Add(int64(res.Accepted))
			step <- struct{}{} // the reader starts opening; the writer goes on meanwhile
			if i%300 == 0 {
				if err := w.Flush(); err != nil {
					t.Error(err)
				}
				if err := w.Compact(); err != nil {
					t.Error(err)
				}
			}
		}
	})
	readOpts := testOptions()
	readOpts.ReadOnly = true
	reads := 0
	for range step {
		reads++
		before := acked.Load()
		r, err := Open(dir, readOpts)
		if err != nil {
			t.Fatalf("read %d beside the writer: %v", reads, err)
		}
		got := exportSet(t, r, tenantA)
		seen := map[string]bool{}
		for _, l := range got {
			if seen[l] {
				t.Fatalf("read %d: an event is there twice", reads)
			}
			seen[l] = true
		}
		if int64(len(got)) < before {
			t.Fatalf("read %d sees %d events, %d were acknowledged before it opened", reads, len(got), before)
		}
		if _, err := r.Ingest(records(lines[:1]), IngestOptions{Tenant: tenantA}); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("ingest through a reader: %v", err)
		}
		r.Close()
	}
	wg.Wait()
	if reads != len(lines)/100 {
		t.Fatalf("%d reads, want one per batch", reads)
	}
	t.Logf("%d consistent reads beside the writer", reads)
}

// TestWriterOpensBesideReader: a reader holds no lock, so a writer opens while it is open,
// ingests, flushes and compacts; the reader keeps reading the snapshot it opened, whole.
func TestWriterOpensBesideReader(t *testing.T) {
	dir := t.TempDir()
	lines := makeEvents(600, 12, 2)
	w := mustOpen(t, dir, testOptions())
	if _, err := w.Ingest(records(lines[:300]), IngestOptions{Tenant: tenantA}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	readOpts := testOptions()
	readOpts.ReadOnly = true
	r, err := Open(dir, readOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err = Open(dir, testOptions())
	if err != nil {
		t.Fatalf("a writer beside an open reader: %v", err)
	}
	defer w.Close()
	if _, err := w.Ingest(records(lines[300:]), IngestOptions{Tenant: tenantA}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.CompactAll(); err != nil {
		t.Fatal(err)
	}
	if got := exportSet(t, r, tenantA); len(got) != 300 {
		t.Fatalf("the reader's snapshot holds %d events after the writer compacted, want its 300", len(got))
	}
	if got := exportSet(t, w, tenantA); len(got) != 600 {
		t.Fatalf("the writer holds %d events, want 600", len(got))
	}
}
