package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/consume"
	"github.com/authlake/authlake/engine/consume/kafkatest"
	"github.com/authlake/authlake/internal/clocktest"
)

// asCLIEnv makes the test binary run as the authlake CLI (see TestMain).
const asCLIEnv = "AUTHLAKE_TEST_AS_CLI"

// TestConsumeSurvivesKill9: `authlake consume` runs as its own process against franz-go's
// in-process Kafka and is killed with SIGKILL while it commits, round after round (the commit
// that was in flight is dropped, the worst moment: its events are durable, its offsets are not).
// A final consumer then drains the topic, and every produced sign-in is stored exactly once. The
// kills are placed by counting commits, not by time.
func TestConsumeSurvivesKill9(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "signins"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	var buf bytes.Buffer
	events, _, err := gen.Write(&buf, gen.Config{Events: 3000, Seed: 9, Days: 2, End: clocktest.Epoch()})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if err := kafkatest.Produce(brokers, "signins", kafkatest.Messages(lines, 20, "SignInLogs")); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(t.TempDir(), "data")
	for round := 1; round <= 5; round++ {
		var mu sync.Mutex
		commits := 0
		var child *exec.Cmd
		killed := make(chan struct{})
		c.ControlKey(kmsg.OffsetCommit.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
			mu.Lock()
			defer mu.Unlock()
			commits++
			if commits < round || child == nil {
				return nil, nil, false // let it commit
			}
			close(killed) // before the kill: an exit seen from here on is this kill
			child.Process.Signal(syscall.SIGKILL)
			return nil, errors.New("killed"), true // the commit in flight is lost with the process
		})
		mu.Lock()
		child = exec.Command(os.Args[0], "consume", "--data", data, "--brokers", brokers[0], "--topic", "signins", "--group", "g", "--retention", "0", "--instance-id", "node-1", "--max-poll", "4")
		child.Env = append(os.Environ(), asCLIEnv+"=1")
		var stderr bytes.Buffer
		child.Stderr = &stderr
		if err := child.Start(); err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		mu.Unlock()
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		select {
		case err := <-exited:
			select {
			case <-killed: // closed before the kill: this exit is the kill
				if err == nil {
					t.Fatalf("round %d: the consumer was not killed", round)
				}
			default:
				t.Fatalf("round %d: the consumer exited by itself (%v)\n%s", round, err, stderr.String())
			}
		case <-time.After(2 * time.Minute):
			child.Process.Kill()
			t.Fatalf("round %d: the consumer made no commit within two minutes\n%s", round, stderr.String())
		}
	}

	// Drain what is left in-process, with the same group.
	now := clocktest.Epoch()
	db, err := engine.Open(data, engine.Options{NoSync: true, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storedAll := func() int {
		n := 0
		for _, ts := range db.Stats().Tenants {
			n += int(ts.Events)
		}
		return n
	}
	var st consume.Stats
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- consume.Run(ctx, db, consume.Options{Brokers: brokers, Topics: []string{"signins"}, Group: "g", InstanceID: "node-1", MaxPollRecords: 4}, &st)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for storedAll() < int(events) || st.Lag.Load() != 0 || st.Commits.Load() == 0 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("draining: stored %d of %d (%d messages, lag %d)", storedAll(), events, st.Messages.Load(), st.Lag.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := storedAll(); n != int(events) {
		t.Fatalf("stored %d sign-ins of %d produced", n, events)
	}
	if st.Duplicates.Load() == 0 {
		t.Fatal("the drain replayed nothing: the last kill's uncommitted poll should come back as duplicates")
	}
}
