package columnar_test

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
)

// A sized builder (ingest's, which reserves room from the last batch's row sizes) seals the same
// records as a plain one, and a batch smaller than its reservation gives the room back: sealed
// chunks live in the memtable until their flush, and its budget counts them.
func TestSizedBuilderSealsWhatAPlainOneDoes(t *testing.T) {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 3000, Seed: 7, End: gen.BenchEnd}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	d, row := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns)
	var sizes columnar.RowSizes
	// Batches of varied sizes: the first learns, a small one follows a big reservation (room
	// given back), a big one follows a small batch (grows past its reservation).
	for _, n := range []int{1000, 7, 1500, 0, 493} {
		batch := lines[:n]
		lines = lines[n:]
		plain := columnar.NewBuilder(columnar.SignIns)
		sized := columnar.NewSizedBuilder(columnar.SignIns, 2000, &sizes)
		for _, l := range batch {
			if err := d.Decode(l, row); err != nil {
				t.Fatal(err)
			}
			plain.AppendRow(row)
			sized.AppendRow(row)
		}
		want, got := plain.Seal(), sized.Seal()
		if !array.RecordEqual(want, got) {
			t.Fatalf("batch of %d rows: the sized builder's record differs from the plain one's", n)
		}
		for i, col := range got.Columns() {
			for j, b := range col.Data().Buffers() {
				if b == nil {
					continue
				}
				if unused := cap(b.Buf()) - b.Len(); unused > 4096 && unused > b.Len()/2 {
					t.Errorf("batch of %d rows: column %d buffer %d holds %d bytes in %d of room", n, i, j, b.Len(), cap(b.Buf()))
				}
			}
		}
		want.Release()
		got.Release()
	}
	if len(lines) != 0 {
		t.Fatalf("%d lines left over", len(lines))
	}
	// An empty sized builder seals an empty record of the schema, its reservation given back.
	rec := columnar.NewSizedBuilder(columnar.SignIns, 493, &sizes).Seal()
	defer rec.Release()
	if rec.NumRows() != 0 || !rec.Schema().Equal(columnar.SignIns.Arrow()) {
		t.Fatal("an empty sized builder seals an empty record of the schema")
	}
}
