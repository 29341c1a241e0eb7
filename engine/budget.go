package engine

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
)

// DefaultMemoryLimit is Options.MemoryLimit's default: 1 GiB, small enough for a sidecar in a
// log pipeline, enough for segments of a million rows.
const DefaultMemoryLimit = 1 << 30

// MinMemoryLimit is the smallest budget the shares below still make sense for: below it the
// memtable's share would flush every few hundred events.
const MinMemoryLimit = 64 << 20

// memRowOverhead is what a memtable row costs beyond its Arrow buffers: its entry in the
// partition's dedup map ([16]byte key, memLoc value, the map's own slots), measured at about
// 60 bytes.
const memRowOverhead = 64

// mergeRowBytes is what a merge may hold per output row, whatever the input: the sort keys and
// the row order (40 B), the codes of the dictionary columns being gathered (4 B a row each, two
// or three at once), the index builder's state of the columns being written (up to 12 B a row
// each: it lets go of a column at its last row), the id column's blocks waiting for the column
// that refers to them (16 B a row at worst, with one CPU: columnar.siblingShares), and margin
// for the blocks in flight, which do not grow with the rows. The widest decoded column is not in
// it: a merge holds a column's input and output blocks a block at a time (columnar.Merged.Column).
// Measured: a 3.3M-row day (10M events over 3 days from 200,000 users) merged with a largest
// live heap of 359 MB, 108 B a row in all. It was 320 while a merge held every input dictionary
// and the index state of every column (a 1.67M-row day's merge: 505 MB), which left days of more
// than 1.67M rows in two segments or more at the default budget; then 160, which left the
// weekdays of 100M events over 30 days (4.2M rows) in three segments, each storing the day's
// user, device and session dictionaries again (80 B/event at 100M). At 120 CompactAll merges a
// day of up to 4.47M rows into one segment at the default budget (docs/memory.md). Measured on a
// 4.17M-row day: largest live heap 396 MB on two CPUs (95 B a row: two columns gathered at
// once), 300 MB with GOMAXPROCS=1 (the sibling blocks held longer, one column at a time).
const mergeRowBytes = 120

// memoryBudget is how a MemoryLimit is shared. The memtable gets a quarter: a flush starts when
// the memtable reaches half of that, and ingest waits while the memtable and the one being
// flushed together hold all of it. Merges (the flush's own and compaction's, one at a time
// each) get half: a compaction's output is sized so that its rows fit there. The block cache
// gets an eighth, the index sections kept in memory after use a sixteenth (index.Resident);
// the rest is headroom for queries' working sets and the runtime.
type memoryBudget struct {
	limit     int64
	memtable  int64 // active + frozen memtable bytes at which ingest waits
	flushAt   int64 // active memtable bytes at which a flush starts
	cache     int64
	index     int64 // index sections kept in memory after use
	mergeRows int   // rows a compaction writes at most
}

func budgetOf(limit int64) memoryBudget {
	limit = max(limit, MinMemoryLimit)
	b := memoryBudget{limit: limit, memtable: limit / 4, cache: limit / 8, index: limit / 16}
	b.flushAt = b.memtable / 2
	b.mergeRows = int(min(limit/2/mergeRowBytes, maxCompactRows))
	return b
}

// chunkCost is what a memtable chunk is charged against the budget.
func chunkCost(c arrow.RecordBatch) int64 {
	return columnar.RecordBytes(c) + c.NumRows()*memRowOverhead
}

// memtableFull says a flush is due. Callers hold db.mu.
func (db *DB) memtableFull() bool {
	return db.memRows >= db.opts.MemtableRows || db.memBytes >= db.budget.flushAt
}

// memtableOver says ingest must wait: the memtable and the one being flushed hold the memtable's
// whole share, or twice MemtableRows are unflushed. Callers hold db.mu.
func (db *DB) memtableOver() bool {
	return db.memRows >= 2*db.opts.MemtableRows || db.memBytes+db.frozenBytes >= db.budget.memtable
}
