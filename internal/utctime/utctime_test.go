package utctime

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func utcLayout(k int) string {
	if k == 0 {
		return "2006-01-02T15:04:05Z"
	}
	return "2006-01-02T15:04:05." + strings.Repeat("0", k) + "Z"
}

// TestUTCMatchesTimeFormat: Append writes what time.Format writes, and the parser reads exactly what it writes, over the whole range a mark spells.
func TestUTCMatchesTimeFormat(t *testing.T) {
	if lo := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(); lo != MinNanos {
		t.Fatalf("1678-01-01 is %d ns, MinNanos %d", lo, int64(MinNanos))
	}
	if hi := time.Date(2261, 12, 31, 23, 59, 59, 999999999, time.UTC).UnixNano(); hi != MaxNanos {
		t.Fatalf("the end of 2261 is %d ns, MaxNanos %d", hi, int64(MaxNanos))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	edges := []int64{0, -1, 1, MinNanos, MaxNanos, time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano() - 1}
	var (
		w    Writer
		prev int64
	)
	for i := range 200000 {
		ns := MinNanos + int64(rng.Uint64N(uint64(MaxNanos-MinNanos)+1))
		if i < len(edges) {
			ns = edges[i]
		}
		k := i % 10
		want := time.Unix(0, ns).UTC().Format(utcLayout(k))
		got := string(Append(nil, ns, k))
		// Another time of the day before through the writer, which remembers that day.
		if i%2 == 1 {
			day := prev - ((prev%NanosPerDay)+NanosPerDay)%NanosPerDay
			ns = min(max(day+rng.Int64N(NanosPerDay), MinNanos), MaxNanos)
			want = time.Unix(0, ns).UTC().Format(utcLayout(k))
			got = string(w.Append(nil, ns, k))
		} else {
			w.Append(nil, ns, k)
			prev = ns
		}
		if got != want || len(got) != Len(k) {
			t.Fatalf("%d ns with %d digits: %q, time.Format %q", ns, k, got, want)
		}
		back, bk, ok := Parse([]byte(got))
		trunc := ns - ((ns%1e9+1e9)%1e9)%pow10(9-k)
		if !ok || bk != k || back != trunc {
			t.Fatalf("%q reads as %d ns, %d digits, %v; want %d, %d", got, back, bk, ok, trunc, k)
		}
	}
	for _, s := range []string{"2026-11-30T23:34:35+00:00", "2026-11-30t23:34:35Z", "2026-11-30T23:34:60Z",
		"2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-30T24:00:00Z",
		"1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "2026-11-30T23:34:35.Z", "2026-11-30T23:34:35.1234567890Z",
		"2026-11-30 23:34:35Z", "+026-11-30T23:34:35Z", "2026-11-30T23:34:3aZ"} {
		if _, _, ok := Parse([]byte(s)); ok {
			t.Errorf("%q reads as a time a mark spells", s)
		}
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
