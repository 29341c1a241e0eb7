package wal

import (
	"encoding/json"
	"fmt"
)

// The small durable states of a data directory (the manifest's edits, the flagging windows,
// the risk log) are logs of JSON records in this format. ReplayJSON and AppendJSON are their one
// way to read and write a record, so each says only what its records are.

// ReplayJSON replays l, decoding each payload into a new T and passing it to apply. A payload
// that is not a JSON T, or that apply refuses, is corruption at its position (ErrCorrupt),
// named as a record of what.
func ReplayJSON[T any](l *Log, what string, apply func(*T) error) (ReplayStats, error) {
	return l.Replay(func(pos Pos, payload []byte) error {
		rec := new(T)
		err := json.Unmarshal(payload, rec)
		if err == nil {
			err = apply(rec)
		}
		if err != nil {
			return fmt.Errorf("%w: record at %v is not a %s record: %v", ErrCorrupt, pos, what, err)
		}
		return nil
	})
}

// AppendJSON appends the records, encoded as JSON, as one durable group.
func AppendJSON[T any](l *Log, recs ...*T) (Pos, error) {
	payloads := make([][]byte, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return Pos{}, fmt.Errorf("wal: encode a record: %w", err)
		}
		payloads[i] = b
	}
	return l.AppendBatch(payloads)
}
