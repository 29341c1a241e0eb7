package index

import (
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// ErrInvalidInput is wrapped by every Builder error caused by its caller's arguments.
var ErrInvalidInput = errors.New("index: invalid builder input")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// Builder collects the indexes of one segment. Each Add encodes its section at once, so
// the builder holds the final bytes and not the inputs; Marshal only concatenates.
// A Builder is not safe for concurrent use.
type Builder struct {
	rows     uint32
	sections []builtSection
	// keysLayout is the layout AddKeys writes (0: the current one, layout 4). Tests of older
	// versions' readers set layout 3, whose entries they can rewrite in the layouts before it.
	keysLayout byte
}

type builtSection struct {
	column  string
	kind    Kind
	payload []byte
}

// NewBuilder returns a Builder for a segment of rows rows.
func NewBuilder(rows uint32) *Builder {
	if rows > maxRows {
		panic(fmt.Sprintf("BUG: NewBuilder: %d rows; max %d", rows, maxRows))
	}
	return &Builder{rows: rows}
}

func (b *Builder) add(column string, kind Kind, payload []byte) error {
	if len(payload) > maxSectionLen {
		return invalidf("section %s %q: %d bytes; max %d", kind, column, len(payload), maxSectionLen)
	}
	b.sections = append(b.sections, builtSection{column: column, kind: kind, payload: payload})
	return nil
}

func (b *Builder) checkNew(column string, kind Kind) error {
	if len(column) == 0 || len(column) > maxColumnNameLen {
		return invalidf("column name %q: length must be 1..%d", column, maxColumnNameLen)
	}
	if len(b.sections) >= maxSections {
		return invalidf("column %q: a sidecar holds at most %d sections", column, maxSections)
	}
	for i := range b.sections {
		if b.sections[i].column == column && b.sections[i].kind == kind {
			return invalidf("column %q already has a %s section", column, kind)
		}
	}
	return nil
}

// AddFrom moves the sections of o, a Builder of the same rows, into b: sections built on
// several goroutines, each into a Builder of its own, end in one sidecar. o is empty after.
func (b *Builder) AddFrom(o *Builder) error {
	if o.rows != b.rows {
		return invalidf("sections of %d rows added to a sidecar of %d", o.rows, b.rows)
	}
	for _, s := range o.sections {
		if err := b.checkNew(s.column, s.kind); err != nil {
			return err
		}
		b.sections = append(b.sections, s)
	}
	o.sections = nil
	return nil
}

// AddCodes indexes a dictionary-encoded column: one posting per code in
// [0, cardinality), plus a null posting for rows whose code is nullCode. nullCode may lie
// outside [0, cardinality) when the dictionary has no null entry.
func (b *Builder) AddCodes(column string, codes []uint32, nullCode, cardinality uint32) error {
	if err := b.checkNew(column, KindCodes); err != nil {
		return err
	}
	if len(codes) != int(b.rows) {
		return invalidf("column %q: %d codes for %d rows", column, len(codes), b.rows)
	}
	if cardinality > maxPostings {
		return invalidf("column %q: cardinality %d; max %d", column, cardinality, maxPostings)
	}
	// Counting sort of rows by code: two passes, no per-code slices.
	n := int(cardinality)
	starts := make([]uint32, n+2)
	for r, c := range codes {
		switch {
		case c == nullCode:
			starts[n+1]++
		case c < cardinality:
			starts[c+1]++
		default:
			return invalidf("column %q: row %d has code %d; cardinality %d", column, r, c, cardinality)
		}
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	next := slices.Clone(starts[:n+1])
	sorted := make([]uint32, len(codes))
	for r, c := range codes {
		k := n
		if c != nullCode {
			k = int(c)
		}
		sorted[next[k]] = uint32(r)
		next[k]++
	}
	bitmaps := make([]*roaring.Bitmap, n+1)
	for i := range bitmaps {
		bitmaps[i] = bitmapOfSorted(sorted[starts[i]:starts[i+1]])
	}
	return b.add(column, KindCodes, marshalPostingsGrouped(nil, nil, bitmaps))
}

// bitmapOfSorted builds a run-optimized bitmap from increasing rows. Rows are sorted by
// user, so user postings are a few long runs; adding runs as ranges avoids building an
// array container only to convert it.
func bitmapOfSorted(rows []uint32) *roaring.Bitmap {
	bm := roaring.New()
	if len(rows) == 0 {
		return bm
	}
	if int(rows[len(rows)-1]-rows[0]) == len(rows)-1 {
		bm.AddRange(uint64(rows[0]), uint64(rows[len(rows)-1])+1)
		return bm
	}
	bm.AddMany(rows)
	bm.RunOptimize()
	return bm
}

// AddBools indexes a boolean column: postings for false, true and null.
func (b *Builder) AddBools(column string, values func(row uint32) (v bool, valid bool)) error {
	if err := b.checkNew(column, KindBools); err != nil {
		return err
	}
	// Dense words are 16 KiB per 1M rows per value and need no per-row append; the
	// false posting is derived so that only true and null are materialized.
	nw := (int(b.rows) + 63) / 64
	trueWords, nullWords := make([]uint64, nw), make([]uint64, nw)
	for r := uint32(0); r < b.rows; r++ {
		v, ok := values(r)
		bit := uint64(1) << (r % 64)
		if !ok {
			nullWords[r/64] |= bit
		} else if v {
			trueWords[r/64] |= bit
		}
	}
	trues := roaring.FromDense(trueWords, false)
	nulls := roaring.FromDense(nullWords, false)
	falses := AllRows(b.rows)
	falses.AndNot(trues)
	falses.AndNot(nulls)
	bitmaps := []*roaring.Bitmap{falses, trues, nulls}
	for _, bm := range bitmaps {
		bm.RunOptimize()
	}
	return b.add(column, KindBools, marshalPostingsGrouped(nil, nil, bitmaps))
}

// AddInt32Values indexes a small-domain int32 column such as status/errorCode: one
// posting per distinct value, plus a null posting. valid reports whether a row is
// non-null; nil means every row is.
func (b *Builder) AddInt32Values(column string, values []int32, valid func(row uint32) bool) error {
	if err := b.checkNew(column, KindInt32); err != nil {
		return err
	}
	if len(values) != int(b.rows) {
		return invalidf("column %q: %d values for %d rows", column, len(values), b.rows)
	}
	lists := map[int32][]uint32{}
	var nulls []uint32
	for r, v := range values {
		if valid != nil && !valid(uint32(r)) {
			nulls = append(nulls, uint32(r))
			continue
		}
		lists[v] = append(lists[v], uint32(r))
		if len(lists) > maxPostings {
			return invalidf("column %q: more than %d distinct values", column, maxPostings)
		}
	}
	distinct := make([]int32, 0, len(lists))
	for v := range lists {
		distinct = append(distinct, v)
	}
	slices.Sort(distinct)
	bitmaps := make([]*roaring.Bitmap, 0, len(distinct)+1)
	for _, v := range distinct {
		bitmaps = append(bitmaps, bitmapOfSorted(lists[v]))
	}
	bitmaps = append(bitmaps, bitmapOfSorted(nulls))
	return b.add(column, KindInt32, marshalPostingsGrouped(nil, distinct, bitmaps))
}

// AddKeys indexes a high-cardinality key column (request id, correlation id, token
// identifier) by xxhash64, to the blocks of blockRows rows that hold each key. Rows whose key is
// absent (ok == false) are not indexed. Reader.Keys returns a superset of the matching rows
// (every row of a block that holds the key's hash); the caller verifies candidates against
// the column.
func (b *Builder) AddKeys(column string, blockRows int, key func(row uint32) ([]byte, bool)) error {
	if err := b.checkNew(column, KindKeys); err != nil {
		return err
	}
	if blockRows <= 0 || blockRows > MaxBlockRows {
		return invalidf("keys %q: blocks of %d rows", column, blockRows)
	}
	hashes := make([]uint64, 0, b.rows)
	rows := make([]uint32, 0, b.rows)
	for r := uint32(0); r < b.rows; r++ {
		k, ok := key(r)
		if !ok {
			continue
		}
		hashes = append(hashes, KeyHash(k))
		rows = append(rows, r)
	}
	return b.add(column, KindKeys, marshalKeys(nil, hashes, rows, b.rows, blockRows, b.keysLayout))
}

// AddKeyHashes is AddKeys for a writer that hashed each key with KeyHash as it went: hashes[i]
// is the key of row rows[i], rows ascending; rows not listed have no key. A segment merge keeps
// 12 bytes a row this way instead of each key's bytes and slice (about 40).
func (b *Builder) AddKeyHashes(column string, blockRows int, hashes []uint64, rows []uint32) error {
	if err := b.checkNew(column, KindKeys); err != nil {
		return err
	}
	if blockRows <= 0 || blockRows > MaxBlockRows {
		return invalidf("keys %q: blocks of %d rows", column, blockRows)
	}
	if len(hashes) != len(rows) {
		return fmt.Errorf("index: keys %q: %d hashes for %d rows", column, len(hashes), len(rows))
	}
	for i, r := range rows {
		if r >= b.rows || (i > 0 && r <= rows[i-1]) {
			return fmt.Errorf("index: keys %q: row %d at position %d is out of order or past %d rows", column, r, i, b.rows)
		}
	}
	return b.add(column, KindKeys, marshalKeys(nil, hashes, rows, b.rows, blockRows, b.keysLayout))
}

// AddZoneMapInt64 stores per-block bounds of an int64 column (for example
// createdDateTime as unix nanoseconds). See ComputeZoneMap.
func (b *Builder) AddZoneMapInt64(column string, blockRows int, mins, maxs []int64, nulls []uint32) error {
	return addZoneMap(b, column, KindZoneMapInt64, &ZoneMap[int64]{BlockRows: blockRows, Min: mins, Max: maxs, Nulls: nulls})
}

// AddZoneMapFloat64 stores per-block bounds of a float64 column. Bounds must not be NaN.
func (b *Builder) AddZoneMapFloat64(column string, blockRows int, mins, maxs []float64, nulls []uint32) error {
	return addZoneMap(b, column, KindZoneMapFloat64, &ZoneMap[float64]{BlockRows: blockRows, Min: mins, Max: maxs, Nulls: nulls})
}

func addZoneMap[T int64 | float64](b *Builder, column string, kind Kind, zm *ZoneMap[T]) error {
	if err := b.checkNew(column, kind); err != nil {
		return err
	}
	if err := zm.check(b.rows); err != nil {
		return invalidf("column %q: zone map: %s", column, err)
	}
	return b.add(column, kind, zm.marshal(nil))
}

// Marshal appends the whole sidecar to dst.
func (b *Builder) Marshal(dst []byte) []byte {
	secs := slices.Clone(b.sections)
	slices.SortFunc(secs, func(x, y builtSection) int {
		e := dirEntry{column: x.column, kind: x.kind}
		return compareEntry(&e, y.column, y.kind)
	})
	base := len(dst)
	dst = marshalHeader(dst)
	entries := make([]dirEntry, len(secs))
	for i, s := range secs {
		entries[i] = dirEntry{
			column: s.column,
			kind:   s.kind,
			offset: uint64(len(dst) - base),
			length: uint64(len(s.payload)),
			crc:    crc32.Checksum(s.payload, castagnoli),
		}
		dst = append(dst, s.payload...)
	}
	dirOffset := len(dst) - base
	dst = marshalDirectory(dst, entries)
	dir := dst[base+dirOffset:]
	if len(dir) > maxDirectoryLen {
		panic(fmt.Sprintf("BUG: directory of %d sections is %d bytes; max %d", len(entries), len(dir), maxDirectoryLen))
	}
	t := trailer{
		dirOffset: uint64(dirOffset),
		dirLen:    uint32(len(dir)),
		dirCRC:    crc32.Checksum(dir, castagnoli),
		rows:      b.rows,
		version:   formatVersion,
	}
	return t.marshal(dst)
}

// SectionSizes returns the payload bytes of each section added so far, keyed by
// "column/kind", for build statistics.
func (b *Builder) SectionSizes() map[string]int {
	m := make(map[string]int, len(b.sections))
	for _, s := range b.sections {
		m[s.column+"/"+s.kind.String()] = len(s.payload)
	}
	return m
}
