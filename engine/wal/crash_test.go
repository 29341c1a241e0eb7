package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	crashChildEnv     = "AUTHLAKE_WAL_CRASH_DIR"
	crashIterationEnv = "AUTHLAKE_WAL_CRASH_ITERATION"
)

// crashPayload derives a record from its id alone, so the parent can check
// every replayed byte without having seen the record. Sizes cover tiny
// records, typical batches and the direct-write path.
func crashPayload(id uint64) []byte {
	rng := rand.New(rand.NewPCG(id, 0x5eed))
	n := 8 + rng.IntN(4000)
	if rng.IntN(40) == 0 {
		n = directWriteMin + rng.IntN(100_000)
	}
	p := make([]byte, n)
	binary.LittleEndian.PutUint64(p, id)
	for i := 8; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(p[i:], w[:])
	}
	return p
}

// crashChild runs in the re-executed test binary: it appends from several
// goroutines and prints each id only after Append acknowledged it, until the
// parent kills it.
func crashChild(dir string) {
	iter, _ := strconv.ParseUint(os.Getenv(crashIterationEnv), 10, 32)
	l, err := Open(dir, Options{SegmentSize: 256 << 10, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	if _, err := l.Replay(func(Pos, []byte) error { return nil }); err != nil {
		fmt.Fprintln(os.Stderr, "child replay:", err)
		os.Exit(2)
	}
	var next atomic.Uint64
	var outMu sync.Mutex
	rotate := make(chan struct{}, 1)
	for w := 0; w < 8; w++ {
		go func() {
			for {
				n := next.Add(1)
				if n%300 == 0 { // rotate every few hundred appends, so kills land around rotations too
					select {
					case rotate <- struct{}{}:
					default:
					}
				}
				id := iter<<32 | n
				if _, err := l.Append(crashPayload(id)); err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				outMu.Lock()
				_, err := os.Stdout.WriteString(strconv.FormatUint(id, 10) + "\n")
				outMu.Unlock()
				if err != nil {
					os.Exit(2)
				}
			}
		}()
	}
	go func() {
		for range rotate {
			if _, err := l.Rotate(); err != nil {
				fmt.Fprintln(os.Stderr, "child rotate:", err)
				os.Exit(2)
			}
		}
	}()
	select {} // until the parent kills us
}

// TestCrash kills a real appending process with SIGKILL after a random number
// of acknowledged records (a count, not a time, so the test does the same work
// on any machine) and checks that every acknowledged record survives, exactly
// once and intact, across repeated crash and recovery in the same directory.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	acked := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(7, 1))
	torn := 0
	for iter := 1; iter <= 12; iter++ {
		killAfter := 1 + rng.IntN(3000)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashIterationEnv+"="+strconv.Itoa(iter))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan uint64, 1<<16)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				id, err := strconv.ParseUint(sc.Text(), 10, 64)
				if err != nil {
					panic("child printed a non-id line: " + sc.Text())
				}
				lines <- id
			}
		}()
		// Kill at a random moment once the child is appending.
		first, ok := <-lines
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("iteration %d: child exited before acknowledging anything: %s", iter, stderr.String())
		}
		acked[first] = true
		n := 1
		for ; n < killAfter; n++ {
			id, ok := <-lines
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("iteration %d: child exited after %d acknowledgements: %s", iter, n, stderr.String())
			}
			acked[id] = true
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for id := range lines { // everything printed before death was acknowledged
			acked[id] = true
			n++
		}
		if err := cmd.Wait(); err == nil || stderr.Len() > 0 {
			t.Fatalf("iteration %d: child did not die by our kill: %v, stderr %s", iter, err, stderr.String())
		}

		l, err := Open(dir, Options{SegmentSize: 256 << 10, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[uint64]bool{}
		stats, err := l.Replay(func(pos Pos, p []byte) error {
			if len(p) < 8 {
				return fmt.Errorf("record at %+v is %d bytes", pos, len(p))
			}
			id := binary.LittleEndian.Uint64(p)
			if !bytes.Equal(p, crashPayload(id)) {
				return fmt.Errorf("record %d at %+v is corrupted", id, pos)
			}
			if seen[id] {
				return fmt.Errorf("record %d replayed twice (again at %+v)", id, pos)
			}
			seen[id] = true
			return nil
		})
		if err != nil {
			_ = l.Close()
			t.Fatalf("iteration %d: %v", iter, err)
		}
		mustClose(t, l)
		for id := range acked {
			if !seen[id] {
				t.Fatalf("iteration %d: acknowledged record %d lost", iter, id)
			}
		}
		if stats.TornBytes > 0 {
			torn++
		}
		t.Logf("iteration %d: %d acks this run, %d acked total, %d replayed, torn tail %d bytes (%s), zero tail %d",
			iter, n, len(acked), len(seen), stats.TornBytes, stats.TornReason, stats.ZeroTailBytes)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d records acknowledged: the test exercised too little", len(acked))
	}
	t.Logf("%d runs ended with a torn tail", torn)
}
