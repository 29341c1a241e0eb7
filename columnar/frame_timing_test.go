package columnar_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/vfs"
)

// BenchmarkFrameDecode reads one block of one column from a segment of 32,768 generated
// sign-ins (8 blocks of 4,096 rows), without a block cache: the frame's read, CRC and decode,
// as a page that touches a block does for each column it returns. B/event is the column's
// region size over its rows (frame table and dictionary included).
func BenchmarkFrameDecode(b *testing.B) {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 32768, Seed: 1, End: gen.BenchEnd, Days: 1}); err != nil {
		b.Fatal(err)
	}
	d := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	bld := columnar.NewBuilder(columnar.SignIns)
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if err := d.Decode(l, row); err != nil {
			b.Fatal(err)
		}
		bld.AppendRow(row)
	}
	rec := bld.Seal()
	defer rec.Release()
	m, err := columnar.Merge(columnar.SignIns, []columnar.Unit{columnar.RecordUnit{Schema: columnar.SignIns, Rec: rec}}, 4096)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.seg")
	meta, err := columnar.WriteSegment(vfs.Default, path, "t", 20395, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	seg, err := columnar.OpenSegment(vfs.Default, path, columnar.SignIns, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Close()
	for _, c := range []struct{ kind, col string }{
		{"dict", "ipAddress"},
		{"dict", "appDisplayName"},
		{"text", "uniqueTokenIdentifier"},
		{"time", "createdDateTime"},
		{"guid", "id"},
		{"json", "authenticationDetails"},
		{"int32", "processingTimeInMilliseconds"},
		{"bool", "isInteractive"},
	} {
		col, ok := columnar.SignIns.Lookup(c.col)
		if !ok {
			b.Fatalf("no column %s", c.col)
		}
		var size uint64
		for _, cm := range meta.Columns {
			if cm.Name == c.col {
				size = cm.Length
			}
		}
		b.Run(c.kind+"="+c.col, func(b *testing.B) {
			nb := seg.NumBlocks()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				a, err := seg.Block(col.Index, i%nb)
				if err != nil {
					b.Fatal(err)
				}
				a.Release()
			}
			b.ReportMetric(float64(size)/float64(meta.Rows), "B/event")
		})
	}
}
