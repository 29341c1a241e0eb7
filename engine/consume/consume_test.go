package consume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/consume/kafkatest"
	"github.com/authlake/authlake/internal/clocktest"
)

const topic = "insights-logs-signinlogs"

// cluster is franz-go's in-process Kafka with the topic in 3 partitions.
func cluster(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// produce writes events as Entra's diagnostic settings do: {"records":[…]} messages of per
// records each, with the category naming the event type. It returns the messages written.
func produce(t *testing.T, brokers []string, seed uint64, events, per int, extra ...[]byte) int {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: events, Seed: seed, Days: 2, End: clocktest.Epoch()}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	msgs := append(kafkatest.Messages(lines, per, "SignInLogs"), extra...)
	if err := kafkatest.Produce(brokers, topic, msgs); err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func openDB(t *testing.T, dir string) *engine.DB {
	t.Helper()
	now := clocktest.Epoch()
	db, err := engine.Open(dir, engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// stored counts the sign-ins of every tenant (the generator makes a few of other resource
// tenants, which go to those tenants' logs).
func stored(t *testing.T, db *engine.DB) int {
	t.Helper()
	n := 0
	for _, ts := range db.Stats().Tenants {
		n += int(ts.Events)
	}
	return n
}

// waitFor polls cond, failing loudly if it does not hold within a generous bound: a wait for
// the consumer's progress, never a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run consumes in the background until stopped.
func run(t *testing.T, db *engine.DB, opts Options) (st *Stats, stop func() error) {
	st = &Stats{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, db, opts, st) }()
	return st, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("the consumer did not stop within a minute")
			return nil
		}
	}
}

type rejects struct {
	mu      sync.Mutex
	sources []string
}

func (r *rejects) Reject(source string, line, column int, reason string, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sources = append(r.sources, fmt.Sprintf("%s:%d:%d %s", source, line, column, reason))
	return nil
}

// Every produced sign-in is stored once; bad messages and records are quarantined with their
// topic, partition and offset; offsets are committed.
func TestConsumeDiagnosticSettingsRecords(t *testing.T) {
	brokers := cluster(t)
	bad := []byte("this is not JSON\n")
	oneBad := []byte(`{"records":[{"category":"SignInLogs","properties":{"createdDateTime":"2026-11-20T10:00:00Z"}}]}`)
	msgs := produce(t, brokers, 3, 1000, 25, bad, oneBad)
	db := openDB(t, t.TempDir())
	defer db.Close()
	rej := &rejects{}
	st, stop := run(t, db, Options{Brokers: brokers, Topics: []string{topic}, Group: "authlake", Rejects: rej})
	// Every message's offset committed, not only consumed: a stop cancels the commit of the poll
	// in flight, and the group would then hand that poll to the next consumer again.
	waitFor(t, "every message committed", func() bool { return st.Committed.Load() == int64(msgs) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, db); n != 1000 || st.Accepted.Load() != 1000 || st.Rejected.Load() != 2 {
		t.Fatalf("stored %d, accepted %d, rejected %d; want 1000, 1000, 2 (%v)", n, st.Accepted.Load(), st.Rejected.Load(), rej.sources)
	}
	for _, s := range rej.sources {
		if !bytes.Contains([]byte(s), []byte("kafka:"+topic+"[")) {
			t.Fatalf("a reject does not name its topic and partition: %s", s)
		}
	}
	// A second consumer of the group starts after the committed offsets: nothing again.
	st2, stop2 := run(t, db, Options{Brokers: brokers, Topics: []string{topic}, Group: "authlake"})
	extra := produce(t, brokers, 4, 50, 25)
	waitFor(t, "the new messages consumed", func() bool {
		return st2.Committed.Load() >= int64(extra) && st2.Accepted.Load()+st2.Updated.Load()+st2.Duplicates.Load() >= 50
	})
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if st2.Messages.Load() != int64(extra) || st2.Accepted.Load()+st2.Updated.Load()+st2.Duplicates.Load() != 50 {
		t.Fatalf("after a restart the group consumed %d messages (%d records), want only the %d new ones (50 records)", st2.Messages.Load(), st2.Accepted.Load()+st2.Updated.Load()+st2.Duplicates.Load(), extra)
	}
}

var errCrash = errors.New("crash point")

// A crash after the records of a poll are durable and before its offsets are committed, at
// each of the first polls in turn: the next run replays the poll, and every sign-in is stored
// exactly once. The crash points are counted in polls, not seconds.
func TestConsumeCrashBetweenIngestAndCommit(t *testing.T) {
	brokers := cluster(t)
	msgs := produce(t, brokers, 5, 600, 10)
	dir := t.TempDir()
	var dups int64
	for crashAt := 1; crashAt <= 4; crashAt++ {
		db := openDB(t, dir)
		st := &Stats{}
		err := Run(context.Background(), db, Options{Brokers: brokers, Topics: []string{topic}, Group: "g", MaxPollRecords: 3,
			AfterIngest: func(polls int) error {
				if polls == crashAt {
					return errCrash
				}
				return nil
			}}, st)
		if !errors.Is(err, errCrash) {
			t.Fatalf("run %d ended with %v, want the crash", crashAt, err)
		}
		dups += st.Duplicates.Load()
		db.Close() // the WAL is the durable copy; the offsets of the last poll were never committed
	}
	db := openDB(t, dir)
	defer db.Close()
	st, stop := run(t, db, Options{Brokers: brokers, Topics: []string{topic}, Group: "g", MaxPollRecords: 3})
	waitFor(t, "the rest consumed", func() bool { return stored(t, db) == 600 })
	waitFor(t, "the last commit", func() bool { return st.Lag.Load() == 0 && st.Commits.Load() > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	dups += st.Duplicates.Load()
	if n := stored(t, db); n != 600 {
		t.Fatalf("stored %d sign-ins of 600", n)
	}
	if dups == 0 {
		t.Fatal("no replayed record was counted as a duplicate: the crashes did not replay anything")
	}
	if msgs != 60 {
		t.Fatalf("produced %d messages, want 60", msgs)
	}
}

// Two consumers in one group share the partitions, and every sign-in is stored once.
func TestConsumeGroupSharesPartitions(t *testing.T) {
	brokers := cluster(t)
	msgs := produce(t, brokers, 6, 900, 10)
	db := openDB(t, t.TempDir())
	defer db.Close()
	opts := Options{Brokers: brokers, Topics: []string{topic}, Group: "shared", MaxPollRecords: 5}
	a, stopA := run(t, db, opts)
	b, stopB := run(t, db, opts)
	waitFor(t, "every message consumed", func() bool { return stored(t, db) == 900 })
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	if a.Messages.Load()+b.Messages.Load() < int64(msgs) {
		t.Fatalf("consumed %d+%d messages of %d", a.Messages.Load(), b.Messages.Load(), msgs)
	}
	if n := stored(t, db); n != 900 {
		t.Fatalf("stored %d of 900", n)
	}
}

func TestParseEventHubs(t *testing.T) {
	eh, err := ParseEventHubs("Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=insights-logs-signinlogs")
	if err != nil || eh.Broker != "contoso-logs.servicebus.windows.net:9093" || eh.Topic != "insights-logs-signinlogs" || len(eh.ClientOpts()) != 2 {
		t.Fatalf("%+v %v", eh, err)
	}
	for _, bad := range []string{"", "Endpoint=sb://x/;SharedAccessKeyName=a", "Endpoint=https://x/;SharedAccessKeyName=a;SharedAccessKey=s3cr3t-key", "garbage-s3cr3t-key"} {
		_, err := ParseEventHubs(bad)
		if err == nil || bytes.Contains([]byte(err.Error()), []byte("s3cr3t")) {
			t.Fatalf("%q: %v (an error must not repeat the key)", bad, err)
		}
	}
}

// FuzzParseEventHubs: any string parses or fails with an error that never repeats the key.
func FuzzParseEventHubs(f *testing.F) {
	f.Add("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=k;EntityPath=h")
	f.Add(";;=;Endpoint=sb://;")
	f.Fuzz(func(t *testing.T, s string) {
		const key = "SECRETKEYVALUE"
		eh, err := ParseEventHubs(s + ";SharedAccessKey=" + key)
		if err != nil && strings.Contains(err.Error(), key) {
			t.Fatalf("error repeats the key: %v", err)
		}
		if err == nil && (eh.Broker == "" || !strings.HasSuffix(eh.Broker, ":9093")) {
			t.Fatalf("parsed without a broker: %+v", eh)
		}
	})
}

// The collector reports the Stats as they are.
func TestStatsCollector(t *testing.T) {
	st := &Stats{}
	st.Messages.Store(7)
	st.Accepted.Store(5)
	st.Duplicates.Store(2)
	st.Lag.Store(3)
	reg := prometheus.NewRegistry()
	reg.MustRegister(st.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{"authlake_consume_messages_total": 7, "authlake_consume_records_total/accepted": 5,
		"authlake_consume_records_total/duplicate": 2, "authlake_consume_records_total/updated": 0, "authlake_consume_records_total/rejected": 0,
		"authlake_consume_commits_total": 0, "authlake_consume_lag_messages": 3}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v (%v)", k, got[k], v, got)
		}
	}
}
