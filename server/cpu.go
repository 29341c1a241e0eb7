package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/cpu"
)

// interactive registers every request except ingest as interactive work on the database's
// CPU pool (internal/cpu) while it runs, so that heavy work (scans, ingest decoding) leaves a
// core free for it: an empty risky-users list took 66 ms beside eight list clients and two
// ingest clients against 0.09 ms alone, all of it spent waiting for a P
// (bench/results/load-1m.md). A list query ends its registration once admitted
// (admission.go): from there on it is heavy work and its scan passes through the pool.
func (s *Server) interactive(next http.Handler) http.Handler {
	pool := s.db.CPUPool()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authlake/v1/ingest" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, done := pool.Interactive(r.Context())
		defer done()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func registerCPUMetrics(reg prometheus.Registerer, pool *cpu.Pool) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authlake_cpu_tokens_in_use", Help: "CPU tokens held by heavy work (scans, ingest decoding); the pool has GOMAXPROCS unless configured.",
		}, func() float64 { return float64(pool.Stats().InUse) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authlake_cpu_heavy_waiting", Help: "Heavy work waiting for a CPU token.",
		}, func() float64 { return float64(pool.Stats().Waiting) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authlake_cpu_interactive", Help: "Interactive requests registered on the CPU pool (heavy work is then lent one token fewer).",
		}, func() float64 { return float64(pool.Stats().Interactive) }),
	)
}

// ReserveNetworkP gives the process one P more than the CPU pool has tokens (pool: the
// database's, DB.CPUPool()), so that a request arriving while heavy work fills the pool is
// noticed at once rather than at the runtime's next 10 ms network poll
// (internal/cpu.ReserveNetworkP). authlake serve and the demo call it; an embedder serving
// beside its own work may too. It changes GOMAXPROCS, a process-wide setting, and does nothing
// if the GOMAXPROCS environment variable is set. restore undoes it.
func ReserveNetworkP(pool *engine.CPUPool) (restore func()) { return cpu.ReserveNetworkP(pool) }
