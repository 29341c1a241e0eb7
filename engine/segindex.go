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
	// Hashed keys for high-cardinality identifiers, about 9.7 B/row each: request id (GET by id,
	// dedup, risk joins), correlationId (the diagnostic's flows) and uniqueTokenIdentifier (joins
	// with Graph activity logs). originalRequestId and sessionId are scanned instead.
	keyIndexed   = []string{"id", "correlationId", "uniqueTokenIdentifier"}
	boolIndexed  = []string{"flaggedForReview"}
	int32Indexed = []string{"status/errorCode"}
	zoneInt64    = []string{"createdDateTime", "status/errorCode", "processingTimeInMilliseconds", "autonomousSystemNumber"}
)

// indexBuilder gathers what the index needs while the segment writer visits each column's
// blocks (from several goroutines), then builds the sidecar.
type indexBuilder struct {
	schema    *columnar.Schema
	rows      int
	blockRows int
	want      map[int][]string // column index → roles

	mu    sync.Mutex
	codes map[string][]uint32
	cards map[string]uint32
	keys  map[string][][]byte
	bools map[string][]int8
	ints  map[string][]int32
	intOK map[string][]bool
	zones map[string][3][]int64 // min, max, nulls
}

func newIndexBuilder(s *columnar.Schema, m *columnar.Merged) *indexBuilder {
	ib := &indexBuilder{schema: s, rows: m.Rows, blockRows: m.BlockRows, want: map[int][]string{},
		codes: map[string][]uint32{}, cards: map[string]uint32{}, keys: map[string][][]byte{},
		bools: map[string][]int8{}, ints: map[string][]int32{}, intOK: map[string][]bool{}, zones: map[string][3][]int64{}}
	add := func(names []string, role string) {
		for _, n := range names {
			c, ok := s.Lookup(n)
			if !ok {
				panic("BUG: indexed column " + n + " not in schema")
			}
			ib.want[c.Index] = append(ib.want[c.Index], role)
		}
	}
	add(codeIndexed, "codes")
	add(keyIndexed, "keys")
	add(boolIndexed, "bools")
	add(int32Indexed, "int32")
	add(zoneInt64, "zone")
	return ib
}

func (ib *indexBuilder) visit(col int, blocks []arrow.Array) error {
	roles := ib.want[col]
	if len(roles) == 0 {
		return nil
	}
	c := ib.schema.Columns[col]
	for _, role := range roles {
		switch role {
		case "codes":
			codes := make([]uint32, 0, ib.rows)
			var card uint32
			for _, b := range blocks {
				d := b.(*array.Dictionary)
				card = uint32(d.Dictionary().Len())
				idx := d.Indices().(*array.Int32).Int32Values()
				for r := range idx {
					if d.IsNull(r) {
						codes = append(codes, math.MaxUint32)
					} else {
						codes = append(codes, uint32(idx[r]))
					}
				}
			}
			for i := range codes {
				if codes[i] == math.MaxUint32 {
					codes[i] = card
				}
			}
			ib.mu.Lock()
			ib.codes[c.Name], ib.cards[c.Name] = codes, card
			ib.mu.Unlock()
		case "keys":
			keys := make([][]byte, 0, ib.rows)
			for _, b := range blocks {
				for r := 0; r < b.Len(); r++ {
					if b.IsNull(r) {
						keys = append(keys, nil)
						continue
					}
					switch a := b.(type) {
					case *array.FixedSizeBinary:
						keys = append(keys, a.Value(r))
					case *array.String:
						keys = append(keys, []byte(a.Value(r)))
					default:
						return fmt.Errorf("BUG: key index on %T", b)
					}
				}
			}
			ib.mu.Lock()
			ib.keys[c.Name] = keys
			ib.mu.Unlock()
		case "bools":
			vals := make([]int8, 0, ib.rows)
			for _, b := range blocks {
				a := b.(*array.Boolean)
				for r := 0; r < a.Len(); r++ {
					switch {
					case a.IsNull(r):
						vals = append(vals, -1)
					case a.Value(r):
						vals = append(vals, 1)
					default:
						vals = append(vals, 0)
					}
				}
			}
			ib.mu.Lock()
			ib.bools[c.Name] = vals
			ib.mu.Unlock()
		case "int32":
			vals := make([]int32, 0, ib.rows)
			ok := make([]bool, 0, ib.rows)
			for _, b := range blocks {
				a := b.(*array.Int32)
				for r := 0; r < a.Len(); r++ {
					vals = append(vals, a.Value(r))
					ok = append(ok, a.IsValid(r))
				}
			}
			ib.mu.Lock()
			ib.ints[c.Name], ib.intOK[c.Name] = vals, ok
			ib.mu.Unlock()
		case "zone":
			var z [3][]int64
			for _, b := range blocks {
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
			ib.mu.Lock()
			ib.zones[c.Name] = z
			ib.mu.Unlock()
		}
	}
	return nil
}

func (ib *indexBuilder) finish() ([]byte, error) {
	b := index.NewBuilder(uint32(ib.rows))
	for _, name := range codeIndexed {
		if err := b.AddCodes(name, ib.codes[name], ib.cards[name], ib.cards[name]); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	for _, name := range keyIndexed {
		keys := ib.keys[name]
		if err := b.AddKeys(name, func(r uint32) ([]byte, bool) { return keys[r], keys[r] != nil }); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	for _, name := range boolIndexed {
		vals := ib.bools[name]
		if err := b.AddBools(name, func(r uint32) (bool, bool) { return vals[r] == 1, vals[r] >= 0 }); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	for _, name := range int32Indexed {
		ok := ib.intOK[name]
		if err := b.AddInt32Values(name, ib.ints[name], func(r uint32) bool { return ok[r] }); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	for _, name := range zoneInt64 {
		z := ib.zones[name]
		nulls := make([]uint32, len(z[2]))
		for i, n := range z[2] {
			nulls[i] = uint32(n)
		}
		if err := b.AddZoneMapInt64(name, ib.blockRows, z[0], z[1], nulls); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	return b.Marshal(nil), nil
}
