package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
	"github.com/authlake/authlake/query"
)

// fileOps counts the opens and reads of segment and index files through a file system.
type fileOps struct {
	mu     sync.Mutex
	opened map[string]int // path -> opens
	reads  int
}

func (c *fileOps) inject(op vfs.Op) error {
	if !strings.Contains(op.Path, "/segments/") {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch op.Kind {
	case vfs.OpOpen:
		c.opened[op.Path]++
	case vfs.OpRead:
		c.reads++
	}
	return nil
}

func (c *fileOps) counts() (opens, reads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.opened {
		opens += n
	}
	return opens, c.reads
}

// TestOpenReadsNoSegment: opening a database reads no segment or index file, whatever its
// number of segments (the manifest catalogs what a query plans with); a query opens only the
// segments of the days it reads; a reader beside a writer opens each file once, reading
// nothing, to hold its snapshot against the writer's deletions. The test counts file-system
// operations, not time.
func TestOpenReadsNoSegment(t *testing.T) {
	for _, flushes := range []int{2, 8} {
		t.Run(fmt.Sprint(flushes, " flushes"), func(t *testing.T) {
			mem, opts := memOptions()
			const dir = "/data"
			db := mustOpen(t, dir, opts)
			lines := makeEvents(100*flushes, 7, 3)
			for i := 0; i < len(lines); i += 100 {
				ingestAll(t, db, lines[i:i+100], 100)
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			segs := db.Stats().Segments
			if segs < 2*flushes {
				t.Fatalf("%d segments after %d flushes", segs, flushes)
			}
			db.Close()

			ops := &fileOps{opened: map[string]int{}}
			opts.FS = vfs.Inject(mem, ops.inject)
			db = mustOpen(t, dir, opts)
			if opens, reads := ops.counts(); opens != 0 || reads != 0 {
				t.Fatalf("opening a database of %d segments opened %d segment or index files and read %d times", segs, opens, reads)
			}
			// A query of one day opens that day's segments only (and their sidecars).
			day := db.Stats().Tenants[0].LastDay
			snap, err := db.Snapshot(tenantA)
			if err != nil {
				t.Fatal(err)
			}
			var onDay int
			for _, dv := range snap.Days {
				if dayString(dv.Day) == day {
					onDay = len(dv.Segments)
				}
			}
			snap.Release()
			res, err := db.Query(context.Background(), tenantA, query.Request{Filter: "createdDateTime ge " + day + "T00:00:00Z", Top: 5})
			if err != nil || len(res.Rows) == 0 {
				t.Fatalf("query of %s: %d rows, %v", day, len(res.Rows), err)
			}
			opens, _ := ops.counts()
			if opens == 0 || opens > 2*onDay {
				t.Fatalf("a query of one day (%d segments of %d) opened %d files", onDay, segs, opens)
			}
			for p := range ops.opened {
				if !strings.Contains(p, "/"+day+"/") {
					t.Fatalf("a query of %s opened %s", day, p)
				}
			}
			db.Close()

			// A reader opens every file once, and reads none of them.
			ops = &fileOps{opened: map[string]int{}}
			ro := opts
			ro.FS, ro.ReadOnly = vfs.Inject(mem, ops.inject), true
			reader := mustOpen(t, dir, ro)
			defer reader.Close()
			if opens, reads := ops.counts(); opens != 2*segs || reads != 0 {
				t.Fatalf("a reader of %d segments opened %d files and read %d times; want %d and 0", segs, opens, reads, 2*segs)
			}
		})
	}
}

// TestReadOnlyOpenWritesNothing: a read-only open, and a query and an export through it, make
// no write of any kind, on a database with a torn WAL tail, unflushed rows and leftovers of an
// interrupted flush (each of which a read-write open would repair). Every write operation of
// the file system fails here; none may be attempted. (Each read-only open used to create and
// fsync a new WAL file that was never removed.)
func TestReadOnlyOpenWritesNothing(t *testing.T) {
	mem := vfs.NewCrashableMem()
	const dir = "/data"
	opts := testOptions()
	opts.FS, opts.NoSync = mem, false
	opts.Logger = slog.New(slog.DiscardHandler)
	db := mustOpen(t, dir, opts)
	lines := makeEvents(300, 5, 2)
	ingestAll(t, db, lines[:200], 50)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	ingestAll(t, db, lines[200:], 50) // unflushed: in the WAL only
	// A leftover segment file, and a torn tail on the WAL (half a frame).
	var dayDir string // a day's directory, whatever the clock made the days
	vfs.WalkFiles(mem, dir+"/segments", func(p string) error { dayDir = filepath.Dir(p); return nil })
	if err := vfsWrite(mem, dayDir+"/00000000000000ff.seg", []byte("leftover")); err != nil {
		t.Fatal(err)
	}
	crashed := mem.Crash(nil) // the writer's process is gone; its lock with it
	db.Close()
	entries, _ := crashed.ReadDir(dir + "/wal")
	var last string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".wal") {
			last = e.Name()
		}
	}
	f, err := crashed.OpenFile(dir+"/wal/"+last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{1, 0, 0, 0, 9, 9})
	f.Close()

	writes := &vfs.Switch{Errno: syscall.EROFS, Kinds: writeOps}
	writes.On()
	ro := testOptions()
	ro.FS, ro.ReadOnly, ro.Logger = vfs.Inject(crashed, writes.Inject), true, opts.Logger
	reader := mustOpen(t, dir, ro)
	defer reader.Close()
	checkIDs(t, reader, lines, "read-only")
	if _, err := reader.Query(context.Background(), tenantA, query.Request{Filter: "status/errorCode eq 0", Top: 10}); err != nil {
		t.Fatal(err)
	}
	if writes.Hits() != 0 {
		t.Fatalf("a read-only open, query and export attempted %d writes", writes.Hits())
	}
}

func vfsWrite(fsys vfs.FS, path string, data []byte) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Close()
}

// TestReopenAddsNoFile: opening and closing a database without ingesting leaves the same files
// (each read-write open used to start a new WAL file, and each later open replayed them all).
func TestReopenAddsNoFile(t *testing.T) {
	mem, opts := memOptions()
	const dir = "/data"
	db := mustOpen(t, dir, opts)
	ingestAll(t, db, makeEvents(50, 2, 1), 50) // unflushed: its WAL file stays
	db.Close()
	count := func() (n int) {
		vfs.WalkFiles(mem, dir, func(string) error { n++; return nil })
		return n
	}
	mustOpen(t, dir, opts).Close()
	after := count()
	for i := range 10 {
		mustOpen(t, dir, opts).Close()
		if n := count(); n != after {
			t.Fatalf("open %d without ingest: %d files, %d before\n%s", i+2, n, after, mem)
		}
	}
}

// TestRecoveryFlushes: a read-write open flushes the rows it replayed from the WAL before it
// returns, so the next open replays nothing; a read-only open leaves them in the WAL.
func TestRecoveryFlushes(t *testing.T) {
	_, opts := memOptions()
	const dir = "/data"
	db := mustOpen(t, dir, opts)
	lines := makeEvents(100, 4, 1)
	ingestAll(t, db, lines, 50)
	db.Close()
	ro := opts
	ro.ReadOnly = true
	reader := mustOpen(t, dir, ro)
	if n := reader.Stats().MemtableRows; n != 100 {
		t.Fatalf("a reader sees %d rows in the WAL, want 100", n)
	}
	reader.Close()
	db = mustOpen(t, dir, opts)
	if n := db.Stats().MemtableRows; n != 0 {
		t.Fatalf("%d replayed rows left unflushed by the open", n)
	}
	checkIDs(t, db, lines, "after the recovery flush")
	db.Close()
	db = mustOpen(t, dir, opts)
	defer db.Close()
	if n := db.Stats().MemtableRows; n != 0 {
		t.Fatalf("the next open replayed %d rows", n)
	}
	checkIDs(t, db, lines, "after another open")
}
