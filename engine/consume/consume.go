// Package consume takes sign-ins from where Entra's diagnostic settings stream them: Kafka
// topics, and Azure Event Hubs through its Kafka endpoint. Each message is framed by
// columnar/input like a file ({"records":[…]} diagnostic-settings wrappers with their category,
// NDJSON, Graph objects), its records are ingested for durability, and only then is the
// message's offset committed to the consumer group. A crash between the two replays the messages
// since the last commit; ingest stores a sign-in once, so the replay only counts duplicates.
//
// Backpressure is the engine's: while an Ingest waits for the memtable to drain, the consumer
// does not poll, so nothing is buffered beyond one poll. Several processes in one consumer group
// share the topic's partitions; a rebalance waits until what was polled is committed.
package consume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/authlake/authlake/columnar/input"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

// Options configure a Consumer.
type Options struct {
	Brokers []string // seed brokers, host:port
	Topics  []string
	Group   string // consumer group: processes in one group share partitions
	// InstanceID makes the process a static member of the group (KIP-345): restarted with the
	// same id, after a crash too, it takes its partitions back at once instead of after the
	// session timeout, and without a rebalance of the others.
	InstanceID string
	Tenant     string // see engine.IngestOptions.Tenant
	// Client adds franz-go options (SASL, TLS: see EventHubs) to the ones Run sets.
	Client []kgo.Opt
	// MaxPollRecords bounds the messages handled per poll (default 500).
	MaxPollRecords int
	// Rejects receives each rejected record, its source naming topic, partition and offset.
	Rejects load.RejectSink
	// AfterIngest, if set, runs after a poll's records are durable and before their offsets are
	// committed; an error from it ends Run without committing (the crash tests' crash point).
	AfterIngest func(polls int) error
}

// Stats counts what a Consumer did; read it while Run runs.
type Stats struct {
	Messages, Records, Accepted, Updated, Duplicates, Rejected, Commits atomic.Int64
	// Committed is the messages whose offsets are committed: a stopped consumer's group resumes
	// after exactly these (Messages - Committed come back to the next run as duplicates).
	Committed atomic.Int64
	// Lag is the messages behind the partitions' high watermarks at the last poll.
	Lag atomic.Int64
}

// Run consumes until ctx is cancelled (returning nil) or an error: a broker, ingest or commit
// failure. Offsets are committed only for messages whose records are durable.
func Run(ctx context.Context, db *engine.DB, opts Options, st *Stats) error {
	if len(opts.Brokers) == 0 || len(opts.Topics) == 0 || opts.Group == "" {
		return errors.New("consume: brokers, topics and a consumer group are required")
	}
	if st == nil {
		st = &Stats{}
	}
	maxRecs := opts.MaxPollRecords
	if maxRecs <= 0 {
		maxRecs = 500
	}
	kopts := append([]kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topics...),
		kgo.DisableAutoCommit(),
		// A rebalance waits for the commit of what was polled: no partition moves to another
		// process with records ingested here but not committed.
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts.Client...)
	if opts.InstanceID != "" {
		kopts = append(kopts, kgo.InstanceID(opts.InstanceID))
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	// Closing allows the blocked rebalance (BlockRebalanceOnPoll), or Close would wait for it.
	defer cl.CloseAllowingRebalance()
	polls := 0
	for {
		fetches := cl.PollRecords(ctx, maxRecs)
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("consume %s[%d]: %w", topic, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var lag int64
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				lag += max(0, p.HighWatermark-p.Records[n-1].Offset-1)
			}
		})
		st.Lag.Store(lag)
		recs := fetches.Records()
		if len(recs) == 0 {
			cl.AllowRebalance()
			continue
		}
		if err := ingest(db, opts, recs, st); err != nil {
			return err
		}
		polls++
		if opts.AfterIngest != nil {
			if err := opts.AfterIngest(polls); err != nil {
				return err
			}
		}
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			if ctx.Err() != nil {
				return nil // the records are durable; the next run replays them as duplicates
			}
			return fmt.Errorf("consume: commit offsets: %w", err)
		}
		st.Commits.Add(1)
		st.Committed.Add(int64(len(recs)))
		cl.AllowRebalance()
	}
}

// ingest frames and stores one poll's messages; it returns when every good record is durable.
// Each partition's messages are ingested by a goroutine of their own, in order: a later
// emission of a sign-in stays the newer version, as it is in its partition. Up to twice as many
// partitions as cores are ingested at once: with only as many as cores, the poll's last
// partition ran alone while the other cores idled until the next poll (a poll of 3 partitions
// on 2 cores used 75% of them); each partition holds at most one batch in memory.
func ingest(db *engine.DB, opts Options, msgs []*kgo.Record, st *Stats) error {
	type tp struct {
		topic string
		part  int32
	}
	byPart := map[tp][]*kgo.Record{}
	var order []tp
	for _, m := range msgs {
		k := tp{m.Topic, m.Partition}
		if byPart[k] == nil {
			order = append(order, k)
		}
		byPart[k] = append(byPart[k], m)
	}
	sem := make(chan struct{}, max(2*runtime.GOMAXPROCS(0), 4))
	var rejMu sync.Mutex // Options.Rejects is written from the partitions' goroutines
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = ingestPartition(db, opts, byPart[k], st, &rejMu)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// batchRecords is how many records one Ingest call takes (as load does).
const batchRecords = 4096

// ingestPartition frames and stores one partition's messages of a poll, in order.
func ingestPartition(db *engine.DB, opts Options, msgs []*kgo.Record, st *Stats, rejMu *sync.Mutex) error {
	type origin struct {
		source       string
		line, column int
	}
	var batch []engine.Record
	var origins []origin
	var arena []byte
	reject := func(o origin, reason string, raw []byte) error {
		st.Rejected.Add(1)
		if opts.Rejects == nil {
			return nil
		}
		rejMu.Lock()
		defer rejMu.Unlock()
		return opts.Rejects.Reject(o.source, o.line, o.column, reason, raw)
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := db.Ingest(batch, engine.IngestOptions{Tenant: opts.Tenant})
		if err != nil {
			return fmt.Errorf("consume: ingest: %w", err)
		}
		st.Accepted.Add(int64(res.Accepted))
		st.Updated.Add(int64(res.Updated))
		st.Duplicates.Add(int64(res.Duplicates))
		for _, r := range res.Rejected {
			if err := reject(origins[r.Index], r.Reason, batch[r.Index].Raw); err != nil {
				return err
			}
		}
		batch, origins, arena = batch[:0], origins[:0], nil
		return nil
	}
	size := 0
	for _, m := range msgs {
		size += len(m.Value)
	}
	arenaCap := min(size, batchRecords*8<<10) // a batch's records, without regrowing (most messages are not compressed)
	for _, m := range msgs {
		st.Messages.Add(1)
		if arena == nil {
			arena = make([]byte, 0, arenaCap)
		}
		src := fmt.Sprintf("kafka:%s[%d]@%d", m.Topic, m.Partition, m.Offset)
		rd, err := input.NewReader(bytes.NewReader(m.Value), src)
		if err != nil {
			if err := reject(origin{src, 1, 1}, err.Error(), m.Value); err != nil {
				return err
			}
			continue
		}
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				// The message cannot be read further (say, broken compression): the records
				// before it are kept, the message is quarantined whole.
				if err := reject(origin{src, 1, 1}, err.Error(), m.Value); err != nil {
					rd.Close()
					return err
				}
				break
			}
			st.Records.Add(1)
			if rec.Err != nil {
				if err := reject(origin{src, rec.Line, rec.Column}, rec.Err.Error(), rec.Raw); err != nil {
					rd.Close()
					return err
				}
				continue
			}
			start := len(arena)
			arena = append(arena, rec.Raw...)
			batch = append(batch, engine.Record{Raw: arena[start:len(arena):len(arena)], Category: rec.Category})
			origins = append(origins, origin{src, rec.Line, rec.Column})
			if len(batch) >= batchRecords {
				if err := flush(); err != nil {
					rd.Close()
					return err
				}
			}
		}
		rd.Close()
	}
	return flush()
}
