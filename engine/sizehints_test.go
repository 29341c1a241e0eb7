package engine

import (
	"encoding/json"
	"testing"
	"time"
)

// A chunk builder's first room: the rest of the call for the call's first partition when
// nothing is known (sorted input fills it), a little more than what the partition took in the
// last call when that is known, and IngestChunk rows for other new partitions (mixed input).
func TestFirstRoom(t *testing.T) {
	for _, c := range []struct {
		rest, last   int
		known, first bool
		want         int
	}{
		{4096, 0, false, true, 4096},
		{4096, 0, false, false, IngestChunk},
		{50, 0, false, false, 50},
		{4096, 137, true, true, 171},
		{4096, 137, true, false, 171},
		{4096, 10, true, false, IngestChunk},
		{4096, 4000, true, true, 4096},
		{100, 4000, true, false, 100},
	} {
		if got := firstRoom(c.rest, c.last, c.known, c.first); got != c.want {
			t.Errorf("firstRoom(rest %d, last %d, known %v, first %v) = %d, want %d", c.rest, c.last, c.known, c.first, got, c.want)
		}
	}
}

// What an ingest call learns for the next: the rows each partition's chunk took, kept by the
// DB (not by pooled decoder state, which a collection empties).
func TestIngestLearnsChunkRows(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	lines := makeEvents(300, 5, 3)
	want := map[partKey]int{}
	for _, l := range lines {
		var m struct{ CreatedDateTime time.Time }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		want[partKey{tenantA, dayOf(m.CreatedDateTime.UnixNano())}]++
	}
	ingestAll(t, db, lines, len(lines))
	_, got := db.hints.take()
	if len(got) != len(want) {
		t.Fatalf("learned %d partitions, the call had %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("partition %v: learned %d rows, the call put %d there", k, got[k], n)
		}
	}
}
