package query

import (
	"testing"

	"github.com/authlake/authlake/columnar"
)

// The workers of one top-N query share the time bound: once any worker's heap is full, its
// worst row bounds the whole page, and every worker (the parent too) may skip what is older
// (newest first) or newer (oldest first) than it.
func TestTopNWorkersShareTheTimeBound(t *testing.T) {
	col, ok := columnar.SignIns.Lookup("createdDateTime")
	if !ok {
		t.Fatal("no createdDateTime column")
	}
	id, _ := columnar.SignIns.Lookup("id")
	entry := func(ts int64) *topEntry { return &topEntry{key: rowKey{parts: []keyPart{{i: ts}}}} }
	for _, desc := range []bool{true, false} {
		parent := newTopN([]sortKey{{col: col, desc: desc}}, 2, nil, id, true)
		a, b := parent.fork().(*topN), parent.fork().(*topN)
		if lo, hi, _ := b.timeBounds(); lo != -1<<63 || hi != 1<<63-1 {
			t.Fatalf("desc=%v: bounds [%d, %d] before any heap is full", desc, lo, hi)
		}
		a.h = []*topEntry{entry(150), entry(300)} // full: limit 2; worst first, as the heap keeps it
		if !desc {
			a.h = []*topEntry{entry(300), entry(150)}
		}
		a.timeBounds()
		for name, w := range map[string]*topN{"sibling": b, "parent": parent} {
			lo, hi, ok := w.timeBounds()
			switch {
			case !ok:
				t.Fatalf("desc=%v %s: no time bounds", desc, name)
			case desc && (lo != 150 || hi != 1<<63-1):
				t.Fatalf("newest first, %s: bounds [%d, %d], want [150, max]", name, lo, hi)
			case !desc && (lo != -1<<63 || hi != 300):
				t.Fatalf("oldest first, %s: bounds [%d, %d], want [min, 300]", name, lo, hi)
			}
		}
		// A worse worst row elsewhere does not loosen the bound.
		b.h = []*topEntry{entry(100), entry(400)}
		if !desc {
			b.h = []*topEntry{entry(400), entry(100)}
		}
		if lo, hi, _ := b.timeBounds(); (desc && lo != 150) || (!desc && hi != 300) {
			t.Fatalf("desc=%v: a looser heap moved the shared bound to [%d, %d]", desc, lo, hi)
		}
	}
}
