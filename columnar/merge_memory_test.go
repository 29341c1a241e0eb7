package columnar

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// peakAllocator remembers the most bytes that were allocated and not yet freed at once.
type peakAllocator struct {
	*memory.CheckedAllocator
	mu   sync.Mutex
	peak int
}

func (p *peakAllocator) note() {
	p.mu.Lock()
	p.peak = max(p.peak, p.CurrentAlloc())
	p.mu.Unlock()
}

func (p *peakAllocator) Allocate(n int) []byte {
	b := p.CheckedAllocator.Allocate(n)
	p.note()
	return b
}

func (p *peakAllocator) Reallocate(n int, b []byte) []byte {
	b = p.CheckedAllocator.Reallocate(n, b)
	p.note()
	return b
}

// Compaction merges every block of a day's segments. It must hold about one column of its inputs
// at a time, not all of them: holding every decoded column until the end took 13 GB for a 3M-row
// day and got the 100M-event benchmark killed.
func TestMergeOfSegmentBlocksHoldsOneColumnAtATime(t *testing.T) {
	events := testEvents(t, 2000, 5)
	path, _ := writeTestSegment(t, t.TempDir(), events, 128)
	mem := &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, nil, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	base := mem.CurrentAlloc()

	// Everything decoded at once, as the merge used to hold it, and each column's share.
	all := SegmentUnits(seg)
	colBytes := make([]int, len(SignIns.Columns)+1)
	for c := range colBytes {
		before := mem.CurrentAlloc()
		for _, u := range all {
			if _, err := u.Column(c); err != nil {
				t.Fatal(err)
			}
		}
		colBytes[c] = mem.CurrentAlloc() - before
	}
	everything := mem.CurrentAlloc() - base
	for _, u := range all {
		u.Release()
	}
	// Merge inputs decode their own dictionaries and let go of them with their blocks: none
	// stays with the segment.
	if left := mem.CurrentAlloc() - base; left != 0 {
		t.Fatalf("%d bytes still held after every block was released", left)
	}

	// One writer goroutine: the merge may then hold the five ordering columns (while it sorts)
	// or one column being gathered, never more.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ordering := 0
	for _, c := range orderColumns {
		ordering += colBytes[c.Index]
	}
	widest := 0
	for c, n := range colBytes {
		if c < len(SignIns.Columns) && (SignIns.Columns[c].Kind == KindDict || SignIns.Columns[c].Kind == KindJSONDict) {
			n *= 2 // a dictionary column is fetched twice
		}
		widest = max(widest, n)
	}
	bound := max(ordering*2, widest)
	if bound >= everything*3/4 {
		t.Fatalf("test data too narrow: the bound %d is near all columns %d (ordering %d, widest %d)", bound, everything, ordering, widest)
	}

	mem.peak = 0
	var units []Unit
	held := SegmentUnits(seg)
	for _, u := range held {
		units = append(units, u)
	}
	m, err := Merge(SignIns, units, 128)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "merged.seg")
	if _, err := WriteSegment(vfs.Default, out, "tenant-a", 20395, m, nil); err != nil {
		t.Fatal(err)
	}
	if left := mem.CurrentAlloc() - base; left != 0 {
		t.Fatalf("%d bytes of inputs still held after the merge", left)
	}
	for _, u := range held {
		u.Release()
	}
	if peak := mem.peak - base; peak > bound {
		t.Fatalf("merge peaked at %d bytes of decoded inputs; one column at a time is at most %d, all columns %d", peak, bound, everything)
	}

	if want := canonicalSet(t, events); !slices.Equal(canonicalSet(t, readSegmentRows(t, out)), want) {
		t.Fatal("the merged segment does not hold the same events")
	}
}

// A compaction of a large day merges several sorted segments. Gathering a column walks each
// input block by block, so it binds an input block when the output first reaches it and lets
// go of it after its last row: it holds a few blocks of each input segment, not the column of
// every input (which for the widest column of a 3M-row day was gigabytes).
func TestColumnGatherHoldsABlockPerInputSegment(t *testing.T) {
	events := testEvents(t, 3000, 11)
	const segs, blockRows = 3, 100
	mem := &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	var units []Unit
	var held []*SegmentUnit
	for i := 0; i < segs; i++ {
		part := events[i*len(events)/segs : (i+1)*len(events)/segs]
		path, _ := writeTestSegment(t, t.TempDir(), part, blockRows)
		seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, nil, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		for _, u := range SegmentUnits(seg) {
			units, held = append(units, u), append(held, u)
		}
	}
	defer func() {
		for _, u := range held {
			u.Release()
		}
	}()
	m, err := Merge(SignIns, units, blockRows)
	if err != nil {
		t.Fatal(err)
	}
	col := SignIns.byName["authenticationDetails"]
	if col.Kind != KindJSON {
		t.Fatalf("authenticationDetails is %v; the test wants a column gathered lazily", col.Kind)
	}
	// What the column costs decoded: per input block, and for every input at once; and what
	// decoding a block costs beyond the block (JSON times are expanded from their templates and
	// the block's times into a new buffer, so both are held for a moment).
	perBlock, all, decoding := 0, 0, 0
	for _, u := range held {
		before := mem.CurrentAlloc()
		mem.peak = 0
		if _, err := u.Column(col.Index); err != nil {
			t.Fatal(err)
		}
		n := mem.CurrentAlloc() - before
		perBlock, all, decoding = max(perBlock, n), all+n, max(decoding, mem.peak-before-n)
		u.ReleaseColumn(col.Index)
	}
	base := mem.CurrentAlloc()
	mem.peak = 0
	rows, blocks := 0, 0
	err = m.ColumnBlocks(col.Index, func(b int, a arrow.Array) error {
		defer a.Release()
		if b != blocks {
			t.Fatalf("block %d handed out as %d", blocks, b)
		}
		rows += a.Len()
		blocks++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(events) {
		t.Fatalf("gathered %d rows of %d", rows, len(events))
	}
	// Four blocks of each input segment at most, and well under the whole column: the block
	// being walked (an output block can straddle an input's block boundary: two), and an
	// input's newest block, whose rows the output places by user across all of it unless they
	// are also the output's newest (up to two more, when it straddles the flagged rows); and
	// the block being decoded.
	bound := 4*segs*perBlock + decoding
	if bound > all/2 {
		t.Fatalf("test data too narrow: the bound %d is near the whole column %d", bound, all)
	}
	if peak := mem.peak - base; peak > bound {
		t.Fatalf("gathering one column held %d bytes of decoded inputs; a block or two per input segment is %d, the whole column %d", peak, bound, all)
	}
	if left := mem.CurrentAlloc() - base; left != 0 {
		t.Fatalf("%d bytes of inputs still held after the column", left)
	}
}

// The blocks of one segment share its dictionary, so unifying a dictionary column costs per
// distinct dictionary, not per input block: a whole-day merge of the 100M-event stream had
// ~800 input blocks from ~30 segments, and flags and a remapping per block, each the size of
// its segment's dictionary, took 1.5 GB. Many small blocks of a segment must cost what one
// block of the same rows does, and remap every row to its own value.
func TestUnifiedDictIsPerDictionaryNotPerBlock(t *testing.T) {
	events := testEvents(t, 3000, 13)
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		m["userDisplayName"] = fmt.Sprintf("Display name %d", i) // a dictionary as big as the rows
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		events[i] = string(b)
	}
	col := SignIns.byName["userDisplayName"]
	// unify returns the bytes unifiedDict allocated (the least of a few runs: the runtime's own
	// goroutines allocate too), checking its result on the way.
	unify := func(blockRows int) (blocks int, allocated uint64) {
		path, _ := writeTestSegment(t, t.TempDir(), events, blockRows)
		seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		m := &Merged{Schema: SignIns}
		var cols []arrow.Array
		for b, u := range SegmentUnits(seg) {
			defer u.Release()
			a, err := u.Column(col.Index)
			if err != nil {
				t.Fatal(err)
			}
			m.units, cols = append(m.units, u), append(cols, a)
			for r := 0; r < u.Rows(); r++ {
				m.order = append(m.order, rowRef{uint32(b), uint32(r)})
			}
		}
		allocated = ^uint64(0)
		var ms runtime.MemStats
		for range 5 {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			dict, remaps := m.unifiedDict(cols)
			runtime.ReadMemStats(&ms)
			allocated = min(allocated, ms.TotalAlloc-before)
			if dict.Len() != len(events) {
				t.Fatalf("unified dictionary of %d values; the rows have %d", dict.Len(), len(events))
			}
			for ui, a := range cols {
				da := a.(*array.Dictionary)
				in := da.Dictionary().(*array.String)
				for r := 0; r < da.Len(); r++ {
					if got, want := dict.Value(int(remaps[ui][da.GetValueIndex(r)])), in.Value(da.GetValueIndex(r)); got != want {
						t.Fatalf("block %d row %d remaps to %q, holds %q", ui, r, got, want)
					}
				}
			}
			dict.Release()
		}
		return seg.NumBlocks(), allocated
	}
	oneBlocks, one := unify(len(events))
	manyBlocks, many := unify(50)
	if oneBlocks != 1 || manyBlocks < 50 {
		t.Fatalf("segments of %d and %d blocks; the test wants 1 and at least 50", oneBlocks, manyBlocks)
	}
	// A slice header and a pointer per block beyond the one-block cost, and some slack.
	if many > one+one/4+uint64(manyBlocks)*64 {
		t.Fatalf("unifying %d blocks of a segment allocated %d bytes; one block of the same rows %d", manyBlocks, many, one)
	}
}

// A merge reads each dictionary column of its inputs with their dictionaries, and a segment
// kept a dictionary it had loaded until it closed: by the last column a whole-day merge held
// every dictionary of every input (1.16 GB of the 100M-event stream's final merges). Inputs
// from SegmentUnits decode their own copy and let go of it with the column, so with
// dictionaries as large as the rows a merge holds a few columns' dictionaries at a time.
func TestMergeLetsGoOfEachDictionary(t *testing.T) {
	events := testEvents(t, 3000, 17)
	wide := []string{"userDisplayName", "appDisplayName", "ipAddress", "userAgent", "resourceDisplayName", "signInIdentifier", "servicePrincipalName", "azureResourceId"}
	pad := string(make([]byte, 150))
	for i, e := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		for _, name := range wide {
			m[name] = fmt.Sprintf("%s %d%s", name, i, pad) // a dictionary as large as the rows
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		events[i] = string(b)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one column gathered at a time
	const segs = 3
	mem := &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	var units []Unit
	var held []*SegmentUnit
	dicts := 0 // every dictionary of every input, decoded
	for i := 0; i < segs; i++ {
		path, _ := writeTestSegment(t, t.TempDir(), events[i*len(events)/segs:(i+1)*len(events)/segs], 256)
		seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, nil, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		for _, name := range wide {
			c := seg.stored(SignIns.byName[name].Index)
			if err := c.load(seg); err != nil {
				t.Fatal(err)
			}
			d, err := c.decodeDict(seg)
			if err != nil {
				t.Fatal(err)
			}
			dicts += int(ArrayBytes(d.Data()))
			d.Release()
		}
		for _, u := range SegmentUnits(seg) {
			units, held = append(units, u), append(held, u)
		}
	}
	base := mem.CurrentAlloc()
	mem.peak = 0
	m, err := Merge(SignIns, units, 256)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "merged.seg")
	if _, err := WriteSegment(vfs.Default, out, "tenant-a", 20395, m, nil); err != nil {
		t.Fatal(err)
	}
	for _, u := range held {
		u.Release()
	}
	if left := mem.CurrentAlloc() - base; left != 0 {
		t.Fatalf("%d bytes of inputs still held after the merge", left)
	}
	// The inputs' dictionaries of up to three of the eight wide columns (the writer gathers one
	// while it encodes others), with those columns' codes: under half of all of them.
	if peak := mem.peak - base; peak > dicts/2 {
		t.Fatalf("the merge peaked at %d bytes of decoded inputs; the wide columns' dictionaries are %d in all", peak, dicts)
	}
	if want := canonicalSet(t, events); !slices.Equal(canonicalSet(t, readSegmentRows(t, out)), want) {
		t.Fatal("the merged segment does not hold the same events")
	}
}
