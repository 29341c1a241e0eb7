package httpload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
)

// loadRoute is one route of the run and the requests it cycles through.
type loadRoute struct {
	name, what string
	goalMs     float64
	paths      []string // path and query, cycled
	// ids[i], when set, is the sign-in the answer to paths[i] must name.
	ids  []string
	rows bool // the answer is a page: {"value":[…]}
	next atomic.Int64
}

func (r *loadRoute) add(path, id string) {
	r.paths, r.ids = append(r.paths, path), append(r.ids, id)
}

// pick is the next request of the cycle: its path and the id its answer must name, if any.
func (r *loadRoute) pick() (path, id string) {
	i := int(r.next.Add(1)-1) % len(r.paths)
	if i < len(r.ids) {
		id = r.ids[i]
	}
	return r.paths[i], id
}

// loadClient is the run's HTTP client side.
type loadClient struct {
	hc           *http.Client
	base         string
	read, ingest string // bearer tokens
	errs         errorLog
}

func newLoadClient(base, read, ingest string, conns int) *loadClient {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &loadClient{hc: &http.Client{Transport: tr}, base: base, read: read, ingest: ingest}
}

// errorLog counts failed requests and keeps the first few and the last.
type errorLog struct {
	mu    sync.Mutex
	n     int64
	first []string
	last  string
}

func (e *errorLog) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	e.last = fmt.Sprintf(format, args...)
	if len(e.first) < 20 {
		e.first = append(e.first, e.last)
	}
}

func (e *errorLog) result() (int64, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n, slices.Clone(e.first)
}

// lastError is the failure logged last.
func (e *errorLog) lastError() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// do sends one request and reads the whole answer into buf; ms is the time until its last byte.
func (c *loadClient) do(ctx context.Context, method, path, token, clientID string, body []byte, buf *bytes.Buffer) (status int, hdr http.Header, ms float64, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if clientID != "" {
		req.Header.Set("client-request-id", clientID)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	buf.Reset()
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	ms = float64(time.Since(start).Nanoseconds()) / 1e6
	return resp.StatusCode, resp.Header, ms, err
}

// query makes one request of route r and checks its answer; a timed one names its route in
// client-request-id, for the server's time of it (serverTimes).
func (c *loadClient) query(ctx context.Context, r *loadRoute, buf *bytes.Buffer, timed bool) (ms float64, ok bool) {
	clientID := ""
	if timed {
		clientID = timedPrefix + r.name
	}
	path, id := r.pick()
	status, _, ms, err := c.do(ctx, http.MethodGet, path, c.read, clientID, nil, buf)
	switch {
	case err != nil:
		c.errs.add("%s %s: %v", r.name, path, err)
	case status != http.StatusOK:
		c.errs.add("%s %s: %d %.300s", r.name, path, status, buf.Bytes())
	case r.rows && !bytes.Contains(buf.Bytes(), []byte(`"value":[`)):
		c.errs.add("%s %s: no value array in %.300s", r.name, path, buf.Bytes())
	case id != "" && !bytes.Contains(buf.Bytes(), []byte(`"`+id+`"`)):
		c.errs.add("%s %s: the answer does not name %s: %.300s", r.name, path, id, buf.Bytes())
	default:
		return ms, true
	}
	return ms, false
}

// alone measures route r by itself: one untimed request, then n timed ones in sequence.
func (c *loadClient) alone(ctx context.Context, r *loadRoute, n int) (RouteStat, error) {
	st := RouteStat{Name: r.name, What: r.what, Example: r.paths[0], Inputs: len(r.paths), Page: r.rows, GoalMs: r.goalMs}
	var buf bytes.Buffer
	if _, ok := c.query(ctx, r, &buf, false); !ok {
		return st, fmt.Errorf("route %s failed alone: %s", r.name, c.errs.lastError())
	}
	var times []float64
	var rows, size float64
	for i := 0; i < n; i++ {
		ms, ok := c.query(ctx, r, &buf, true)
		if !ok {
			return st, fmt.Errorf("route %s failed alone: %s", r.name, c.errs.lastError())
		}
		times = append(times, ms)
		size += float64(buf.Len())
		if r.rows { // counted after the timing, as a client reading the page would
			rows += float64(len(fastjson.MustParseBytes(buf.Bytes()).GetArray("value")))
		}
	}
	st.Unloaded = summarize(times)
	st.Rows, st.Bytes = rows/float64(n), size/float64(n)
	return st, nil
}

func summarize(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	return Latency{N: len(s), P50Ms: bench.Percentile(s, 0.5), P99Ms: bench.Percentile(s, 0.99), MaxMs: s[len(s)-1]}
}

// freshSource generates the events posted over HTTP: another seed than the database's, dated
// after its events (a live feed's newest sign-ins), in batches, from a population (users and
// apps) of the database's size.
type freshSource struct {
	mu    sync.Mutex
	g     *gen.Generator
	batch int
	gen   time.Duration
}

func newFreshSource(sh phaseShape) *freshSource {
	events := 100_000_000 // phases bounded by time take what they need
	if sh.Duration <= 0 {
		events = sh.IngestBatches * sh.Batch * (sh.IngestClients + sh.AloneClients)
	}
	// The population would otherwise be sized by that cap (200,000 users for 100M events):
	// making each new user's profile made generation 4x slower, CPU taken from the server.
	like := gen.New(gen.Config{Events: sh.Events, Seed: sh.Seed}).Config()
	return &freshSource{batch: sh.Batch, g: gen.New(gen.Config{Events: events, Seed: sh.FreshSeed, Start: gen.BenchEnd, Days: 1, Users: like.Users, Apps: like.Apps})}
}

// next appends a batch of NDJSON events to dst; n is 0 once the generator is exhausted.
func (f *freshSource) next(dst []byte) (body []byte, n int, lastID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	var line int
	for n < f.batch {
		line = len(dst)
		var ok bool
		if dst, ok = f.g.Next(dst); !ok {
			break
		}
		n++
	}
	f.gen += time.Since(start)
	if n > 0 {
		lastID = fastjson.GetString(dst[line:], "id")
	}
	return dst, n, lastID
}

func (f *freshSource) genSeconds() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen.Seconds()
}

// ingestRun gathers one phase's ingest clients' results.
type ingestRun struct {
	mu        sync.Mutex
	batches   int64
	events    int64
	throttled int64
	times     []float64
	ids       []string
}

func (r *ingestRun) totals() ingestTotals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ingestTotals{Batches: r.batches, Events: r.events, Throttled: r.throttled, Times: slices.Clone(r.times), IDs: slices.Clone(r.ids)}
}

type ingestAnswer struct {
	Records, Accepted, Updated, Duplicates, Rejected int64
}

// post sends one batch until it is acknowledged, waiting Retry-After on a 429 (ingest ahead
// of flushing); the records of a batch answered 429 may be partly stored, so the retry must
// find exactly those as duplicates and no batch is abandoned half-stored.
func (c *loadClient) post(ctx context.Context, body []byte, n int, run *ingestRun, buf *bytes.Buffer) bool {
	retried := false
	for {
		status, hdr, ms, err := c.do(ctx, http.MethodPost, "/authlake/v1/ingest", c.ingest, "", body, buf)
		switch {
		case err != nil:
			c.errs.add("ingest: %v", err)
			return false
		case status == http.StatusTooManyRequests:
			run.mu.Lock()
			run.throttled++
			run.mu.Unlock()
			wait, _ := strconv.Atoi(hdr.Get("Retry-After"))
			select {
			case <-ctx.Done():
				c.errs.add("ingest: %v while waiting to retry", ctx.Err())
				return false
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			}
			retried = true
			continue
		case status != http.StatusOK:
			c.errs.add("ingest: %d %.300s", status, buf.Bytes())
			return false
		}
		var a ingestAnswer
		if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
			c.errs.add("ingest: answer %.300s: %v", buf.Bytes(), err)
			return false
		}
		if a.Records != int64(n) || a.Rejected != 0 || a.Updated != 0 || a.Accepted+a.Duplicates != int64(n) || (a.Duplicates > 0 && !retried) {
			c.errs.add("ingest of %d fresh events answered %.300s", n, buf.Bytes())
			return false
		}
		run.mu.Lock()
		run.batches++
		run.events += int64(n)
		run.times = append(run.times, ms)
		run.mu.Unlock()
		return true
	}
}

// ingester posts batches until stop says so or the source is exhausted.
func (c *loadClient) ingester(ctx context.Context, fresh *freshSource, run *ingestRun, stop func(batches int) bool) {
	var buf bytes.Buffer
	var body []byte
	for i := 0; !stop(i) && ctx.Err() == nil; i++ {
		var n int
		var id string
		body, n, id = fresh.next(body[:0])
		if n == 0 {
			return
		}
		if !c.post(ctx, body, n, run, &buf) {
			return
		}
		run.mu.Lock()
		run.ids = append(run.ids, id)
		run.mu.Unlock()
	}
}

func (cfg phaseShape) stopAfter(start time.Time, count int) func(int) bool {
	if cfg.Duration > 0 {
		end := start.Add(cfg.Duration)
		return func(int) bool { return !time.Now().Before(end) }
	}
	return func(i int) bool { return i >= count }
}

// loaded is phase 2: QueryClients cycle through the routes (client i starts at route i) while
// IngestClients post batches. It returns each route's latencies, the ingest and the phase's
// wall time.
func (c *loadClient) loaded(ctx context.Context, routes []*loadRoute, fresh *freshSource, cfg phaseShape) ([][]float64, *ingestRun, float64) {
	lat := make([][][]float64, cfg.QueryClients) // client, route
	run := &ingestRun{}
	var wg sync.WaitGroup
	start := time.Now()
	for q := 0; q < cfg.QueryClients; q++ {
		lat[q] = make([][]float64, len(routes))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			stop := cfg.stopAfter(start, cfg.LoadedRequests)
			for i := 0; !stop(i) && ctx.Err() == nil; i++ {
				k := (q + i) % len(routes)
				if ms, ok := c.query(ctx, routes[k], &buf, true); ok {
					lat[q][k] = append(lat[q][k], ms)
				}
			}
		}()
	}
	c.startIngesters(ctx, &wg, cfg.IngestClients, fresh, run, cfg.stopAfter(start, cfg.IngestBatches))
	wg.Wait()
	secs := time.Since(start).Seconds()
	out := make([][]float64, len(routes))
	for _, l := range lat {
		for k := range routes {
			out[k] = append(out[k], l[k]...)
		}
	}
	return out, run, secs
}

// ingestAlone is phase 3: AloneClients post batches, nothing else runs.
func (c *loadClient) ingestAlone(ctx context.Context, fresh *freshSource, cfg phaseShape) (*ingestRun, float64) {
	run := &ingestRun{}
	var wg sync.WaitGroup
	start := time.Now()
	c.startIngesters(ctx, &wg, cfg.AloneClients, fresh, run, cfg.stopAfter(start, cfg.IngestBatches))
	wg.Wait()
	return run, time.Since(start).Seconds()
}

// startIngesters starts n clients posting batches into run, each until stop says so.
func (c *loadClient) startIngesters(ctx context.Context, wg *sync.WaitGroup, n int, fresh *freshSource, run *ingestRun, stop func(int) bool) {
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.ingester(ctx, fresh, run, stop)
		}()
	}
}

// count is the tenant's number of sign-ins of every kind, over HTTP.
func (c *loadClient) count(ctx context.Context) (int64, error) {
	path := list("signInEventTypes/any()", "$count", "true", "$top", "1", "$select", "id")
	var buf bytes.Buffer
	status, _, _, err := c.do(ctx, http.MethodGet, path, c.read, "", nil, &buf)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("count: %d %.300s", status, buf.Bytes())
	}
	v, err := fastjson.ParseBytes(buf.Bytes())
	if err != nil || v.Get("@odata.count") == nil {
		return 0, fmt.Errorf("count: no @odata.count in %.300s", buf.Bytes())
	}
	return v.GetInt64("@odata.count"), nil
}

// getAll fetches each id; every one must be found.
func (c *loadClient) getAll(ctx context.Context, ids []string) (int, error) {
	r := &loadRoute{name: "get (posted)"}
	for _, id := range ids {
		r.add("/beta/auditLogs/signIns/"+id, id)
	}
	var buf bytes.Buffer
	for range ids {
		if _, ok := c.query(ctx, r, &buf, false); !ok {
			return 0, fmt.Errorf("a posted event is not served: %s", c.errs.lastError())
		}
	}
	return len(ids), nil
}
