package index

import (
	"bytes"
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
