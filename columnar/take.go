package columnar

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Sparse reads. A page whose rows are scattered (one application's newest sign-ins on a day
// sorted by user: a row or two in each of hundreds of 4,096-row blocks) used to decode every
// projected column of each block whole, widening every dictionary code and writing out every
// row's JSON, to use a few rows of it. A sparse read decodes a block's frame for a few rows
// only (decodeTraits.take): the frame is decompressed into recycled scratch memory and checked
// whole, as a full read checks it (a frame a full read refuses, a sparse read refuses too), and
// only the rows taken are resolved into memory the array owns. Sparse arrays are not cached:
// the block cache keeps whole blocks. A segment remembers which blocks' frames a read checked
// whole and accepted (segColumn.checked); a later sparse read of a block dictionary in one of
// them checks only the rows and entries it takes (blockDictTaken), still enough that a frame
// changed since is refused or read, never a panic. Each read still checks the frame's CRC.

// takenBuffers allocates one buffer from mem for the len(take) rows of a sparse array: the
// validity bitmap of the rows taken (nil when validity is nil or every taken row is valid),
// then a part of each of sizes bytes at a multiple of 8, as ownedBuffers does for whole
// blocks. nulls is the number of null rows taken. Release nv and the parts.
func takenBuffers(mem memory.Allocator, validity *memory.Buffer, take []int, sizes ...int) (nv *memory.Buffer, parts []*memory.Buffer, nulls int) {
	if validity != nil {
		for _, r := range take {
			if !bitutil.BitIsSet(validity.Bytes(), r) {
				nulls++
			}
		}
	}
	if nulls == 0 {
		validity = nil
	}
	var bitmap []byte
	if validity != nil {
		bitmap = make([]byte, bitutil.BytesForBits(int64(len(take))))
		for j, r := range take {
			if bitutil.BitIsSet(validity.Bytes(), r) {
				bitutil.SetBit(bitmap, j)
			}
		}
		validity = memory.NewBufferBytes(bitmap)
	}
	nv, parts = ownedBuffers(mem, validity, sizes...)
	return nv, parts, nulls
}

// takeArray copies rows take (ascending, in range) of a, an array of a kind's Arrow type (or a
// dictionary kind's codes), into a new array from mem.
func takeArray(a arrow.Array, take []int, mem memory.Allocator) (arrow.Array, error) {
	d := a.Data()
	var validity *memory.Buffer
	if a.NullN() > 0 {
		if d.Offset() != 0 {
			return nil, fmt.Errorf("BUG: take from an array at offset %d", d.Offset())
		}
		validity = d.Buffers()[0]
	}
	var (
		nv    *memory.Buffer
		parts []*memory.Buffer
		nulls int
	)
	switch a := a.(type) {
	case *array.Boolean:
		nv, parts, nulls = takenBuffers(mem, validity, take, int(bitutil.BytesForBits(int64(len(take)))))
		out := parts[0].Bytes()
		clear(out)
		for j, r := range take {
			if a.Value(r) {
				bitutil.SetBit(out, j)
			}
		}
	case *array.String, *array.Binary:
		value := binaryValue(a)
		size := 0
		for _, r := range take {
			size += len(value(r))
		}
		nv, parts, nulls = takenBuffers(mem, validity, take, (len(take)+1)*4, size)
		out, text := arrow.Int32Traits.CastFromBytes(parts[0].Bytes()), parts[1].Bytes()
		pos := int32(0)
		for j, r := range take {
			out[j] = pos
			pos += int32(copy(text[pos:], value(r)))
		}
		out[len(take)] = pos
	default:
		fw, ok := a.DataType().(arrow.FixedWidthDataType)
		if !ok || fw.BitWidth()%8 != 0 || len(d.Buffers()) != 2 {
			return nil, fmt.Errorf("BUG: take from %s", a.DataType())
		}
		w := fw.BitWidth() / 8
		src := d.Buffers()[1].Bytes()
		nv, parts, nulls = takenBuffers(mem, validity, take, len(take)*w)
		out := parts[0].Bytes()
		for j, r := range take {
			copy(out[j*w:(j+1)*w], src[r*w:(r+1)*w])
		}
	}
	defer release(nv)
	defer release(parts...)
	ad := array.NewData(a.DataType(), len(take), append([]*memory.Buffer{nv}, parts...), nil, nulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

// binaryValue returns the value of row r of a String or Binary array, through Arrow's accessor:
// an array read from an older (Arrow IPC) frame may have offsets that do not start at 0.
func binaryValue(a arrow.Array) func(r int) []byte {
	switch a := a.(type) {
	case *array.String:
		return func(r int) []byte { v := a.Value(r); return unsafe.Slice(unsafe.StringData(v), len(v)) }
	case *array.Binary:
		return a.Value
	}
	return nil
}

// checkTake refuses a take list that is not ascending within rows (a caller's bug).
func checkTake(take []int, rows int) error {
	for j, r := range take {
		if r < 0 || r >= rows || j > 0 && r <= take[j-1] {
			return fmt.Errorf("BUG: rows to take %v of a block of %d", take, rows)
		}
	}
	return nil
}

// scratchMem allocates a sparse read's decompressed frame, which lives only until the rows
// taken are copied out, from the recycled block buffers (blockBufs), without clearing them: what
// is read of them the decompressor has written (arrayFromFrameV4 reads nothing past the content).
var scratchMem memory.Allocator = uncleared{&blockBufs}

// uncleared is a bufPool whose Allocate leaves the bytes as they were.
type uncleared struct{ *bufPool }

func (u uncleared) Allocate(n int) []byte { return u.get(n) }

// outLen is the length of the array a decode of rows rows returns.
func outLen(take []int, rows int) int {
	if take == nil {
		return rows
	}
	return len(take)
}

// resolvedBuffers is ownedBuffers for a whole block (take nil) or takenBuffers for the rows
// taken; it returns the array's null count too.
func resolvedBuffers(mem memory.Allocator, validity *memory.Buffer, take []int, nulls int, sizes ...int) (nv *memory.Buffer, parts []*memory.Buffer, outNulls int) {
	if take == nil {
		nv, parts = ownedBuffers(mem, validity, sizes...)
		return nv, parts, nulls
	}
	return takenBuffers(mem, validity, take, sizes...)
}

// taker walks a block's rows in order and says where each goes in the array: dest(i) is row
// i's place, or -1 for a row not taken (every row is taken when take is nil).
type taker struct {
	take []int
	j    int
}

func (t *taker) dest(i int) int {
	if t.take == nil {
		return i
	}
	if t.j < len(t.take) && t.take[t.j] == i {
		t.j++
		return t.j - 1
	}
	return -1
}
