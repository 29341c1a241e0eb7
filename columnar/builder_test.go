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

// Ingest does not know how many of a call's records a partition gets: a chunk builder starts
// small and doubles (Grow) when its room is used up (Room). Grown that way it seals what a
// plain builder does, and Room counts the rows it was given room for.
func TestSizedBuilderGrowsInSteps(t *testing.T) {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 1200, Seed: 9, End: gen.BenchEnd}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	d, row := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns)
	var sizes columnar.RowSizes
	learn := columnar.NewSizedBuilder(columnar.SignIns, 200, &sizes)
	for _, l := range lines[:200] {
		if err := d.Decode(l, row); err != nil {
			t.Fatal(err)
		}
		learn.AppendRow(row)
	}
	learn.Seal().Release()

	plain := columnar.NewBuilder(columnar.SignIns)
	sized := columnar.NewSizedBuilder(columnar.SignIns, 128, &sizes)
	if sized.Room() != 128 {
		t.Fatalf("a builder sized for 128 rows has room for %d", sized.Room())
	}
	grows := 0
	for i, l := range lines[200:] {
		if sized.Room() == 0 {
			sized.Grow(sized.Len())
			grows++
			if sized.Room() != sized.Len() {
				t.Fatalf("after %d rows, doubling left room for %d", sized.Len(), sized.Room())
			}
		}
		if err := d.Decode(l, row); err != nil {
			t.Fatal(err)
		}
		plain.AppendRow(row)
		sized.AppendRow(row)
		if want := sized.Room(); i == 0 && want != 127 {
			t.Fatalf("after one row, room for %d, want 127", want)
		}
	}
	if grows != 3 { // 128 → 256 → 512 → 1024 for 1000 rows
		t.Fatalf("grew %d times for 1000 rows from 128", grows)
	}
	want, got := plain.Seal(), sized.Seal()
	defer want.Release()
	defer got.Release()
	if !array.RecordEqual(want, got) {
		t.Fatal("the builder grown in steps seals a record other than the plain builder's")
	}
	if sized.Room() != 0 {
		t.Fatalf("a sealed builder has room for %d rows", sized.Room())
	}
}
