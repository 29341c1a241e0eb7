package columnar_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/vfs"
)

// BenchmarkCompact merges four segments of one day into one, as a tier merge does, at the
// default zstd level and at the better one compaction uses for segments that stay: ns/row is
// the cost of rewriting a row, B/row what the output takes on disk.
func BenchmarkCompact(b *testing.B) {
	const segs, perSeg = 4, 8192
	dir := b.TempDir()
	var inputs []*columnar.Segment
	for i, rec := range generatedChunks(b, segs, perSeg, 3) {
		m, err := columnar.Merge(columnar.SignIns, []columnar.Unit{columnar.RecordUnit{Schema: columnar.SignIns, Rec: rec}}, 0)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("in%d.seg", i))
		if _, err := columnar.WriteSegment(vfs.Default, path, "t", 20000, m, nil); err != nil {
			b.Fatal(err)
		}
		rec.Release()
		seg, err := columnar.OpenSegment(vfs.Default, path, columnar.SignIns, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer seg.Close()
		inputs = append(inputs, seg)
	}
	for _, better := range []bool{false, true} {
		b.Run(fmt.Sprintf("better=%v", better), func(b *testing.B) {
			out := filepath.Join(dir, "out.seg")
			rows := 0
			for b.Loop() {
				var units []columnar.Unit
				var held []*columnar.SegmentUnit
				for _, s := range inputs {
					for _, u := range columnar.SegmentUnits(s) { // as compaction reads them
						units, held = append(units, u), append(held, u)
					}
				}
				m, err := columnar.Merge(columnar.SignIns, units, 0)
				if err != nil {
					b.Fatal(err)
				}
				m.BetterCompression = better
				if _, err := columnar.WriteSegment(vfs.Default, out, "t", 20000, m, nil); err != nil {
					b.Fatal(err)
				}
				for _, u := range held {
					u.Release()
				}
				rows = m.Rows
			}
			st, err := os.Stat(out)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			b.ReportMetric(float64(st.Size())/float64(rows), "B/row")
		})
	}
}

// BenchmarkFlush writes one segment from memtable chunks as a flush does: sixteen chunks of
// 4,096 rows (an ingest call's), each with dictionaries of its own in order of first use, at
// the default zstd level. ns/row is the cost of a row's first write.
func BenchmarkFlush(b *testing.B) {
	const chunks, perChunk = 16, 4096
	var units []columnar.Unit
	for _, rec := range generatedChunks(b, chunks, perChunk, 5) {
		defer rec.Release()
		units = append(units, columnar.RecordUnit{Schema: columnar.SignIns, Rec: rec})
	}
	out := filepath.Join(b.TempDir(), "out.seg")
	rows := 0
	for b.Loop() {
		m, err := columnar.Merge(columnar.SignIns, units, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := columnar.WriteSegment(vfs.Default, out, "t", 20000, m, nil); err != nil {
			b.Fatal(err)
		}
		rows = m.Rows
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// generatedChunks returns n records of rows generated sign-ins of one day each, as ingest
// seals them; the caller releases them.
func generatedChunks(b *testing.B, n, rows int, seed uint64) []arrow.RecordBatch {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: n * rows, Seed: seed, Days: 1, End: gen.BenchEnd}); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	d, row := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns)
	recs := make([]arrow.RecordBatch, n)
	for i := range recs {
		bl := columnar.NewBuilder(columnar.SignIns)
		for _, l := range lines[i*len(lines)/n : (i+1)*len(lines)/n] {
			if err := d.Decode(l, row); err != nil {
				b.Fatal(err)
			}
			bl.AppendRow(row)
		}
		recs[i] = bl.Seal()
	}
	return recs
}
