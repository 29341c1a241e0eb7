package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test kills a real ingesting process with SIGKILL at chosen points of its progress
// (after a random number of acknowledged batches, so during ingest, a background flush or a
// compaction) and checks that every event whose Ingest call returned is there exactly once
// after reopening. Kill points are counted in acknowledgements, not seconds: the test does the
// same work on a fast machine, a loaded one and under -race.

const (
	crashRetentionEnv = "AUTHLAKE_CRASH_CHILD_RETENTION" // set: every 25 batches, keep 1 day and enforce it
	crashChildEnv     = "AUTHLAKE_CRASH_CHILD_DIR"
	crashStartEnv     = "AUTHLAKE_CRASH_CHILD_START"
	crashEvents       = 12000
	crashEventSeed    = 99
)

// crashChild ingests the crash event list from a start offset, in random batch sizes, printing
// "ACK first last" to stdout after each successful Ingest, until it is killed.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	start, _ := strconv.Atoi(os.Getenv(crashStartEnv))
	lines := makeEvents(crashEvents, crashEventSeed, 3)
	db, err := Open(dir, Options{MemtableRows: 1500, CompactMinSegments: 2, BlockRows: 512,
		Now: func() time.Time { return testNow }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(uint64(start), uint64(os.Getpid())))
	retention := os.Getenv(crashRetentionEnv) != ""
	for i, batches := start, 0; ; batches++ {
		if retention && batches%25 == 24 {
			if err := db.SetRetention(tenantA, 1); err != nil {
				fmt.Fprintln(os.Stderr, "child retention:", err)
				os.Exit(3)
			}
			if err := db.EnforceRetention(); err != nil {
				fmt.Fprintln(os.Stderr, "child retention:", err)
				os.Exit(3)
			}
		}
		n := 1 + rng.IntN(300)
		end := min(i+n, len(lines))
		if _, err := db.Ingest(records(lines[i:end]), IngestOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "child ingest:", err)
			os.Exit(3)
		}
		fmt.Fprintf(out, "ACK %d %d\n", i, end)
		out.Flush()
		i = end
		if i == len(lines) {
			i = 0
		}
	}
}

// crashChildRun is a running crash child.
type crashChildRun struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan struct{} // closed when its stdout ends (it exited or was killed)
}

// startCrashChild starts the crash child over dir from event start, with env added to its
// environment. Each acknowledged event index is set in acked, and onAck runs after each ACK
// line, both from the reading goroutine (read acked after done).
func startCrashChild(t *testing.T, dir string, start int, acked map[int]bool, onAck func(), env ...string) crashChildRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), crashChildEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(start)), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := crashChildRun{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var a, b int
			if _, err := fmt.Sscanf(sc.Text(), "ACK %d %d", &a, &b); err == nil {
				for i := a; i < b; i++ {
					acked[i] = true
				}
				if onAck != nil {
					onAck()
				}
			}
		}
	}()
	return r
}

func TestCrashKill9LosesNoAcknowledgedEvent(t *testing.T) {
	dir := t.TempDir()
	lines := makeEvents(crashEvents, crashEventSeed, 3)
	ids := make([]string, len(lines))
	for i, l := range lines {
		var m struct{ ID string }
		json.Unmarshal([]byte(l), &m)
		ids[i] = m.ID
	}
	acked := map[int]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := 8
	if raceEnabled {
		rounds = 3 // each round's child runs under the race detector, several times slower
	}
	kills := 0
	for iter := 0; iter < rounds; iter++ {
		// Batches average 150 events and the memtable flushes at 1,500 rows: up to 60
		// acknowledgements spans several flushes and compactions.
		killAfter := 1 + rng.IntN(60)
		start := rng.IntN(len(lines))
		reached := make(chan struct{})
		n := 0
		child := startCrashChild(t, dir, start, acked, func() {
			if n++; n == killAfter {
				close(reached)
			}
		})
		cmd, stderr, done := child.cmd, child.stderr, child.done
		// A bound only against a hung child; a slow one gets all the time it needs.
		select {
		case <-reached:
		case <-done:
			t.Fatalf("round %d: the child stopped before %d acknowledgements: %s", iter, killAfter, stderr.String())
		case <-time.After(5 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("round %d: no %d acknowledgements in 5 minutes: %s", iter, killAfter, stderr.String())
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child exited on its own (%v): %s", err, stderr.String())
		}
		kills++

		// Reopen in this process and check.
		db, err := Open(dir, Options{DisableBackground: true, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatalf("reopen after kill %d: %v", kills, err)
		}
		seen := map[string]int{}
		_, err = db.Export(tenantA, func(line []byte) error {
			var m struct{ ID string }
			if err := json.Unmarshal(line, &m); err != nil {
				return err
			}
			seen[m.ID]++
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatalf("export after kill %d: %v", kills, err)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("after kill %d: event %s stored %d times", kills, id, n)
			}
		}
		for i := range acked {
			if seen[ids[i]] != 1 {
				t.Fatalf("after kill %d: acknowledged event %d (%s) lost", kills, i, ids[i])
			}
		}
	}
	if kills != rounds || len(acked) == 0 {
		t.Fatalf("%d kills of %d and %d acknowledged events: the test did not exercise anything", kills, rounds, len(acked))
	}
	t.Logf("%d kills, %d acknowledged events verified", kills, len(acked))
}
