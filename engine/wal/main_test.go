package wal

import (
	"bytes"
	"log/slog"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The crash test re-executes this binary as the process it kills.
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.DiscardHandler)

// openReplayed opens dir and replays it, collecting the payloads.
func openReplayed(t testing.TB, dir string, opts Options) (*Log, [][]byte, ReplayStats) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var got [][]byte
	stats, err := l.Replay(func(_ Pos, p []byte) error {
		got = append(got, bytes.Clone(p))
		return nil
	})
	if err != nil {
		_ = l.Close()
		t.Fatalf("Replay: %v", err)
	}
	return l, got, stats
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func equalPayloads(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
}

// replayAll opens dir, replays it and closes it again.
func replayAll(t testing.TB, dir string, opts Options) ([][]byte, ReplayStats) {
	t.Helper()
	l, got, stats := openReplayed(t, dir, opts)
	mustClose(t, l)
	return got, stats
}
