package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
)

// BenchmarkIngest measures decode + dedup + WAL (fsync'd group commit) + memtable for batches of
// 4,096 realistic events, and the flush to indexed segments at the end: ns/event and MB/s of
// NDJSON. The full pipeline from a file, with framing and several goroutines, is `authlake bench`.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []bool{true, false} {
		name := "fsync"
		if !sync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			var buf bytes.Buffer
			gen.Write(&buf, gen.Config{Events: 16384, Seed: 1, Days: 2, Start: testNow.Add(-48 * time.Hour)})
			lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
			db, err := Open(b.TempDir(), Options{DisableBackground: true, NoSync: !sync, Now: func() time.Time { return testNow }})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			b.SetBytes(int64(buf.Len() / len(lines)))
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(4096, b.N-done)
				recs := make([]Record, n)
				for i := range recs {
					// Vary the id so every event is new (dedup would otherwise skip repeats).
					line := append([]byte(nil), lines[(done+i)%len(lines)]...)
					copy(line[bytes.Index(line, []byte(`"id":"`))+6:], []byte(idPrefix(done+i)))
					recs[i] = Record{Raw: line}
				}
				if _, err := db.Ingest(recs, IngestOptions{Tenant: "bench"}); err != nil {
					b.Fatal(err)
				}
				done += n
			}
			if err := db.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// idPrefix gives the first 8 hex digits of a unique request id.
func idPrefix(i int) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	for j := 7; j >= 0; j-- {
		b[j] = hex[i&15]
		i >>= 4
	}
	return string(b[:])
}
