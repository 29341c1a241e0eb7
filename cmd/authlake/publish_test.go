package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine/lake"
	"github.com/authlake/authlake/internal/clocktest"
)

// `export --format parquet --follow` publishes, keeps running until Ctrl-C and exits 0; a later
// one-shot export of the same data writes nothing again and says the days are unchanged.
func TestExportParquetFollow(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 300, Seed: 3, Days: 2, End: clocktest.Epoch(), Tenant: "t-lake"}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, buf.Bytes(), 0o644)
	data, tree := filepath.Join(dir, "data"), filepath.Join(dir, "lake")
	if _, err := run(t, "ingest", "--data", data, "--retention", "0", "--tenant", "t-lake", in); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "export", "--data", data, "--format", "parquet", "-o", tree, "--follow", "10ms", "--seal-after", "0s")
	child.Env = append(os.Environ(), asCLIEnv+"=1")
	stderr, err := child.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	lines := make(chan string, 16)
	var all strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
		close(lines)
	}()
	for _, want := range []string{"published ", "publishing to "} {
		select {
		case l, ok := <-lines:
			if !ok || !strings.Contains(l, want) {
				t.Fatalf("want %q, got %q", want, l)
			}
		case <-time.After(2 * time.Minute): // against a hang only
			t.Fatalf("no %q within two minutes", want)
		}
	}
	child.Process.Signal(os.Interrupt)
	if err := child.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v\n%s", err, all.String())
	}
	var m lake.Manifest
	b, err := os.ReadFile(filepath.Join(tree, lake.ManifestName))
	if err != nil || json.Unmarshal(b, &m) != nil || len(m.Days) == 0 {
		t.Fatalf("manifest %s, %v", b, err)
	}
	var rows int64
	for _, d := range m.Days {
		rows += d.Rows
	}
	if rows != 300 {
		t.Fatalf("published %d sign-ins of 300", rows)
	}
	again := exec.Command(os.Args[0], "export", "--data", data, "--format", "parquet", "-o", tree)
	again.Env = child.Env
	out, err := again.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "published 0 days") || !strings.Contains(string(out), "unchanged") {
		t.Fatalf("export again: %q, %v", out, err)
	}
}
