package lake

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clocktest"
)

// BenchmarkPublish publishes 200,000 generated sign-ins (10 days, flushed and compacted) as
// Parquet into a directory, every day each time (--force), and reports events/s and Parquet
// bytes per event beside the segments' (without their indexes). The goals: ≥ 200K events/s,
// ≤ 1.3x the segments' bytes.
//
//	go test -run XXX -bench Publish -benchtime 3x ./engine/lake
func BenchmarkPublish(b *testing.B) {
	db := benchDB(b)
	segBytes := db.Stats().SegmentBytes
	tree, err := OpenTree(context.Background(), b.TempDir(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var rows, size int64
	for b.Loop() {
		rep, err := Publish(context.Background(), db, tree, Options{Force: true})
		if err != nil {
			b.Fatal(err)
		}
		rows, size = rep.Rows()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(rows), "parquetB/event")
	b.ReportMetric(float64(segBytes)/float64(rows), "segmentB/event")
}

func benchDB(b *testing.B) *engine.DB {
	b.Helper()
	now := clocktest.Epoch()
	opts := engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler), DisableBackground: true}
	db, err := engine.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 200_000, Seed: 11, Days: 10, End: now}); err != nil {
		b.Fatal(err)
	}
	var recs []engine.Record
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		recs = append(recs, engine.Record{Raw: l})
		if len(recs) == 10_000 {
			if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil {
		b.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := db.CompactAll(); err != nil {
		b.Fatal(err)
	}
	return db
}
