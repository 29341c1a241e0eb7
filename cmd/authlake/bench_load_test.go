package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authlake/authlake/bench/httpload"
)

// authlake bench load, small and bounded by counts: the run succeeds, and its JSON and Markdown
// hold every route, the configuration and the verification.
func TestBenchLoad(t *testing.T) {
	// The clients' process is this test binary run as the CLI (TestMain): authlake bench
	// load-clients.
	t.Setenv(asCLIEnv, "1")
	dir := t.TempDir()
	js, md := filepath.Join(dir, "load.json"), filepath.Join(dir, "load.md")
	out, err := run(t, "bench", "load", "--events", "1500", "--seed", "9", "--cache", filepath.Join(dir, "cache"), "--work", filepath.Join(dir, "work"),
		"--requests", "2", "--query-clients", "2", "--ingest-clients", "1", "--alone-clients", "1", "--batch", "200",
		"--duration", "0", "--loaded-requests", "9", "--ingest-batches", "2", "--out", js, "--markdown", md)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var res httpload.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Events != 1500 || res.QueryClients != 2 || res.IngestClients != 1 || res.AloneClients != 1 || res.Batch != 200 || res.Revision == "" || res.GOMAXPROCS < 1 {
		t.Fatalf("configuration not recorded: %+v", res)
	}
	if res.ClientsProcess != "child" {
		t.Fatalf("the clients ran in the %q process, want a child process of their own", res.ClientsProcess)
	}
	if res.ErrorCount != 0 || res.Verify.Posted != 800 || res.Verify.CountAfter-res.Verify.CountBefore != 800 {
		t.Fatalf("errors %d, posted %d, count %d -> %d", res.ErrorCount, res.Verify.Posted, res.Verify.CountBefore, res.Verify.CountAfter)
	}
	mdText, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Routes {
		if r.Unloaded.N != 2 {
			t.Errorf("%s: %d requests alone, want 2", r.Name, r.Unloaded.N)
		}
		for _, text := range []string{out, string(mdText)} {
			if !strings.Contains(text, r.Name) {
				t.Errorf("route %s missing from a report:\n%s", r.Name, text)
			}
		}
	}
	if len(res.Routes) < 9 {
		t.Fatalf("%d routes", len(res.Routes))
	}
}
