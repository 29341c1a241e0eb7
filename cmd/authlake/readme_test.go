package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/internal/clocktest"
)

// TestREADME runs every ```sh block of README.md verbatim, in order, with bash (-e, -u,
// pipefail) in a copy of the repository, the way a new user would paste them: a README command
// that stops working fails CI. The environment differs from a fresh machine only in what makes
// the run small and reproducible: the demo generates AUTHLAKE_DEMO_EVENTS events instead of a
// million, every command runs at the tests' clock (AUTHLAKE_NOW), and HOME and the user cache
// are temporary. Two commands of the first block are not run as they stand: `go test ./...` is
// the command CI itself runs (this test is part of it), and `go run ./cmd/authlake demo` serves
// until stopped, so it runs in the background until it prints its commands, which are then run
// against it, and is stopped with Ctrl-C (SIGINT) as a user would.
func TestREADME(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(readme))
	if len(blocks) < 2 {
		t.Fatalf("README.md has %d sh blocks", len(blocks))
	}
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	if err := copyTree(root, repo); err != nil {
		t.Fatal(err)
	}
	env := readmeEnv(t, work)

	for _, line := range blocks[0].lines() {
		switch {
		case line == "go test ./...":
			t.Logf("README line %d: %q is what CI runs; not run inside itself", blocks[0].line, line)
		case line == "go run ./cmd/authlake demo":
			runDemo(t, repo, env, line)
		default:
			t.Fatalf("README line %d: %q: the first block holds the set-up commands this test knows how to run", blocks[0].line, line)
		}
	}
	for _, b := range blocks[1:] {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", b.text)
		cmd.Dir, cmd.Env = repo, env
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("README block at line %d failed (%v):\n%s\n--- output ---\n%s", b.line, err, b.text, out)
		}
		t.Logf("README block at line %d: ok (%d bytes of output)", b.line, len(out))
	}
}

// block is one fenced ```sh block of the README.
type block struct {
	line int // of the opening fence
	text string
}

// lines returns the block's commands: comments and blank lines dropped.
func (b block) lines() []string {
	var out []string
	for _, l := range strings.Split(b.text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func shellBlocks(md string) []block {
	var out []block
	var cur *block
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sh":
			cur = &block{line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// readmeEnv is the commands' environment: this one, with a temporary home and cache, the
// tests' clock, a small demo, and the Go caches of this machine (a new HOME would otherwise
// rebuild every dependency).
func readmeEnv(t *testing.T, work string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CACHE_HOME", envTenant, clock.EnvNow, envDemoEvents:
			continue
		}
		env = append(env, kv)
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		env = append(env, k+"="+strings.TrimSpace(string(v)))
	}
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return append(env, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(work, "cache"),
		clocktest.Env(), envDemoEvents+"=20000")
}

// runDemo starts the demo, waits for the commands it prints, runs them against it, and stops
// it with SIGINT; it must then shut down gracefully.
func runDemo(t *testing.T, repo string, env []string, line string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "exec "+line)
	cmd.Dir, cmd.Env = repo, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	defer stop()

	var printed strings.Builder
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed.WriteString(sc.Text() + "\n")
			if sc.Text() == "Press Ctrl-C to stop." {
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("the demo ended its output without serving")
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, printed.String(), stderr.String())
		}
	case <-time.After(10 * time.Minute): // against a hang only
		t.Fatalf("%s: not serving after 10 minutes\nstderr:\n%s", line, stderr.String())
	}
	// The demo prints "export TOKEN=…" and curl commands: run them as printed.
	var script []string
	for _, l := range strings.Split(printed.String(), "\n") {
		if strings.HasPrefix(l, "export TOKEN=") || strings.HasPrefix(l, "curl ") {
			script = append(script, l)
		}
	}
	curls := 0
	for _, l := range script {
		if !strings.HasPrefix(l, "curl ") {
			continue
		}
		curls++
		c := exec.Command("bash", "-euo", "pipefail", "-c", script[0]+"\n"+strings.Replace(l, "curl -s ", "curl -sS --fail-with-body ", 1))
		c.Env = env
		out, err := c.CombinedOutput()
		if err != nil || !bytes.HasPrefix(out, []byte(`{"@odata.context"`)) {
			t.Fatalf("demo command %q: %v\n%s", l, err, out)
		}
	}
	if curls != 3 || !strings.HasPrefix(script[0], "export TOKEN=") {
		t.Fatalf("the demo printed %d curl commands:\n%s", curls, printed.String())
	}
	// The console link it printed signs in once and lands on the sign-in logs.
	link := regexp.MustCompile(`https://\S+/console/login\?token=[0-9a-f]+`).FindString(printed.String())
	ca := regexp.MustCompile(`--cacert \S+`).FindString(printed.String())
	if link == "" || ca == "" {
		t.Fatalf("the demo printed no console link (or no certificate to trust):\n%s", printed.String())
	}
	jar := filepath.Join(t.TempDir(), "cookies")
	page, err := exec.Command("bash", "-c", "curl -sS --fail-with-body -L -c "+jar+" -b "+jar+" "+ca+" '"+link+"'").CombinedOutput()
	if err != nil || !bytes.Contains(page, []byte(`id="signins"`)) {
		t.Fatalf("opening the console link %s: %v\n%.2000s", link, err, page)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		// go run itself exits 1 once interrupted, whatever its program did: what counts is that
		// the demo shut down gracefully and said nothing else went wrong.
		if log := stderr.String(); !strings.Contains(log, "shut down: in-flight requests finished; closing the database") ||
			strings.Contains(log, "level=ERROR") || strings.Contains(log, "authlake:") {
			t.Fatalf("the demo did not stop cleanly on Ctrl-C (%v):\n%s", err, log)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the demo did not stop within 2 minutes of Ctrl-C\nstderr:\n%s", stderr.String())
	}
}

// copyTree copies the repository's files (not .git, local worktrees, benchmark caches or the
// ignored scratch directory tmp/, which can hold databases of many GB on a developer's machine).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || rel == "bench/.cache" || rel == "data" || rel == "tmp") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
