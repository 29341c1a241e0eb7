package columnar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleFields is the Graph sample's top-level members, each value encoded once as encoding/json
// encodes it inside the sample's map (keys sorted, HTML-safe escaping). testEvent writes an
// event from them and its draws, the bytes testEventMap's map encoding gives, without decoding
// and encoding the whole sample per event (most of the package's time under -race).
type sampleFields struct {
	keys   []string          // sorted
	vals   map[string][]byte // each member's value, encoded
	status map[string]any    // the sample's status, which a draw may change
}

func newSampleFields(t testing.TB, sample []byte) *sampleFields {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(sample, &m); err != nil {
		t.Fatal(err)
	}
	f := &sampleFields{vals: map[string][]byte{}, status: m["status"].(map[string]any)}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		f.keys = append(f.keys, k)
		f.vals[k] = b
	}
	slices.Sort(f.keys)
	return f
}

// testEvent makes event i of a seed's sequence, drawing from that sequence's rng exactly as
// testEventMap does.
func testEvent(t testing.TB, f *sampleFields, rng *rand.Rand, i int) string {
	t.Helper()
	str := func(s string) []byte { return appendMarshal(t, nil, s) }
	base := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	set := map[string][]byte{}
	u := rng.IntN(17)
	set["id"] = str(fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i))
	set["createdDateTime"] = str(base.Add(time.Duration(rng.IntN(86400)) * time.Second).Format(time.RFC3339))
	set["userPrincipalName"] = str(fmt.Sprintf("user%02d@contoso.com", u))
	set["userDisplayName"] = str(fmt.Sprintf("User %d", u))
	set["appId"] = str(fmt.Sprintf("app-%d", rng.IntN(5)))
	set["ipAddress"] = str(fmt.Sprintf("10.0.%d.%d", u, rng.IntN(4)))
	if rng.IntN(5) == 0 {
		st := make(map[string]any, len(f.status))
		for k, v := range f.status {
			st[k] = v
		}
		st["errorCode"] = []int{50126, 50074, 53003}[rng.IntN(3)]
		set["status"], _ = json.Marshal(st)
	}
	keys := f.keys
	switch rng.IntN(10) {
	case 0:
		set["location"] = []byte("null")
	case 1:
		set["x-vendor"] = []byte(`{"n":` + strconv.Itoa(i) + `}`)
		keys = append(slices.Clone(keys), "x-vendor")
		slices.Sort(keys)
	case 2:
		keys = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "riskState" })
	case 3:
		set["correlationId"] = []byte(`""`)
	case 4:
		set["createdDateTime"] = str(base.Add(time.Duration(rng.IntN(86400))*time.Second + 1234500*time.Nanosecond).Format("2006-01-02T15:04:05.0000000Z"))
	}
	set["flaggedForReview"] = []byte(strconv.FormatBool(rng.IntN(50) == 0))
	var b strings.Builder
	b.WriteByte('{')
	for j, k := range keys {
		if j > 0 {
			b.WriteByte(',')
		}
		b.Write(str(k))
		b.WriteByte(':')
		if v, ok := set[k]; ok {
			b.Write(v)
		} else {
			b.Write(f.vals[k])
		}
	}
	b.WriteByte('}')
	return b.String()
}

// TestEventIsItsMap: the events the tests use are byte for byte the map encoding that defines
// them, draw for draw.
func TestEventIsItsMap(t *testing.T) {
	sample := readSample(t)
	f := newSampleFields(t, sample)
	for _, seed := range []uint64{1, 5, 11} {
		fast, slow := rand.New(rand.NewPCG(seed, 7)), rand.New(rand.NewPCG(seed, 7))
		for i := range 300 {
			if got, want := testEvent(t, f, fast, i), testEventMap(t, sample, slow, i); got != want {
				t.Fatalf("seed %d, event %d:\n got %s\nwant %s", seed, i, got, want)
			}
		}
	}
}
