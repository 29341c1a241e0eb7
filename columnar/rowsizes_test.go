package columnar

import (
	"slices"
	"testing"
)

// A batch of a few rows (a guest tenant's chunk sealed after the call's large one) leaves the
// learned sizes as the large batch taught them.
func TestRowSizesLearnFromLargeBatchesOnly(t *testing.T) {
	events := testEvents(t, minLearnRows+3, 5)
	d, row := NewDecoder(SignIns), NewRow(SignIns)
	var sizes RowSizes
	fill := func(evs []string) {
		b := NewSizedBuilder(SignIns, len(evs), &sizes)
		for _, e := range evs {
			if err := d.Decode([]byte(e), row); err != nil {
				t.Fatal(err)
			}
			b.AppendRow(row)
		}
		b.Seal().Release()
	}
	fill(events[:minLearnRows])
	learned := slices.Clone(sizes.perRow)
	if slices.Max(learned) == 0 {
		t.Fatal("nothing learned from a batch of minLearnRows rows")
	}
	fill(events[minLearnRows:])
	if !slices.Equal(sizes.perRow, learned) {
		t.Errorf("3 rows changed the learned sizes:\n%v\nwas\n%v", sizes.perRow, learned)
	}
}
