package diagnostic

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
)

// TestMain removes the benchmark database (shared by the benchmarks of one run).
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

const testTenant = "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"

// testNow is the clock of every test database: generated data spans November 2026.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func openTestDB(t testing.TB) *engine.DB {
	t.Helper()
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, Retention: -1,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ingestLines(t testing.TB, db *engine.DB, lines [][]byte) {
	t.Helper()
	const batch = 5000
	for i := 0; i < len(lines); i += batch {
		recs := make([]engine.Record, 0, batch)
		for _, l := range lines[i:min(i+batch, len(lines))] {
			recs = append(recs, engine.Record{Raw: l})
		}
		res, err := db.Ingest(recs, engine.IngestOptions{Tenant: testTenant})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("rejected: %+v", res.Rejected[0])
		}
	}
}

// generated ingests n generated events (flushed to indexed segments) and returns the
// generator for its ground truth.
func generated(t testing.TB, db *engine.DB, cfg gen.Config) *gen.Generator {
	t.Helper()
	if cfg.Start.IsZero() && cfg.End.IsZero() {
		cfg.End = testNow // the days up to the test databases' clock
	}
	g := gen.New(cfg)
	var lines [][]byte
	for {
		line, ok := g.Next(nil)
		if !ok {
			break
		}
		lines = append(lines, bytes.TrimRight(line, "\n"))
	}
	ingestLines(t, db, lines)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	return g
}

func diagnose(t testing.TB, db *engine.DB, in Input) (*Report, error) {
	t.Helper()
	return New(db, Options{Now: func() time.Time { return testNow }}).Diagnose(context.Background(), testTenant, in)
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
