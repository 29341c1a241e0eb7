package diagnostic

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// benchEvents is a large tenant for the benchmark: 30 days, compacted to a segment a day.
const benchEvents = 300_000

var bench struct {
	once sync.Once
	dir  string
	db   *engine.DB
	in   Input
}

func benchSetup(b *testing.B) (*engine.DB, Input) {
	bench.once.Do(func() {
		dir, err := os.MkdirTemp("", "diagbench")
		if err != nil {
			b.Fatal(err)
		}
		bench.dir = dir
		db, err := engine.Open(dir, engine.Options{DisableBackground: true, NoSync: true, Retention: -1,
			Now: func() time.Time { return testNow }})
		if err != nil {
			b.Fatal(err)
		}
		g := gen.New(gen.Config{Events: benchEvents, Seed: 3, Days: 30, End: gen.BenchEnd})
		var recs []engine.Record
		for {
			line, ok := g.Next(nil)
			if ok {
				recs = append(recs, engine.Record{Raw: line[:len(line)-1]})
			}
			if len(recs) == 20000 || (!ok && len(recs) > 0) {
				if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: testTenant}); err != nil {
					b.Fatal(err)
				}
				recs = recs[:0]
			}
			if !ok {
				break
			}
		}
		if err := db.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := db.CompactAll(); err != nil {
			b.Fatal(err)
		}
		// The busiest user, diagnosed in the middle of the month by display name: name
		// resolution, the user's events, the summary page and flows, and the window checks.
		snap, _ := db.Snapshot(testTenant)
		gs, err := query.Aggregate(context.Background(), snap.Schema(), snap.Source(), "signInEventTypes/any(t: t eq 'interactiveUser')",
			[]string{"userPrincipalName"}, []query.Agg{{Op: query.AggCount, Alias: "n"}})
		snap.Release()
		if err != nil {
			b.Fatal(err)
		}
		var best int64
		for _, g := range gs {
			if n := g.Values["n"].(int64); n > best {
				best, bench.in.User = n, g.Keys["userPrincipalName"].(string)
			}
		}
		bench.in.At = gen.BenchEnd.Add(-15 * 24 * time.Hour)
		bench.db = db
	})
	if bench.db == nil {
		b.Fatal("setup failed")
	}
	return bench.db, bench.in
}

// fullScan counts every event with a residual no index answers: the cost of touching the
// whole tenant once.
func fullScan(b *testing.B, db *engine.DB) int64 {
	res, err := db.Query(context.Background(), testTenant, query.Request{Filter: "contains(userAgent,'Gecko/2010')", Top: 1, Count: true})
	if err != nil {
		b.Fatal(err)
	}
	return res.Count
}

func runDiagnosis(b *testing.B, db *engine.DB, in Input) *Report {
	rep, err := New(db, Options{Now: func() time.Time { return testNow }}).Diagnose(context.Background(), testTenant, in)
	if err != nil {
		b.Fatal(err)
	}
	return rep
}

// BenchmarkDiagnosis compares a diagnosis over 48 hours with one full scan of the same
// tenant, in the same run; "ratio" is diagnosis time / full-scan time (target < 0.05).
func BenchmarkDiagnosis(b *testing.B) {
	db, in := benchSetup(b)
	b.Run("diagnose", func(b *testing.B) {
		for b.Loop() {
			runDiagnosis(b, db, in)
		}
	})
	b.Run("fullscan", func(b *testing.B) {
		for b.Loop() {
			fullScan(b, db)
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var diag, scan time.Duration
		var rep *Report
		for b.Loop() {
			t0 := time.Now()
			rep = runDiagnosis(b, db, in)
			t1 := time.Now()
			fullScan(b, db)
			diag, scan = diag+t1.Sub(t0), scan+time.Since(t1)
		}
		b.ReportMetric(float64(diag.Microseconds())/float64(b.N), "diag-µs/op")
		b.ReportMetric(float64(scan.Microseconds())/float64(b.N), "scan-µs/op")
		b.ReportMetric(float64(diag)/float64(scan), "ratio")
		b.ReportMetric(float64(rep.Search.Matched), "events-diagnosed")
	})
}
