package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// refSegment is a segment's columns plus the naive answers the sidecar must reproduce.
type refSegment struct {
	rows      uint32
	blockRows int

	userCodes []uint32 // sorted runs, no nulls
	userCard  uint32
	appCodes  []uint32 // random, nullCode = appNull
	appCard   uint32
	appNull   uint32

	flagged      []bool
	flaggedValid []bool

	status      []int32
	statusValid []bool

	ids   [][]byte // nil = null
	times []int64
	risk  []float64
}

func newRefSegment(seed uint64, rows uint32, blockRows int) *refSegment {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := &refSegment{rows: rows, blockRows: blockRows}
	s.userCard = 1 + uint32(rng.IntN(int(rows)/8+1))
	u := uint32(0)
	for r := uint32(0); r < rows; r++ {
		if rng.IntN(8) == 0 && u+1 < s.userCard {
			u++
		}
		s.userCodes = append(s.userCodes, u)
	}
	s.appCard = 6
	s.appNull = 1 << 30
	statusDomain := []int32{0, 0, 0, 50126, 50140, 50074, -7, 1 << 30}
	var prevID []byte
	t0 := int64(1_760_000_000_000_000_000)
	for r := uint32(0); r < rows; r++ {
		if rng.IntN(10) == 0 {
			s.appCodes = append(s.appCodes, s.appNull)
		} else {
			s.appCodes = append(s.appCodes, uint32(rng.IntN(int(s.appCard)-1))) // last code unused
		}
		s.flaggedValid = append(s.flaggedValid, rng.IntN(20) != 0)
		s.flagged = append(s.flagged, rng.IntN(50) == 0)
		s.statusValid = append(s.statusValid, rng.IntN(15) != 0)
		s.status = append(s.status, statusDomain[rng.IntN(len(statusDomain))])
		switch k := rng.IntN(20); {
		case k == 0:
			s.ids = append(s.ids, nil)
		case k == 1 && prevID != nil:
			s.ids = append(s.ids, prevID) // repeated key
		default:
			id := make([]byte, 16)
			for i := range id {
				id[i] = byte(rng.Uint32())
			}
			s.ids = append(s.ids, id)
			prevID = id
		}
		s.times = append(s.times, t0+int64(rng.IntN(86_400))*1e9)
		s.risk = append(s.risk, rng.Float64()*100-50)
	}
	return s
}

func (s *refSegment) timesZoneMap() *ZoneMap[int64] {
	return ComputeZoneMap(s.times, func(r uint32) bool { return s.statusValid[r] }, s.blockRows)
}

func (s *refSegment) riskZoneMap() *ZoneMap[float64] {
	return ComputeZoneMap(s.risk, nil, s.blockRows)
}

func (s *refSegment) build() []byte { return s.builder().Marshal(nil) }

func (s *refSegment) builder() *Builder { return s.builderWith(s.blockRows) }

// builderWith indexes the keys in blocks of keyBlockRows rows.
func (s *refSegment) builderWith(keyBlockRows int) *Builder {
	return s.fill(NewBuilder(s.rows), keyBlockRows)
}

// builderOld is builderWith writing keys in layout 3, for the rewriters of older versions
// (oldversions_test.go): with blocks of 1 row, as versions 1 to 4 named rows.
func (s *refSegment) builderOld(keyBlockRows int) *Builder {
	return s.fill(oldKeysBuilder(s.rows), keyBlockRows)
}

// oldKeysBuilder is a builder whose keys sections are layout 3.
func oldKeysBuilder(rows uint32) *Builder {
	b := NewBuilder(rows)
	b.keysLayout = keysLayoutBlocks
	return b
}

func (s *refSegment) fill(b *Builder, keyBlockRows int) *Builder {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(b.AddCodes("user", s.userCodes, ^uint32(0), s.userCard))
	must(b.AddCodes("app", s.appCodes, s.appNull, s.appCard))
	must(b.AddBools("flaggedForReview", func(r uint32) (bool, bool) { return s.flagged[r], s.flaggedValid[r] }))
	must(b.AddInt32Values("status/errorCode", s.status, func(r uint32) bool { return s.statusValid[r] }))
	must(b.AddKeys("id", keyBlockRows, func(r uint32) ([]byte, bool) { return s.ids[r], s.ids[r] != nil }))
	tz := s.timesZoneMap()
	must(b.AddZoneMapInt64("createdDateTime", tz.BlockRows, tz.Min, tz.Max, tz.Nulls))
	rz := s.riskZoneMap()
	must(b.AddZoneMapFloat64("riskScore", rz.BlockRows, rz.Min, rz.Max, rz.Nulls))
	return b
}

func rowsWhere(n uint32, pred func(r uint32) bool) []uint32 {
	out := []uint32{}
	for r := uint32(0); r < n; r++ {
		if pred(r) {
			out = append(out, r)
		}
	}
	return out
}

// probe is one question asked of a sidecar and the reference answer.
type probe struct {
	name string
	run  func(rd *Reader) (string, error)
	want string
}

func bitmapString(bm *roaring.Bitmap) string { return fmt.Sprint(bm.ToArray()) }

func rowsString(rows []uint32) string { return fmt.Sprint(rows) }

// probes lists a probe for every posting, key and zone map of the segment.
func (s *refSegment) probes() []probe {
	var ps []probe
	bmProbe := func(name string, f func(rd *Reader) (*roaring.Bitmap, error), want []uint32) {
		ps = append(ps, probe{name: name, want: rowsString(want), run: func(rd *Reader) (string, error) {
			bm, err := f(rd)
			if err != nil {
				return "", err
			}
			return bitmapString(bm), nil
		}})
	}
	userRows := map[uint32][]uint32{}
	for r, c := range s.userCodes {
		userRows[c] = append(userRows[c], uint32(r))
	}
	for c := uint32(0); c <= s.userCard; c++ {
		bmProbe(fmt.Sprintf("user=%d", c), func(rd *Reader) (*roaring.Bitmap, error) { return rd.Codes("user", c) },
			append([]uint32{}, userRows[c]...))
	}
	bmProbe("user null", func(rd *Reader) (*roaring.Bitmap, error) { return rd.CodesNull("user") }, []uint32{})
	for c := uint32(0); c <= s.appCard; c++ {
		bmProbe(fmt.Sprintf("app=%d", c), func(rd *Reader) (*roaring.Bitmap, error) { return rd.Codes("app", c) },
			rowsWhere(s.rows, func(r uint32) bool { return s.appCodes[r] == c }))
	}
	bmProbe("app null", func(rd *Reader) (*roaring.Bitmap, error) { return rd.CodesNull("app") },
		rowsWhere(s.rows, func(r uint32) bool { return s.appCodes[r] == s.appNull }))
	for _, v := range []bool{false, true} {
		bmProbe(fmt.Sprintf("flagged=%v", v), func(rd *Reader) (*roaring.Bitmap, error) { return rd.Bools("flaggedForReview", v) },
			rowsWhere(s.rows, func(r uint32) bool { return s.flaggedValid[r] && s.flagged[r] == v }))
	}
	bmProbe("flagged null", func(rd *Reader) (*roaring.Bitmap, error) { return rd.BoolsNull("flaggedForReview") },
		rowsWhere(s.rows, func(r uint32) bool { return !s.flaggedValid[r] }))
	for _, v := range []int32{0, 50126, 50140, 50074, -7, 1 << 30, 1, -1 << 31} {
		bmProbe(fmt.Sprintf("status=%d", v), func(rd *Reader) (*roaring.Bitmap, error) { return rd.Int32("status/errorCode", v) },
			rowsWhere(s.rows, func(r uint32) bool { return s.statusValid[r] && s.status[r] == v }))
	}
	bmProbe("status null", func(rd *Reader) (*roaring.Bitmap, error) { return rd.Int32Null("status/errorCode") },
		rowsWhere(s.rows, func(r uint32) bool { return !s.statusValid[r] }))
	keys := [][]byte{[]byte("absent"), {}, make([]byte, 16)}
	for _, id := range s.ids {
		if id != nil {
			keys = append(keys, id)
		}
	}
	keyRows := map[string][]uint32{}
	for r, id := range s.ids {
		if id != nil {
			keyRows[string(id)] = append(keyRows[string(id)], uint32(r))
		}
	}
	// Every key of small segments, a sample of large ones: a probe's candidates are whole
	// blocks (65,536 rows in the largest), each verified.
	stride := max(1, len(keys)/300)
	for i, k := range keys {
		if i > 0 && bytes.Equal(k, keys[i-1]) || i > 3 && i%stride != 0 {
			continue
		}
		// Keys returns a superset; the probe verifies candidates as the caller must.
		ps = append(ps, probe{name: fmt.Sprintf("id=%x", k), want: rowsString(append([]uint32{}, keyRows[string(k)]...)),
			run: func(rd *Reader) (string, error) {
				bm, err := rd.Keys("id", k)
				if err != nil {
					return "", err
				}
				verified := []uint32{}
				for _, r := range bm.ToArray() {
					if s.ids[r] != nil && bytes.Equal(s.ids[r], k) {
						verified = append(verified, r)
					}
				}
				return rowsString(verified), nil
			}})
	}
	tz, rz := s.timesZoneMap(), s.riskZoneMap()
	ps = append(ps, probe{name: "zonemap createdDateTime", want: zoneString(tz), run: func(rd *Reader) (string, error) {
		zm, err := rd.ZoneMapInt64("createdDateTime")
		if err != nil {
			return "", err
		}
		return zoneString(zm), nil
	}})
	ps = append(ps, probe{name: "zonemap riskScore", want: zoneString(rz), run: func(rd *Reader) (string, error) {
		zm, err := rd.ZoneMapFloat64("riskScore")
		if err != nil {
			return "", err
		}
		return zoneString(zm), nil
	}})
	return ps
}

func zoneString[T int64 | float64](zm *ZoneMap[T]) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "rows=%d blockRows=%d", zm.Rows, zm.BlockRows)
	for i := range zm.Min {
		if zm.AllNull(i) {
			fmt.Fprintf(&sb, " [null×%d]", zm.Nulls[i])
			continue
		}
		fmt.Fprintf(&sb, " [%v..%v nulls=%d]", zm.Min[i], zm.Max[i], zm.Nulls[i])
	}
	return sb.String()
}

func sortedCopy(rows []uint32) []uint32 {
	out := slices.Clone(rows)
	slices.Sort(out)
	return out
}
