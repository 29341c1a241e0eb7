package engine

import (
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
)

// Which columns get which index, decided here once for the sign-in table.
var (
	// Postings per dictionary code. Measured on generated data (B/row): ipAddress 3.8, userId
	// 3.0, userPrincipalName 2.7, appId 1.5, conditionalAccessStatus 1.2, the rest ≤ 1. Columns
	// whose filters are rare and whose dictionary scan is cheap (userDisplayName, resourceId,
	// deviceId) are not indexed.
	codeIndexed = []string{
		"userPrincipalName", "userId", "appId", "appDisplayName", "ipAddress",
		"conditionalAccessStatus", "riskLevelDuringSignIn", "riskLevelAggregated", "riskState", "riskDetail",
		"signInEventTypes", "clientAppUsed", "location/countryOrRegion", "servicePrincipalId",
		"deviceDetail/browser",
	}
	// Hashed keys for high-cardinality identifiers, about 5.2 B/row each (docs/format/index.md): request id (GET by id,
	// dedup, risk joins), correlationId (the diagnostic's flows) and uniqueTokenIdentifier (joins
	// with Graph activity logs). originalRequestId and sessionId are scanned instead.
	keyIndexed   = []string{"id", "correlationId", "uniqueTokenIdentifier"}
	boolIndexed  = []string{"flaggedForReview"}
	int32Indexed = []string{"status/errorCode"}
	zoneInt64    = []string{"createdDateTime", "status/errorCode", "processingTimeInMilliseconds", "autonomousSystemNumber"}
)

// indexBuilder gathers what the index needs while the segment writer visits each column's
// blocks, and encodes a column's sections as soon as its last row has passed. The writer
// visits columns from several goroutines, but each column's blocks in order from one: each
// column has its own state, the maps are only read after construction, and only the finished
// sections meet, under mu. A column's state is allocated at its first block and dropped at its
// last, so a merge holds the state of the columns being written, not of every indexed column
// (4 bytes a row per codes section, 12 per keys section: about 100 bytes a row in all, 157 MB
// of a 3.3M-row day's merge when all of it was held until the sidecar was written).
type indexBuilder struct {
	schema    *columnar.Schema
	rows      int
	blockRows int
	want      map[int][]string // column index → roles

	codes map[string]*codesState
	keys  map[string]*keyHashes
	bools map[string]*boolsState
	ints  map[string]*intsState
	zones map[string]*[3][]int64 // min, max, nulls

	mu    sync.Mutex
	built *index.Builder // the sections of finished columns
	err   error          // the first error of a finished column
}

// keyHashes is a key column's index.KeyHash by row, for the rows that have a key.
type keyHashes struct {
	hashes []uint64
	rows   []uint32
	next   uint32 // the row the next block starts at
}

type codesState struct {
	codes []uint32 // the null code is math.MaxUint32 until the cardinality is known
	card  uint32
}

type boolsState struct{ vals []int8 } // -1 null, 0 false, 1 true

type intsState struct {
	vals []int32
	ok   []bool
}

func newIndexBuilder(s *columnar.Schema, m *columnar.Merged) *indexBuilder {
	ib := &indexBuilder{schema: s, rows: m.Rows, blockRows: m.BlockRows, want: map[int][]string{},
		codes: map[string]*codesState{}, keys: map[string]*keyHashes{}, bools: map[string]*boolsState{},
		ints: map[string]*intsState{}, zones: map[string]*[3][]int64{}, built: index.NewBuilder(uint32(m.Rows))}
	add := func(names []string, role string) {
		for _, n := range names {
			c, ok := s.Lookup(n)
			if !ok {
				panic("BUG: indexed column " + n + " not in schema")
			}
			ib.want[c.Index] = append(ib.want[c.Index], role)
			switch role {
			case "codes":
				ib.codes[n] = &codesState{}
			case "keys":
				ib.keys[n] = &keyHashes{}
			case "bools":
				ib.bools[n] = &boolsState{}
			case "int32":
				ib.ints[n] = &intsState{}
			case "zone":
				ib.zones[n] = &[3][]int64{}
			}
		}
	}
	add(codeIndexed, "codes")
	add(keyIndexed, "keys")
	add(boolIndexed, "bools")
	add(int32Indexed, "int32")
	add(zoneInt64, "zone")
	return ib
}

// visit takes what the index needs of one block (columnar.BlockVisitor). It copies: the block
// is released after the call.
func (ib *indexBuilder) visit(col, _ int, b arrow.Array) error {
	roles := ib.want[col]
	if len(roles) == 0 {
		return nil
	}
	name := ib.schema.Columns[col].Name
	for _, role := range roles {
		switch role {
		case "codes":
			st := ib.codes[name]
			if st.codes == nil {
				st.codes = make([]uint32, 0, ib.rows)
			}
			d := b.(*array.Dictionary)
			st.card = uint32(d.Dictionary().Len())
			idx := d.Indices().(*array.Int32).Int32Values()
			for r := range idx {
				if d.IsNull(r) {
					st.codes = append(st.codes, math.MaxUint32)
				} else {
					st.codes = append(st.codes, uint32(idx[r]))
				}
			}
			if len(st.codes) == ib.rows {
				ib.seal(ib.sealCodes(name, st))
			}
		case "keys":
			// Hashed as they pass: a merge of 1.67M rows held each key's bytes and slice
			// (about 126 B a row for the three key columns) until the sidecar was written.
			var key func(r int) []byte
			switch a := b.(type) {
			case *array.FixedSizeBinary:
				key = a.Value
			case *array.String:
				data, offs := a.ValueBytes(), a.ValueOffsets()
				key = func(r int) []byte { return data[offs[r]-offs[0] : offs[r+1]-offs[0]] }
			default:
				return fmt.Errorf("BUG: key index on %T", b)
			}
			st := ib.keys[name]
			if st.hashes == nil {
				st.hashes, st.rows = make([]uint64, 0, ib.rows-b.NullN()), make([]uint32, 0, ib.rows-b.NullN())
			}
			for r := 0; r < b.Len(); r++ {
				if !b.IsNull(r) {
					st.hashes = append(st.hashes, index.KeyHash(key(r)))
					st.rows = append(st.rows, st.next+uint32(r))
				}
			}
			st.next += uint32(b.Len())
			if int(st.next) == ib.rows {
				ib.seal(ib.sealKeys(name, st))
			}
		case "bools":
			st := ib.bools[name]
			if st.vals == nil {
				st.vals = make([]int8, 0, ib.rows)
			}
			a := b.(*array.Boolean)
			for r := 0; r < a.Len(); r++ {
				switch {
				case a.IsNull(r):
					st.vals = append(st.vals, -1)
				case a.Value(r):
					st.vals = append(st.vals, 1)
				default:
					st.vals = append(st.vals, 0)
				}
			}
			if len(st.vals) == ib.rows {
				ib.seal(ib.sealBools(name, st))
			}
		case "int32":
			st := ib.ints[name]
			if st.vals == nil {
				st.vals, st.ok = make([]int32, 0, ib.rows), make([]bool, 0, ib.rows)
			}
			a := b.(*array.Int32)
			for r := 0; r < a.Len(); r++ {
				st.vals = append(st.vals, a.Value(r))
				st.ok = append(st.ok, a.IsValid(r))
			}
			if len(st.vals) == ib.rows {
				ib.seal(ib.sealInts(name, st))
			}
		case "zone":
			z := ib.zones[name]
			lo, hi, nulls := int64(math.MaxInt64), int64(math.MinInt64), int64(0)
			for r := 0; r < b.Len(); r++ {
				if b.IsNull(r) {
					nulls++
					continue
				}
				var v int64
				switch a := b.(type) {
				case *array.Timestamp:
					v = int64(a.Value(r))
				case *array.Int32:
					v = int64(a.Value(r))
				default:
					return fmt.Errorf("BUG: zone map on %T", b)
				}
				lo, hi = min(lo, v), max(hi, v)
			}
			z[0], z[1], z[2] = append(z[0], lo), append(z[1], hi), append(z[2], nulls)
		}
	}
	return nil
}

// The seal functions encode one column's section into a Builder of its own (on the visiting
// goroutine, so columns encode in parallel) and drop the column's state.

func (ib *indexBuilder) sealCodes(name string, st *codesState) (*index.Builder, error) {
	for i, c := range st.codes {
		if c == math.MaxUint32 {
			st.codes[i] = st.card
		}
	}
	b := index.NewBuilder(uint32(ib.rows))
	err := b.AddCodes(name, st.codes, st.card, st.card)
	*st = codesState{}
	return b, err
}

func (ib *indexBuilder) sealKeys(name string, st *keyHashes) (*index.Builder, error) {
	b := index.NewBuilder(uint32(ib.rows))
	err := b.AddKeyHashes(name, ib.blockRows, st.hashes, st.rows)
	*st = keyHashes{}
	return b, err
}

func (ib *indexBuilder) sealBools(name string, st *boolsState) (*index.Builder, error) {
	b := index.NewBuilder(uint32(ib.rows))
	vals := st.vals
	err := b.AddBools(name, func(r uint32) (bool, bool) { return vals[r] == 1, vals[r] >= 0 })
	*st = boolsState{}
	return b, err
}

func (ib *indexBuilder) sealInts(name string, st *intsState) (*index.Builder, error) {
	b := index.NewBuilder(uint32(ib.rows))
	ok := st.ok
	err := b.AddInt32Values(name, st.vals, func(r uint32) bool { return ok[r] })
	*st = intsState{}
	return b, err
}

// seal adds a finished column's sections to the sidecar; finish reports the first error.
func (ib *indexBuilder) seal(b *index.Builder, err error) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if err == nil {
		err = ib.built.AddFrom(b)
	}
	if err != nil && ib.err == nil {
		ib.err = err
	}
}

// finish seals what is left (zone maps, and every column of a segment of no rows) and
// returns the sidecar.
func (ib *indexBuilder) finish() ([]byte, error) {
	if ib.rows == 0 {
		for _, name := range codeIndexed {
			ib.seal(ib.sealCodes(name, ib.codes[name]))
		}
		for _, name := range keyIndexed {
			ib.seal(ib.sealKeys(name, ib.keys[name]))
		}
		for _, name := range boolIndexed {
			ib.seal(ib.sealBools(name, ib.bools[name]))
		}
		for _, name := range int32Indexed {
			ib.seal(ib.sealInts(name, ib.ints[name]))
		}
	}
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.err != nil {
		return nil, fmt.Errorf("index: %w", ib.err)
	}
	b := ib.built
	for _, name := range zoneInt64 {
		z := *ib.zones[name]
		nulls := make([]uint32, len(z[2]))
		for i, n := range z[2] {
			nulls[i] = uint32(n)
		}
		if err := b.AddZoneMapInt64(name, ib.blockRows, z[0], z[1], nulls); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	if got, want := len(b.SectionSizes()), len(codeIndexed)+len(keyIndexed)+len(boolIndexed)+len(int32Indexed)+len(zoneInt64); got != want {
		return nil, fmt.Errorf("BUG: index of %d sections, want %d: a column was not visited to its last row", got, want)
	}
	return b.Marshal(nil), nil
}
