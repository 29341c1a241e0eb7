package index

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ZoneMap holds the min, max and null count of one column per block of BlockRows rows,
// so the planner can skip blocks before it reads them. A ZoneMap returned by a Reader is
// shared between callers and must be treated as read-only.
type ZoneMap[T int64 | float64] struct {
	// BlockRows is the number of rows per block; the last block may be shorter.
	BlockRows int
	// Rows is the number of rows in the segment.
	Rows uint32
	// Min and Max are the bounds of the non-null values of each block. They are
	// meaningless for blocks whose rows are all null.
	Min, Max []T
	// Nulls is the number of null rows of each block.
	Nulls []uint32
}

// Blocks returns the number of blocks.
func (zm *ZoneMap[T]) Blocks() int { return len(zm.Min) }

// BlockLen returns the number of rows in block i.
func (zm *ZoneMap[T]) BlockLen(i int) int {
	start := i * zm.BlockRows
	return min(zm.BlockRows, int(zm.Rows)-start)
}

// AllNull reports whether every row of block i is null.
func (zm *ZoneMap[T]) AllNull(i int) bool { return int(zm.Nulls[i]) == zm.BlockLen(i) }

// Overlaps reports whether block i may hold a non-null value in [lo, hi].
func (zm *ZoneMap[T]) Overlaps(i int, lo, hi T) bool {
	return !zm.AllNull(i) && zm.Min[i] <= hi && lo <= zm.Max[i]
}

// AppendPruneRange appends the blocks that may hold a non-null value in [lo, hi].
func (zm *ZoneMap[T]) AppendPruneRange(dst []int, lo, hi T) []int {
	for i := range zm.Min {
		if zm.Overlaps(i, lo, hi) {
			dst = append(dst, i)
		}
	}
	return dst
}

// PruneRange returns the blocks that may hold a non-null value in [lo, hi].
func (zm *ZoneMap[T]) PruneRange(lo, hi T) []int { return zm.AppendPruneRange(nil, lo, hi) }

// ComputeZoneMap computes a zone map over values; valid reports whether a row is
// non-null (nil means every row is). NaN values never widen the bounds: no range
// comparison is true for NaN, so a block holding only NaN may keep the bounds [0, 0].
func ComputeZoneMap[T int64 | float64](values []T, valid func(row uint32) bool, blockRows int) *ZoneMap[T] {
	if blockRows < minZoneBlockRows || blockRows > maxZoneBlockRows {
		panic(fmt.Sprintf("BUG: ComputeZoneMap: blockRows %d out of [%d, %d]", blockRows, minZoneBlockRows, maxZoneBlockRows))
	}
	nb := (len(values) + blockRows - 1) / blockRows
	zm := &ZoneMap[T]{BlockRows: blockRows, Rows: uint32(len(values)), Min: make([]T, nb), Max: make([]T, nb), Nulls: make([]uint32, nb)}
	for blk := 0; blk < nb; blk++ {
		start, end := blk*blockRows, min((blk+1)*blockRows, len(values))
		seen := false
		var lo, hi T
		for r := start; r < end; r++ {
			if valid != nil && !valid(uint32(r)) {
				zm.Nulls[blk]++
				continue
			}
			v := values[r]
			if v != v { // NaN
				continue
			}
			if !seen {
				lo, hi, seen = v, v, true
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
		}
		zm.Min[blk], zm.Max[blk] = lo, hi
	}
	return zm
}

func (zm *ZoneMap[T]) check(rows uint32) error {
	if zm.BlockRows < minZoneBlockRows || zm.BlockRows > maxZoneBlockRows {
		return fmt.Errorf("block rows %d out of [%d, %d]", zm.BlockRows, minZoneBlockRows, maxZoneBlockRows)
	}
	nb := (int(rows) + zm.BlockRows - 1) / zm.BlockRows
	if len(zm.Min) != nb || len(zm.Max) != nb || len(zm.Nulls) != nb {
		return fmt.Errorf("%d rows in blocks of %d need %d blocks; got %d mins, %d maxs, %d nulls",
			rows, zm.BlockRows, nb, len(zm.Min), len(zm.Max), len(zm.Nulls))
	}
	zm.Rows = rows
	for i := 0; i < nb; i++ {
		if int(zm.Nulls[i]) > zm.BlockLen(i) {
			return fmt.Errorf("block %d: %d nulls in %d rows", i, zm.Nulls[i], zm.BlockLen(i))
		}
		if zm.AllNull(i) {
			continue
		}
		lo, hi := zm.Min[i], zm.Max[i]
		if lo != lo || hi != hi {
			return fmt.Errorf("block %d: NaN bound", i)
		}
		if lo > hi {
			return fmt.Errorf("block %d: min %v > max %v", i, lo, hi)
		}
	}
	return nil
}

func toBits[T int64 | float64](v T) uint64 {
	switch x := any(v).(type) {
	case int64:
		return uint64(x)
	case float64:
		return math.Float64bits(x)
	}
	panic("BUG: unreachable zone map type")
}

func fromBits[T int64 | float64](u uint64) T {
	var zero T
	switch any(zero).(type) {
	case int64:
		return T(int64(u))
	case float64:
		return T(math.Float64frombits(u))
	}
	panic("BUG: unreachable zone map type")
}

// marshal appends the zone map payload; all-null blocks are written with zero bounds
// so that equal zone maps always encode to equal bytes.
func (zm *ZoneMap[T]) marshal(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(zm.BlockRows))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(zm.Min)))
	for i, v := range zm.Min {
		if zm.AllNull(i) {
			v = 0
		}
		dst = binary.LittleEndian.AppendUint64(dst, toBits(v))
	}
	for i, v := range zm.Max {
		if zm.AllNull(i) {
			v = 0
		}
		dst = binary.LittleEndian.AppendUint64(dst, toBits(v))
	}
	for _, n := range zm.Nulls {
		dst = binary.LittleEndian.AppendUint32(dst, n)
	}
	return dst
}

func (zm *ZoneMap[T]) unmarshal(src []byte, rows uint32) error {
	if len(src) < 8 {
		return corruptf("zone map: %d bytes, need 8 for the header", len(src))
	}
	blockRows := binary.LittleEndian.Uint32(src)
	nb := binary.LittleEndian.Uint32(src[4:])
	if blockRows < minZoneBlockRows || blockRows > maxZoneBlockRows {
		return corruptf("zone map: block rows %d out of [%d, %d]", blockRows, minZoneBlockRows, maxZoneBlockRows)
	}
	if want := (uint64(rows) + uint64(blockRows) - 1) / uint64(blockRows); uint64(nb) != want {
		return corruptf("zone map: %d blocks, want %d for %d rows", nb, want, rows)
	}
	if want := 8 + 20*uint64(nb); uint64(len(src)) != want {
		return corruptf("zone map: %d bytes, want %d for %d blocks", len(src), want, nb)
	}
	src = src[8:]
	zm.BlockRows = int(blockRows)
	zm.Min = make([]T, nb)
	zm.Max = make([]T, nb)
	zm.Nulls = make([]uint32, nb)
	for i := range zm.Min {
		zm.Min[i] = fromBits[T](binary.LittleEndian.Uint64(src[8*i:]))
		zm.Max[i] = fromBits[T](binary.LittleEndian.Uint64(src[8*(int(nb)+i):]))
		zm.Nulls[i] = binary.LittleEndian.Uint32(src[16*int(nb)+4*i:])
	}
	if err := zm.check(rows); err != nil {
		return corruptf("zone map: %s", err)
	}
	return nil
}
