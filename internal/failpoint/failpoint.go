// Package failpoint names the points of the storage code where a crash test ends the process,
// so that each durability step (WAL sync, segment and index writes, the manifest's atomic
// replacement, WAL removal after a flush, compaction and retention installs) is proven to
// survive a crash exactly there, not only wherever a timed kill happens to land.
//
// A point is armed by the environment, once per process: AUTHLAKE_FAILPOINT=NAME or NAME@N
// (the N-th time the point is reached, 1 by default). The process then kills itself with
// SIGKILL at that point: no deferred function, no buffered write and no fsync runs after it.
// Unarmed, Hit costs an atomic load and a comparison of two strings' lengths.
package failpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Env names the variable that arms a point.
const Env = "AUTHLAKE_FAILPOINT"

// The points. Names lists them all: the crash-point test covers each.
const (
	WALBeforeSync       = "wal-before-sync"       // a group's records written, not yet fdatasync'd
	WALAfterSync        = "wal-after-sync"        // fdatasync'd, the ingest not yet acknowledged
	SegmentWritten      = "segment-written"       // a new segment renamed into place, its index not yet written
	IndexWritten        = "index-written"         // segment and index in place, not in the manifest
	AtomicBeforeRename  = "atomic-before-rename"  // an atomic file's temporary written and synced, not renamed
	AtomicBeforeDirSync = "atomic-before-dirsync" // renamed into place, its directory not yet synced
	FlushInstalled      = "flush-installed"       // the manifest names the flushed segments, their WAL files not yet removed
	CompactInstalled    = "compact-installed"     // the manifest names the merged segment, the merged ones not yet removed
	RetentionInstalled  = "retention-installed"   // the manifest has dropped expired days, their files not yet removed
)

// Names lists every point.
var Names = []string{WALBeforeSync, WALAfterSync, SegmentWritten, IndexWritten, AtomicBeforeRename,
	AtomicBeforeDirSync, FlushInstalled, CompactInstalled, RetentionInstalled}

var (
	armed string // the armed point, "" for none
	nth   int64
	hits  atomic.Int64
)

func init() {
	v := os.Getenv(Env)
	if v == "" {
		return
	}
	name, n, found := strings.Cut(v, "@")
	armed, nth = name, 1
	if found {
		if i, err := strconv.ParseInt(n, 10, 64); err == nil && i > 0 {
			nth = i
		}
	}
}

// hook is the in-process observer of every point (SetHook), nil when there is none.
var hook atomic.Pointer[func(string)]

// SetHook makes Hit call fn at every point, in the goroutine that reached it, until SetHook(nil):
// the power-loss tests take a crashed copy of their in-memory file system there (vfs.MemFS.Crash),
// which is what a power loss at that point would leave. For tests only; one hook per process.
func SetHook(fn func(name string)) {
	if fn == nil {
		hook.Store(nil)
		return
	}
	hook.Store(&fn)
}

// Hit marks the point name: armed for it, the process is killed the N-th time it gets here.
func Hit(name string) {
	if h := hook.Load(); h != nil {
		(*h)(name)
	}
	if len(armed) != len(name) || armed != name {
		return
	}
	if hits.Add(1) == nth {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way: nothing after this point may run
	}
}
