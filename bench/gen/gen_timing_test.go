package gen

import "testing"

// BenchmarkNext measures steady-state single-core generation (events/s and
// bytes/event) for a 20K-user tenant; a warm-up creates most users first,
// since user construction is a one-off cost amortised over a long run.
func BenchmarkNext(b *testing.B) {
	g := New(Config{Events: 1 << 40, Days: 3650, Seed: 1, Users: 20000})
	buf := make([]byte, 0, 64<<10)
	for i := 0; i < 300_000; i++ {
		buf, _ = g.Next(buf[:0])
	}
	var total int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ok bool
		buf, ok = g.Next(buf[:0])
		if !ok {
			b.Fatal("generator exhausted")
		}
		total += int64(len(buf))
	}
	b.StopTimer()
	b.SetBytes(total / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(total)/float64(b.N), "B/event")
}
