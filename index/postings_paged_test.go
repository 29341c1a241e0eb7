package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// usersSidecar indexes rows of `users` users (user r%users on row r), as a day's
// userPrincipalName codes, and a flag.
func usersSidecar(t *testing.T, rows, users uint32) []byte {
	t.Helper()
	return usersBuilder(t, rows, users).Marshal(nil)
}

func usersBuilder(t *testing.T, rows, users uint32) *Builder {
	t.Helper()
	b := NewBuilder(rows)
	codes := make([]uint32, rows)
	for r := range codes {
		codes[r] = uint32(r) % users
		if r%97 == 0 {
			codes[r] = users // null
		}
	}
	if err := b.AddCodes("userPrincipalName", codes, users, users); err != nil {
		t.Fatal(err)
	}
	if err := b.AddBools("flaggedForReview", func(r uint32) (bool, bool) { return r%1000 == 0, true }); err != nil {
		t.Fatal(err)
	}
	return b
}

func sectionOf(t *testing.T, rd *Reader, column string, kind Kind) SectionInfo {
	t.Helper()
	for _, s := range rd.Sections() {
		if s.Column == column && s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no %s section for %s", kind, column)
	return SectionInfo{}
}

// openUsersSection opens a usersSidecar through a countingReaderAt and uses its
// userPrincipalName section once (which reads the section's header), so that the counts after
// are the probes'.
func openUsersSection(t *testing.T, rows, users uint32) (*Reader, *countingReaderAt, SectionInfo) {
	t.Helper()
	rd, cr, _ := openCounted(t, usersSidecar(t, rows, users))
	sec := sectionOf(t, rd, "userPrincipalName", KindCodes)
	if _, err := rd.Cardinality("userPrincipalName"); err != nil {
		t.Fatal(err)
	}
	return rd, cr, sec
}

// One user's rows cost two reads of the sidecar (the group's record, then the group: a few KB
// at most besides the posting), whatever the size of the section: the section is not read
// whole until probes have read half of it piece by piece.
func TestCodesProbeReadsOnePosting(t *testing.T) {
	const rows, users = 200_000, 20_000
	rd, cr, sec := openUsersSection(t, rows, users)
	cr.take()
	for u := uint32(1); u < 50; u++ {
		bm, err := rd.Codes("userPrincipalName", u*397)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range bm.ToArray() {
			if r%users != u*397 || r%97 == 0 {
				t.Fatalf("user %d: row %d", u*397, r)
			}
		}
		if bm.GetCardinality() < 5 {
			t.Fatalf("user %d: %d rows", u*397, bm.GetCardinality())
		}
		reads, n := cr.take()
		if reads != 2 || n > 8+maxGroupPostings*4+2*groupSlack {
			t.Fatalf("probe of user %d: %d reads, %d bytes (section %d bytes)", u*397, reads, n, sec.Length)
		}
	}
}

// A section whose postings are all asked for (a flag, or many codes) is read whole once probes
// have read half of it, and probes after that read nothing more.
func TestManyPostingProbesReadTheSectionOnce(t *testing.T) {
	const rows, users = 50_000, 500
	rd, cr, _ := openCounted(t, usersSidecar(t, rows, users))
	sec := sectionOf(t, rd, "userPrincipalName", KindCodes)
	for round := range 3 {
		for u := uint32(0); u < users; u++ {
			if _, err := rd.Codes("userPrincipalName", u); err != nil {
				t.Fatal(err)
			}
		}
		reads, n := cr.take()
		t.Logf("round %d: %d reads, %d bytes (section %d bytes)", round, reads, n, sec.Length)
		if round == 0 && n > 2*sec.Length {
			t.Fatalf("round 0 read %d bytes for a %d-byte section", n, sec.Length)
		}
		if round > 0 && reads != 0 {
			t.Fatalf("round %d read %d times after the section was read whole", round, reads)
		}
	}
}

// A damaged posting fails the probes that read it, naming the section and the posting, and no
// other; a damaged header fails the section's first use. In version 6 a probe reads and checks
// the posting's group: the postings of that group fail, and no other.
func TestDamagedPostingFailsItsProbesOnly(t *testing.T) {
	const rows, users = 20_000, 200
	b := usersBuilder(t, rows, users)
	for _, v := range []int{5, 6} {
		raw := b.Marshal(nil)
		if v == 5 {
			raw = asVersion5(b)
		}
		good := openBytes(t, raw)
		sec := sectionOf(t, good, "userPrincipalName", KindCodes)
		ps, err := good.postings("userPrincipalName", KindCodes)
		if err != nil {
			t.Fatal(err)
		}
		// Damage the middle byte of posting 77.
		bad := bytes.Clone(raw)
		failing := func(u uint32) bool { return u == 77 }
		switch pp := ps.(type) {
		case *postingsPaged:
			var ent [16]byte
			copy(ent[:], raw[sec.Offset+pp.entriesAt+postingEntryLen*76:])
			prevEnd := int64(binary.LittleEndian.Uint32(ent[:]))
			end := int64(binary.LittleEndian.Uint32(ent[8:]))
			bad[sec.Offset+pp.areaAt+(int64(align8(int(prevEnd)))+end)/2] ^= 0x10
		case *postingsGrouped:
			k, j := 77/pp.g, 77%pp.g
			rec := raw[sec.Offset+pp.tableAt+int64(k)*pp.recLen:]
			at := int64(binary.LittleEndian.Uint32(rec))
			for m := range j {
				at += int64(getLen(rec[8+m*pp.w:], pp.w))
			}
			bad[sec.Offset+pp.areaAt+at+int64(getLen(rec[8+j*pp.w:], pp.w))/2] ^= 0x10
			failing = func(u uint32) bool { return int(u)/pp.g == k }
		default:
			t.Fatalf("version %d: postings read by %T", v, ps)
		}
		rd := openBytes(t, bad)
		for u := uint32(0); u < users; u++ {
			got, err := rd.Codes("userPrincipalName", u)
			want, _ := good.Codes("userPrincipalName", u)
			if failing(u) {
				if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "userPrincipalName") || !strings.Contains(err.Error(), fmt.Sprintf("posting %d ", u)) {
					t.Fatalf("version %d: posting %d, damaged by posting 77: %v", v, u, err)
				}
				continue
			}
			if err != nil || !got.Equals(want) {
				t.Fatalf("version %d: posting %d beside the damaged one: %v", v, u, err)
			}
		}
		// The header's checksum covers the count.
		bad = bytes.Clone(raw)
		bad[sec.Offset] ^= 0x01
		if _, err := openBytes(t, bad).Codes("userPrincipalName", 1); err == nil || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("version %d: damaged count: %v", v, err)
		}
	}
}

// A caller about to probe many postings of a section (WillProbe) gets the section read whole,
// once, not two reads per posting; a caller probing a few reads those postings alone.
func TestWillProbeManyReadsTheSectionWhole(t *testing.T) {
	const rows, users = 200_000, 20_000
	rd, cr, sec := openUsersSection(t, rows, users)
	rd.WillProbe("userPrincipalName", KindCodes, manyPostings-1)
	cr.take()
	for u := uint32(0); u < manyPostings-1; u++ {
		if _, err := rd.Codes("userPrincipalName", u*7); err != nil {
			t.Fatal(err)
		}
	}
	if reads, _ := cr.take(); reads != 2*(manyPostings-1) {
		t.Fatalf("%d probes after a hint of a few: %d reads, want 2 each", manyPostings-1, reads)
	}
	rd.WillProbe("userPrincipalName", KindCodes, 500)
	for u := uint32(0); u < 500; u++ {
		if _, err := rd.Codes("userPrincipalName", u*13); err != nil {
			t.Fatal(err)
		}
	}
	reads, n := cr.take()
	if reads != 1 || n != sec.Length {
		t.Fatalf("500 probes after a hint of 500: %d reads, %d bytes; want the %d-byte section once", reads, n, sec.Length)
	}
}
