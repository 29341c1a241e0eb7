package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authlake/authlake/engine"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ingested prometheus.Counter
	rejected prometheus.Counter
	query    *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry, db *engine.DB) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authlake_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authlake_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "code"}),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authlake_ingest_events_total", Help: "Events accepted over HTTP ingest (rate() gives events/s).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authlake_ingest_rejected_total", Help: "Records rejected by HTTP ingest.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authlake_http_requests_in_flight", Help: "Requests being handled.",
		}),
		query: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authlake_query_duration_seconds", Help: "Query execution time (snapshot, plan, execute, encode).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}, []string{"op"}),
	}
	stat := func(name, help string, f func(engine.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(db.Stats()) })
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.ingested, m.rejected, m.query,
		stat("authlake_wal_bytes", "Bytes in the write-ahead log.", func(s engine.Stats) float64 { return float64(s.WALBytes) }),
		stat("authlake_segment_bytes", "Bytes in segment files.", func(s engine.Stats) float64 { return float64(s.SegmentBytes) }),
		stat("authlake_index_bytes", "Bytes in segment index sidecars.", func(s engine.Stats) float64 { return float64(s.IndexBytes) }),
		stat("authlake_events", "Events stored.", func(s engine.Stats) float64 { return float64(s.Events) }),
		stat("authlake_memtable_rows", "Rows not yet flushed to segments.", func(s engine.Stats) float64 { return float64(s.MemtableRows) }),
		stat("authlake_memtable_bytes", "Memory held by rows not yet flushed to segments.", func(s engine.Stats) float64 { return float64(s.MemtableBytes) }),
		stat("authlake_dictionary_resident_bytes", "Memory held by the segment dictionaries queries have loaded (kept until their segment closes; not bounded by the memory budget).", func(s engine.Stats) float64 { return float64(s.DictionaryBytes) }),
		stat("authlake_index_resident_bytes", "Memory held by index sections kept after use (bounded by the memory budget).", func(s engine.Stats) float64 { return float64(s.IndexResidentBytes) }),
		stat("authlake_memory_limit_bytes", "The database's memory budget (--memory-limit).", func(s engine.Stats) float64 { return float64(s.MemoryLimit) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // keep label cardinality bounded
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
