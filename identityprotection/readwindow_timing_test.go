package identityprotection

import (
	"context"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
)

// BenchmarkReadWindow: a detection run's read of every interactive sign-in of its window
// (40,000 generated events over 30 days, flushed).
func BenchmarkReadWindow(b *testing.B) {
	lines := genLines(b, 40000, 21)
	db := openDB(b, b.TempDir(), backgroundEnd().Add(24*time.Hour))
	defer db.Close()
	ingest(b, db, lines)
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	from, to := backgroundEnd().Add(-31*24*time.Hour), backgroundEnd().Add(time.Hour)
	n := 0
	for b.Loop() {
		evs, err := readWindow(context.Background(), db, gen.DefaultTenant, from, to)
		if err != nil {
			b.Fatal(err)
		}
		n = len(evs)
	}
	if n == 0 {
		b.Fatal("the window holds no interactive sign-ins")
	}
	b.ReportMetric(float64(n), "events")
}
