package engine

import (
	"fmt"
	"log/slog"
	"testing"
)

// BenchmarkOpen measures opening a database (recovery included) and closing it, for a writer
// (read-write) and a reader (read-only, beside a possible writer), as the number of segments
// grows: the catalog in the manifest makes a writer's open read no segment, so its time should
// not grow with them; a reader opens each segment's two files (its snapshot), reading none.
// Real files, in the page cache: the figure is the engine's work, not the disk's.
func BenchmarkOpen(b *testing.B) {
	for _, flushes := range []int{4, 32} {
		dir := b.TempDir()
		opts := testOptions()
		opts.Logger = slog.New(slog.DiscardHandler)
		db, err := Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		lines := makeEvents(200*flushes, 3, 16)
		for i := 0; i < len(lines); i += 200 {
			if _, err := db.Ingest(records(lines[i:i+200]), IngestOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := db.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		segs := db.Stats().Segments
		db.Close()
		for _, ro := range []bool{false, true} {
			name := "writer"
			if ro {
				name = "reader"
			}
			b.Run(fmt.Sprintf("%s/%d-segments", name, segs), func(b *testing.B) {
				o := opts
				o.ReadOnly = ro
				for b.Loop() {
					db, err := Open(dir, o)
					if err != nil {
						b.Fatal(err)
					}
					db.Close()
				}
			})
		}
	}
}
