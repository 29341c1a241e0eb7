package engine

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// linesByDay splits generated events by their UTC day, oldest first.
func linesByDay(t *testing.T, lines []string) [][]string {
	t.Helper()
	by := map[int32][]string{}
	for _, l := range lines {
		var m struct {
			CreatedDateTime time.Time `json:"createdDateTime"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		d := dayOf(m.CreatedDateTime.UnixNano())
		by[d] = append(by[d], l)
	}
	days := make([]int32, 0, len(by))
	for d := range by {
		days = append(days, d)
	}
	slices.Sort(days)
	out := make([][]string, len(days))
	for i, d := range days {
		out[i] = by[d]
	}
	return out
}

// ingestFlushed ingests all of lines in n parts, flushing after each (ingestSegments leaves out
// the remainder of an uneven split).
func ingestFlushed(t *testing.T, db *DB, lines []string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ingestAll(t, db, lines[i*len(lines)/n:(i+1)*len(lines)/n], 300)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// segmentsPerDay lists tenantA's segment count of each day, oldest first.
func segmentsPerDay(db *DB) []int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	var days []int32
	for k := range db.parts {
		if k.tenant == tenantA {
			days = append(days, k.day)
		}
	}
	slices.Sort(days)
	out := make([]int, len(days))
	for i, d := range days {
		out[i] = len(db.parts[partKey{tenantA, d}].segs)
	}
	return out
}

// A day that stops receiving rows is merged whole while other days still ingest (a log
// pipeline never pauses, so waiting for ingest to pause never merged yesterday), once its
// memtable rows are flushed; days this process has not written to are left to CompactAll.
func TestIdleDaysAreMergedWholeWhileOthersIngest(t *testing.T) {
	dir := t.TempDir()
	now := testNow
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	opts.CompactMinSegments = 8 // no tier merge in this test: only idle days merge
	db := mustOpen(t, dir, opts)
	lines := makeEvents(3000, 11, 3)
	days := linesByDay(t, lines)
	if len(days) < 3 {
		t.Fatalf("%d days", len(days))
	}
	last := len(days) - 1
	// Every day but the newest gets three segments at now; the newest gets two a little later.
	for _, d := range days[:last] {
		ingestFlushed(t, db, d, 3)
	}
	want := make([]int, len(days))
	for i := range want {
		want[i] = 3
	}
	// Of the newest day, hold back a part to ingest once the older days are idle.
	newest, held := days[last][:len(days[last])-50], days[last][len(days[last])-50:]
	now = now.Add(50 * time.Second)
	ingestFlushed(t, db, newest, 2)
	want[last] = 2
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day before: %v, want %v", got, want)
	}

	// A second short of dayIdleAfter after the older days' last rows: nothing is idle yet.
	now = testNow.Add(dayIdleAfter - time.Second)
	if err := db.compactIdleDays(); err != nil {
		t.Fatal(err)
	}
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day just before: %v, want %v", got, want)
	}

	// At dayIdleAfter the older days are idle and merge whole; the newest, written 50 s later, waits.
	now = testNow.Add(dayIdleAfter)
	if err := db.compactIdleDays(); err != nil {
		t.Fatal(err)
	}
	for i := range want[:last] {
		want[i] = 1
	}
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day when idle: %v, want %v", got, want)
	}

	// The newest day goes on receiving: rows in its memtable keep it from merging, even once it
	// has been idle long enough, until they are flushed.
	ingestAll(t, db, held, 50)
	now = now.Add(dayIdleAfter)
	if err := db.compactIdleDays(); err != nil {
		t.Fatal(err)
	}
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day with memtable rows: %v, want %v", got, want)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	want[last] = 3
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day after the flush: %v, want %v", got, want)
	}
	if err := db.compactIdleDays(); err != nil {
		t.Fatal(err)
	}
	want[last] = 1
	if got := segmentsPerDay(db); !slices.Equal(got, want) {
		t.Fatalf("segments per day after the newest went idle: %v, want %v", got, want)
	}
	sameSet(t, "after idle merges", canonical(lines, nil), exportSet(t, db, tenantA))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart, a day with several segments that this process has not written to stays as
	// it is, however long ago its rows came: CompactAll (at idle, or authlake compact) merges it.
	db = mustOpen(t, dir, opts)
	extra := makeEvents(600, 12, 1)
	ingestFlushed(t, db, extra, 2)
	before := segmentsPerDay(db)
	if slices.Max(before) < 2 {
		t.Fatalf("segments per day before the restart: %v, want a day of several", before)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, opts)
	defer db.Close()
	now = now.Add(time.Hour)
	if err := db.compactIdleDays(); err != nil {
		t.Fatal(err)
	}
	if got := segmentsPerDay(db); !slices.Equal(got, before) {
		t.Fatalf("segments per day after a restart: %v, want %v", got, before)
	}
	sameSet(t, "after a restart", canonical(append(lines, extra...), nil), exportSet(t, db, tenantA))
}
