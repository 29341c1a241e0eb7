package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/query"
)

// Config is one benchmark run.
type Config struct {
	Events   int
	Seed     uint64
	Threads  int    // the engines' thread count (ingest goroutines; DuckDB SET threads)
	Runs     int    // warm runs per query
	CacheDir string // generated NDJSON is kept here by seed and size
	WorkDir  string // databases are created here (removed first)
	Peer     string // "" or "duckdb"
	PeerDir  string // the bench/peer module directory
	// Smoke runs only what the cross-check needs (one ingest, one warm run): for CI.
	Smoke bool
	// NoSingleThread skips the 1-thread ingest measurement (it doubles a large run's time).
	NoSingleThread bool
	// ZstdInput keeps the generated NDJSON zstd-compressed; both engines read it as is.
	ZstdInput bool
	// Reuse queries the database an earlier run of the same size left in WorkDir instead of
	// ingesting again (no ingest figures; authlake only): a 100M ingest takes over an hour.
	Reuse bool
	// MemoryLimit is the databases' memory budget (0: engine.DefaultMemoryLimit), as
	// --memory-limit gives it to every command.
	MemoryLimit int64
	// Params, when set, replaces picking the data-dependent inputs for both engines (picking
	// the busiest correlationId groups every event: minutes at 100M). All three must be set.
	Params *Params
	Log    io.Writer
}

// Results is what a run measured; written as JSON by the CLI.
type Results struct {
	Date        time.Time    `json:"date"`
	Revision    string       `json:"revision"` // the code measured (Revision); empty in runs before it was recorded
	Machine     string       `json:"machine"`
	GoVersion   string       `json:"go"`
	Events      int64        `json:"events"`
	Seed        uint64       `json:"seed"`
	RawBytes    int64        `json:"rawBytes"`
	ZstdInput   bool         `json:"zstdInput,omitempty"`
	Threads     int          `json:"threads"`
	MemoryLimit int64        `json:"memoryLimit,omitempty"` // the databases' budget (0 in runs before it was recorded)
	Runs        int          `json:"runs"`
	Cold        string       `json:"cold,omitempty"` // what cold means (ColdMethod); empty in runs made before it
	Ingest      []IngestStat `json:"ingest"`
	DiskBytes   int64        `json:"diskBytes"`
	IndexBytes  int64        `json:"indexBytes"`
	BytesPerEvt float64      `json:"bytesPerEvent"`
	Compression float64      `json:"compressionVsRawJSON"`
	PeakRSS     int64        `json:"peakRSSBytes"`
	Params      Params       `json:"params"`
	Queries     []QueryStat  `json:"queries"`
	Peer        *PeerLoad    `json:"peerLoad,omitempty"`
	PeerQueries *PeerQueries `json:"peerQueries,omitempty"`
	Compare     []CompareRow `json:"compare,omitempty"`
	// Failed is why the run stopped before its end or failed a check ("" when it did neither):
	// its figures are then those of the part that ran, and not to be compared.
	Failed string `json:"failed,omitempty"`
}

// IngestStat is one ingest measurement: NDJSON file → durable, indexed segments, each day
// merged into one (as DuckDB's load is charged its CHECKPOINT).
type IngestStat struct {
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"` // everything, the final merge included
	// CompactSeconds is the final merge's share of Seconds (absent in runs before it was charged).
	CompactSeconds float64 `json:"compactSeconds,omitempty"`
	EventsPerSec   float64 `json:"eventsPerSecond"`
	MBPerSec       float64 `json:"mbPerSecond"`
}

// QueryStat is one query's result and timings on authlake.
type QueryStat struct {
	ID     string `json:"id"`
	Filter string `json:"filter"`
	// Properties is what a page's rows hold: "all", or the selected properties.
	Properties string     `json:"properties,omitempty"`
	Count      int64      `json:"count"`
	IDsHash    string     `json:"idsHash,omitempty"`
	Rows       []AppCount `json:"rows,omitempty"`
	// PageBytes is the size of the Graph JSON rows a page query returned (every page for Q5).
	PageBytes int64 `json:"pageBytes,omitempty"`
	// ColdMs is the median of the ColdRuns cold runs, ColdRunsMs each one in order (absent in
	// results made before 2026-12-06, which took one).
	ColdMs     float64   `json:"coldMs"`
	ColdRunsMs []float64 `json:"coldRunsMs,omitempty"`
	WarmMs     float64   `json:"warmMedianMs"`
	P99Ms      float64   `json:"warmP99Ms"`
}

// AppCount is one row of the top-failing-apps query.
type AppCount struct {
	App      *string `json:"app"`
	Failures int64   `json:"failures"`
}

// Run executes the benchmark. A run that fails a check or stops returns its results so far too,
// the error in them (Failed).
func Run(ctx context.Context, cfg Config) (res *Results, err error) {
	defer func() {
		if res != nil && err != nil {
			res.Failed = err.Error()
		}
	}()
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 10
	}
	if cfg.Params != nil {
		if err := cfg.Params.check(); err != nil {
			return nil, err
		}
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	res = &Results{Date: time.Now().UTC(), Revision: Revision(), Machine: machine(), GoVersion: runtime.Version(), Events: int64(cfg.Events),
		Seed: cfg.Seed, Threads: cfg.Threads, Runs: cfg.Runs, ZstdInput: cfg.ZstdInput, Cold: ColdMethod}
	if res.MemoryLimit = cfg.MemoryLimit; res.MemoryLimit <= 0 {
		res.MemoryLimit = engine.DefaultMemoryLimit
	}
	// A reused database needs no input: generating it (58 GB at 10M events) only to measure
	// its size filled the disk.
	var input string
	var size int64
	if !cfg.Reuse {
		if input, size, err = EnsureEvents(cfg.CacheDir, cfg.Events, cfg.Seed, cfg.ZstdInput, logf); err != nil {
			return nil, err
		}
	}
	res.RawBytes = size
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}

	// Ingest: 1 thread, then the configured count; the last database is the one queried.
	threads := []int{1, cfg.Threads}
	if cfg.Threads == 1 || cfg.Smoke || cfg.NoSingleThread {
		threads = []int{cfg.Threads}
	}
	dataDir := filepath.Join(cfg.WorkDir, "authlake")
	if cfg.Reuse {
		if cfg.Peer != "" {
			return nil, fmt.Errorf("--reuse measures authlake's queries only; run without --peer")
		}
		if !engine.Exists(dataDir) {
			return nil, fmt.Errorf("--reuse: no database from an earlier run in %s", dataDir)
		}
		threads = nil
	}
	for _, t := range threads {
		st, err := ingest(ctx, input, dataDir, t, size, cfg.MemoryLimit)
		if err != nil {
			return nil, err
		}
		logf("authlake ingest, %d thread(s): %.1f s (final merge %.1f s), %.0f events/s, %.0f MB/s", t, st.Seconds, st.CompactSeconds, st.EventsPerSec, st.MBPerSec)
		res.Ingest = append(res.Ingest, st)
	}
	db, err := openBenchDB(dataDir, cfg.MemoryLimit)
	if err != nil {
		return nil, err
	}
	// Ingest merged each day; a reused database from a run before that is merged here.
	if err := db.CompactAll(); err != nil {
		db.Close()
		return nil, err
	}
	stats := db.Stats()
	db.Close()
	// Hand the ingest's memory back before DuckDB, which sizes itself to 80% of RAM, loads.
	debug.FreeOSMemory()
	res.DiskBytes, res.IndexBytes = stats.SegmentBytes+stats.IndexBytes, stats.IndexBytes
	res.BytesPerEvt = float64(res.DiskBytes) / float64(max(stats.Events, 1))
	if size > 0 {
		res.Compression = float64(size) / float64(max(res.DiskBytes, 1))
		logf("authlake on disk after compaction: %.1f B/event (%.1fx smaller than the NDJSON)", res.BytesPerEvt, res.Compression)
	} else {
		logf("authlake on disk after compaction: %.1f B/event", res.BytesPerEvt)
	}

	var peer *peerRunner
	if cfg.Peer == "duckdb" {
		peer = &peerRunner{dir: cfg.PeerDir, work: cfg.WorkDir, threads: cfg.Threads, log: logf}
		if err := peer.build(ctx); err != nil {
			return nil, err
		}
		if res.Peer, err = peer.load(ctx, input); err != nil {
			return nil, err
		}
		logf("duckdb load: %.1f s, %.0f events/s, %.1f B/event", res.Peer.LoadSeconds, res.Peer.EventsPerSecond, res.Peer.BytesPerEvent)
	}
	// Given inputs serve both engines; otherwise the peer picks them when it runs (a group-by
	// it does faster at 100M), else authlake by the same rules.
	switch {
	case cfg.Params != nil:
		res.Params = *cfg.Params
	case peer != nil:
		res.Params, err = peer.params(ctx)
	default:
		res.Params, err = pickParams(ctx, dataDir, cfg.MemoryLimit)
	}
	if err != nil {
		return nil, err
	}
	logf("params: upn=%s correlationId=%s now=%s", res.Params.UPN, res.Params.CorrelationID, res.Params.Now.Format(time.RFC3339))

	runs := cfg.Runs
	if cfg.Smoke {
		runs = 1
	}
	if res.Queries, err = runSuite(ctx, dataDir, res.Params, runs, cfg.MemoryLimit, logf); err != nil {
		return nil, err
	}
	res.PeakRSS = peakRSS()
	if peer != nil {
		if res.PeerQueries, err = peer.query(ctx, res.Params, runs); err != nil {
			return nil, err
		}
		if res.PeerQueries.Cold != res.Cold {
			return res, fmt.Errorf("the peer's cold runs are not authlake's: %q vs %q (a stale bench/peer build?)", res.PeerQueries.Cold, res.Cold)
		}
		if err := crossCheck(res.Queries, res.PeerQueries); err != nil {
			return res, err
		}
		logf("cross-check: every query returned the same answer on both engines")
		res.Compare = compare(res)
	}
	return res, nil
}

func openBenchDB(dir string, memoryLimit int64) (*engine.DB, error) {
	return engine.Open(dir, engine.Options{DisableBackground: true, Retention: -1, MemoryLimit: memoryLimit})
}

// ingest loads the NDJSON file into a fresh database with t goroutines and flushes it: the
// time covers everything until the events sit in durable, indexed segments.
func ingest(ctx context.Context, input, dir string, t int, size, memoryLimit int64) (IngestStat, error) {
	if err := engine.Remove(dir); err != nil {
		return IngestStat{}, err
	}
	start := time.Now()
	db, err := engine.Open(dir, engine.Options{Retention: -1, MemoryLimit: memoryLimit})
	if err != nil {
		return IngestStat{}, err
	}
	f, err := os.Open(input)
	if err != nil {
		db.Close()
		return IngestStat{}, err
	}
	defer f.Close()
	// Every event of the file goes to one tenant's log, as DuckDB reads the whole file: without
	// it the generator's few passthrough sign-ins (another resourceTenantId) would land in their
	// own tenant, which no query of the suite reads.
	sum, err := load.Load(ctx, db, []load.Source{{Name: input, R: f}}, load.Options{Threads: t, Tenant: gen.DefaultTenant})
	if err == nil && sum.Rejected > 0 {
		err = fmt.Errorf("benchmark input had %d rejected records", sum.Rejected)
	}
	if err == nil {
		err = db.Flush()
	}
	// The final whole-day merge is part of the load, as `authlake ingest` does it and reports
	// it, and as the peer's load includes its CHECKPOINT.
	merge := time.Now()
	if err == nil {
		err = db.CompactAll()
	}
	compact := time.Since(merge).Seconds()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return IngestStat{}, err
	}
	el := time.Since(start).Seconds()
	return IngestStat{Threads: t, Seconds: el, CompactSeconds: compact, EventsPerSec: float64(sum.Records) / el, MBPerSec: float64(size) / el / 1e6}, nil
}

// runSuite runs every query cold and warm. A cold run is the first run on a database opened
// just after its files were dropped from the OS page cache (DropPageCache), so it reads from
// the disk whatever ran before it; each query gets ColdRuns of them, and its cold figure is
// their median. Warm are the runs after the last cold one on the same handle. Every run must
// return the first cold run's answer, byte for byte for pages.
func runSuite(ctx context.Context, dir string, p Params, runs int, memoryLimit int64, logf func(string, ...any)) ([]QueryStat, error) {
	settleWrites()
	var out []QueryStat
	for _, q := range Suite {
		st, err := measureQuery(ctx, func() (*engine.DB, error) {
			if err := DropPageCache(dir); err != nil {
				return nil, err
			}
			return openBenchDB(dir, memoryLimit)
		}, q, p, runs)
		if err != nil {
			return nil, err
		}
		logf("authlake %-12s %8d  cold %8.2f ms  warm %8.3f ms  p99 %8.3f ms", q.ID, st.Count, st.ColdMs, st.WarmMs, st.P99Ms)
		out = append(out, st)
	}
	return out, nil
}

// measureQuery runs q ColdRuns times cold, each on a database coldOpen opens (closing it after,
// but for the last), then runs times warm on the last one.
func measureQuery(ctx context.Context, coldOpen func() (*engine.DB, error), q Query, p Params, runs int) (QueryStat, error) {
	st := QueryStat{ID: q.ID, Filter: p.Filter(q)}
	if q.Kind == KindPage {
		st.Properties = "all"
		if !q.FullRows() {
			st.Properties = strings.Join(q.Select, ",")
		}
	}
	timed := func(db *engine.DB) (answer, float64, error) {
		start := time.Now()
		a, err := runQuery(ctx, db, q, p)
		ms := float64(time.Since(start).Nanoseconds()) / 1e6
		if err != nil {
			return a, 0, fmt.Errorf("%s (%s): %w", q.ID, st.Filter, err)
		}
		return a, ms, nil
	}
	var cold answer
	var db *engine.DB
	for i := range ColdRuns {
		var err error
		if db, err = coldOpen(); err != nil {
			return st, err
		}
		a, ms, err := timed(db)
		if err == nil && i > 0 && !a.same(cold) {
			err = fmt.Errorf("%s (%s): cold run %d returned a different answer than the first", q.ID, st.Filter, i+1)
		}
		if err != nil || i < ColdRuns-1 {
			db.Close()
		}
		if err != nil {
			return st, err
		}
		if i == 0 {
			cold = a
		}
		st.ColdRunsMs = append(st.ColdRunsMs, ms)
	}
	defer db.Close()
	st.ColdMs = Percentile(slices.Sorted(slices.Values(st.ColdRunsMs)), 0.5)
	var times []float64
	for i := 1; i <= runs; i++ {
		a, ms, err := timed(db)
		if err != nil {
			return st, err
		}
		if !a.same(cold) {
			return st, fmt.Errorf("%s (%s): warm run %d returned a different answer than the cold run", q.ID, st.Filter, i)
		}
		times = append(times, ms)
	}
	slices.Sort(times)
	st.WarmMs, st.P99Ms = Percentile(times, 0.5), Percentile(times, 0.99)
	var err error
	if st.Count, st.IDsHash, err = cold.summary(); err != nil {
		return st, fmt.Errorf("%s: %w", q.ID, err)
	}
	st.Rows = cold.top
	for _, r := range cold.page {
		st.PageBytes += int64(len(r))
	}
	return st, nil
}

// answer is what one run of a query returned, as a client gets it: the page's Graph JSON rows,
// a count, or the aggregation rows. Reading the ids out of a page for the cross-check is the
// harness's work, not the engine's, and happens after the timing (summary).
type answer struct {
	kind  Kind
	count int64
	page  [][]byte
	top   []AppCount
}

func (a answer) same(b answer) bool {
	return a.count == b.count && slices.EqualFunc(a.page, b.page, bytes.Equal) && slices.EqualFunc(a.top, b.top, sameAppCount)
}

func sameAppCount(a, b AppCount) bool {
	return a.Failures == b.Failures && (a.App == nil) == (b.App == nil) && (a.App == nil || *a.App == *b.App)
}

// summary is the answer as the cross-check compares it: a page's row count and its ids' hash
// (FNV-1a 64 over each lower-case id and '\n', as bench/peer computes it), or the count.
func (a answer) summary() (count int64, idsHash string, err error) {
	if a.kind != KindPage {
		return a.count, "", nil
	}
	h := fnv.New64a()
	for _, row := range a.page {
		id := fastjson.GetString(row, "id")
		if id == "" {
			return 0, "", fmt.Errorf("a page row without an id: %.200s", row)
		}
		h.Write([]byte(strings.ToLower(id)))
		h.Write([]byte{'\n'})
	}
	return int64(len(a.page)), fmt.Sprintf("%016x", h.Sum64()), nil
}

// runQuery runs one suite query the way an API client would (pages, counts, aggregation).
func runQuery(ctx context.Context, db *engine.DB, q Query, p Params) (answer, error) {
	a := answer{kind: q.Kind}
	t, err := onlyTenant(db)
	if err != nil {
		return a, err
	}
	filter := p.Filter(q)
	switch q.Kind {
	case KindCount:
		r, err := db.Query(ctx, t, query.Request{Filter: filter, CountOnly: true}) // as DuckDB's count(*): no page
		if err != nil {
			return a, err
		}
		a.count = r.Count
		return a, nil
	case KindTop:
		snap, err := db.Snapshot(t)
		if err != nil {
			return a, err
		}
		groups, err := query.Aggregate(ctx, columnar.SignIns, snap.Source(), filter, []string{"appDisplayName"}, []query.Agg{{Op: query.AggCount, Alias: "failures"}})
		snap.Release()
		if err != nil {
			return a, err
		}
		rows := make([]AppCount, 0, len(groups))
		for _, g := range groups {
			ac := AppCount{Failures: toInt(g.Values["failures"])}
			if s, ok := g.Keys["appDisplayName"].(string); ok {
				ac.App = &s
			}
			rows = append(rows, ac)
		}
		sort.SliceStable(rows, func(i, j int) bool {
			if rows[i].Failures != rows[j].Failures {
				return rows[i].Failures > rows[j].Failures
			}
			if rows[i].App == nil || rows[j].App == nil {
				return rows[j].App == nil && rows[i].App != nil
			}
			return *rows[i].App < *rows[j].App
		})
		if len(rows) > 10 {
			rows = rows[:10]
		}
		a.count, a.top = int64(len(rows)), rows
		return a, nil
	}
	// Pages: the first page of Top rows, or every page when Top is 0; full rows unless the
	// query selects properties.
	req := query.Request{Filter: filter, Top: q.Top, Select: q.Select}
	for {
		r, err := db.Query(ctx, t, req)
		if err != nil {
			return a, err
		}
		a.page = append(a.page, r.Rows...)
		if q.Top > 0 || r.SkipToken == "" {
			break
		}
		req.SkipToken = r.SkipToken
	}
	a.count = int64(len(a.page))
	return a, nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

func onlyTenant(db *engine.DB) (string, error) {
	ts := db.Tenants()
	if len(ts) == 0 {
		return "", fmt.Errorf("the benchmark database is empty")
	}
	// The ingest puts every event in the generator's tenant.
	best, bestN := "", int64(-1)
	for _, t := range db.Stats().Tenants {
		if t.Events > bestN {
			best, bestN = t.Tenant, t.Events
		}
	}
	return best, nil
}

// pickParams chooses the data-dependent inputs without the peer: now = newest event; the UPN
// with the most flagged sign-ins in the 7 days before now (then overall), as bench/peer picks
// it; the correlationId shared by the most events of the day before now (bench/peer looks at
// every event: a group per correlationId of 10M events took 7 GB here, and a run with the peer
// uses the peer's). Ties go to the smallest value. The correlationIds are counted from typed
// pages of the day's rows (mostDayCorrelationID), not grouped by $apply: a day of the 100M
// stream has ~2M of them, and the groups took 2.1 GB, the whole run's peak.
func pickParams(ctx context.Context, dir string, memoryLimit int64) (Params, error) {
	db, err := openBenchDB(dir, memoryLimit)
	if err != nil {
		return Params{}, err
	}
	defer db.Close()
	t, err := onlyTenant(db)
	if err != nil {
		return Params{}, err
	}
	var p Params
	r, err := db.Query(ctx, t, query.Request{Top: 1, Select: []string{"createdDateTime"}})
	if err != nil || len(r.Rows) == 0 {
		return p, fmt.Errorf("newest event: %v", err)
	}
	var newest struct{ CreatedDateTime time.Time }
	json.Unmarshal(r.Rows[0], &newest)
	p.Now = newest.CreatedDateTime.UTC()
	best := func(filter, prop string, lower bool) (string, error) {
		// A day's correlationIds are the groups: no bound (the default one is for requests).
		r, err := db.Query(ctx, t, query.Request{Filter: filter, Apply: "groupby((" + prop + "),aggregate($count as n))", MaxGroups: -1})
		if err != nil {
			return "", err
		}
		counts := map[string]int64{}
		for _, g := range r.Groups {
			k, _ := g.Keys[prop].(string)
			if k == "" {
				continue
			}
			if lower {
				k = strings.ToLower(k)
			}
			counts[k] += toInt(g.Values["n"])
		}
		bk, bn := "", int64(0)
		for k, n := range counts {
			if n > bn || n == bn && k < bk {
				bk, bn = k, n
			}
		}
		return bk, nil
	}
	week := p.Now.Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	if p.UPN, err = best("flaggedForReview eq true and createdDateTime ge "+week, "userPrincipalName", true); err != nil {
		return p, err
	}
	if p.UPN == "" {
		if p.UPN, err = best("flaggedForReview eq true", "userPrincipalName", true); err != nil {
			return p, err
		}
	}
	day := p.Now.Add(-24 * time.Hour).Format(time.RFC3339)
	if p.CorrelationID, err = mostDayCorrelationID(ctx, db, t, "createdDateTime ge "+day, 100_000); err != nil {
		return p, err
	}
	return p, nil
}

// mostDayCorrelationID returns the correlationId of the most rows that match filter (ties: the
// smallest), counted 16 bytes a key from pages of pageRows typed rows (query.Request.Visit).
func mostDayCorrelationID(ctx context.Context, db *engine.DB, tenant, filter string, pageRows int) (string, error) {
	col, _ := columnar.SignIns.Lookup("correlationId")
	counts := map[[16]byte]int32{}
	req := query.Request{Filter: filter, Select: []string{"correlationId"}, Top: pageRows,
		Visit: func(_ int, b *columnar.Batch, row int) error {
			if b.Valid(col.Index, row) {
				counts[[16]byte(b.Bytes(col.Index, row))]++
			}
			return nil
		}}
	for {
		r, err := db.Query(ctx, tenant, req)
		if err != nil {
			return "", err
		}
		if req.SkipToken = r.SkipToken; req.SkipToken == "" {
			break
		}
	}
	best, bn := "", int32(0)
	for k, n := range counts {
		if n < bn {
			continue
		}
		if s := columnar.FormatGUID(k[:]); n > bn || s < best {
			best, bn = s, n
		}
	}
	return best, nil
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			break
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
