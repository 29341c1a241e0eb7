package main

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/lake"
)

// TestParquetTreeAnswersLikeAuthlake: authlake ingests the benchmark's events, publishes them
// with engine/lake as a Hive-partitioned Parquet tree, and DuckDB, reading only that tree
// (read_parquet with hive_partitioning), answers every benchmark query as the Go reference
// evaluator does (whose answers the smoke run also holds authlake's against).
func TestParquetTreeAnswersLikeAuthlake(t *testing.T) {
	dir := t.TempDir()
	genPath := filepath.Join(dir, "gen.ndjson")
	f, err := os.Create(genPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gen.Write(f, gen.Config{Events: 10000, Seed: 7, Days: 30, End: gen.BenchEnd}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	genEvents, _ := readEvents(t, genPath)
	last := genEvents[0].Created
	for _, e := range genEvents {
		if e.Created.After(last) {
			last = e.Created
		}
	}
	edgePath := filepath.Join(dir, "edge.ndjson")
	if err := os.WriteFile(edgePath, append(slices.Concat(joinLines(edgeEvents(t, last))...), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, _ := readEvents(t, genPath, edgePath)

	// authlake: ingest (into one tenant, as the benchmark loads them into one table), flush part of it, publish.
	db, err := engine.Open(filepath.Join(dir, "authlake"), engine.Options{NoSync: true, Retention: -1,
		Now: func() time.Time { return gen.BenchEnd }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, path := range []string{genPath, edgePath} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var recs []engine.Record
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			recs = append(recs, engine.Record{Raw: append([]byte(nil), sc.Bytes()...)})
		}
		f.Close()
		res, err := db.Ingest(recs, engine.IngestOptions{Tenant: gen.DefaultTenant})
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("ingest %s: %+v %v", path, res.Rejected, err)
		}
		if i == 0 {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tree := filepath.Join(dir, "lake")
	var rows int64
	for _, tenant := range db.Tenants() {
		days, err := lake.Export(db, tenant, tree, lake.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range days {
			rows += d.Rows
		}
	}
	if rows != int64(len(evs)) {
		t.Fatalf("published %d rows, the events are %d", rows, len(evs))
	}

	// DuckDB over the tree only.
	ctx := context.Background()
	o := openOptions{Path: filepath.Join(dir, "lake.duckdb"), Threads: 2}
	ddb, err := open(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.ExecContext(ctx, "CREATE VIEW "+tableName+" AS SELECT * FROM read_parquet('"+filepath.ToSlash(tree)+"/**/*.parquet', hive_partitioning = true)"); err != nil {
		t.Fatal(err)
	}
	ddb.Close()
	p := expectedParams(evs)
	_, got, err := runSuite(ctx, o, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	exp := expected(evs, p)
	for _, q := range bench.Suite {
		g, w := got[q.ID], exp[q.ID]
		if g.count != w.count || !slices.Equal(g.ids, w.ids) || !slices.EqualFunc(g.top, w.top, sameAppCount) {
			t.Errorf("%s over Parquet: count %d ids %d top %s; want count %d ids %d top %s", q.ID, g.count, len(g.ids), fmtTop(g.top), w.count, len(w.ids), fmtTop(w.top))
		}
		if w.count == 0 {
			t.Errorf("%s: fixture selects no rows", q.ID)
		}
	}
}
