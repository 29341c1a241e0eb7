package query_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// Benchmarks over AUTHLAKE_BENCH_EVENTS (default 1,000,000) generated events in a real
// engine DB with the default 65,536-row blocks, flushed as four segments per day.

var (
	benchOnce sync.Once
	benchFix  *fixture
	benchCorr string
)

func benchFixture(b *testing.B) *fixture {
	benchOnce.Do(func() {
		n := 1_000_000
		if s := os.Getenv("AUTHLAKE_BENCH_EVENTS"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		dir, err := os.MkdirTemp("", "querybench")
		if err != nil {
			b.Fatal(err)
		}
		db, err := engine.Open(dir, engine.Options{DisableBackground: true, NoSync: true, Retention: -1,
			Now: func() time.Time { return fixedNow }, MemtableRows: 4 << 20})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(5, 5))
		batch := make([]engine.Record, 0, 10000)
		for i := range n {
			ev := makeEvent(i, r, fixedNow.Add(-30*24*time.Hour), 30*24*time.Hour)
			if i == n/2 {
				benchCorr = ev["correlationId"].(string)
			}
			raw, _ := json.Marshal(ev)
			batch = append(batch, engine.Record{Raw: raw})
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := db.Ingest(batch, engine.IngestOptions{}); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			if (i+1)%(n/4) == 0 {
				if err := db.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
		snap, err := db.Snapshot(tenant)
		if err != nil {
			b.Fatal(err)
		}
		benchFix = &fixture{db: db, snap: snap, src: sourceOf(snap), dir: dir}
		fixMu.Lock()
		fixtures["bench"] = benchFix
		fixMu.Unlock()
	})
	return benchFix
}

func benchRun(b *testing.B, req query.Request) {
	f := benchFixture(b)
	req.Explain = true
	var scanned, matched int64
	var encode time.Duration
	b.ResetTimer()
	for range b.N {
		res, err := query.Run(context.Background(), columnar.SignIns, f.src, req)
		if err != nil {
			b.Fatal(err)
		}
		scanned, matched = res.Explain.RowsScanned, res.Explain.RowsMatched
		for _, st := range res.Explain.Stages {
			if st.Stage == "encode" {
				encode += st.Time
			}
		}
		if c := res.Explain.CountPass; c != nil {
			scanned, matched = scanned+c.RowsScanned, c.RowsMatched
		}
	}
	b.ReportMetric(float64(scanned), "rows-scanned/op")
	b.ReportMetric(float64(matched), "rows-matched/op")
	b.ReportMetric(float64(encode.Nanoseconds())/float64(b.N), "encode-ns/op")
}

func BenchmarkFlaggedFirstPage(b *testing.B) {
	benchRun(b, query.Request{Filter: "flaggedforReview eq true"})
}

func BenchmarkFlaggedUPN(b *testing.B) {
	benchRun(b, query.Request{Filter: "flaggedforReview eq true and userPrincipalname eq 'user@contoso.com'"})
}

func BenchmarkUPNLast7Days(b *testing.B) {
	since := fixedNow.Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	benchRun(b, query.Request{Filter: "userPrincipalName eq 'user05@contoso.com' and createdDateTime ge " + since})
}

func BenchmarkCorrelationID(b *testing.B) {
	benchFixture(b)
	benchRun(b, query.Request{Filter: "correlationId eq '" + benchCorr + "'"})
}

func BenchmarkErrorCodeCountryCount(b *testing.B) {
	benchRun(b, query.Request{Filter: "status/errorCode eq 50126 and location/countryOrRegion eq 'US'", Count: true, Top: 1})
}

func BenchmarkStartsWithAppCount(b *testing.B) {
	benchRun(b, query.Request{Filter: "startswith(appDisplayName,'Microsoft')", Count: true, Top: 1})
}

func BenchmarkTopAppsByFailures48h(b *testing.B) {
	since := fixedNow.Add(-48 * time.Hour).Format(time.RFC3339)
	benchRun(b, query.Request{Apply: "filter(status/errorCode ne 0 and createdDateTime ge " + since + ")/groupby((appDisplayName),aggregate($count as failures))/orderby(failures desc)/top(10)"})
}

// BenchmarkPlainLoopErrorCode is the memory-speed reference: a hand-written loop over
// the decoded status/errorCode blocks of every segment, counting 50126.
func BenchmarkPlainLoopErrorCode(b *testing.B) {
	f := benchFixture(b)
	c, _ := columnar.SignIns.Lookup("status/errorCode")
	b.ResetTimer()
	var rows int64
	for range b.N {
		n := 0
		rows = 0
		for _, d := range f.src.Days {
			for _, s := range d.Segments {
				for blk := 0; blk < s.Seg.NumBlocks(); blk++ {
					a, err := s.Seg.Block(c.Index, blk)
					if err != nil {
						b.Fatal(err)
					}
					for _, v := range a.(*array.Int32).Int32Values() {
						if v == 50126 {
							n++
						}
					}
					rows += int64(a.Len())
					a.Release()
				}
			}
		}
		_ = n
	}
	b.ReportMetric(float64(rows), "rows-scanned/op")
}

// BenchmarkResidualScanCount has no index help: a dictionary predicate and an int32
// comparison evaluated by the residual kernels over every block.
func BenchmarkResidualScanCount(b *testing.B) {
	benchRun(b, query.Request{Filter: "startswith(deviceDetail/browser,'Edge') and processingTimeInMilliseconds gt 1000", Count: true, Top: 1})
}
