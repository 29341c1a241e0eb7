package engine

import (
	"bytes"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
)

// A merge visits each column block by block; the index builder encodes a column's sections at
// its last row and lets go of its state, so a merge holds the state of the columns being
// written only (it held about 100 bytes a row of every indexed column until the sidecar was
// written). The sidecar still holds every section.
func TestIndexBuilderSealsEachColumnAtItsLastRow(t *testing.T) {
	rec := recordOf(t, makeEvents(3000, 1, 3))
	defer rec.Release()
	m, err := columnar.Merge(columnar.SignIns, []columnar.Unit{columnar.RecordUnit{Schema: columnar.SignIns, Rec: rec}}, 256)
	if err != nil {
		t.Fatal(err)
	}
	ib := newIndexBuilder(columnar.SignIns, m)
	held := func() (n int) {
		for _, st := range ib.codes {
			n += cap(st.codes) * 4
		}
		for _, st := range ib.keys {
			n += cap(st.hashes)*8 + cap(st.rows)*4
		}
		for _, st := range ib.bools {
			n += cap(st.vals)
		}
		for _, st := range ib.ints {
			n += cap(st.vals)*4 + cap(st.ok)
		}
		return n
	}
	for col := range columnar.SignIns.Columns {
		if len(ib.want[col]) == 0 {
			continue
		}
		name := columnar.SignIns.Columns[col].Name
		blocks, err := m.Column(col)
		if err != nil {
			t.Fatal(err)
		}
		for bi, a := range blocks {
			if err := ib.visit(col, bi, a); err != nil {
				t.Fatal(err)
			}
			if bi == 0 && len(blocks) > 1 && held() == 0 && ib.zones[name] == nil {
				t.Fatalf("%s: nothing held after its first block", name)
			}
		}
		if n := held(); n != 0 {
			t.Fatalf("after the last row of %s the builder still holds %d bytes of column state", name, n)
		}
		for _, a := range blocks {
			a.Release()
		}
	}
	got, err := ib.finish()
	if err != nil {
		t.Fatal(err)
	}
	r, err := index.Open(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range keyIndexed {
		if !r.Has(name, index.KindKeys) {
			t.Fatalf("the sidecar lacks the keys of %s", name)
		}
	}
}
