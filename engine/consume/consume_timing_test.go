package consume

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/consume/kafkatest"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/internal/clocktest"
)

// BenchmarkConsumeVsFile ingests the same sign-ins twice, into fresh databases: as NDJSON through
// the file pipeline (load.Load, what `authlake ingest` runs), and as diagnostic-settings messages
// of 100 records consumed from franz-go's in-process Kafka (3 partitions). It reports events/s
// of each and their ratio; the goal is consume ≥ 0.9 × file. Producing is set-up, not
// timed. Run: go test -run XXX -bench ConsumeVsFile -benchtime 1x ./engine/consume
// ($AUTHLAKE_BENCH_EVENTS sets the number of sign-ins, 30,000 by default).
func BenchmarkConsumeVsFile(b *testing.B) {
	events := 30000
	if s := os.Getenv("AUTHLAKE_BENCH_EVENTS"); s != "" {
		events, _ = strconv.Atoi(s)
	}
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: events, Seed: 2, Days: 3, End: clocktest.Epoch()}); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := kafkatest.Produce(c.ListenAddrs(), topic, kafkatest.Messages(lines, 100, "SignInLogs")); err != nil {
		b.Fatal(err)
	}
	now := clocktest.Epoch()
	open := func() *engine.DB {
		db, err := engine.Open(b.TempDir(), engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	for i := 0; i < b.N; i++ {
		db := open()
		start := time.Now()
		sum, err := load.Load(context.Background(), db, []load.Source{{Name: "file", R: bytes.NewReader(buf.Bytes())}}, load.Options{})
		fileSecs := time.Since(start).Seconds()
		db.Close()
		if err != nil || sum.Accepted+sum.Updated+sum.Duplicates != int64(len(lines)) {
			b.Fatalf("file: %+v %v", sum, err)
		}
		db = open()
		st := &Stats{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start = time.Now()
		var first time.Duration
		go func() {
			done <- Run(ctx, db, Options{Brokers: c.ListenAddrs(), Topics: []string{topic}, Group: fmt.Sprint("bench-", i)}, st)
		}()
		for st.Accepted.Load()+st.Updated.Load()+st.Duplicates.Load() < int64(len(lines)) {
			if first == 0 && st.Messages.Load() > 0 {
				first = time.Since(start) // joining the group and the first fetch
			}
			time.Sleep(time.Millisecond)
		}
		consumeSecs := time.Since(start).Seconds()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.ReportMetric(float64(len(lines))/fileSecs, "file-events/s")
		b.ReportMetric(float64(len(lines))/consumeSecs, "consume-events/s")
		b.ReportMetric(fileSecs/consumeSecs, "consume/file")
		b.ReportMetric(first.Seconds(), "s-to-first-message")
	}
}
