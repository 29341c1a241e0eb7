package columnar_test

import (
	"bytes"
	"testing"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
)

// BenchmarkDecode measures JSON → staged row → Arrow builder for realistic generated events,
// the CPU part of ingest before the WAL.
func BenchmarkDecode(b *testing.B) {
	lines := benchLines(b)
	d := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	bld := columnar.NewBuilder(columnar.SignIns)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Decode(lines[i%len(lines)], row); err != nil {
			b.Fatal(err)
		}
		bld.AppendRow(row)
		if bld.Len() == 4096 {
			bld.Seal().Release()
		}
	}
}

// BenchmarkEncode measures Arrow → Graph JSON (export and query results).
func BenchmarkEncode(b *testing.B) {
	var buf bytes.Buffer
	gen.Write(&buf, gen.Config{Events: 4096, Seed: 1, End: gen.BenchEnd})
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	d := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	bld := columnar.NewBuilder(columnar.SignIns)
	for _, l := range lines {
		d.Decode(l, row)
		bld.AppendRow(row)
	}
	rec := bld.Seal()
	defer rec.Release()
	batch, _ := columnar.NewBatch(columnar.SignIns, rec)
	var enc columnar.Encoder
	var out []byte
	b.SetBytes(int64(buf.Len() / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, _ = enc.AppendJSON(out[:0], batch, i%batch.Rows, nil)
	}
}

// BenchmarkDecodeLine measures the fast decoding path alone: a compact record framed by its line
// into a staged row, as ingest decodes nearly every record.
func BenchmarkDecodeLine(b *testing.B) {
	lines := benchLines(b)
	d := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !d.DecodeLine(lines[i%len(lines)], row, nil) {
			b.Fatal("the fast path refused a generated record")
		}
	}
}

// benchLines is 20,000 generated sign-ins, one compact record a line, and sets b's bytes per
// operation to their mean size.
func benchLines(b *testing.B) [][]byte {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 20000, Seed: 1, End: gen.BenchEnd}); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	b.SetBytes(int64(buf.Len() / len(lines)))
	return lines
}
