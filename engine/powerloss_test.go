package engine

import (
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/failpoint"
	"github.com/authlake/authlake/internal/vfs"
)

// powerLossState is what a power loss at one moment leaves: the file system (exactly what was
// synced, and a variant with some unsynced writes kept, torn) and the sign-ins acknowledged by
// then.
type powerLossState struct {
	at            string
	synced, torn  *vfs.MemFS
	acked         map[string]int32 // id -> UTC day
	ingestedSoFar int
}

// TestPowerLoss runs ingest, flushes, compactions, retention and a close and reopen on a
// crashable in-memory file system, and at every crash point of the storage code (each WAL sync,
// segment and index write, atomic rename and directory sync, manifest install, WAL removal,
// compaction and retention install) takes what a power loss there would leave: only the data and
// directory entries that were synced (and, in a second copy, a random part of the unsynced writes,
// torn). Each of those states must open without error and hold every sign-in acknowledged before
// the power went exactly once (but those on days retention dropped), and no sign-in twice. This
// is what SIGKILL cannot test: the page cache survives a killed process, not a power loss, so a
// missing file or directory fsync shows only here.
func TestPowerLoss(t *testing.T) {
	lines := makeEvents(480, 91, 3)
	ids, days := idsAndDays(lines)
	mem := vfs.NewCrashableMem()
	const dir = "/data"
	opts := testOptions()
	opts.NoSync = false
	opts.FS = mem
	opts.CompactMinSegments = 2
	opts.Logger = slog.New(slog.DiscardHandler)

	var mu sync.Mutex
	acked := map[string]int32{}
	ingested := 0
	var pending []powerLossState
	hits := map[string]int{}
	taken, checked := 0, 0
	rng := rand.New(rand.NewPCG(91, 1))
	var checking atomic.Bool // the checks' own opens reach the points too: not power losses of the scenario
	take := func(at string, always bool) {
		mu.Lock()
		defer mu.Unlock()
		if taken++; taken%powerLossSample != 0 && !always {
			return
		}
		pending = append(pending, powerLossState{at: at, synced: mem.Crash(nil), torn: mem.Crash(rng), acked: maps.Clone(acked), ingestedSoFar: ingested})
	}
	failpoint.SetHook(func(name string) {
		if checking.Load() {
			return
		}
		mu.Lock()
		hits[name]++
		n := hits[name]
		mu.Unlock()
		take(fmt.Sprintf("%s #%d", name, n), n == 1) // every point's first visit, then a sample
	})
	defer failpoint.SetHook(nil)
	// The states are checked after each step of the scenario (while it is idle), so that only
	// one step's copies of the file system are held at a time.
	checkPending := func() {
		checking.Store(true)
		defer checking.Store(false)
		mu.Lock()
		states := pending
		pending = nil
		mu.Unlock()
		for _, st := range states {
			checkPowerLoss(t, st, dir, st.synced, "synced")
			checkPowerLoss(t, st, dir, st.torn, "torn")
			checked++
		}
	}

	db := mustOpen(t, dir, opts)
	const batch = 40
	for b := 0; b*batch < len(lines); b++ {
		lo, hi := b*batch, min((b+1)*batch, len(lines))
		mu.Lock()
		ingested = hi
		mu.Unlock()
		res, err := db.Ingest(records(lines[lo:hi]), IngestOptions{})
		// After retention keeps one day, the older days' sign-ins are refused (and not acknowledged).
		if err != nil || res.Accepted+len(res.Rejected) != hi-lo || (b <= 9 && res.Accepted != hi-lo) {
			t.Fatalf("batch %d: %+v %v", b, res, err)
		}
		refused := map[int]bool{}
		for _, r := range res.Rejected {
			refused[lo+r.Index] = true
		}
		mu.Lock()
		for i := lo; i < hi; i++ {
			if !refused[i] {
				acked[ids[i]] = days[i]
			}
		}
		mu.Unlock()
		switch {
		case b%2 == 1:
			if err := db.Flush(); err != nil {
				t.Fatalf("flush after batch %d: %v", b, err)
			}
		}
		if b%4 == 3 {
			if err := db.Compact(); err != nil {
				t.Fatalf("compact after batch %d: %v", b, err)
			}
		}
		if b == 6 {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = mustOpen(t, dir, opts)
		}
		if b == 9 {
			if err := db.SetRetention(tenantA, 1); err != nil {
				t.Fatal(err)
			}
			if err := db.EnforceRetention(); err != nil {
				t.Fatal(err)
			}
		}
		checkPending()
	}
	take("the end, without a close", true)
	checkPending()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	failpoint.SetHook(nil)
	for _, p := range failpoint.Names {
		if hits[p] == 0 {
			t.Errorf("the scenario never reached crash point %s", p)
		}
	}

	t.Logf("%d power-loss states checked (1 in %d of the %d crash-point visits), twice each (synced only, and with torn unsynced writes); crash points reached: %v",
		checked, powerLossSample, taken, hits)
}

func checkPowerLoss(t *testing.T, st powerLossState, dir string, fsys *vfs.MemFS, variant string) {
	t.Helper()
	db, err := Open(dir, Options{FS: fsys, DisableBackground: true, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return testNow }, BlockRows: 256})
	if err != nil {
		t.Fatalf("power loss at %s (%s): reopen: %v\n%s", st.at, variant, err, fsys)
	}
	defer db.Close()
	seen, err := idCounts(db, tenantA)
	if err != nil {
		t.Fatalf("power loss at %s (%s): export: %v", st.at, variant, err)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("power loss at %s (%s): %s stored %d times", st.at, variant, id, c)
		}
	}
	if len(seen) > st.ingestedSoFar {
		t.Fatalf("power loss at %s (%s): %d sign-ins stored, only %d were ever sent", st.at, variant, len(seen), st.ingestedSoFar)
	}
	for id, day := range st.acked {
		if seen[id] == 1 || db.outsideRetention(tenantA, day, testNow) != "" {
			continue
		}
		t.Fatalf("power loss at %s (%s): acknowledged sign-in %s lost (%d acknowledged, %d stored)\n%s", st.at, variant, id, len(st.acked), len(seen), fsys)
	}
}
