package server_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/server"
)

// loadFixture is a loopback server over generated events, shared by the load benchmarks.
type loadFixture struct {
	ts      *httptest.Server
	db      *engine.DB
	read    string
	ingest  string
	bodies  [][]byte // NDJSON bodies of 500 fresh events each, for concurrent ingest
	cleanup func()
}

var (
	fixtureOnce sync.Once
	fixture     *loadFixture
	fixtureErr  error
)

const (
	loadEvents     = 200_000
	flaggedQuery   = "/beta/auditLogs/signIns?$filter=flaggedForReview%20eq%20true"
	ingestBatch    = 500
	ingestInterval = 100 * time.Millisecond // 5,000 events/s
)

// generatedServer is a server over a fresh database in a temporary directory holding the
// events cfg generates (flushed and merged), for the timing tests' fixtures; cleanup closes
// everything and removes the directory.
func generatedServer(b *testing.B, cfg gen.Config) (srv *server.Server, db *engine.DB, cleanup func(), err error) {
	dir, err := osMkdirTemp()
	if err != nil {
		return nil, nil, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err = engine.Open(dir, engine.Options{Retention: -1, Logger: quiet})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	fail := func(err error) (*server.Server, *engine.DB, func(), error) {
		db.Close()
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, _, err := gen.Write(pw, cfg)
		pw.CloseWithError(err)
	}()
	if _, err := load.Load(b.Context(), db, []load.Source{{Name: "gen", R: pr}}, load.Options{Tenant: gen.DefaultTenant}); err != nil {
		return fail(err)
	}
	if err := db.Flush(); err != nil {
		return fail(err)
	}
	db.Compact()
	if srv, err = server.New(server.Options{DB: db, Logger: quiet}); err != nil {
		return fail(err)
	}
	return srv, db, func() { srv.Close(); db.Close(); os.RemoveAll(dir) }, nil
}

func getFixture(b *testing.B) *loadFixture {
	fixtureOnce.Do(func() {
		start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20)
		srv, db, done, err := generatedServer(b, gen.Config{Events: loadEvents, Seed: 7, Start: start, Days: 14})
		if err != nil {
			fixtureErr = err
			return
		}
		f := &loadFixture{ts: httptest.NewServer(srv.Handler()), db: db}
		mint := func(roles ...string) string {
			c := server.TokenClaims{TID: gen.DefaultTenant, Roles: roles}
			c.Issuer, c.Audience = server.IssuerV2(gen.DefaultTenant), []string{graph}
			tok, _ := srv.DevKey().Mint(c, 24*time.Hour, time.Now())
			return tok
		}
		f.read, f.ingest = mint("AuditLog.Read.All"), mint("AuthLake.Ingest")
		// Fresh events (another seed, the last days) for the concurrent-ingest variant.
		var buf bytes.Buffer
		gen.Write(&buf, gen.Config{Events: 30_000, Seed: 99, Start: start.AddDate(0, 0, 14), Days: 5})
		sc := bufio.NewScanner(&buf)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var cur bytes.Buffer
		n := 0
		for sc.Scan() {
			cur.Write(sc.Bytes())
			cur.WriteByte('\n')
			if n++; n%ingestBatch == 0 {
				f.bodies = append(f.bodies, bytes.Clone(cur.Bytes()))
				cur.Reset()
			}
		}
		f.cleanup = func() { f.ts.Close(); done() }
		fixture = f
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixture
}

// runQueries issues b.N first-page flagged queries from 4 clients and reports requests/s and
// latency percentiles.
func runQueries(b *testing.B, f *loadFixture) {
	const clients = 4
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	began := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, f.ts.URL+flaggedQuery, nil)
			req.Header.Set("Authorization", "Bearer "+f.read)
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				resp, err := f.ts.Client().Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[c] = append(lat[c], time.Since(t))
			}
		}()
	}
	wg.Wait()
	el := time.Since(began)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all))/el.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkFlaggedFirstPage measures the seed's flagged query (first page, 1,000 rows max)
// over 200K events, alone and while another client ingests 5,000 events/s over HTTP. Loopback
// only; -benchtime bounds the count.
func BenchmarkFlaggedFirstPage(b *testing.B) {
	f := getFixture(b)
	b.Run("alone", func(b *testing.B) { runQueries(b, f) })
	b.Run("ingest-5000eps", func(b *testing.B) {
		stop := make(chan struct{})
		var ingested atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(ingestInterval)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/authlake/v1/ingest", bytes.NewReader(f.bodies[i%len(f.bodies)]))
				req.Header.Set("Authorization", "Bearer "+f.ingest)
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := f.ts.Client().Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ingested.Add(ingestBatch)
				}
			}
		}()
		start := time.Now()
		runQueries(b, f)
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(ingested.Load())/time.Since(start).Seconds(), "ingested-ev/s")
	})
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "authlake-load-") }
