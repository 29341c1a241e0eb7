package load_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

type sink struct{ got []string }

func (s *sink) Reject(source string, line, column int, reason string, raw []byte) error {
	s.got = append(s.got, source+":"+itoa(line)+": "+reason+" | "+string(raw))
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// Load stores every good record of mixed input on several goroutines, quarantines each bad one
// with its position, and counts duplicates on a second pass.
func TestLoadQuarantinesAndCounts(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var good bytes.Buffer
	gen.Write(&good, gen.Config{Events: 300, Seed: 5, Start: now.Add(-48 * time.Hour), Days: 2})
	lines := strings.Split(strings.TrimSpace(good.String()), "\n")
	mixed := strings.Join(lines[:100], "\n") + "\n{broken\n" + strings.Join(lines[100:], "\n") + "\n[1,2]\n"
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, Retention: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rej := &sink{}
	sum, err := load.Load(context.Background(), db, []load.Source{{Name: "in.ndjson", R: strings.NewReader(mixed)}},
		load.Options{Tenant: "t1", Threads: 3, BatchSize: 17, Rejects: rej})
	if err != nil {
		t.Fatal(err)
	}
	// "[1,2]" is an array of two records, neither an object: two rejects on line 302.
	if sum.Records != 303 || sum.Accepted != 300 || sum.Rejected != 3 || sum.Duplicates != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if len(rej.got) != 3 || !strings.HasPrefix(rej.got[0], "in.ndjson:101: ") || !strings.HasPrefix(rej.got[1], "in.ndjson:302: ") || !strings.HasPrefix(rej.got[2], "in.ndjson:302: ") {
		t.Fatalf("rejects %q", rej.got)
	}
	again, err := load.Load(context.Background(), db, []load.Source{{Name: "again", R: strings.NewReader(good.String())}}, load.Options{Tenant: "t1"})
	if err != nil || again.Accepted != 0 || again.Duplicates != 300 {
		t.Fatalf("second pass %+v %v", again, err)
	}
	// Guests' sign-ins are also copied to their home tenants, so count t1 alone.
	for _, ts := range db.Stats().Tenants {
		if ts.Tenant == "t1" && ts.Events != 300 {
			t.Fatalf("tenant t1 holds %d events", ts.Events)
		}
	}
}

// TestMostlyRejectedStops: a stream that is nearly all rejects (a compressed file of "{}" lines
// once kept a server busy for minutes and wrote gigabytes of reasons) stops after
// load.RejectCheckAfter rejects with load.ErrMostlyRejected; good records before it are stored.
func TestMostlyRejectedStops(t *testing.T) {
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	garbage := strings.Repeat("{}\n", 5*load.RejectCheckAfter)
	sum, err := load.Load(t.Context(), db, []load.Source{{Name: "garbage", R: strings.NewReader(garbage)}}, load.Options{Threads: 2})
	if !errors.Is(err, load.ErrMostlyRejected) || sum.Rejected >= 5*load.RejectCheckAfter {
		t.Fatalf("%+v, %v: want load.ErrMostlyRejected before the end", sum, err)
	}
	// A negative share never stops.
	sum, err = load.Load(t.Context(), db, []load.Source{{Name: "garbage", R: strings.NewReader(garbage)}}, load.Options{Threads: 2, MaxRejectedShare: -1})
	if err != nil || sum.Rejected != 5*load.RejectCheckAfter {
		t.Fatalf("with the check off: %+v, %v", sum, err)
	}
}

// TestRejectsKeepTheirBytesAcrossRecycledArenas: records are copied into arenas that are reused
// once their batch is ingested. A record the engine rejects is written to the rejects file from
// its arena after the Ingest call, so reuse must wait for that: every reject here carries exactly
// its input line, over many batches and arenas on several goroutines.
func TestRejectsKeepTheirBytesAcrossRecycledArenas(t *testing.T) {
	load.PoisonArenas(true)
	defer load.PoisonArenas(false)
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var good bytes.Buffer
	gen.Write(&good, gen.Config{Events: 3000, Seed: 9, Start: now.Add(-48 * time.Hour), Days: 2})
	lines := strings.Split(strings.TrimSpace(good.String()), "\n")
	want := map[string]bool{}
	for i := 7; i < len(lines); i += 97 {
		// A record the framing accepts and the engine rejects: its time is not a time.
		bad := strings.Replace(lines[i], `"createdDateTime":"`, `"createdDateTime":"not a time `+itoa(i)+` `, 1)
		if bad == lines[i] {
			t.Fatal("generated record has no createdDateTime")
		}
		lines[i] = bad
		want[bad] = true
	}
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, Retention: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rej := &lockedSink{}
	sum, err := load.Load(context.Background(), db, []load.Source{{Name: "in.ndjson", R: strings.NewReader(strings.Join(lines, "\n"))}},
		load.Options{Tenant: "t1", Threads: 3, BatchSize: 101, Rejects: rej})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != int64(len(want)) || sum.Accepted != int64(len(lines)-len(want)) {
		t.Fatalf("summary %+v, want %d rejected", sum, len(want))
	}
	for _, raw := range rej.raws {
		if !want[raw] {
			t.Fatalf("a reject's bytes are not its input line: %.200q", raw)
		}
		delete(want, raw)
	}
	if len(want) != 0 {
		t.Fatalf("%d rejected lines missing from the rejects", len(want))
	}
}

type lockedSink struct {
	mu   sync.Mutex
	raws []string
}

func (s *lockedSink) Reject(_ string, _, _ int, _ string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raws = append(s.raws, string(raw))
	return nil
}
