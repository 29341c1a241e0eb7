package columnar

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestGatherFromPoolIsTheSameBlock gathers every column of a merge of three units (one of them
// rows with most properties absent, so every kind has nulls and units without a value) twice:
// into heap buffers and into a pool's, releasing each pooled block before the next is built so
// that buffers are reused with an earlier block's bytes still in them. Both must be the same
// arrays, and the released blocks' buffers must have come back to the pool.
func TestGatherFromPoolIsTheSameBlock(t *testing.T) {
	u1 := decodeUnit(t, testEvents(t, 700, 1))
	u2 := decodeUnit(t, rowViewRecords(t))
	u3 := decodeUnit(t, testEvents(t, 500, 2))
	for _, u := range []RecordUnit{u1, u2, u3} {
		defer u.Rec.Release()
	}
	m, err := Merge(SignIns, []Unit{u1, u2, u3}, 64)
	if err != nil {
		t.Fatal(err)
	}
	var pool countingPool
	for col := 0; col < SignIns.NumColumns(); col++ {
		want, err := m.Column(col)
		if err != nil {
			t.Fatal(err)
		}
		err = m.columnBlocks(col, &pool.bufPool, func(i int, a arrow.Array) error {
			defer a.Release()
			if !array.Equal(a, want[i]) {
				t.Errorf("column %d block %d: pooled gather differs:\n%v\nwant\n%v", col, i, a, want[i])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range want {
			a.Release()
		}
	}
	if pool.held() == 0 {
		t.Error("no buffer came back to the pool")
	}
}

// countingPool is a bufPool that can tell whether it holds buffers given back.
type countingPool struct{ bufPool }

// held is the number of size classes with a buffer in the pool (it takes them out).
func (p *countingPool) held() int {
	n := 0
	for k := range p.classes {
		if p.classes[k].Get() != nil {
			n++
		}
	}
	return n
}

func TestBufPoolClasses(t *testing.T) {
	var p bufPool
	for _, n := range []int{0, 1, 63, 64, 65, 4096, 5000, 1 << 20} {
		b := p.get(n)
		if len(b) != n {
			t.Fatalf("get(%d): len %d", n, len(b))
		}
		p.Free(b)
		if c := p.get(n); cap(c) != cap(b) && n > 0 {
			t.Errorf("get(%d) after Free: cap %d, want the freed %d back", n, cap(c), cap(b))
		}
	}
	p.Free(make([]byte, 100)) // not a class's capacity: dropped, never served short
	if b := p.get(100); cap(b) < 128 {
		t.Errorf("get(100) served cap %d", cap(b))
	}
	var nilPool *bufPool
	if b := nilPool.get(10); len(b) != 10 {
		t.Error("a nil pool must allocate")
	}
	nilPool.Free(make([]byte, 64))
}
