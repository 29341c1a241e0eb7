package query_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/vfs"
	"github.com/authlake/authlake/query"
)

// A count grouped by a dictionary column whose dictionary page fails its checksum fails with
// the corruption, as a row read from that page does; it does not count the page's rows under
// an empty value. The groups are made after the blocks that counted them are gone, so the
// error must come from the dictionary itself.
func TestGroupCountFailsOnACorruptDictionaryPage(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	seg := f.src.Days[0].Segments[0].Seg
	raw, err := os.ReadFile(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	col, ok := columnar.SignIns.Lookup("userPrincipalName")
	if !ok {
		t.Fatal("no userPrincipalName column")
	}
	cols, err := seg.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var cm *columnar.ColumnMeta
	for i := range cols {
		if cols[i].Name == col.Name {
			cm = &cols[i]
		}
	}
	if cm == nil || cm.DictLen == 0 || cm.DictLen > columnar.DictPageValues {
		t.Fatalf("want the UPN dictionary in one page: %+v", cm)
	}
	raw[cm.Offset+cm.Length-1] ^= 0x40 // the region's last frame: its only dictionary page
	p := filepath.Join(t.TempDir(), "bad.seg")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	bad, err := columnar.OpenSegment(vfs.Default, p, columnar.SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	count := []query.Agg{{Op: query.AggCount, Alias: "n"}}
	// Alone (one worker: the last fold is the caller's), and beside the fixture's other
	// segments (workers: a worker's fold, met when its groups are merged).
	alone := query.Source{Days: []query.Day{{Day: f.src.Days[0].Day, Segments: []query.Segment{{ID: 1, Seg: bad}}}}}
	beside := query.Source{Days: append([]query.Day{{Day: f.src.Days[0].Day, Segments: []query.Segment{{ID: 1, Seg: bad}}}}, f.src.Days[1:]...)}
	for name, src := range map[string]query.Source{"alone": alone, "beside": beside} {
		groups, err := query.Aggregate(context.Background(), columnar.SignIns, src, "", []string{"userPrincipalName"}, count)
		var ce *columnar.CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("%s, grouped by the corrupt column: %d groups, err %v; want a CorruptError", name, len(groups), err)
		}
	}
	src := alone
	// The other columns of the segment are sound.
	if groups, err := query.Aggregate(context.Background(), columnar.SignIns, src, "", []string{"appDisplayName"}, count); err != nil || len(groups) == 0 {
		t.Fatalf("grouped by application: %d groups, %v", len(groups), err)
	}
}
