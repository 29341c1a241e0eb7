package query_test

import (
	"context"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/query"
)

// A scan takes a CPU token for every block it reads, every memtable chunk and every
// segment's index probe, and runs without tokens for interactive work (internal/cpu).
func TestScanGoesThroughCPUPool(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	src := f.src
	pool := cpu.New(2)
	src.CPU = pool
	req := query.Request{Filter: "status/errorCode ne 0", Top: 1000, Select: []string{"id"}, Explain: true}
	res, err := query.Run(context.Background(), columnar.SignIns, src, req)
	if err != nil {
		t.Fatal(err)
	}
	ex := res.Explain
	if ex.BlocksRead == 0 {
		t.Fatalf("the scan read no block: %+v", ex)
	}
	// One token per block read and per memtable chunk, plus one per segment probed.
	min := int64(ex.BlocksRead + ex.MemChunks)
	st := pool.Stats()
	if st.Acquired < min {
		t.Fatalf("%d tokens taken for %d blocks read and %d memtable chunks", st.Acquired, ex.BlocksRead, ex.MemChunks)
	}
	if st.InUse != 0 || st.Waiting != 0 {
		t.Fatalf("tokens left behind: %+v", st)
	}

	// Interactive work runs on the P the pool keeps free: no token.
	ctx, done := pool.Interactive(context.Background())
	before := pool.Stats().Acquired
	if _, err := query.Run(ctx, columnar.SignIns, src, req); err != nil {
		t.Fatal(err)
	}
	if got := pool.Stats().Acquired - before; got != 0 {
		t.Fatalf("an interactive query took %d tokens", got)
	}
	// Heavy work beside a registered interactive request still runs, on one token.
	one := cpu.New(1)
	src.CPU = one
	_, done1 := one.Interactive(context.Background())
	res2, err := query.Run(context.Background(), columnar.SignIns, src, req)
	done1()
	done()
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Rows) != len(res.Rows) || one.Stats().Acquired < min {
		t.Fatalf("with one token: %d rows (want %d), %d tokens taken", len(res2.Rows), len(res.Rows), one.Stats().Acquired)
	}
}

// A full page spread over many blocks is materialized by as many workers as the pool has
// tokens, each encoding the rows of the blocks it decodes into their places: the page is the
// one a single worker writes, byte for byte, and every token is given back.
func TestParallelPageIsTheSequentialPage(t *testing.T) {
	// Blocks of 256 rows: a page over several blocks, each split between workers; one block of
	// 4,096 rows: a page in one block, split, and read sparsely for a filter of few rows.
	for _, blockRows := range []int{256, 4096} {
		f := getFixture(t, 2000, blockRows, 1)
		parallelPageIsSequential(t, f.src)
	}
	// Blocks of 4,096 rows that each give a page a few hundred rows: read sparsely, and split
	// between workers.
	parallelPageIsSequential(t, getFixture(t, 12000, 4096, 1).src)
}

func parallelPageIsSequential(t *testing.T, src query.Source) {
	for _, filter := range []string{"", "status/errorCode ne 0", "flaggedForReview eq true", "status/errorCode eq 50126",
		"status/errorCode eq 50126 and isInteractive eq false"} {
		req := query.Request{Filter: filter, Top: 1000, Explain: true}
		src.CPU = cpu.New(0) // disabled: one worker
		one, err := query.Run(context.Background(), columnar.SignIns, src, req)
		if err != nil {
			t.Fatal(err)
		}
		pool := cpu.New(4)
		src.CPU = pool
		four, err := query.Run(context.Background(), columnar.SignIns, src, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Rows) < 50 || len(four.Rows) != len(one.Rows) {
			t.Fatalf("%q: %d rows with four workers, %d with one", filter, len(four.Rows), len(one.Rows))
		}
		for i := range one.Rows {
			if string(four.Rows[i]) != string(one.Rows[i]) {
				t.Fatalf("%q: row %d differs:\n%s\n%s", filter, i, four.Rows[i], one.Rows[i])
			}
		}
		if st := pool.Stats(); st.InUse != 0 || st.Waiting != 0 {
			t.Fatalf("tokens left behind: %+v", st)
		}
	}
}
