package consume

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes a consumer's Stats as Prometheus metrics: throughput as counters (rate() of
// them is events/s) and the lag behind the partitions' high watermarks as a gauge.
func (st *Stats) Collector() prometheus.Collector { return statsCollector{st} }

type statsCollector struct{ st *Stats }

var (
	descMessages  = prometheus.NewDesc("authlake_consume_messages_total", "Kafka messages consumed.", nil, nil)
	descRecords   = prometheus.NewDesc("authlake_consume_records_total", "Sign-in records in the consumed messages, by what became of them.", []string{"outcome"}, nil)
	descCommits   = prometheus.NewDesc("authlake_consume_commits_total", "Offset commits (each after its records were durable).", nil, nil)
	descCommitted = prometheus.NewDesc("authlake_consume_committed_messages_total", "Messages whose offsets are committed (a restarted group resumes after them).", nil, nil)
	descLag       = prometheus.NewDesc("authlake_consume_lag_messages", "Messages behind the partitions' high watermarks at the last poll.", nil, nil)
)

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMessages
	ch <- descRecords
	ch <- descCommits
	ch <- descCommitted
	ch <- descLag
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.st
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(st.Messages.Load()))
	for outcome, v := range map[string]int64{"accepted": st.Accepted.Load(), "updated": st.Updated.Load(), "duplicate": st.Duplicates.Load(), "rejected": st.Rejected.Load()} {
		ch <- prometheus.MustNewConstMetric(descRecords, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(st.Commits.Load()))
	ch <- prometheus.MustNewConstMetric(descCommitted, prometheus.CounterValue, float64(st.Committed.Load()))
	ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(st.Lag.Load()))
}
