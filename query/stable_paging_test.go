package query_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// TestPagingStableUnderIngest walks the pages of a query while events keep arriving,
// flushes and compactions run between pages: no row is returned twice, and every row
// that existed when paging started is returned.
func TestPagingStableUnderIngest(t *testing.T) {
	db, err := engine.Open(t.TempDir(), engine.Options{DisableBackground: true, NoSync: true, BlockRows: 128,
		Now: func() time.Time { return fixedNow }, Retention: -1, CompactMinSegments: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(3, 3))
	ingest := func(n int) []string {
		var ids []string
		recs := make([]engine.Record, n)
		for i := range recs {
			ev := makeEvent(i, r, fixedNow.Add(-48*time.Hour), 48*time.Hour)
			ids = append(ids, ev["id"].(string))
			recs[i].Raw, _ = json.Marshal(ev)
		}
		if _, err := db.Ingest(recs, engine.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	initial := ingest(600)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	initial = append(initial, ingest(300)...)

	seen := map[string]int{}
	req := query.Request{Filter: "status/errorCode eq 0 or status/errorCode ne 0 or status/errorCode eq null", Top: 50, Select: []string{"id"}}
	for page := 0; ; page++ {
		snap, err := db.Snapshot(tenant)
		if err != nil {
			t.Fatal(err)
		}
		res, err := query.Run(context.Background(), columnar.SignIns, sourceOf(snap), req)
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range idsOf(res.Rows) {
			seen[id]++
			if seen[id] > 1 {
				t.Fatalf("page %d: row %s returned twice", page, id)
			}
		}
		if res.SkipToken == "" {
			break
		}
		req.SkipToken = res.SkipToken
		// Between pages: more events (older and newer than the cursor), a flush, a compaction.
		ingest(40)
		switch page % 3 {
		case 0:
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := db.Compact(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range initial {
		if seen[id] != 1 {
			t.Fatalf("row %s that existed before paging was returned %d times", id, seen[id])
		}
	}
}

func TestCanceledContext(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := query.Run(ctx, columnar.SignIns, f.src, query.Request{}); err == nil {
		t.Fatal("Run with a canceled context succeeded")
	}
}
