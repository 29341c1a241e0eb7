// Package httpload is the benchmark's load run (authlake bench load): the real HTTP server over
// generated events, each route measured alone, then under concurrent queries and HTTP ingest,
// then HTTP ingest alone, beside the goals. It lives apart from package bench so that
// bench/peer, which imports bench, does not link the server.
package httpload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	ip "github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/server"
)

// Config is one load run (authlake bench load): the generated events are ingested from
// the file into a fresh database, the real HTTP server (server.New, as authlake serve builds
// it, plain http on 127.0.0.1) serves them, and clients (in a process of their own, or in this
// one) measure it in three
// phases: each route alone, the routes under concurrent queries and HTTP ingest, and HTTP
// ingest alone.
type Config struct {
	Events    int
	Seed      uint64
	CacheDir  string // generated NDJSON is kept here by seed and size (EnsureEvents)
	WorkDir   string // the database is created in WorkDir/authlake-load (removed first)
	ZstdInput bool
	// Threads is the file ingest's thread count (default GOMAXPROCS).
	Threads int
	// MemoryLimit is the served database's memory budget (0: engine.DefaultMemoryLimit).
	MemoryLimit int64

	// Requests is how many timed requests each route gets alone (phase 1), after one untimed.
	Requests int
	// QueryClients cycle through the routes during phase 2 while IngestClients post batches.
	QueryClients, IngestClients int
	// AloneClients post batches in phase 3, with no query running.
	AloneClients int
	// Batch is the events per ingest request.
	Batch int
	// Duration bounds phases 2 and 3 each. Zero bounds them by counts instead: each query
	// client makes LoadedRequests requests, each ingest client posts IngestBatches batches.
	Duration       time.Duration
	LoadedRequests int
	IngestBatches  int
	// NoRisk skips the Identity Protection detection run before serving (the risky users and
	// risk detections routes then list an empty store).
	NoRisk bool
	// ProfilePrefix, when set, names CPU profiles of the process (the server, and the clients,
	// when they run in this process): PREFIX-loaded.pprof of phase 2, PREFIX-ingest.pprof of
	// phase 3, each with its block and mutex profiles (PREFIX-loaded.block.pprof, ...).
	ProfilePrefix string
	// TracePath, when set, receives an execution trace (runtime/trace) of phase 2's first
	// TraceFor (default DefaultTraceFor), each request a task (server.traceRequest).
	TracePath string
	TraceFor  time.Duration
	// ClientCommand, when set, starts the clients' own process (argv): a program that calls
	// ServeClients (authlake bench load-clients). Without it the clients run in this process,
	// beside the server, waiting for its Ps.
	ClientCommand []string
	// Revision is what the results name as the code measured (default bench.Revision()).
	Revision string
	Log      io.Writer
}

// Results is what a load run measured; written as JSON and Markdown by the CLI.
type Results struct {
	Date        time.Time `json:"date"`
	Revision    string    `json:"revision"`
	Machine     string    `json:"machine"`
	GoVersion   string    `json:"go"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Events      int64     `json:"events"`
	Seed        uint64    `json:"seed"`
	FreshSeed   uint64    `json:"freshSeed"` // the seed of the events posted over HTTP
	RawBytes    int64     `json:"rawBytes"`
	MemoryLimit int64     `json:"memoryLimit"`
	// The configuration.
	Requests       int    `json:"requestsPerRoute"`
	QueryClients   int    `json:"queryClients"`
	IngestClients  int    `json:"ingestClients"`
	AloneClients   int    `json:"ingestAloneClients"`
	Batch          int    `json:"batch"`
	Duration       string `json:"duration,omitempty"`
	LoadedRequests int    `json:"loadedRequestsPerClient,omitempty"`
	IngestBatches  int    `json:"ingestBatchesPerClient,omitempty"`

	FileIngest bench.IngestStat `json:"fileIngest"`
	Detection  *DetectionStat   `json:"detection,omitempty"`
	Routes     []RouteStat      `json:"routes"`
	// LoadedSeconds is phase 2's wall time, LoadedQueries the queries answered in it;
	// LoadedIngest is its HTTP ingest, AloneIngest phase 3's.
	LoadedSeconds float64    `json:"loadedSeconds"`
	LoadedQueries int        `json:"loadedQueries"`
	LoadedIngest  HTTPIngest `json:"loadedIngest"`
	AloneIngest   HTTPIngest `json:"aloneIngest"`
	// Phases is the CPU each phase had: this process's and the machine's (shared with others).
	Phases []PhaseCPU `json:"phases"`
	Goals  []Goal     `json:"goals"`
	Verify Verify     `json:"verify"`
	// Failed is why the run failed a check or stopped ("" when it did neither): its figures are
	// then those of the part that ran.
	Failed     string   `json:"failed,omitempty"`
	ErrorCount int64    `json:"errorCount"`
	Errors     []string `json:"errors,omitempty"` // the first few
	PeakRSS    int64    `json:"peakRSSBytes"`
	// ServeGOMAXPROCS is GOMAXPROCS while serving: one more than the CPU pool's tokens
	// (server.ReserveNetworkP), unless the GOMAXPROCS environment variable is set.
	ServeGOMAXPROCS int `json:"serveGomaxprocs"`
	// ClientsProcess says where the clients ran: "child" (a process of their own) or "server"
	// (the server's). Results without it (before a7f4723) ran them in the server's.
	ClientsProcess string `json:"clientsProcess"`
}

// PhaseCPU is the processor time of one phase: this process's (server and clients) and the
// whole machine's, from /proc (zero elsewhere). On a shared machine, MachineCores minus
// ProcessCores is what other work took.
type PhaseCPU struct {
	Phase        string  `json:"phase"`
	Seconds      float64 `json:"seconds"`
	ProcessCores float64 `json:"processCores"`  // this process's CPU seconds ÷ wall seconds
	ClientCores  float64 `json:"clientCores"`   // the clients' process's, when they have one
	MachineCores float64 `json:"machineCores"`  // the machine's busy CPU seconds ÷ wall seconds
	LoadAvg      float64 `json:"loadAverage1m"` // at the phase's end
}

// DetectionStat is the Identity Protection detection run made before serving.
type DetectionStat struct {
	Seconds    float64 `json:"seconds"`
	Events     int     `json:"events"`
	Detections int     `json:"detections"`
	RiskyUsers int     `json:"riskyUsers"`
}

// RouteStat is one route's latencies alone (phase 1) and under load (phase 2), in ms.
type RouteStat struct {
	Name     string  `json:"name"`
	What     string  `json:"what"`
	Example  string  `json:"example"` // one request, path and query
	Inputs   int     `json:"inputs"`  // distinct requests cycled through
	Page     bool    `json:"page"`    // the answer is a page, {"value":[…]}
	Rows     float64 `json:"meanRows,omitempty"`
	Bytes    float64 `json:"meanBytes"`
	Unloaded Latency `json:"unloaded"`
	Loaded   Latency `json:"loaded"`
	// ServerUnloaded and ServerLoaded are the server's own time for the same requests
	// (server.RequestRecord.Duration): what the client measured beyond it went to the
	// connection and to waiting for a P on either side.
	ServerUnloaded Latency `json:"serverUnloaded"`
	ServerLoaded   Latency `json:"serverLoaded"`
	// Ratio is loaded p99 ÷ unloaded p99.
	Ratio  float64 `json:"ratio"`
	GoalMs float64 `json:"goalP99Ms,omitempty"`
}

// Latency summarizes one route's timed requests (ms, from sending to the last body byte).
type Latency struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// HTTPIngest is one phase's ingest over HTTP: events acknowledged (200, durable in the WAL).
type HTTPIngest struct {
	Clients      int     `json:"clients"`
	Batches      int64   `json:"batches"`
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"eventsPerSecond"`
	// Throttled counts 429 answers (ingest ahead of flushing), each retried after Retry-After.
	Throttled int64   `json:"throttled"`
	P50Ms     float64 `json:"batchP50Ms"`
	P99Ms     float64 `json:"batchP99Ms"`
	// FlushSeconds is the flush of the memtable after the phase; ToSegmentsPerSec counts it in,
	// as the file ingest's rate does.
	FlushSeconds     float64 `json:"flushSeconds"`
	ToSegmentsPerSec float64 `json:"toSegmentsEventsPerSecond"`
	// Generation is the time this process spent generating the batches (client-side work on
	// the same cores).
	GenerateSeconds float64 `json:"generateSeconds"`
}

// Goal is one of the goals beside what was measured.
type Goal struct {
	Measure string  `json:"measure"`
	Value   float64 `json:"value"`
	Goal    string  `json:"goal"`
	Unit    string  `json:"unit"`
	Met     bool    `json:"met"`
}

// Verify is the check that every event posted over HTTP is stored and queryable.
type Verify struct {
	CountBefore int64 `json:"countBefore"` // $count over HTTP before phase 2
	CountAfter  int64 `json:"countAfter"`  // after phase 3 and a flush
	Posted      int64 `json:"posted"`      // events in acknowledged batches
	Gets        int   `json:"gets"`        // posted ids fetched by id afterwards, all found
}

// Goals of the load issue.
const (
	goalGetMs       = 20
	goalUserMs      = 50
	goalLoadedRatio = 2
	goalIngestShare = 0.5
)

func (c *Config) defaults() {
	if c.Threads <= 0 {
		c.Threads = runtime.GOMAXPROCS(0)
	}
	if c.Requests <= 0 {
		c.Requests = 50
	}
	if c.QueryClients <= 0 {
		c.QueryClients = 8
	}
	if c.IngestClients < 0 {
		c.IngestClients = 0
	}
	if c.AloneClients <= 0 {
		c.AloneClients = 4
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = engine.DefaultMemoryLimit
	}
	if c.TraceFor <= 0 {
		c.TraceFor = DefaultTraceFor
	}
	if c.Revision == "" {
		c.Revision = bench.Revision()
	}
}

// Run executes a load run. It returns the results also when a check fails (with the
// error), so that what was measured is still reported.
func Run(ctx context.Context, cfg Config) (res *Results, err error) {
	defer func() {
		if res != nil && err != nil {
			res.Failed = err.Error()
		}
	}()
	cfg.defaults()
	if cfg.Duration <= 0 && (cfg.LoadedRequests <= 0 || (cfg.IngestBatches <= 0 && cfg.IngestClients+cfg.AloneClients > 0)) {
		return nil, errors.New("bench load: give a duration, or request and batch counts")
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	res = &Results{Date: time.Now().UTC(), Revision: cfg.Revision, Machine: bench.Machine(), GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Events: int64(cfg.Events), Seed: cfg.Seed, FreshSeed: cfg.Seed + 1000,
		MemoryLimit: cfg.MemoryLimit, Requests: cfg.Requests, QueryClients: cfg.QueryClients, IngestClients: cfg.IngestClients,
		AloneClients: cfg.AloneClients, Batch: cfg.Batch}
	if cfg.Duration > 0 {
		res.Duration = cfg.Duration.String()
	} else {
		res.LoadedRequests, res.IngestBatches = cfg.LoadedRequests, cfg.IngestBatches
	}
	input, size, err := bench.EnsureEvents(cfg.CacheDir, cfg.Events, cfg.Seed, cfg.ZstdInput, logf)
	if err != nil {
		return nil, err
	}
	res.RawBytes = size
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.WorkDir, "authlake-load")
	if res.FileIngest, err = bench.IngestFile(ctx, input, dir, cfg.Threads, size, cfg.MemoryLimit); err != nil {
		return nil, err
	}
	logf("file ingest, %d thread(s): %.1f s, %.0f events/s", cfg.Threads, res.FileIngest.Seconds, res.FileIngest.EventsPerSec)
	db, err := engine.Open(dir, engine.Options{DisableBackground: true, Retention: -1})
	if err != nil {
		return nil, err
	}
	err = db.CompactAll()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	debug.FreeOSMemory()

	// The database as authlake serve opens it (background flush and compaction), without
	// retention: the benchmark's events end at gen.BenchEnd, whatever the calendar says.
	quiet := slog.New(slog.NewTextHandler(logWriter(cfg.Log), &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err = engine.Open(dir, engine.Options{Retention: -1, MemoryLimit: cfg.MemoryLimit, Logger: quiet})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tenant := gen.DefaultTenant
	if !cfg.NoRisk {
		if res.Detection, err = detect(ctx, db, tenant); err != nil {
			return nil, err
		}
		logf("identity protection detection: %.1f s, %d sign-ins read, %d detections, %d risky users",
			res.Detection.Seconds, res.Detection.Events, res.Detection.Detections, res.Detection.RiskyUsers)
	}
	routes, err := loadRoutes(ctx, db, tenant, max(cfg.Requests, 64))
	if err != nil {
		return nil, err
	}

	var timed serverTimes
	srv, err := server.New(server.Options{Config: server.Config{Addr: "127.0.0.1:0"}, DB: db, Logger: quiet, Observe: timed.add})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	defer server.ReserveNetworkP(db.CPUPool())() // as authlake serve does
	res.ServeGOMAXPROCS = runtime.GOMAXPROCS(0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			logf("server: %v", err)
		}
	}()
	read, ingest := mintTokens(srv, db, tenant)
	plan := clientPlan{Base: "http://" + ln.Addr().String(), Read: read, Ingest: ingest,
		Conns: cfg.QueryClients + max(cfg.IngestClients, cfg.AloneClients) + 1, Routes: specsOf(routes), Phases: shapeOf(cfg, res.FreshSeed)}
	var c clientSide
	if len(cfg.ClientCommand) > 0 {
		child, err := startChildClients(ctx, cfg.ClientCommand, plan, cfg.Log)
		if err != nil {
			return nil, err
		}
		c, res.ClientsProcess = child, "child"
	} else {
		c, res.ClientsProcess = newLocalClients(plan), "server"
	}
	defer func() {
		if err := c.close(); err != nil {
			logf("%v", err)
		}
	}()
	logf("serving %s on %s (%s), clients in the %s process", dir, plan.Base, cfg.Revision, res.ClientsProcess)

	// Phase 1: each route alone.
	cpu := sampleCPU(c.pid())
	for k, r := range routes {
		st, err := c.alone(ctx, k, cfg.Requests)
		if err != nil {
			return nil, err
		}
		res.Routes = append(res.Routes, st)
		logf("alone  %-15s p50 %8.2f ms  p99 %8.2f ms  (%d requests, %.0f rows, %.0f bytes)", r.name, st.Unloaded.P50Ms, st.Unloaded.P99Ms, st.Unloaded.N, st.Rows, st.Bytes)
	}
	res.Phases = append(res.Phases, cpu.phase("alone"))
	aloneN := 0
	for _, r := range res.Routes {
		aloneN += r.Unloaded.N
	}
	aloneServer := timed.take(aloneN)
	for i := range res.Routes {
		res.Routes[i].ServerUnloaded = summarize(aloneServer[res.Routes[i].Name])
	}
	if res.Verify.CountBefore, err = c.count(ctx); err != nil {
		return nil, err
	}

	// Phase 2: query clients cycling through the routes while ingest clients post batches.
	var posted []string // ids of acknowledged batches, for the gets afterwards
	stopProfile, err := startProfile(cfg.ProfilePrefix, "loaded")
	if err != nil {
		return nil, err
	}
	stopTrace, err := startTrace(cfg.TracePath, cfg.TraceFor)
	if err != nil {
		return nil, errors.Join(err, stopProfile())
	}
	cpu = sampleCPU(c.pid())
	lat, ing, secs, err := c.loaded(ctx)
	res.Phases = append(res.Phases, cpu.phase("loaded"))
	loadedN := 0
	for _, l := range lat {
		loadedN += len(l)
	}
	// A client may have read an answer before the server's handler returned: once the server
	// has told of every timed request, their trace tasks have ended too, and the trace may stop.
	loadedServer := timed.take(loadedN)
	if err := errors.Join(err, stopProfile(), stopTrace()); err != nil {
		return nil, err
	}
	res.LoadedSeconds = secs
	for i := range res.Routes {
		r := &res.Routes[i]
		r.Loaded = summarize(lat[i])
		r.ServerLoaded = summarize(loadedServer[r.Name])
		res.LoadedQueries += r.Loaded.N
		if r.Unloaded.P99Ms > 0 {
			r.Ratio = r.Loaded.P99Ms / r.Unloaded.P99Ms
		}
		logf("loaded %-15s p50 %8.2f ms  p99 %8.2f ms  (%d requests) %.2fx; server p50 %.2f ms  p99 %.2f ms", r.Name, r.Loaded.P50Ms, r.Loaded.P99Ms, r.Loaded.N, r.Ratio, r.ServerLoaded.P50Ms, r.ServerLoaded.P99Ms)
	}
	res.LoadedIngest = ing.stat(cfg.IngestClients, secs)
	res.LoadedIngest.GenerateSeconds = c.genSeconds()
	posted = append(posted, ing.IDs...)
	if res.LoadedIngest.FlushSeconds, err = timedFlush(db); err != nil {
		return res, err
	}
	res.LoadedIngest.ToSegmentsPerSec = float64(res.LoadedIngest.Events) / (secs + res.LoadedIngest.FlushSeconds)
	logf("loaded ingest, %d clients: %d events in %.1f s, %.0f events/s, %d throttled", cfg.IngestClients, res.LoadedIngest.Events, secs, res.LoadedIngest.EventsPerSec, res.LoadedIngest.Throttled)

	// Phase 3: HTTP ingest alone.
	if cfg.AloneClients > 0 {
		stopProfile, err := startProfile(cfg.ProfilePrefix, "ingest")
		if err != nil {
			return res, err
		}
		cpu := sampleCPU(c.pid())
		alone, secs, err := c.ingestAlone(ctx)
		res.Phases = append(res.Phases, cpu.phase("ingest"))
		if err := errors.Join(err, stopProfile()); err != nil {
			return res, err
		}
		res.AloneIngest = alone.stat(cfg.AloneClients, secs)
		res.AloneIngest.GenerateSeconds = c.genSeconds() - res.LoadedIngest.GenerateSeconds
		posted = append(posted, alone.IDs...)
		if res.AloneIngest.FlushSeconds, err = timedFlush(db); err != nil {
			return res, err
		}
		res.AloneIngest.ToSegmentsPerSec = float64(res.AloneIngest.Events) / (secs + res.AloneIngest.FlushSeconds)
		logf("ingest alone, %d clients: %d events in %.1f s, %.0f events/s (%.0f with the flush after), %d throttled",
			cfg.AloneClients, res.AloneIngest.Events, secs, res.AloneIngest.EventsPerSec, res.AloneIngest.ToSegmentsPerSec, res.AloneIngest.Throttled)
	}

	// Every acknowledged event is stored and queryable.
	res.Verify.Posted = res.LoadedIngest.Events + res.AloneIngest.Events
	if res.Verify.CountAfter, err = c.count(ctx); err != nil {
		return res, err
	}
	res.Verify.Gets, err = c.getAll(ctx, sample(posted, 200))
	res.ErrorCount, res.Errors = c.failures()
	res.PeakRSS = bench.PeakRSS()
	res.Goals = loadGoals(res)
	if err != nil {
		return res, err
	}
	if grew := res.Verify.CountAfter - res.Verify.CountBefore; grew != res.Verify.Posted {
		return res, fmt.Errorf("the count grew by %d, but %d events were acknowledged over HTTP", grew, res.Verify.Posted)
	}
	if res.ErrorCount > 0 {
		return res, fmt.Errorf("%d requests failed, the first: %s", res.ErrorCount, res.Errors[0])
	}
	return res, nil
}

func logWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// detect runs Identity Protection's detection job over the benchmark's 30 days, as `authlake
// risk` does, so that the risky users and risk detections routes list something.
func detect(ctx context.Context, db *engine.DB, tenant string) (*DetectionStat, error) {
	start := time.Now()
	store, err := ip.Open(ip.Dir(db.Dir()), ip.Options{Now: db.Now})
	if err != nil {
		return nil, err
	}
	job, err := ip.RunDetection(ctx, db, store, tenant, ip.JobOptions{Now: func() time.Time { return gen.BenchEnd }})
	users := len(store.RiskyUsers(tenant))
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("identity protection detection: %w", err)
	}
	return &DetectionStat{Seconds: time.Since(start).Seconds(), Events: job.Events, Detections: job.Detections, RiskyUsers: users}, nil
}

func timedFlush(db *engine.DB) (float64, error) {
	start := time.Now()
	err := db.Flush()
	return time.Since(start).Seconds(), err
}

func list(filter string, extra ...string) string {
	v := url.Values{}
	if filter != "" {
		v.Set("$filter", filter)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	p := "/beta/auditLogs/signIns"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return p
}

// loadRoutes picks the routes' inputs from the data: sign-ins spread evenly over its time
// span (n of any kind for get by id, n interactive ones for one user's sign-ins and the
// diagnostic), the newest event's time for the aggregation.
func loadRoutes(ctx context.Context, db *engine.DB, tenant string, n int) ([]*loadRoute, error) {
	edge := func(order string) (time.Time, error) {
		r, err := db.Query(ctx, tenant, query.Request{Top: 1, OrderBy: order, Select: []string{"createdDateTime"}})
		if err != nil || len(r.Rows) == 0 {
			return time.Time{}, fmt.Errorf("the served database's %s event: %v", order, err)
		}
		var row struct{ CreatedDateTime time.Time }
		err = json.Unmarshal(r.Rows[0], &row)
		return row.CreatedDateTime.UTC(), err
	}
	oldest, err := edge("createdDateTime asc")
	if err != nil {
		return nil, err
	}
	newest, err := edge("createdDateTime desc")
	if err != nil {
		return nil, err
	}
	type picked struct{ ID, UserPrincipalName string }
	spread := func(filter string) ([]picked, error) {
		var out []picked
		seen := map[string]bool{}
		span := newest.Sub(oldest)
		for i := 0; i < n; i++ {
			at := oldest.Add(span * time.Duration(2*i+1) / time.Duration(2*n)).Format(time.RFC3339Nano)
			r, err := db.Query(ctx, tenant, query.Request{Filter: filter + "createdDateTime le " + at, Top: 1, Select: []string{"id", "userPrincipalName"}})
			if err != nil {
				return nil, err
			}
			for _, row := range r.Rows {
				var p picked
				if err := json.Unmarshal(row, &p); err != nil {
					return nil, err
				}
				if !seen[p.ID] {
					seen[p.ID] = true
					out = append(out, p)
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no sign-in matched %q", filter)
		}
		return out, nil
	}
	anyKind, err := spread("")
	if err != nil {
		return nil, err
	}
	interactive, err := spread("signInEventTypes/any(t: t eq 'interactiveUser') and ")
	if err != nil {
		return nil, err
	}
	get := &loadRoute{name: "get", what: "one sign-in by id", goalMs: goalGetMs}
	for _, p := range anyKind {
		get.add("/beta/auditLogs/signIns/"+p.ID, p.ID)
	}
	user := &loadRoute{name: "user", what: "one user's sign-ins (first page)", goalMs: goalUserMs, rows: true}
	diag := &loadRoute{name: "diagnostic", what: "sign-in diagnostic of one event"}
	users := map[string]bool{}
	for _, p := range interactive {
		diag.add("/authlake/v1/diagnostics?eventId="+p.ID, p.ID)
		if u := strings.ToLower(p.UserPrincipalName); u != "" && !users[u] {
			users[u] = true
			user.paths = append(user.paths, list("userPrincipalName eq '"+strings.ReplaceAll(u, "'", "''")+"'"))
		}
	}
	if len(user.paths) == 0 {
		return nil, errors.New("no interactive sign-in with a userPrincipalName in the data")
	}
	since := newest.Add(-48 * time.Hour).Format(time.RFC3339)
	routes := []*loadRoute{
		get,
		user,
		{name: "ca-failure", what: "appliedConditionalAccessPolicies/any(p: p/result eq 'failure'), first page", rows: true,
			paths: []string{list("appliedConditionalAccessPolicies/any(p: p/result eq 'failure')")}},
		{name: "flagged", what: "flaggedForReview eq true, first page", rows: true,
			paths: []string{list("flaggedForReview eq true")}},
		{name: "newest", what: "no filter, first page", rows: true, paths: []string{list("")}},
		{name: "apply", what: "top 10 failing apps, 48 h ($apply)", rows: true,
			paths: []string{list("", "$apply", "filter(status/errorCode ne 0 and createdDateTime ge "+since+
				")/groupby((appDisplayName),aggregate($count as failures))/orderby(failures desc)/top(10)")}},
		diag,
		{name: "riskyUsers", what: "Identity Protection risky users, first page", rows: true,
			paths: []string{"/beta/identityProtection/riskyUsers"}},
		{name: "riskDetections", what: "Identity Protection risk detections, first page", rows: true,
			paths: []string{"/beta/identityProtection/riskDetections"}},
	}
	return routes, nil
}

// mintTokens mints the clients' bearer tokens with the server's development key: one that reads
// sign-ins and Identity Protection, one that may only ingest (the ingest route must not need
// more).
func mintTokens(srv *server.Server, db *engine.DB, tenant string) (read, ingest string) {
	mint := func(roles ...string) string {
		tc := server.TokenClaims{TID: tenant, Roles: roles, AppID: "authlake-bench", Ver: "2.0"}
		tc.Issuer, tc.Audience, tc.Subject = server.IssuerV2(tenant), []string{"https://graph.microsoft.com"}, "authlake-bench"
		tok, err := srv.DevKey().Mint(tc, 24*time.Hour, db.Now())
		if err != nil {
			panic("BUG: minting a token with the development key: " + err.Error())
		}
		return tok
	}
	return mint(server.RoleReadAuditLog, ip.PermRiskyUserRead, ip.PermRiskEventRead), mint(server.RoleIngest)
}

// timedPrefix starts the client-request-id of a timed request, before its route's name.
const timedPrefix = "authlake-bench-timed/"

// serverTimes collects the server's own time of the timed requests by route
// (server.Options.Observe), in ms.
type serverTimes struct {
	mu sync.Mutex
	ms map[string][]float64
}

func (t *serverTimes) add(r server.RequestRecord) {
	route, ok := strings.CutPrefix(r.ClientRequestID, timedPrefix)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ms == nil {
		t.ms = map[string][]float64{}
	}
	t.ms[route] = append(t.ms[route], float64(r.Duration.Nanoseconds())/1e6)
}

// take returns what was collected since the last take, once it holds want times at least:
// the server hears of a request after its client may have read the answer. It waits 10 s at
// most (a request the client gave up on may never be answered).
func (t *serverTimes) take(want int) map[string][]float64 {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		t.mu.Lock()
		n := 0
		for _, v := range t.ms {
			n += len(v)
		}
		if n >= want || time.Now().After(deadline) {
			ms := t.ms
			t.ms = nil
			t.mu.Unlock()
			return ms
		}
		t.mu.Unlock()
	}
}

// sample returns at most n of ids, evenly spaced.
func sample(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ids[i*len(ids)/n])
	}
	return out
}

// loadGoals sets the goals beside the measures.
func loadGoals(r *Results) []Goal {
	var gs []Goal
	for _, rt := range r.Routes {
		if rt.GoalMs > 0 {
			g := fmt.Sprintf("≤ %g", rt.GoalMs)
			gs = append(gs,
				Goal{Measure: rt.Name + " p99, alone", Value: rt.Unloaded.P99Ms, Goal: g, Unit: "ms", Met: rt.Unloaded.P99Ms <= rt.GoalMs},
				Goal{Measure: rt.Name + " p99, loaded", Value: rt.Loaded.P99Ms, Goal: g, Unit: "ms", Met: rt.Loaded.N > 0 && rt.Loaded.P99Ms <= rt.GoalMs})
		}
	}
	for _, rt := range r.Routes {
		gs = append(gs, Goal{Measure: rt.Name + " p99, loaded ÷ alone", Value: rt.Ratio, Goal: fmt.Sprintf("≤ %gx", float64(goalLoadedRatio)), Unit: "x",
			Met: rt.Loaded.N > 0 && rt.Ratio <= goalLoadedRatio})
	}
	file := r.FileIngest.EventsPerSec
	share := func(v float64) float64 {
		if file <= 0 {
			return 0
		}
		return v / file
	}
	g := fmt.Sprintf("≥ %g of file", goalIngestShare)
	if r.AloneClients > 0 {
		gs = append(gs, Goal{Measure: fmt.Sprintf("HTTP ingest alone (%d clients) ÷ file ingest", r.AloneClients), Value: share(r.AloneIngest.EventsPerSec), Goal: g, Unit: "x",
			Met: share(r.AloneIngest.EventsPerSec) >= goalIngestShare})
	}
	if r.IngestClients > 0 {
		gs = append(gs, Goal{Measure: fmt.Sprintf("HTTP ingest with %d query clients (%d clients) ÷ file ingest", r.QueryClients, r.IngestClients), Value: share(r.LoadedIngest.EventsPerSec), Goal: g, Unit: "x",
			Met: share(r.LoadedIngest.EventsPerSec) >= goalIngestShare})
	}
	gs = append(gs, Goal{Measure: "failed requests", Value: float64(r.ErrorCount), Goal: "0", Unit: "", Met: r.ErrorCount == 0})
	return gs
}

// cpuSample is a point in time, this process's CPU time, the clients' process's (when they
// have their own) and the machine's busy time.
type cpuSample struct {
	at                    time.Time
	clientPID             int
	proc, client, machine float64 // seconds
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux platform Go supports.
const clockTicks = 100

// sampleCPU samples this process, the clients' process clientPID (0: none) and the machine.
func sampleCPU(clientPID int) cpuSample {
	s := cpuSample{at: time.Now(), clientPID: clientPID, proc: processCPU("self")}
	if clientPID > 0 {
		s.client = processCPU(strconv.Itoa(clientPID))
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) > 5 && f[0] == "cpu" {
			for i, v := range f[1:] {
				n, _ := strconv.ParseFloat(v, 64)
				if i != 3 && i != 4 { // idle and iowait
					s.machine += n / clockTicks
				}
			}
		}
	}
	return s
}

// processCPU is the CPU seconds (user and system) of /proc/PID so far, 0 where /proc has none.
func processCPU(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces, inside parentheses): utime and
	// stime are the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) <= 12 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks
}

func (s cpuSample) phase(name string) PhaseCPU {
	now := sampleCPU(s.clientPID)
	wall := now.at.Sub(s.at).Seconds()
	p := PhaseCPU{Phase: name, Seconds: wall}
	if wall > 0 {
		p.ProcessCores, p.MachineCores = (now.proc-s.proc)/wall, (now.machine-s.machine)/wall
		p.ClientCores = (now.client - s.client) / wall
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			p.LoadAvg, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return p
}

// startProfile starts a CPU profile in PREFIX-phase.pprof; the function returned stops it.
func startProfile(prefix, phase string) (func() error, error) {
	if prefix == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(prefix + "-" + phase + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	// Where goroutines wait (channels, locks) beside where the CPU goes: a request that is slow
	// while the CPU profile shows nothing of it waits either here or for a P.
	runtime.SetBlockProfileRate(int(200 * time.Microsecond))
	runtime.SetMutexProfileFraction(5)
	return func() error {
		pprof.StopCPUProfile()
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
		err := f.Close()
		for _, kind := range []string{"block", "mutex"} {
			err = errors.Join(err, writeProfile(prefix+"-"+phase+"."+kind+".pprof", kind))
		}
		return err
	}, nil
}

// writeProfile writes the runtime profile named kind to path.
func writeProfile(path, kind string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(kind).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("%s profile: %w", kind, err)
	}
	return f.Close()
}
