package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/vfs"
)

// Ingest looks a row's id up in the stored segments before it takes db.mu (idprobe.go): while
// an ingest waits on a read of a segment's index, snapshots (what every query takes first) and
// other ingests' critical sections still go ahead, and the ingest then decides each row as it
// would have under the lock.
func TestIngestReadsSegmentsOutsideTheLock(t *testing.T) {
	lines := makeEvents(600, 19, 2)
	dir := t.TempDir()
	hook := &segReadHook{FS: vfs.Default, suffix: ".idx"}
	opts := testOptions()
	opts.FS = hook
	db := mustOpen(t, dir, opts)
	ingestAll(t, db, lines[:400], 400)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the segments' indexes are unread: the ingest's first lookup reads one, and
	// that read waits until the test lets it go.
	db = mustOpen(t, dir, opts)
	defer db.Close()
	var first atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	fn := func(int64) {
		if first.CompareAndSwap(false, true) {
			close(reached)
			<-release
		}
	}
	hook.at.Store(&fn)
	type outcome struct {
		res IngestResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := db.Ingest(records(lines[200:]), IngestOptions{})
		done <- outcome{res, err}
	}()
	const bound = time.Minute // a wait that fails loudly; passing runs do not wait
	select {
	case <-reached:
	case o := <-done:
		t.Fatalf("the ingest read no segment index (%+v, %v): the test no longer sees its lookups", o.res, o.err)
	case <-time.After(bound):
		t.Fatal("the ingest never read a segment index")
	}

	// Events of a day ten days back, which no stored segment's day is near: the second
	// ingest reads no index (and so never waits on the first's read of one).
	more := makeEvents(50, 23, 1)
	for i, l := range more {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		m["createdDateTime"] = testNow.Add(-10 * 24 * time.Hour).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		b, _ := json.Marshal(m)
		more[i] = string(b)
	}
	other := make(chan error, 1)
	go func() {
		snap, err := db.Snapshot(tenantA)
		if err != nil {
			other <- err
			return
		}
		snap.Release()
		res, err := db.Ingest(records(more), IngestOptions{})
		if err == nil && res.Accepted != len(more) {
			err = fmt.Errorf("a second ingest accepted %d of %d new events", res.Accepted, len(more))
		}
		other <- err
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(bound):
		close(release)
		t.Fatal("a snapshot or a second ingest waited for an ingest's index read: the read is made under db.mu")
	}
	close(release)
	hook.at.Store(nil)

	var o outcome
	select {
	case o = <-done:
	case <-time.After(bound):
		t.Fatal("the ingest did not finish after its read was let go")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Accepted != 200 || o.res.Duplicates != 200 || o.res.Updated != 0 || len(o.res.Rejected) != 0 {
		t.Fatalf("ingest of 200 stored and 200 new events: %+v", o.res)
	}
	sameSet(t, "after the ingest", canonical(append(lines, more...), nil), exportSet(t, db, tenantA))
}

// The probes read the content digests of the stored rows they found a block at a time (a
// re-ingested export is all duplicates): each is the digest classify would read from the row.
func TestProbesReadStoredDigestsByBlock(t *testing.T) {
	lines := makeEvents(1500, 29, 1)
	db := mustOpen(t, t.TempDir(), testOptions()) // blocks of 256 rows
	defer db.Close()
	ingestAll(t, db, lines, 500)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for k, p := range db.parts {
		for _, s := range p.segs {
			rows := []uint32{}
			for r := uint32(0); r < uint32(s.seg.Meta.Rows); r += 3 {
				rows = append(rows, r)
			}
			pr := &idProbes{digests: map[storedRef]storedDigest{}}
			pr.readDigests(s, slices.Clone(rows))
			if len(pr.digests) != len(rows) {
				t.Fatalf("%v: %d digests for %d rows", k, len(pr.digests), len(rows))
			}
			for _, r := range rows {
				want, wantFl, err := storedRow{seg: s, row: int(r)}.digest()
				if err != nil {
					t.Fatal(err)
				}
				got, gotFl, err := pr.digest(storedRow{seg: s, row: int(r)})
				if err != nil || got != want || gotFl != wantFl {
					t.Fatalf("%v row %d: digest %x %v (%v), read alone %x %v", k, r, got, gotFl, err, want, wantFl)
				}
				checked++
			}
		}
	}
	if checked < 400 {
		t.Fatalf("checked %d rows", checked)
	}
	// Re-ingested, every row is a duplicate.
	res, err := db.Ingest(records(lines), IngestOptions{})
	if err != nil || res.Duplicates != len(lines) {
		t.Fatalf("re-ingest: %+v, %v; want %d duplicates", res, err, len(lines))
	}
}
