package engine

import (
	"testing"
)

// A flush and a compaction take CPU tokens like query scans and ingest decoding: one to order
// the rows, then one per output block of each column, and give every one back.
func TestFlushAndCompactionGoThroughCPUPool(t *testing.T) {
	opts := testOptions()
	opts.BlockRows = 256
	pool := NewCPUPool(2)
	opts.CPU = pool
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(3000, 7, 1)
	for half := 0; half < 2; half++ {
		part := lines[half*1500 : (half+1)*1500]
		if _, err := db.Ingest(records(part), IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		before := pool.Stats().Acquired
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		// Columns × blocks, with blocks of 256 rows: far more than the decode's tokens.
		blocks := int64((len(part) + 255) / 256)
		if got := pool.Stats().Acquired - before; got < blocks*int64(db.schema.NumColumns()) {
			t.Fatalf("flush of %d rows took %d tokens; want one per column per block (≥ %d)", len(part), got, blocks*int64(db.schema.NumColumns()))
		}
	}
	before := pool.Stats().Acquired
	if err := db.CompactAll(); err != nil {
		t.Fatal(err)
	}
	if got := pool.Stats().Acquired - before; got < int64(db.schema.NumColumns()) {
		t.Fatalf("compaction took %d tokens", got)
	}
	if st := pool.Stats(); st.InUse != 0 || st.Waiting != 0 {
		t.Fatalf("tokens left behind: %+v", st)
	}
}
