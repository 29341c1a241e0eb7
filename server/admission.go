package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authlake/authlake/internal/cpu"
)

// admission bounds how many list queries run at once. A list query decodes blocks on every
// core it is given; eight of them at once on two cores shared the CPU eightfold, so every
// request waited behind all the others: fetching one sign-in by id (one index probe, one
// block) took p50 107 ms beside eight list clients against 6 ms alone (bench/results/load-1m).
// Queued instead, list queries keep their throughput (the cores were busy either way), and
// the requests that do not queue (a sign-in by id, ingest) see only the queries admitted.
//
// The queue is served earliest due first, not in arrival order: each query is due at its
// arrival plus dueSlack times what queries of its kind have cost (queryCosts), and its scan's
// CPU tokens carry the same due (cpu.WithDue). In arrival order a 4 ms aggregation waited for
// every list query ahead of it (8 query clients and 2 ingest clients on 2 cores, 10M events:
// p50 420 ms); by due it waits about for the queries already running, and a long query
// waits at most until it is due, then goes ahead of everything due later.
type admission struct {
	slots   *cpu.Pool // nil: unbounded
	costs   queryCosts
	waiting prometheus.Gauge
	wait    prometheus.Histogram
}

// dueSlack is how many times its expected cost a query may take, waits included, before it
// goes ahead of work that arrived after it.
const dueSlack = 2

func newAdmission(limit int, reg prometheus.Registerer) *admission {
	a := &admission{
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authlake_query_queue_waiting", Help: "List queries waiting for one of the concurrent query slots (limits.maxConcurrentQueries).",
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "authlake_query_queue_wait_seconds", Help: "Time list queries waited for a query slot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
	}
	if limit > 0 {
		a.slots = cpu.New(limit)
	}
	reg.MustRegister(a.waiting, a.wait)
	return a
}

// acquire waits for a slot for a query of kind (queryClass), or for ctx (the client gone or
// the request timed out). The returned context carries the query's due for its CPU tokens;
// release must be called once the query is done.
func (a *admission) acquire(ctx context.Context, kind string) (_ context.Context, release func(), err error) {
	arrived := time.Now()
	ctx = cpu.WithDue(ctx, arrived.Add(dueSlack*a.costs.expected(kind)))
	done := func(admitted time.Time) func() {
		return func() {
			a.costs.observe(kind, time.Since(admitted))
			a.slots.Release()
		}
	}
	if a.slots == nil {
		return ctx, func() { a.costs.observe(kind, time.Since(arrived)) }, nil
	}
	if a.slots.TryAcquire() {
		a.wait.Observe(0)
		return ctx, done(arrived), nil
	}
	// A query that waits is no longer interactive: registered while queued, six waiting list
	// queries held heavy work to one token of two nearly all the time (loaded, the process
	// used 1.64 cores instead of 1.92, and admitted lists slowed by ~40% at p50).
	cpu.EndInteractive(ctx)
	a.waiting.Inc()
	defer a.waiting.Dec()
	if err := a.slots.Acquire(ctx); err != nil {
		return nil, nil, err
	}
	admitted := time.Now()
	a.wait.Observe(admitted.Sub(arrived).Seconds())
	return ctx, done(admitted), nil
}
