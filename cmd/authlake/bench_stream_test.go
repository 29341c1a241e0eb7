package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authlake/authlake/bench"
)

// authlake bench stream, small: the run stores every generated event and its JSON records the
// configuration, the timeline and the figures the summary prints.
func TestBenchStream(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "stream.json")
	t.Setenv(asCLIEnv, "1") // the generator it starts is this test binary, as the CLI
	out, err := run(t, "--memory-limit", "64MiB", "bench", "stream", "--events", "5000", "--seed", "4", "--threads", "2",
		"--interval", "1h", "--work", filepath.Join(dir, "work"), "--out", js)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var res bench.StreamResults
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Events != 5000 || res.Seed != 4 || res.Threads != 2 || res.MemoryLimit != 64<<20 || res.Revision == "" {
		t.Fatalf("configuration not recorded: %+v", res)
	}
	if !res.GeneratorProcess || res.GeneratorPeakRSS <= 0 || res.RawBytes < 5000*1000 {
		t.Fatalf("generator process %t, peak RSS %d, %d bytes", res.GeneratorProcess, res.GeneratorPeakRSS, res.RawBytes)
	}
	if n := len(res.Timeline); n == 0 || res.Timeline[n-1].Events != 5000 {
		t.Fatalf("timeline %+v", res.Timeline)
	}
	if !strings.Contains(out, "streamed 5000 events") || !strings.Contains(out, "B/event on disk") {
		t.Fatalf("summary:\n%s", out)
	}
}
