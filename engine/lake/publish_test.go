package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/internal/clocktest"
)

// publishFixture is a database of three days of one tenant's sign-ins, with the clock at the
// end of the last one, and its events' lines.
func publishFixture(t *testing.T, clk *clock.Manual) (*engine.DB, [][]byte) {
	t.Helper()
	now := clk.Now()
	db, err := engine.Open(t.TempDir(), engine.Options{NoSync: true, Retention: -1, Now: clk.Now, Logger: slog.New(slog.DiscardHandler), BlockRows: 512})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 3000, Seed: 5, Days: 3, End: now}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	// The generator ends its schedule a margin before End that depends on the data's size, so
	// make sure the day of the clock has a sign-in: a day that is not sealed yet.
	today := map[string]any{}
	json.Unmarshal(lines[0], &today)
	today["id"] = "7a1e2b3c-0000-4000-8000-00000000da7e"
	today["createdDateTime"] = now.Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	b, _ := json.Marshal(today)
	lines = append(lines, b)
	ingestLines(t, db, lines)
	return db, lines
}

func ingestLines(t *testing.T, db *engine.DB, lines [][]byte) {
	t.Helper()
	var recs []engine.Record
	for _, l := range lines {
		recs = append(recs, engine.Record{Raw: l})
	}
	if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil {
		t.Fatal(err)
	}
}

// A publisher writes sealed days only, writes each once while it does not change, and writes a
// sealed day again when a late sign-in lands in it, and only that day.
func TestPublishSealedAndChangedDays(t *testing.T) {
	clk := clocktest.Manual()
	now := clk.Now()
	db, lines := publishFixture(t, clk)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tree, err := OpenTree(context.Background(), dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{SealAfter: time.Hour}
	rep, err := Publish(context.Background(), db, tree, opts)
	if err != nil {
		t.Fatal(err)
	}
	today := now.UTC().Format("2006-01-02")
	if len(rep.Written) == 0 || rep.Open == 0 {
		t.Fatalf("first pass: %d days written, %d open; want sealed days written and today's left open", len(rep.Written), rep.Open)
	}
	for _, d := range rep.Written {
		if d.Date >= today || d.Source == "" {
			t.Fatalf("published %+v: today (%s) is not sealed, every day has a source", d, today)
		}
	}
	again, err := Publish(context.Background(), db, tree, opts)
	if err != nil || len(again.Written) != 0 || again.Unchanged != len(rep.Written) {
		t.Fatalf("second pass over unchanged data: %d written, %d unchanged (want 0, %d), %v", len(again.Written), again.Unchanged, len(rep.Written), err)
	}

	// A late sign-in in the first published day: that day only is written again, with it.
	late := map[string]any{}
	json.Unmarshal(lines[0], &late)
	target := rep.Written[0]
	late["id"] = "0d6f3a1c-1111-4222-8333-444455556666"
	late["createdDateTime"] = target.Date + "T12:00:00Z"
	b, _ := json.Marshal(late)
	ingestLines(t, db, [][]byte{b})
	third, err := Publish(context.Background(), db, tree, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Written) != 1 || third.Written[0].Date != target.Date || third.Written[0].Rows != target.Rows+1 {
		t.Fatalf("after a late sign-in on %s: wrote %+v", target.Date, third.Written)
	}
	found := false
	for _, r := range readParquet(t, filepath.Join(dir, filepath.FromSlash(third.Written[0].File))) {
		found = found || r["id"] == late["id"]
	}
	if !found {
		t.Fatal("the late sign-in is not in its day's file")
	}

	// The day sealed later is published once the clock passes its end plus SealAfter.
	clk.Advance(25 * time.Hour)
	fourth, err := Publish(context.Background(), db, tree, opts)
	if err != nil || len(fourth.Written) == 0 || fourth.Written[len(fourth.Written)-1].Date != today {
		t.Fatalf("a day later: wrote %+v, %v; want %s", fourth.Written, err, today)
	}
	m, err := readManifest(context.Background(), tree)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, d := range m.Days {
		total += d.Rows
	}
	if int(total) != len(lines)+1 {
		t.Fatalf("the manifest lists %d rows, the database holds %d sign-ins", total, len(lines)+1)
	}
}

// An aborted file never appears, in a directory or in a bucket; a committed one appears whole.
func TestTreeAbortLeavesNothing(t *testing.T) {
	for name, tree := range map[string]Tree{"dir": &dirTree{dir: t.TempDir()}, "s3": s3Tree(t)} {
		ctx := context.Background()
		f, err := tree.Create(ctx, "a/b.parquet")
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("half"))
		f.Abort()
		if _, err := tree.ReadFile(ctx, "a/b.parquet"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: an aborted file reads as %v, want not-exist", name, err)
		}
		f, err = tree.Create(ctx, "a/b.parquet")
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("whole"))
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		if b, err := tree.ReadFile(ctx, "a/b.parquet"); err != nil || string(b) != "whole" {
			t.Fatalf("%s: committed file reads %q, %v", name, b, err)
		}
	}
}

// s3Tree is a bucket on an in-process S3 server (gofakes3) on loopback, opened by URL as a user
// would open an S3-compatible store, under a key prefix.
func s3Tree(t *testing.T) Tree {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	tree, err := OpenTree(context.Background(), "s3://lake/signins?endpoint="+srv.URL+"&use_path_style=true&region=us-east-1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	return tree
}

// Publishing to an S3 bucket gives the same tree as to a directory: the manifest and every day,
// readable as Parquet from the bucket.
func TestPublishToS3(t *testing.T) {
	clk := clocktest.Manual()
	db, lines := publishFixture(t, clk)
	tree := s3Tree(t)
	ctx := context.Background()
	rep, err := Publish(ctx, db, tree, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(ctx, tree)
	if err != nil || len(m.Days) != len(rep.Written) {
		t.Fatalf("manifest: %+v, %v", m, err)
	}
	var rows int64
	for _, d := range m.Days {
		b, err := tree.ReadFile(ctx, d.File)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != d.Bytes {
			t.Fatalf("%s: %d bytes, the manifest says %d", d.File, len(b), d.Bytes)
		}
		rows += countParquetRows(t, b)
	}
	if rows != int64(len(lines)) {
		t.Fatalf("the bucket holds %d rows, the database %d sign-ins", rows, len(lines))
	}
	if _, err := os.Stat(ManifestName); err == nil {
		t.Fatal("a bucket publish wrote a local file")
	}
}

func countParquetRows(t *testing.T, b []byte) int64 {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator); err != nil {
		t.Fatal(err)
	}
	return pf.NumRows()
}

// A JSON value that does not fit its Parquet type (a step's "succeeded" that is no boolean) is
// written null and counted in the manifest; the other sign-ins of its day keep theirs.
func TestPublishCountsUnfitValues(t *testing.T) {
	clk := clocktest.Manual()
	db, lines := publishFixture(t, clk)
	odd := map[string]any{}
	json.Unmarshal(lines[0], &odd)
	odd["id"] = "5e0c1b2a-9999-4aaa-8bbb-cccccccccccc"
	odd["authenticationDetails"] = []any{map[string]any{"authenticationMethod": "Password", "succeeded": "yes"}}
	b, _ := json.Marshal(odd)
	ingestLines(t, db, [][]byte{b})
	dir := t.TempDir()
	days, err := Export(db, gen.DefaultTenant, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var unfit int64
	for _, d := range days {
		unfit += d.Unfit
		for _, r := range readParquet(t, filepath.Join(dir, d.File)) {
			if r["id"] == odd["id"] && r["authenticationDetails"] != nil {
				t.Fatalf("the unfit value came out as %v, want null", r["authenticationDetails"])
			}
			if r["id"] != odd["id"] && r["authenticationDetails"] == nil && r["userPrincipalName"] != nil {
				// generated sign-ins all carry authentication details
				t.Fatalf("%s lost its authenticationDetails", r["id"])
			}
		}
	}
	if unfit != 1 {
		t.Fatalf("the manifest counts %d unfit values, want 1", unfit)
	}
}
