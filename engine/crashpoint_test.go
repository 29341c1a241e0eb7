package engine

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/failpoint"
)

// TestCrashPoints: for every named crash point of the storage code (internal/failpoint), a real
// ingesting process (the crash test's child: random batches, background flushes and compactions,
// and for the retention point a retention of one day enforced every 25 batches) is armed to
// SIGKILL itself the N-th time it reaches the point. The test checks the point was reached (the
// child died of the signal, not of anything else), then reopens the directory: it opens without
// error, every sign-in is there at most once, and every acknowledged one is there, unless
// retention dropped its day. The kill lands exactly at the point, whatever the machine's speed.
func TestCrashPoints(t *testing.T) {
	lines := makeEvents(crashEvents, crashEventSeed, 3)
	ids, days := idsAndDays(lines)
	nth := map[string]int{failpoint.WALBeforeSync: 7, failpoint.WALAfterSync: 7, failpoint.AtomicBeforeRename: 8,
		failpoint.AtomicBeforeDirSync: 9}
	for _, point := range failpoint.Names {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			n := max(nth[point], 1)
			env := []string{fmt.Sprintf("%s=%s@%d", failpoint.Env, point, n)}
			if point == failpoint.RetentionInstalled {
				env = append(env, crashRetentionEnv+"=1")
			}
			acked := map[int]bool{}
			child := startCrashChild(t, dir, 0, acked, nil, env...)
			cmd, stderr, done := child.cmd, child.stderr, child.done
			select {
			case <-done:
			case <-time.After(5 * time.Minute): // against a child that never reaches the point
				cmd.Process.Kill()
				t.Fatalf("the child did not reach %s@%d within 5 minutes: %s", point, n, stderr.String())
			}
			cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the child ended without reaching %s (%v): %s", point, cmd.ProcessState, stderr.String())
			}

			db, err := Open(dir, Options{DisableBackground: true, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatalf("reopen after a crash at %s: %v", point, err)
			}
			defer db.Close()
			seen, err := idCounts(db, tenantA)
			if err != nil {
				t.Fatalf("export after a crash at %s: %v", point, err)
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("after a crash at %s: %s stored %d times", point, id, c)
				}
			}
			dropped := 0
			for i := range acked {
				if seen[ids[i]] == 1 {
					continue
				}
				if db.outsideRetention(tenantA, days[i], testNow) != "" {
					dropped++
					continue
				}
				t.Fatalf("after a crash at %s: acknowledged event %d (%s) lost", point, i, ids[i])
			}
			if len(acked) == 0 && point != failpoint.WALBeforeSync && point != failpoint.WALAfterSync {
				t.Fatalf("nothing was acknowledged before %s: the point was reached too early to test anything", point)
			}
			t.Logf("%s@%d: %d acknowledged, %d stored, %d on days retention dropped", point, n, len(acked), len(seen), dropped)
		})
	}
}
