package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStreamIngestsGeneratedEventsWithoutAFile: a streaming run stores exactly the events it
// generated, merged one segment a day, writes nothing but the database, samples a timeline
// ending at the final count, and runs the query suite on what it built.
func TestStreamIngestsGeneratedEventsWithoutAFile(t *testing.T) {
	work := t.TempDir()
	res, err := Stream(context.Background(), StreamConfig{Events: 20000, Seed: 7, Threads: 2, WorkDir: work,
		Interval: time.Hour, Queries: true, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ingested != 20000 || res.Revision == "" || res.RawBytes < 20000*1000 || res.EventsPerSec <= 0 || res.CompactSeconds <= 0 || res.CompactSeconds >= res.Seconds {
		t.Fatalf("results: revision %q, %d raw bytes, %.0f events/s, merge %.3f of %.3f s", res.Revision, res.RawBytes, res.EventsPerSec, res.CompactSeconds, res.Seconds)
	}
	last := res.Timeline[len(res.Timeline)-1]
	if last.Events != 20000 || last.Segments == 0 || last.DiskBytes != res.DiskBytes {
		t.Fatalf("last sample %+v, results %d bytes on disk", last, res.DiskBytes)
	}
	if res.BytesPerEvt <= 0 || res.PeakRSS <= 0 {
		t.Fatalf("%.1f B/event, peak RSS %d", res.BytesPerEvt, res.PeakRSS)
	}
	entries, err := os.ReadDir(work)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(streamDir(work)) {
		t.Fatalf("work dir holds %v, want only the database", entries)
	}
	if q10 := queryStat(res.Queries, "Q10"); len(res.Queries) != len(Suite) || q10.Count != 1000 || q10.PageBytes == 0 {
		t.Fatalf("%d queries; Q10 returned %d rows, %d bytes", len(res.Queries), q10.Count, q10.PageBytes)
	}
}

// A cancelled run stops with an error and what it measured.
func TestStreamStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Stream(ctx, StreamConfig{Events: 1_000_000, Seed: 7, WorkDir: t.TempDir(), Interval: time.Hour})
	if err == nil || res == nil {
		t.Fatalf("cancelled stream: %v, results %v", err, res)
	}
	if n := res.Timeline[len(res.Timeline)-1].Events; n >= 1_000_000 || n != res.Ingested {
		t.Fatalf("cancelled stream: last sample %d events, results %d", n, res.Ingested)
	}
	var b strings.Builder
	res.WriteTable(&b)
	if !strings.Contains(b.String(), "stopped early: 1000000 were asked for") ||
		!strings.Contains(b.String(), FailedLine(err.Error())) {
		t.Fatalf("summary of a stopped run:\n%s", b.String())
	}
	if res.Failed != err.Error() {
		t.Fatalf("results of a stopped run say failed %q, want %q", res.Failed, err)
	}
}
