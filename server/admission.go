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
// Queued in arrival order instead, list queries keep their throughput (the cores were busy
// either way), their mean latency is the same by Little's law, and the requests that do not
// queue (a sign-in by id, ingest) see only the queries admitted.
type admission struct {
	slots   chan struct{} // nil: unbounded
	waiting prometheus.Gauge
	wait    prometheus.Histogram
}

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
		a.slots = make(chan struct{}, limit)
	}
	reg.MustRegister(a.waiting, a.wait)
	return a
}

// acquire waits for a slot, or for ctx (the client gone or the request timed out). The
// returned release must be called once the query is done.
func (a *admission) acquire(ctx context.Context) (release func(), err error) {
	if a.slots == nil {
		return func() {}, nil
	}
	select {
	case a.slots <- struct{}{}:
		a.wait.Observe(0)
		return a.release, nil
	default:
	}
	// A query that waits is no longer interactive: registered while queued, six waiting list
	// queries held heavy work to one token of two nearly all the time (loaded, the process
	// used 1.64 cores instead of 1.92, and admitted lists slowed by ~40% at p50).
	cpu.EndInteractive(ctx)
	start := time.Now()
	a.waiting.Inc()
	defer a.waiting.Dec()
	select {
	case a.slots <- struct{}{}:
		a.wait.Observe(time.Since(start).Seconds())
		return a.release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *admission) release() { <-a.slots }
