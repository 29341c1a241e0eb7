// Package kafkatest writes sign-ins to a Kafka topic the way Entra's diagnostic settings do, for
// the consumer's tests and benchmarks (against franz-go's in-process kfake cluster).
package kafkatest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Messages wraps Graph sign-ins (one JSON object each) into {"records":[…]} messages of per
// diagnostic-settings records each, in the category that names their event type.
func Messages(signIns [][]byte, per int, category string) [][]byte {
	var out [][]byte
	for i := 0; i < len(signIns); i += per {
		var recs []json.RawMessage
		for _, l := range signIns[i:min(i+per, len(signIns))] {
			var ev struct{ CreatedDateTime string }
			json.Unmarshal(l, &ev)
			r, _ := json.Marshal(map[string]any{"time": ev.CreatedDateTime, "category": category, "operationName": "Sign-in activity", "properties": json.RawMessage(l)})
			recs = append(recs, r)
		}
		m, _ := json.Marshal(map[string]any{"records": recs})
		out = append(out, m)
	}
	return out
}

// Produce writes messages to topic, keyed by their index so that they spread over the
// partitions, waits until every one is acknowledged and fails if any was refused. Batches stay
// within the broker's default max.message.bytes (1 MiB, Kafka's and kfake's default, and Event
// Hubs' message size limit): a larger one is refused whole with MESSAGE_TOO_LARGE.
func Produce(brokers []string, topic string, msgs [][]byte) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(1<<20-1024))
	if err != nil {
		return err
	}
	defer cl.Close()
	var mu sync.Mutex
	var failed error
	refused := 0
	for i, m := range msgs {
		cl.Produce(context.Background(), &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: m}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				refused++
				failed = err
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("%d of %d messages refused, the last with: %w", refused, len(msgs), failed)
	}
	return nil
}
