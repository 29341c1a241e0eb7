package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A reused database answers the suite exactly as the run that built it did, without ingesting.
func TestRunReusesTheDatabaseOfAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Events: 3000, Seed: 3, Threads: 2, Runs: 1, CacheDir: filepath.Join(dir, "cache"),
		WorkDir: filepath.Join(dir, "work"), NoSingleThread: true}
	first, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Ingest) != 1 || first.Ingest[0].EventsPerSec <= 0 {
		t.Fatalf("first run measured no ingest: %+v", first.Ingest)
	}
	cfg.Reuse = true
	again, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Ingest) != 0 {
		t.Fatalf("a reused database reported ingest figures: %+v", again.Ingest)
	}
	if again.DiskBytes != first.DiskBytes || again.Params != first.Params {
		t.Fatalf("reused database differs: %d bytes vs %d, params %+v vs %+v", again.DiskBytes, first.DiskBytes, again.Params, first.Params)
	}
	matched := 0
	for i, q := range first.Queries {
		r := again.Queries[i]
		if q.Count != r.Count || q.IDsHash != r.IDsHash {
			t.Errorf("%s: first run %d (%s), reused %d (%s)", q.ID, q.Count, q.IDsHash, r.Count, r.IDsHash)
		}
		if q.Count > 0 {
			matched++
		}
	}
	if matched < 5 {
		t.Fatalf("only %d queries matched anything: the comparison checks little", matched)
	}

	// Given inputs replace the picked ones.
	cfg.Params = &Params{UPN: "nobody@example.com", CorrelationID: first.Params.CorrelationID, Now: first.Params.Now}
	given, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if given.Params != *cfg.Params || given.Queries[1].Count != 0 || given.Queries[4].Count != first.Queries[4].Count {
		t.Fatalf("given params not used: %+v, Q2 %d, Q5 %d vs %d", given.Params, given.Queries[1].Count, given.Queries[4].Count, first.Queries[4].Count)
	}
	for _, bad := range []Params{{CorrelationID: "c", Now: first.Params.Now}, {UPN: "u", CorrelationID: "c"}} {
		cfg.Params = &bad
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("incomplete params %+v: %v", bad, err)
		}
	}
	cfg.Params = nil

	cfg.WorkDir = filepath.Join(dir, "empty")
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no database from an earlier run") {
		t.Fatalf("reuse of an empty work dir: %v", err)
	}
	cfg.Peer = "duckdb"
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "without --peer") {
		t.Fatalf("reuse with the peer: %v", err)
	}
}
