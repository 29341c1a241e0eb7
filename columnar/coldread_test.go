package columnar

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/internal/vfs"
)

// pageJSON encodes every row of block b of seg, all columns, read through BlockBatch (take nil)
// or BlockRows.
func pageJSON(t *testing.T, seg *Segment, b int, take []int) []string {
	t.Helper()
	all := allColumns()
	var (
		batch   *Batch
		release func()
		err     error
	)
	if take == nil {
		batch, release, err = seg.BlockBatch(b, all)
	} else {
		batch, release, err = seg.BlockRows(b, all, take)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows := seg.BlockLen(b)
	if take != nil {
		rows = len(take)
	}
	var enc Encoder
	out := make([]string, rows)
	for r := range out {
		j, err := enc.AppendJSON(nil, batch, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[r] = string(j)
	}
	if err := batch.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sparseOf is the rows of take within a block of n rows.
func sparseOf(take []int, n int) []int {
	var out []int
	for _, r := range take {
		if r < n {
			out = append(out, r)
		}
	}
	return out
}

// dropColumn evicts block b of column col of s from the cache, if it holds it (tests).
func (c *BlockCache) dropColumn(s *Segment, col, b int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[blockKey{s, col, b}]; ok {
		c.evict(e)
	}
}

// A block's columns that the cache does not hold are read side by side (blockColumns): each
// column equals a read of that column alone (one column: nothing side by side), whole or
// sparse, cold, cached and half cached, and every buffer is released. The pool is wide and
// idle, so the reads do go side by side: each phase that has cold columns takes spare tokens.
func TestColdColumnsReadSideBySide(t *testing.T) {
	pool := cpu.New(16)
	defer cpu.SetDefault(cpu.SetDefault(pool))
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 2000), 512)
	all := allColumns()
	ref, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	take := []int{1, 7, 100, 101, 300, 463}
	alone := func(b, idx int, take []int) arrow.Array {
		got, err := ref.blockColumns(b, []int{idx}, take)
		if err != nil {
			t.Fatal(err)
		}
		return got[0].a
	}
	// want[b][idx]: column idx of block b read alone, whole; wantSparse: its rows take.
	var want, wantSparse [][]arrow.Array
	for b := range ref.NumBlocks() {
		var w, ws []arrow.Array
		for _, idx := range all {
			w = append(w, alone(b, idx, nil))
			ws = append(ws, alone(b, idx, sparseOf(take, ref.BlockLen(b))))
		}
		want, wantSparse = append(want, w), append(wantSparse, ws)
	}
	defer func() {
		for b := range want {
			for i := range want[b] {
				for _, a := range []arrow.Array{want[b][i], wantSparse[b][i]} {
					if a != nil {
						a.Release()
					}
				}
			}
		}
	}()

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cache := NewBlockCache(64 << 20)
	seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, cache, mem)
	if err != nil {
		t.Fatal(err)
	}
	read := func(phase string, b int, sparse bool) {
		t.Helper()
		wantCols, rows := want[b], []int(nil)
		if sparse {
			wantCols, rows = wantSparse[b], sparseOf(take, seg.BlockLen(b))
		}
		got, err := seg.blockColumns(b, all, rows)
		if err != nil {
			t.Fatalf("%s, block %d: %v", phase, b, err)
		}
		for i, g := range got {
			name := "extras"
			if i < len(SignIns.Columns) {
				name = SignIns.Columns[i].Name
			}
			switch {
			case (g.a == nil) != (wantCols[i] == nil):
				t.Errorf("%s, block %d, column %s: stored %v, alone %v", phase, b, name, g.a != nil, wantCols[i] != nil)
			case g.a != nil && !array.Equal(g.a, wantCols[i]):
				t.Errorf("%s, block %d, column %s: read side by side differs from a read of the column alone", phase, b, name)
			}
			if g.a != nil {
				g.a.Release()
			}
		}
	}
	sideBySide := func(phase string, f func()) {
		t.Helper()
		before := pool.Stats().Acquired
		f()
		if pool.Stats().Acquired == before {
			t.Errorf("%s: no read went side by side", phase)
		}
		if n := pool.Stats().InUse; n != 0 {
			t.Errorf("%s: %d tokens still held", phase, n)
		}
	}
	n := seg.NumBlocks()
	// A sparse read caches nothing, so the whole read after it is cold too.
	sideBySide("cold, sparse then whole", func() {
		for b := range n {
			read("cold sparse", b, true)
			read("cold whole", b, false)
		}
	})
	for b := range n {
		read("cached whole", b, false)
		read("cached sparse", b, true)
	}
	for b := 1; b < n; b += 2 {
		for idx := 0; idx < len(all); idx += 2 {
			cache.dropColumn(seg, idx, b)
		}
	}
	sideBySide("half cached", func() {
		for b := range n {
			read("half-cached sparse", b, true)
			read("half-cached whole", b, false)
		}
	})
	// The rows as a page shows them, through BlockBatch and BlockRows.
	for b := range n {
		if got, w := strings.Join(pageJSON(t, seg, b, nil), "\n"), strings.Join(pageJSON(t, ref, b, nil), "\n"); got != w {
			t.Errorf("block %d: page rows differ", b)
		}
	}
	seg.Close()
	cache.dropSegment(seg)
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated after the segment closed", left)
	}
}

// sideBySide widens only into tokens the CPU pool has spare: with every token held it runs
// everything in the calling goroutine, with one spare at most two at once, with all spare as
// many as there are tokens beside the caller; and it gives the tokens back.
func TestSideBySideStaysWithinThePool(t *testing.T) {
	pool := cpu.New(3)
	defer cpu.SetDefault(cpu.SetDefault(pool))
	ctx := context.Background()
	for range 3 {
		if err := pool.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var cur, peak atomic.Int32
	count := func(int) {
		n := cur.Add(1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		runtime.Gosched()
		cur.Add(-1)
	}
	run := func(spare int) {
		t.Helper()
		peak.Store(0)
		before := pool.Stats().Acquired
		sideBySide(64, count)
		if p := int(peak.Load()); p > spare+1 {
			t.Errorf("%d spare tokens: %d reads at once", spare, p)
		}
		if got := int(pool.Stats().Acquired - before); got > spare {
			t.Errorf("%d spare tokens: took %d", spare, got)
		}
		if n := pool.Stats().InUse; n != 3-spare {
			t.Errorf("%d spare tokens: %d held after, want %d", spare, n, 3-spare)
		}
	}
	run(0)
	pool.Release()
	run(1)
	pool.Release()
	pool.Release()
	// All spare: four at once (the caller and three beside it), shown by each waiting for the
	// others; the wait is bounded and fails loudly.
	var inside atomic.Int32
	all := make(chan struct{})
	sideBySide(4, func(int) {
		if inside.Add(1) == 4 {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			t.Error("the four reads never ran at once")
		}
	})
	if n := pool.Stats().InUse; n != 0 {
		t.Errorf("%d tokens held after", n)
	}
}

// A column that fails to read fails the block whichever columns are read beside it, and what
// the others decoded is released.
func TestColdColumnErrorReleasesTheOthers(t *testing.T) {
	path, meta := writeTestSegment(t, t.TempDir(), sparseEvents(t, 1500), 512)
	// Damage the middle of one stored column's region: its frames, not its frame table.
	var name string
	for _, c := range meta.Columns {
		if c.Name == "correlationId" {
			name = c.Name
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw[c.Offset+c.Length/3] ^= 0xff
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if name == "" {
		t.Fatal("no correlationId column")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, NewBlockCache(64<<20), mem)
	if err != nil {
		t.Fatal(err)
	}
	all := allColumns()
	failed := 0
	for b := range seg.NumBlocks() {
		_, release, err := seg.BlockBatch(b, all)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("block %d: %v, want an error naming %s", b, err, name)
			}
			failed++
			continue
		}
		release()
	}
	if failed == 0 {
		t.Fatal("no block failed: the damage was not read")
	}
	seg.Close()
	seg.cache.dropSegment(seg)
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated", left)
	}
}

// Prefetch loads the dictionary pages of the rows asked for, and only the pages a row of them
// needs: writing those rows then reads nothing more, and shows the values of the whole
// dictionary.
func TestPrefetchLoadsThePagesOfTheRows(t *testing.T) {
	seg, path, upn := manyUsersSegment(t, 5000)
	all := allColumns()
	b := 7
	batch, release, err := seg.BlockBatch(b, all)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows := []int{0, 3, 40, 41, 63}
	want := map[int]bool{}
	for _, r := range rows {
		want[int(batch.Code(upn, r))>>dictPageShift] = true
	}
	if loaded, _, _ := loadedPages(seg, upn); loaded != 0 {
		t.Fatalf("%d pages loaded before Prefetch", loaded)
	}
	batch.Prefetch(rows)
	d := seg.cols[upn].pages
	for i := range d.pages {
		if want[i] && d.pages[i].Load() == nil {
			t.Fatalf("page %d of a row asked for is not loaded", i)
		}
	}
	reads := 0
	for _, c := range seg.cols {
		if c != nil && c.pages != nil {
			reads += int(c.pages.reads.Load())
		}
	}
	if reads == 0 {
		t.Fatal("Prefetch read nothing")
	}
	ref, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	refBatch, refRelease, err := ref.BlockBatch(b, all)
	if err != nil {
		t.Fatal(err)
	}
	defer refRelease()
	var enc Encoder
	for _, r := range rows {
		got, err1 := enc.AppendJSON(nil, batch, r, nil)
		exp, err2 := enc.AppendJSON(nil, refBatch, r, nil)
		if err1 != nil || err2 != nil || string(got) != string(exp) {
			t.Fatalf("row %d after Prefetch:\n%s\nwant\n%s\n(%v, %v)", r, got, exp, err1, err2)
		}
	}
	after := 0
	for _, c := range seg.cols {
		if c != nil && c.pages != nil {
			after += int(c.pages.reads.Load())
		}
	}
	if after != reads {
		t.Fatalf("writing the rows read %d more times after Prefetch", after-reads)
	}
	if err := batch.Err(); err != nil {
		t.Fatal(err)
	}
}

// pairedReads holds the first two reads made once armed until both are in flight (at most
// bound; a read that waited that long is noted): reads made one after another never pair.
type pairedReads struct {
	vfs.FS
	armed    *atomic.Bool
	inside   *atomic.Int32
	both     chan struct{}
	timedOut *atomic.Bool
}

type pairedFile struct {
	vfs.File
	p pairedReads
}

func (p pairedReads) Open(name string) (vfs.File, error) {
	f, err := p.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return pairedFile{f, p}, nil
}

func (f pairedFile) ReadAt(b []byte, off int64) (int, error) {
	if f.p.armed.Load() {
		switch f.p.inside.Add(1) {
		case 1:
			select {
			case <-f.p.both:
			case <-time.After(30 * time.Second):
				f.p.timedOut.Store(true)
			}
		case 2:
			close(f.p.both)
		}
	}
	return f.File.ReadAt(b, off)
}

// With every CPU token held, a cold block's reads still wait for the disk side by side
// (readCold takes no token), and what they read decodes to the block a plain read gives.
func TestColdReadsGoSideBySideWithoutSpareTokens(t *testing.T) {
	pool := cpu.New(2)
	defer cpu.SetDefault(cpu.SetDefault(pool))
	ctx := context.Background()
	for range 2 {
		if err := pool.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	defer pool.Release()
	defer pool.Release()
	path, _ := writeTestSegment(t, t.TempDir(), sparseEvents(t, 1200), 512)
	ref, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	fs := pairedReads{FS: vfs.Default, armed: new(atomic.Bool), inside: new(atomic.Int32), both: make(chan struct{}), timedOut: new(atomic.Bool)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	seg, err := OpenSegmentAlloc(fs, path, SignIns, nil, mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := seg.open(); err != nil {
		t.Fatal(err)
	}
	all := allColumns()
	acquired := pool.Stats().Acquired
	fs.armed.Store(true)
	got, err := seg.blockColumns(1, all, nil)
	fs.armed.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	if fs.timedOut.Load() {
		t.Error("a cold block's reads were made one after another")
	}
	if pool.Stats().Acquired != acquired {
		t.Error("reading took a CPU token")
	}
	for i, g := range got {
		want, err := ref.blockColumns(1, []int{i}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (g.a == nil) != (want[0].a == nil) || g.a != nil && !array.Equal(g.a, want[0].a) {
			t.Errorf("column %d differs from a plain read", i)
		}
		for _, a := range []arrow.Array{g.a, want[0].a} {
			if a != nil {
				a.Release()
			}
		}
	}
	seg.Close()
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated after the segment closed", left)
	}
}

// A page whose rows need pages of a dictionary from as many windows as page would read one by
// one before reading it whole has it read whole by Prefetch, in one read made without a CPU
// token (the pool is all held here), and every page its rows need decoded.
func TestPrefetchReadsAScatteredDictionaryWhole(t *testing.T) {
	pool := cpu.New(1)
	defer cpu.SetDefault(cpu.SetDefault(pool))
	if err := pool.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer pool.Release()
	// Rows ordered by user, each user one row; signInIdentifier a random permutation of as
	// many distinct values, so that a block's rows need pages from all over its dictionary.
	const n = 9000 // 141 pages of 64, 9 windows of 16
	perm := rand.New(rand.NewPCG(3, 3)).Perm(n)
	events := withUPNs(t, testEvents(t, n, 11), func(i int) string { return fmt.Sprintf("user%05d@contoso.com", i) })
	events = withProperty(t, events, "signInIdentifier", func(i int) string { return fmt.Sprintf("sid%05d", perm[i]) })
	path, _ := writeTestSegment(t, t.TempDir(), events, 512)
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	sid, _ := SignIns.Lookup("signInIdentifier")
	batch, release, err := seg.BlockBatch(3, []int{sid.Index})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows := make([]int, seg.BlockLen(3))
	need := map[int]bool{}
	for r := range rows {
		rows[r] = r
		need[int(batch.Code(sid.Index, r))>>dictPageShift] = true
	}
	d := seg.cols[sid.Index].pages
	var pages []int
	for i := range need {
		pages = append(pages, i)
	}
	slices.Sort(pages)
	if w := windows(pages); w < dictWindowsBeforeWhole {
		t.Fatalf("the rows need pages from %d windows: the fixture must span at least %d", w, dictWindowsBeforeWhole)
	}
	acquired := pool.Stats().Acquired
	batch.Prefetch(rows)
	if got := d.reads.Load(); got != 1 {
		t.Errorf("%d reads of the dictionary, want 1 (whole)", got)
	}
	if pool.Stats().Acquired != acquired {
		t.Error("Prefetch took a CPU token the pool did not have spare")
	}
	for i := range need {
		if d.pages[i].Load() == nil {
			t.Errorf("page %d that a row needs is not loaded", i)
		}
	}
	ref, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	refBatch, refRelease, err := ref.BlockBatch(3, []int{sid.Index})
	if err != nil {
		t.Fatal(err)
	}
	defer refRelease()
	for _, r := range rows {
		if got, want := string(batch.Bytes(sid.Index, r)), string(refBatch.Bytes(sid.Index, r)); got != want || !strings.HasPrefix(got, "sid") {
			t.Fatalf("row %d: %q, want %q", r, got, want)
		}
	}
	if err := errors.Join(batch.Err(), refBatch.Err()); err != nil {
		t.Fatal(err)
	}
}
