package engine

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// The memtable is flushed when it holds an eighth of the memory budget, however few rows that
// is: MemtableRows is far away here.
func TestMemtableFlushesAtItsShareOfTheBudget(t *testing.T) {
	opts := testOptions()
	opts.MemoryLimit = MinMemoryLimit
	opts.MemtableRows = 1 << 30
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	b := budgetOf(MinMemoryLimit)
	lines := makeEvents(60000, 21, 3)
	n := 0
	for ; n < len(lines); n += 500 {
		if _, err := db.Ingest(records(lines[n:n+500]), IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		db.mu.RLock()
		full := db.memtableFull()
		db.mu.RUnlock()
		if full {
			break
		}
	}
	st := db.Stats()
	if st.MemtableBytes < b.flushAt {
		t.Fatalf("a flush is due at %d memtable bytes; the memtable holds %d (%d rows)", b.flushAt, st.MemtableBytes, st.MemtableRows)
	}
	if n >= len(lines) {
		t.Fatalf("%d events never filled %d bytes", len(lines), b.flushAt)
	}
	// The charge is what the rows hold: Arrow buffers and the dedup map, hundreds of bytes a
	// row for these events, not a token per row.
	if per := st.MemtableBytes / st.MemtableRows; per < 200 || per > 20000 {
		t.Fatalf("%d bytes a row charged; want the rows' real size", per)
	}
	if st.MemoryLimit != MinMemoryLimit {
		t.Fatalf("Stats.MemoryLimit %d, want %d", st.MemoryLimit, MinMemoryLimit)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.MemtableBytes != 0 || st.MemtableRows != 0 {
		t.Fatalf("after the flush the memtable holds %d bytes, %d rows", st.MemtableBytes, st.MemtableRows)
	}
}

// Ingest stops when the memtable and the one being flushed hold the memtable's whole share of
// the budget: with nothing able to flush, memory stays there instead of growing.
func TestIngestStopsAtTheMemoryBudget(t *testing.T) {
	opts := testOptions()
	opts.DisableBackground = false
	opts.MemoryLimit = MinMemoryLimit
	opts.MemtableRows = 1 << 30
	opts.MemtableAge = time.Hour
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	db.flushMu.Lock() // a flush that cannot finish
	defer db.flushMu.Unlock()
	b := budgetOf(MinMemoryLimit)
	lines := makeEvents(80000, 22, 3)
	const batch = 500
	var err error
	var last int64
	n := 0
	for ; n+batch <= len(lines); n += batch {
		before := db.Stats().MemtableBytes
		if _, err = db.Ingest(records(lines[n:n+batch]), IngestOptions{NoWait: true}); err != nil {
			break
		}
		last = db.Stats().MemtableBytes - before
	}
	if !errors.Is(err, ErrBackpressure) {
		t.Fatalf("after %d events with nothing flushing: err %v, want ErrBackpressure", n, err)
	}
	if got := db.Stats().MemtableBytes; got < b.memtable || got >= b.memtable+last {
		t.Fatalf("ingest refused at %d memtable bytes; want the budget's share %d, plus at most one batch (%d)", got, b.memtable, last)
	}
}

// pickMerge merges segments of one size tier while ingest runs, everything that fits one merge
// when asked for whole days, and in the background at pauses a day's largest segment only with a
// quarter of its rows more; never more rows than one merge may write.
func TestPickMerge(t *testing.T) {
	segs := func(rows ...int) []*segment {
		var out []*segment
		for i, r := range rows {
			out = append(out, &segment{ms: manifestSegment{ID: uint64(i + 1), Rows: r}})
		}
		return out
	}
	ids := func(pick []*segment) []uint64 {
		var out []uint64
		for _, s := range pick {
			out = append(out, s.ms.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		rows []int
		kind mergeKind
		want []uint64
	}{
		{"three of a tier are not enough", []int{1000, 1100, 1200, 300000}, mergeTier, nil},
		{"four of a tier merge, the big one stays", []int{300000, 1000, 1100, 1200, 1300}, mergeTier, []uint64{2, 3, 4, 5}},
		{"the smallest full tier goes first", []int{20000, 21000, 22000, 23000, 1000, 1100, 1200, 1300}, mergeTier, []uint64{5, 6, 7, 8}},
		{"tiers are not mixed", []int{1000, 1100, 5000, 5100}, mergeTier, nil},
		{"segments past half the cap are done", []int{600000, 600000, 600000, 600000}, mergeTier, nil},
		{"whole: everything that fits", []int{300000, 1000, 400000, 1100}, mergeWhole, []uint64{2, 4, 1, 3}},
		{"whole: up to the cap", []int{400000, 450000, 300000}, mergeWhole, []uint64{3, 1}},
		{"whole: one segment is no merge", []int{900000}, mergeWhole, nil},
		{"whole: a segment past half the cap too", []int{800000, 1000}, mergeWhole, []uint64{2, 1}},
		{"whole: not past the cap", []int{600000, 500000}, mergeWhole, nil},
		{"settle: a segment past half the cap joins what fits beside it", []int{600000, 350000}, mergeSettle, []uint64{2, 1}},
		{"settle: the largest waits for a quarter of its rows", []int{600000, 100000, 40000}, mergeSettle, []uint64{3, 2}},
		{"settle: and so on down", []int{300000, 50000, 10000}, mergeSettle, nil},
		{"settle: a quarter is enough", []int{800000, 200000}, mergeSettle, []uint64{2, 1}},
		{"settle: small segments too", []int{45000, 5000, 5000}, mergeSettle, []uint64{2, 3}},
		{"settle: not past the cap", []int{600000, 500000}, mergeSettle, nil},
	} {
		got := ids(pickMerge(segs(tc.rows...), 4, 1_000_000, tc.kind))
		if len(got) != len(tc.want) {
			t.Errorf("%s: picked %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: picked %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// While ingest runs the compactor only merges within tiers; once ingest has paused for
// compactIdleAfter (by the database's clock), it merges whole days.
func TestCompactorMergesWholeDaysWhenIngestPauses(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	opts := testOptions()
	opts.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	opts.DisableBackground = false
	opts.MemtableAge = time.Hour
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(900, 23, 1)
	for i := 0; i < 3; i++ { // three segments a day: below CompactMinSegments
		ingestAll(t, db, lines[i*300:(i+1)*300], 100)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	maxSegs := func() int {
		db.mu.RLock()
		defer db.mu.RUnlock()
		n := 0
		for _, p := range db.parts {
			n = max(n, len(p.segs))
		}
		return n
	}
	if got := maxSegs(); got != 3 {
		t.Fatalf("a day has %d segments after three flushes; want 3", got)
	}
	now.Add(int64(compactIdleAfter))
	for deadline := time.Now().Add(time.Minute); maxSegs() > 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a minute after ingest paused (by the clock), days still have %d segments", maxSegs())
		}
	}
	if got := len(exportSet(t, db, tenantA)); got == 0 {
		t.Fatal("nothing exported after the merge")
	}
}
