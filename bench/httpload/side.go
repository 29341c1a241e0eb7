package httpload

import (
	"context"
	"time"
)

// clientSide is the run's HTTP clients, as the run drives them phase by phase. They run in the
// server's process (localClients) or in a child process of their own (childClients,
// Config.ClientCommand), which is what an SDK client gets: its own process, scheduled by the
// kernel beside the server's, not waiting for one of the server's Ps.
type clientSide interface {
	// alone measures route k by itself: one untimed request, then n timed ones in sequence.
	alone(ctx context.Context, k, n int) (RouteStat, error)
	// loaded is phase 2: each route's latencies, the ingest beside them, the phase's wall time.
	loaded(ctx context.Context) (lat [][]float64, ing ingestTotals, secs float64, err error)
	// ingestAlone is phase 3.
	ingestAlone(ctx context.Context) (ing ingestTotals, secs float64, err error)
	// genSeconds is the time the clients have spent generating the events they posted.
	genSeconds() float64
	count(ctx context.Context) (int64, error)
	getAll(ctx context.Context, ids []string) (int, error)
	// failures is the number of failed requests so far and the first few.
	failures() (int64, []string)
	// pid is the clients' process, 0 when it is the server's.
	pid() int
	close() error
}

// clientPlan is what the clients are told once: where the server is, the tokens, the routes,
// the phases' shape.
type clientPlan struct {
	Base         string      `json:"base"`
	Read, Ingest string      // bearer tokens
	Conns        int         `json:"conns"`
	Routes       []routeSpec `json:"routes"`
	Phases       phaseShape  `json:"phases"`
}

// routeSpec is a loadRoute as a plan carries it.
type routeSpec struct {
	Name, What string
	GoalMs     float64
	Paths, IDs []string
	Rows       bool
}

// phaseShape is the part of Config the clients' phases follow.
type phaseShape struct {
	Events                                    int
	Seed, FreshSeed                           uint64
	Batch                                     int
	QueryClients, IngestClients, AloneClients int
	Duration                                  time.Duration
	LoadedRequests, IngestBatches             int
}

func shapeOf(cfg Config, freshSeed uint64) phaseShape {
	return phaseShape{Events: cfg.Events, Seed: cfg.Seed, FreshSeed: freshSeed, Batch: cfg.Batch,
		QueryClients: cfg.QueryClients, IngestClients: cfg.IngestClients, AloneClients: cfg.AloneClients,
		Duration: cfg.Duration, LoadedRequests: cfg.LoadedRequests, IngestBatches: cfg.IngestBatches}
}

func specsOf(routes []*loadRoute) []routeSpec {
	out := make([]routeSpec, len(routes))
	for i, r := range routes {
		out[i] = routeSpec{Name: r.name, What: r.what, GoalMs: r.goalMs, Paths: r.paths, IDs: r.ids, Rows: r.rows}
	}
	return out
}

func routesOf(specs []routeSpec) []*loadRoute {
	out := make([]*loadRoute, len(specs))
	for i, s := range specs {
		out[i] = &loadRoute{name: s.Name, what: s.What, goalMs: s.GoalMs, paths: s.Paths, ids: s.IDs, rows: s.Rows}
	}
	return out
}

// ingestTotals is what one phase's ingest clients did.
type ingestTotals struct {
	Batches, Events, Throttled int64
	Times                      []float64 // each acknowledged batch's latency, ms
	IDs                        []string  // the last event id of each acknowledged batch
}

func (t ingestTotals) stat(clients int, secs float64) HTTPIngest {
	l := summarize(t.Times)
	st := HTTPIngest{Clients: clients, Batches: t.Batches, Events: t.Events, Seconds: secs, Throttled: t.Throttled, P50Ms: l.P50Ms, P99Ms: l.P99Ms}
	if secs > 0 {
		st.EventsPerSec = float64(t.Events) / secs
	}
	return st
}

// localClients runs the clients in this process.
type localClients struct {
	c      *loadClient
	routes []*loadRoute
	fresh  *freshSource
	shape  phaseShape
}

func newLocalClients(p clientPlan) *localClients {
	return &localClients{c: newLoadClient(p.Base, p.Read, p.Ingest, p.Conns), routes: routesOf(p.Routes),
		fresh: newFreshSource(p.Phases), shape: p.Phases}
}

func (l *localClients) alone(ctx context.Context, k, n int) (RouteStat, error) {
	return l.c.alone(ctx, l.routes[k], n)
}

func (l *localClients) loaded(ctx context.Context) ([][]float64, ingestTotals, float64, error) {
	lat, run, secs := l.c.loaded(ctx, l.routes, l.fresh, l.shape)
	return lat, run.totals(), secs, nil
}

func (l *localClients) ingestAlone(ctx context.Context) (ingestTotals, float64, error) {
	run, secs := l.c.ingestAlone(ctx, l.fresh, l.shape)
	return run.totals(), secs, nil
}

func (l *localClients) genSeconds() float64                      { return l.fresh.genSeconds() }
func (l *localClients) count(ctx context.Context) (int64, error) { return l.c.count(ctx) }
func (l *localClients) getAll(ctx context.Context, ids []string) (int, error) {
	return l.c.getAll(ctx, ids)
}
func (l *localClients) failures() (int64, []string) { return l.c.errs.result() }
func (l *localClients) pid() int                    { return 0 }
func (l *localClients) close() error {
	l.c.hc.CloseIdleConnections()
	return nil
}
