package columnar

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gather builds one output block of a column from the referenced input rows, writing each
// buffer straight at its size: a flush or merge rebuilds every column of every row, and
// appending row by row through a column builder (a value struct and an interface call a row,
// buffers from fresh, cleared memory every block) was a tenth of ingest's CPU. With a pool, the
// buffers come from it and go back when the array's last reference is released; a null's slot
// holds zeros, as a builder writes it.
func gather(kind Kind, srcs []colReader, refs []rowRef, dict *array.String, remaps [][]int32, pool *bufPool) arrow.Array {
	n := len(refs)
	valid := pool.get((n + 7) / 8)
	clear(valid)
	nulls := 0
	ok := func(i int, src *colReader, r int) bool {
		if !src.isValid(r) {
			nulls++
			return false
		}
		valid[i>>3] |= 1 << (i & 7)
		return true
	}
	var bufs []*memory.Buffer
	switch kind {
	case KindDict, KindJSONDict:
		raw := pool.get(4 * n)
		codes := int32s(raw)
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			if !ok(i, src, r) {
				codes[i] = 0
				continue
			}
			codes[i] = remaps[ref.unit][src.codes[r]]
		}
		bufs = []*memory.Buffer{nil, pool.buffer(raw)}
	case KindGUID:
		data := pool.get(16 * n)
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			if !ok(i, src, r) {
				clear(data[16*i : 16*i+16])
				continue
			}
			copy(data[16*i:16*i+16], src.fixed[16*r:16*r+16])
		}
		bufs = []*memory.Buffer{nil, pool.buffer(data)}
	case KindTime, KindFloat64:
		raw := pool.get(8 * n)
		vals := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(raw))), n)
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			switch {
			case !ok(i, src, r):
				vals[i] = 0
			case kind == KindTime:
				vals[i] = uint64(src.i64[r])
			default:
				vals[i] = *(*uint64)(unsafe.Pointer(&src.f64[r]))
			}
		}
		bufs = []*memory.Buffer{nil, pool.buffer(raw)}
	case KindInt32:
		raw := pool.get(4 * n)
		vals := int32s(raw)
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			if !ok(i, src, r) {
				vals[i] = 0
				continue
			}
			vals[i] = src.i32[r]
		}
		bufs = []*memory.Buffer{nil, pool.buffer(raw)}
	case KindBool:
		vals := pool.get((n + 7) / 8)
		clear(vals)
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			if !ok(i, src, r) {
				continue
			}
			j := r + src.offset
			vals[i>>3] |= (src.bits[j>>3] >> (j & 7) & 1) << (i & 7)
		}
		bufs = []*memory.Buffer{nil, pool.buffer(vals)}
	case KindText, KindJSON, KindExtras:
		size := 0
		for _, ref := range refs {
			if src := &srcs[ref.unit]; src.isValid(int(ref.row)) {
				size += int(src.varOff[ref.row+1] - src.varOff[ref.row])
			}
		}
		rawOff := pool.get(4 * (n + 1))
		offs := int32s(rawOff)
		data := pool.get(size)
		at := 0
		offs[0] = 0
		for i, ref := range refs {
			src, r := &srcs[ref.unit], int(ref.row)
			if ok(i, src, r) {
				at += copy(data[at:], src.varBuf[src.varOff[r]:src.varOff[r+1]])
			}
			offs[i+1] = int32(at)
		}
		bufs = []*memory.Buffer{nil, pool.buffer(rawOff), pool.buffer(data)}
	default:
		panic("BUG: unknown kind")
	}
	if nulls > 0 {
		bufs[0] = pool.buffer(valid)
	} else {
		pool.Free(valid) // Arrow's "all valid"
	}
	data := array.NewData(kind.ArrowType(), n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release() // the array's references are the ones left
		}
	}
	if dict != nil {
		data.SetDictionary(dict.Data())
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// int32s views b (8-aligned: from the Go allocator, never a tiny allocation) as int32s.
func int32s(b []byte) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// bufPool recycles byte buffers by power-of-two size class: an Arrow allocator whose Free takes
// a buffer back for the next block. Its buffers are not cleared: the caller writes every byte.
// A nil *bufPool allocates from the Go heap and never recycles.
type bufPool struct {
	classes [bufClasses]sync.Pool
}

const (
	minBufClass = 6  // 64 bytes: nothing smaller is worth a pool, and no tiny (unaligned) allocation
	bufClasses  = 28 // up to 128 MiB; larger buffers are not recycled
)

// blockBufs holds the buffers of blocks the segment writer gathers (and releases) one by one.
var blockBufs bufPool

func bufClass(n int) int { return max(minBufClass, bits.Len(uint(n-1))) }

// get returns a buffer of length n, its content undefined.
func (p *bufPool) get(n int) []byte {
	k := bufClass(n)
	if p == nil || k >= bufClasses {
		return make([]byte, n, max(n, 8))
	}
	if v := p.classes[k].Get(); v != nil {
		return (*v.(*[]byte))[:n]
	}
	return make([]byte, n, 1<<k)
}

// buffer wraps b (from get) in an Arrow buffer that gives it back to p when released.
func (p *bufPool) buffer(b []byte) *memory.Buffer {
	if p == nil {
		return memory.NewBufferBytes(b)
	}
	return memory.NewBufferWithAllocator(b, p)
}

// Allocate returns n cleared bytes (memory.Allocator).
func (p *bufPool) Allocate(n int) []byte {
	b := p.get(n)
	clear(b)
	return b
}

// Reallocate grows or shrinks b to n bytes, keeping its content (memory.Allocator).
func (p *bufPool) Reallocate(n int, b []byte) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := p.Allocate(n)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free takes b back (memory.Allocator): only a buffer of a class's exact capacity, as get made.
func (p *bufPool) Free(b []byte) {
	c := cap(b)
	if p == nil || c < 1<<minBufClass || c&(c-1) != 0 {
		return
	}
	k := bits.Len(uint(c)) - 1
	if k >= bufClasses {
		return
	}
	b = b[:c]
	p.classes[k].Put(&b)
}
