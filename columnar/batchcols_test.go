package columnar

import (
	"bytes"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// A memtable chunk bound with some columns reads as a segment's block read with them: those
// columns hold what NewBatch binds, every other is absent. A chunk whose columns are in another
// order (a WAL written by another build) finds them by name.
func TestBatchColumnsBindsWhatIsAsked(t *testing.T) {
	d, row, bl := NewDecoder(SignIns), NewRow(SignIns), NewBuilder(SignIns)
	for _, e := range testEvents(t, 50, 3) {
		if err := d.Decode([]byte(e), row); err != nil {
			t.Fatal(err)
		}
		bl.AppendRow(row)
	}
	rec := bl.Seal()
	defer rec.Release()
	// The same columns in reverse order.
	n := int(rec.NumCols())
	fields := rec.Schema().Fields()
	cols := slices.Clone(rec.Columns())
	slices.Reverse(fields)
	slices.Reverse(cols)
	reversed := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	defer reversed.Release()

	all, err := NewBatch(SignIns, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{colCreated.Index, colUPN.Index, colID.Index, SignIns.byName["status/errorCode"].Index, SignIns.Extras()}
	for _, r := range []arrow.RecordBatch{rec, reversed} {
		b, release, err := BatchColumns(SignIns, r, want)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		for idx := range n {
			if got := b.Has(idx); got != slices.Contains(want, idx) {
				t.Fatalf("column %d bound: %v; asked for %v", idx, got, want)
			}
		}
		for i := range b.Rows {
			if b.Int64(colCreated.Index, i) != all.Int64(colCreated.Index, i) ||
				!bytes.Equal(b.Bytes(colID.Index, i), all.Bytes(colID.Index, i)) ||
				!bytes.Equal(b.Bytes(colUPN.Index, i), all.Bytes(colUPN.Index, i)) ||
				b.Valid(want[3], i) != all.Valid(want[3], i) || b.Valid(want[3], i) && b.Int32(want[3], i) != all.Int32(want[3], i) {
				t.Fatalf("row %d reads otherwise than NewBatch's", i)
			}
		}
	}
}
