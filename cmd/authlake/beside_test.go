package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/internal/clocktest"
)

// TestQueryBesideServe: while a real `authlake serve` process holds the data directory (its
// lock names its pid), the CLI's query, stats and export read the same directory, each on a
// consistent snapshot, and change nothing the server relies on. The wait for the server is on
// its lock file, bounded.
func TestQueryBesideServe(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 400, Seed: 11, Days: 2, End: clocktest.Epoch(), Tenant: "t-beside"}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, buf.Bytes(), 0o644)
	data := filepath.Join(dir, "data")
	if _, err := run(t, "ingest", "--data", data, "--retention", "0", "--tenant", "t-beside", in); err != nil {
		t.Fatal(err)
	}
	server := exec.Command(os.Args[0], "serve", "--data", data, "--http", "--addr", "127.0.0.1:0", "--no-console-link")
	// Without GOMAXPROCS in its environment, so that it sizes itself (checked below).
	server.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") }), asCLIEnv+"=1")
	var serverOut lockedBuffer // written by exec's copier while the test may report it
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		server.Process.Kill()
		server.Wait()
	}()
	pid := strconv.Itoa(server.Process.Pid)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(data, "LOCK")); strings.TrimSpace(string(b)) == pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not take the directory within two minutes:\n%s", serverOut.String())
		}
	}
	out, err := run(t, "query", "--data", data, "--tenant", "t-beside", "--count", "--filter", "createdDateTime ge 2000-01-01T00:00:00Z")
	if err != nil || strings.TrimSpace(out) != "400" {
		t.Fatalf("query beside the server: %q, %v\n%s", out, err, serverOut.String())
	}
	if out, err := run(t, "stats", "--data", data); err != nil || !strings.Contains(out, "400") {
		t.Fatalf("stats beside the server: %q, %v", out, err)
	}
	exported := filepath.Join(dir, "out.ndjson")
	if _, err := run(t, "export", "--data", data, "--tenant", "t-beside", "-o", exported); err != nil {
		t.Fatal(err)
	}
	if lines := canonicalLines(t, exported); len(lines) != 400 {
		t.Fatalf("export beside the server: %d lines, want 400", len(lines))
	}
	if server.ProcessState != nil {
		t.Fatalf("the server exited while the CLI read its directory:\n%s", serverOut.String())
	}
	if b, _ := os.ReadFile(filepath.Join(data, "LOCK")); strings.TrimSpace(string(b)) != pid {
		t.Fatalf("the lock no longer names the server: %q", b)
	}
	// The server keeps one P above the CPU pool's tokens for its requests (internal/cpu).
	cpuLine := regexp.MustCompile(`cpu_tokens=(\d+) gomaxprocs=(\d+)`)
	var m []string
	for deadline := time.Now().Add(2 * time.Minute); m == nil; time.Sleep(10 * time.Millisecond) {
		if m = cpuLine.FindStringSubmatch(serverOut.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("the server did not log its CPU layout within two minutes:\n%s", serverOut.String())
		}
	}
	tokens, _ := strconv.Atoi(m[1])
	procs, _ := strconv.Atoi(m[2])
	if tokens < 1 || procs != tokens+1 {
		t.Fatalf("server CPU layout: %d tokens, GOMAXPROCS %d; want one P more than tokens", tokens, procs)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
