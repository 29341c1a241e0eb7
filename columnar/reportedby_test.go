package columnar

import (
	"encoding/json"
	"testing"
)

// The mark of a home-tenant copy: set on a decoded row beside its unknown properties, read back,
// replaced rather than repeated, and written even under a projection (it says whose event the
// row is), while other unknown properties follow the projection.
func TestReportedByAnnotation(t *testing.T) {
	d := NewDecoder(SignIns)
	row := NewRow(SignIns)
	if err := d.Decode([]byte(`{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z","x-vendor":1}`), row); err != nil {
		t.Fatal(err)
	}
	if _, ok := row.Extra(ReportedBy); ok {
		t.Fatal("a fresh row is marked")
	}
	for _, v := range []string{`"other"`, `"tenant-b"`} {
		if err := row.SetExtra(ReportedBy, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := row.Extra(ReportedBy); !ok || string(v) != `"tenant-b"` {
		t.Fatalf("Extra = %s, %v", v, ok)
	}
	bld := NewBuilder(SignIns)
	bld.AppendRow(row)
	rec := bld.Seal()
	defer rec.Release()
	b, err := NewBatch(SignIns, rec)
	if err != nil {
		t.Fatal(err)
	}
	var enc Encoder
	for _, tc := range []struct {
		proj Projection
		want string
	}{
		{nil, `{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z","x-vendor":1,"@authlake.reportedBy":"tenant-b"}`},
		{Projection{"id": true}, `{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","@authlake.reportedBy":"tenant-b"}`},
	} {
		got, err := enc.AppendJSON(nil, b, 0, tc.proj)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal([]byte(tc.want), &w)
		if gb, _ := json.Marshal(g); string(gb) != func() string { wb, _ := json.Marshal(w); return string(wb) }() {
			t.Errorf("projection %v:\n got %s\nwant %s", tc.proj, got, tc.want)
		}
	}
}
