package load_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

type framingOutcome struct {
	sum      load.Summary
	err      error
	rejects  []string // position, reason and bytes, sorted
	events   []string // sorted: with several ingesters the order of a day's rows is theirs
	reframed int64    // lines framed twice
}

// loadFramed loads in into a fresh database, framing by lines or not, and returns what it did.
func loadFramed(t *testing.T, in string, byLines bool, opts load.Options) framingOutcome {
	t.Helper()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	load.LineFraming(byLines)
	defer load.LineFraming(true)
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, Retention: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rej := &positionSink{}
	opts.Tenant, opts.Rejects = "t1", rej
	sum, err := load.Load(context.Background(), db, []load.Source{{Name: "in.ndjson", R: strings.NewReader(in)}}, opts)
	var o framingOutcome
	o.sum, o.err, o.reframed, o.rejects = sum, err, sum.Reframed, rej.sorted()
	o.sum.Elapsed, o.sum.Reframed = 0, 0
	if _, err := db.Export("t1", func(line []byte) error { o.events = append(o.events, string(line)); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(o.events)
	return o
}

// TestLineFramingKeepsTheInputsOrder: two versions of one sign-in in one batch, the first with
// an escape, which the decoder does not take by its line: framed again, it is still ingested
// before the second (arrival order decides the newest version). Found by review: it was once
// ingested after the rest of its batch.
func TestLineFramingKeepsTheInputsOrder(t *testing.T) {
	const id = "11111111-2222-3333-4444-555555555555"
	in := `{"id":"` + id + `","createdDateTime":"2026-11-22T10:00:00Z","userDisplayName":"\u00c9mile v1"}` + "\n" +
		`{"id":"` + id + `","createdDateTime":"2026-11-22T10:00:00Z","userDisplayName":"plain v2"}` + "\n"
	opts := load.Options{Threads: 1, BatchSize: 100}
	a, b := loadFramed(t, in, true, opts), loadFramed(t, in, false, opts)
	if fmt.Sprint(a.events) != fmt.Sprint(b.events) || len(b.events) != 1 || !strings.Contains(b.events[0], "plain v2") {
		t.Errorf("the newest version by lines %q, by the scanner %q", a.events, b.events)
	}
}

// TestLineFramingStopsOnMostlyRejected: 10,000 bad lines then good ones stop a load by lines
// as they stop one by the scanner (load.ErrMostlyRejected). Found by review: the bad lines were
// once rejected after their batch's good records were counted, and the load went on.
func TestLineFramingStopsOnMostlyRejected(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < load.RejectCheckAfter; i++ {
		sb.WriteString(`{"id":"x",}` + "\n")
	}
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&sb, `{"id":"11111111-2222-3333-4444-%012d","createdDateTime":"2026-11-22T10:00:00Z"}`+"\n", i)
	}
	opts := load.Options{Threads: 1}
	a, b := loadFramed(t, sb.String(), true, opts), loadFramed(t, sb.String(), false, opts)
	// How many good records were stored before the stop depends on how far the ingesters
	// were behind the reader, both ways.
	if !errors.Is(a.err, load.ErrMostlyRejected) || !errors.Is(b.err, load.ErrMostlyRejected) || a.sum.Rejected != b.sum.Rejected {
		t.Errorf("by lines %+v, %v; by the scanner %+v, %v", a.sum, a.err, b.sum, b.err)
	}
}

// TestLineFramingStopsWhenLinesAreFramedTwice: a file whose every line has an escape (an
// exporter escaping non-ASCII letters) is framed by its lines only until the ingesters have
// judged linesJudged of them; the rest is scanned, and what is stored is what a scan stores.
func TestLineFramingStopsWhenLinesAreFramedTwice(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	gen.Write(&buf, gen.Config{Events: 20_000, Seed: 13, Start: now.Add(-48 * time.Hour), Days: 2})
	in := strings.ReplaceAll(buf.String(), `"userDisplayName":"`, `"userDisplayName":"\u00c9 `)
	opts := load.Options{Threads: 2, BatchSize: 512}
	a, b := loadFramed(t, in, true, opts), loadFramed(t, in, false, opts)
	reframed := a.reframed
	if a.err != nil || b.err != nil || a.sum != b.sum || !slices.Equal(a.events, b.events) {
		t.Fatalf("by lines %+v %v, by the scanner %+v %v, or the events differ", a.sum, a.err, b.sum, b.err)
	}
	if reframed < 4096 || reframed > 4096+8*512 {
		t.Fatalf("%d lines framed twice: want framing by lines to stop once 4,096 were judged (a few batches in flight)", reframed)
	}
}
