package index

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// The version-6 writer puts many small postings in a group and large ones apart, and widens
// the lengths only for a posting of 64 KiB or more; every posting reads back.
func TestPostingsGroupedLayoutChoices(t *testing.T) {
	const rows = 1 << 20
	users := make([]*roaring.Bitmap, 1000) // one run each: a user's day
	for i := range users {
		users[i] = roaring.New()
		users[i].AddRange(uint64(i*1000), uint64(i*1000+17))
	}
	apps := make([]*roaring.Bitmap, 8) // every 8th row: roaring of a few KB each
	for i := range apps {
		apps[i] = roaring.New()
		for r := i; r < 200_000; r += 8 {
			apps[i].Add(uint32(r))
		}
		apps[i].RunOptimize()
	}
	huge := roaring.New() // every other row of a million: 128 KiB
	for r := 0; r < rows; r += 2 {
		huge.Add(uint32(r))
	}
	for _, c := range []struct {
		name string
		bms  []*roaring.Bitmap
		g, w int
	}{
		{"users", append(users, roaring.New()), maxGroupPostings, 2},
		{"apps", append(apps, roaring.New()), 1, 2},
		{"users and a huge one", append(append(users[:10:10], huge), roaring.New()), maxGroupPostings, 4},
	} {
		p := marshalPostingsGrouped(nil, nil, c.bms)
		ps, err := openPostingsGrouped(bytes.NewReader(p), 0, int64(len(p)), rows, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if ps.g != c.g || ps.w != c.w {
			t.Errorf("%s: %d postings a group, %d-byte lengths; want %d, %d", c.name, ps.g, ps.w, c.g, c.w)
		}
		for i, want := range c.bms {
			got, err := ps.bitmap(i)
			if err != nil || !got.Equals(want) {
				t.Fatalf("%s: posting %d: %v", c.name, i, err)
			}
		}
		if c.name == "users" {
			t.Logf("%d one-run postings: %d bytes", len(users), len(p))
			if len(p) > len(users)*9 {
				t.Errorf("%d one-run postings take %d bytes", len(users), len(p))
			}
		}
	}
}

// TestMutatedGroupedPostingsFailCleanly: the fuzz target's body over 20,000 damaged version-6
// sections, each re-signed so that its CRCs hold and the damage reaches the structural checks
// and the decoders (go test -fuzz runs slowly on small machines; this runs in every test run).
// Every probe must fail with ErrCorrupt or return rows of the segment only.
func TestMutatedGroupedPostingsFailCleanly(t *testing.T) {
	s := newRefSegment(39, 300, 16)
	seeds := []struct {
		p          []byte
		withValues bool
	}{
		{sectionPayload(t, s.build(), "app", KindCodes), false},
		{sectionPayload(t, s.build(), "user", KindCodes), false},
		{sectionPayload(t, s.build(), "status/errorCode", KindInt32), true},
		{sectionPayload(t, s.build(), "flaggedForReview", KindBools), false},
	}
	rng := rand.New(rand.NewPCG(13, 14))
	decoded := 0
	for range 20_000 {
		seed := seeds[rng.IntN(len(seeds))]
		p := bytes.Clone(seed.p)
		for range 1 + rng.IntN(3) {
			at := rng.IntN(len(p))
			switch rng.IntN(4) {
			case 0:
				p[at] ^= byte(1 << rng.IntN(8))
			case 1:
				p[at] = byte(rng.IntN(256))
			case 2:
				p[at] = []byte{0, 1, 0x3a, 0x3b, 0xff, 0x80}[rng.IntN(6)]
			default:
				p = p[:max(1, len(p)-1-rng.IntN(8))]
			}
		}
		resignPostingsGrouped(p, seed.withValues)
		ps, err := openPostingsGrouped(bytes.NewReader(p), 0, int64(len(p)), 300, seed.withValues, false)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v does not wrap ErrCorrupt", err)
			}
			continue
		}
		for i := 0; i <= ps.n; i++ {
			bm, err := ps.bitmap(i)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("posting %d: %v does not wrap ErrCorrupt", i, err)
				}
				continue
			}
			decoded++
			if !bm.IsEmpty() && bm.Maximum() >= 300 {
				t.Fatalf("posting %d: row %d of a 300-row segment", i, bm.Maximum())
			}
		}
	}
	t.Logf("%d postings of damaged sections decoded", decoded)
	if decoded == 0 {
		t.Error("no damaged section got past its checks: the loop tests nothing")
	}
}
