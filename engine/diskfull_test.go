package engine

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/vfs"
)

// writeOps are the operations a full disk can fail. (A failed preallocation is not an error:
// the WAL then goes on without it.)
var writeOps = []vfs.OpKind{vfs.OpWrite, vfs.OpSync, vfs.OpSyncDir, vfs.OpCreate, vfs.OpRename, vfs.OpMkdir, vfs.OpTruncate}

// TestDiskFullAtEveryWriteOfFlushAndCompaction fails, in turn, each write a flush and a
// compaction make (segment and index files, directories, the manifest's log, the WAL's rotation
// and removals) with ENOSPC, as a disk that fills up exactly there. Each time: the failing call
// reports ENOSPC; every acknowledged sign-in stays readable; once the disk has room again (no
// restart) ingest, flush and compaction succeed; and after a power loss, then after a clean
// reopen, every acknowledged sign-in is there exactly once. The failures are counted, not timed:
// a first run lists the writes, then one run fails each (of the many writes of one file's
// contents, the first: the others take the same path).
func TestDiskFullAtEveryWriteOfFlushAndCompaction(t *testing.T) {
	lines := makeEvents(160, 33, 2)
	// The order of the writes of partitions flushed in parallel varies from run to run: the
	// N-th write is then another partition's same step.
	var ops []vfs.Op
	var opsMu sync.Mutex
	run := func(failAt int64) (writes int64) {
		t.Helper()
		mem := vfs.NewCrashableMem()
		nth := &vfs.Nth{N: failAt, Errno: syscall.ENOSPC, Kinds: writeOps}
		var active atomic.Bool
		opts := testOptions()
		opts.NoSync = false
		opts.CompactMinSegments = 2
		opts.Logger = slog.New(slog.DiscardHandler)
		opts.FS = vfs.Inject(mem, func(op vfs.Op) error {
			if !active.Load() {
				return nil
			}
			if failAt == 0 && matchesKind(op.Kind, writeOps) {
				opsMu.Lock() // a flush writes its partitions in parallel
				ops = append(ops, op)
				opsMu.Unlock()
			}
			return nth.Inject(op)
		})
		const dir = "/data"
		db := mustOpen(t, dir, opts)
		defer func() { db.Close() }()
		ingest := func(part []string) {
			t.Helper()
			res, err := db.Ingest(records(part), IngestOptions{})
			if err != nil || res.Accepted != len(part) {
				t.Fatalf("write %d: ingest: %+v %v", failAt, res, err)
			}
		}
		ingest(lines[:40])
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		ingest(lines[40:80])

		active.Store(true)
		err := db.Flush()
		if err == nil {
			err = db.Compact()
		}
		active.Store(false)
		writes = nth.Seen()
		if failAt == 0 {
			if err != nil {
				t.Fatalf("without a full disk: %v", err)
			}
			return writes
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write %d of %d failed with ENOSPC, and flush then compaction returned %v", failAt, writes, err)
		}
		checkIDs(t, db, lines[:80], "on the full disk, write "+itoa(failAt))

		// Room again: everything resumes in this process.
		db.healMu.Lock()
		db.lastHeal = time.Time{} // the WAL's reopening is paced by a second of wall time: not waited for here
		db.healMu.Unlock()
		ingest(lines[80:120])
		if err := db.Flush(); err != nil {
			t.Fatalf("write %d: flush once the disk has room: %v", failAt, err)
		}
		if err := db.Compact(); err != nil {
			t.Fatalf("write %d: compaction once the disk has room: %v", failAt, err)
		}
		ingest(lines[120:])
		checkIDs(t, db, lines, "after the disk has room, write "+itoa(failAt))

		// Durable: a power loss now, and a clean reopen.
		crashed := mem.Crash(nil)
		db.Close()
		for name, fsys := range map[string]vfs.FS{"a power loss": crashed, "a reopen": mem} {
			o := testOptions()
			o.FS, o.Logger = fsys, opts.Logger
			db2, err := Open(dir, o)
			if err != nil {
				t.Fatalf("write %d: open after %s: %v", failAt, name, err)
			}
			checkIDs(t, db2, lines, "after "+name+", write "+itoa(failAt))
			db2.Close()
		}
		return writes
	}
	total := run(0)
	if total < 20 || int(total) != len(ops) {
		t.Fatalf("a flush and a compaction made only %d writes (%d listed): the injection does not see them", total, len(ops))
	}
	written := map[string]bool{}
	tried, candidates := 0, 0
	for i, op := range ops {
		if op.Kind == vfs.OpWrite {
			if written[op.Path] {
				continue
			}
			written[op.Path] = true
		}
		if candidates++; candidates%diskFullSample != 0 {
			continue
		}
		run(int64(i + 1))
		tried++
	}
	t.Logf("ENOSPC injected at %d of the %d writes of a flush and a compaction (1 in %d of all but repeated writes to one file)", tried, total, diskFullSample)
}

func matchesKind(k vfs.OpKind, kinds []vfs.OpKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// checkIDs asserts that tenant A holds exactly the sign-ins of lines, each once.
func checkIDs(t *testing.T, db *DB, lines []string, when string) {
	t.Helper()
	want := map[string]bool{}
	for _, l := range lines {
		var m struct{ ID string }
		json.Unmarshal([]byte(l), &m)
		want[m.ID] = true
	}
	seen, err := idCounts(db, tenantA)
	if err != nil {
		t.Fatalf("%s: export: %v", when, err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s: %s stored %d times", when, id, n)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			t.Fatalf("%s: acknowledged sign-in %s missing (%d of %d)", when, id, len(seen), len(want))
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%s: %d sign-ins, want %d", when, len(seen), len(want))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
