package index

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"testing"
)

// openResident opens data lazily, as a database does, with res bounding what it keeps.
func openResident(data []byte, res *Resident) (*Reader, *countingReaderAt) {
	cr := &countingReaderAt{r: bytes.NewReader(data)}
	return OpenLazy(func() (io.ReaderAt, int64, error) { return cr, int64(len(data)), nil }, res), cr
}

// Probed across many sidecars, the sections kept in memory never exceed the bound, every
// probe answers as the reference does (evicted sections are read again), and releasing the
// Readers gives everything back.
func TestResidentSectionsStayWithinTheBound(t *testing.T) {
	type seg struct {
		ref *refSegment
		rd  *Reader
	}
	var segs []seg
	var total, largest int64
	for i := range 6 {
		s := newRefSegment(uint64(10+i), 5000, 1000)
		for _, si := range openBytes(t, s.build()).Sections() {
			if si.Kind != KindKeys {
				total += si.Length
				largest = max(largest, si.Length)
			}
		}
		segs = append(segs, seg{ref: s})
	}
	limit := max(total/4, largest)
	res := NewResident(limit)
	for i := range segs {
		segs[i].rd, _ = openResident(segs[i].ref.build(), res)
	}
	for round := range 3 {
		for _, s := range segs {
			for _, p := range s.ref.probes() {
				got, err := p.run(s.rd)
				if err != nil {
					t.Fatalf("round %d: %s: %v", round, p.name, err)
				}
				if got != p.want {
					t.Fatalf("round %d: %s:\n got %s\nwant %s", round, p.name, got, p.want)
				}
				if used := res.Used(); used > limit {
					t.Fatalf("round %d: %d bytes resident, bound %d", round, used, limit)
				}
			}
		}
	}
	if res.Used() == 0 {
		t.Fatal("nothing stayed resident")
	}
	for _, s := range segs {
		s.rd.Release()
	}
	if used := res.Used(); used != 0 {
		t.Fatalf("%d bytes resident after every Reader was released", used)
	}
	// A released Reader still answers, keeping nothing.
	for _, p := range segs[0].ref.probes() {
		if got, err := p.run(segs[0].rd); err != nil || got != p.want {
			t.Fatalf("after Release: %s: %v %s", p.name, err, got)
		}
	}
	if used := res.Used(); used != 0 {
		t.Fatalf("a released Reader kept %d bytes", used)
	}
}

// probeKeys probes n keys of rows and fails on a wrong answer.
func probeKeys(t *testing.T, rd *Reader, key func(uint32) []byte, rows uint32, n, salt uint32) {
	t.Helper()
	for r := range n {
		row := (r*52 + salt) % rows
		if got, err := rd.AppendKeyRows(nil, "id", key(row)); err != nil || !slices.Contains(got, row) {
			t.Fatalf("row %d: %v, %v", row, got, err)
		}
	}
}

// A keys section read whole for ingest's duplicate check is a piece of the Resident: when
// another section needs the room it goes, its probes read groups from the file again, and it is
// read whole again only after as many probes as the first time (a day that ingest has moved on
// from does not come back at its first probe).
func TestEvictedKeysSectionEarnsItsPlaceAgain(t *testing.T) {
	const rows = 1 << 16
	b, key := keyedBuilder(rows)
	data := b.Marshal(nil)
	var section int64
	for _, si := range openBytes(t, data).Sections() {
		if si.Kind == KindKeys {
			section = si.Length
		}
	}
	res := NewResident(section + section/2) // room for one whole section
	a, ca := openResident(data, res)
	c, cc := openResident(data, res)
	probeKeys(t, a, key, rows, 3000, 0)
	if used := res.Used(); used != section {
		t.Fatalf("after many probes of A: %d bytes resident, want its section's %d", used, section)
	}
	ca.take()
	probeKeys(t, a, key, rows, 500, 1)
	if reads, _ := ca.take(); reads != 0 {
		t.Fatalf("A's probes read the file %d times with its section in memory", reads)
	}
	probeKeys(t, c, key, rows, 3000, 2)
	if used := res.Used(); used != section {
		t.Fatalf("after many probes of C: %d bytes resident, want one section's %d", used, section)
	}
	if a.sections[keysIndex(t, a)].dec.(*keysGroups).whole.mem.Load() != nil {
		t.Fatal("A's section is still in memory after C's took its room")
	}
	cc.take()
	ca.take()
	probeKeys(t, a, key, rows, 40, 3) // fewer than it takes to earn a place again
	if reads, _ := ca.take(); reads < 40 {
		t.Fatalf("40 probes of evicted A read the file %d times, want each probe to read its group", reads)
	}
	probeKeys(t, c, key, rows, 100, 4)
	if reads, _ := cc.take(); reads != 0 {
		t.Fatalf("C, resident, read the file %d times", reads)
	}
	a.Release()
	c.Release()
	if used := res.Used(); used != 0 {
		t.Fatalf("%d bytes resident after Release", used)
	}
	// A released Reader answers from the file, group by group: never the section whole.
	ca.take()
	probeKeys(t, a, key, rows, 3000, 5)
	if reads, n := ca.take(); reads < 3000 || n >= 3000*section/100 {
		t.Fatalf("3000 probes of a released Reader: %d reads, %d bytes (section %d)", reads, n, section)
	}
	if used := res.Used(); used != 0 {
		t.Fatalf("a released Reader kept %d bytes", used)
	}
}

func keysIndex(t *testing.T, rd *Reader) int {
	t.Helper()
	i := rd.find("id", KindKeys)
	if i < 0 {
		t.Fatal("no keys section")
	}
	return i
}

// A section larger than the whole bound is read for each use and never kept.
func TestSectionLargerThanTheBoundIsNotKept(t *testing.T) {
	const rows = 1 << 14
	b, key := keyedBuilder(rows)
	res := NewResident(64)
	rd, cr := openResident(b.Marshal(nil), res)
	probeKeys(t, rd, key, rows, 2000, 0)
	for range 3 {
		if n, err := rd.Bools("flaggedForReview", true); err != nil || n.GetCardinality() != (rows+2)/3 {
			t.Fatalf("flagged rows: %v, %v", n, err)
		}
	}
	if used := res.Used(); used != 0 {
		t.Fatalf("%d bytes resident under a 64-byte bound", used)
	}
	cr.take()
	probeKeys(t, rd, key, rows, 100, 1)
	if reads, _ := cr.take(); reads < 100 {
		t.Fatalf("100 probes read the file %d times: the section was kept", reads)
	}
}

// Many goroutines probing many Readers under a bound that forces evictions all the time get
// the reference's answers (run under -race in CI).
func TestResidentUnderConcurrentProbes(t *testing.T) {
	var refs []*refSegment
	var rds []*Reader
	res := NewResident(4 << 10)
	for i := range 4 {
		s := newRefSegment(uint64(40+i), 3000, 500)
		refs = append(refs, s)
		rd, _ := openResident(s.build(), res)
		rds = append(rds, rd)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for round := range 3 {
				for i := range refs {
					j := (i + g + round) % len(refs)
					for _, p := range refs[j].probes() {
						got, err := p.run(rds[j])
						if err != nil || got != p.want {
							select {
							case errs <- p.name + ": " + got:
							default:
							}
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if used := res.Used(); used > 4<<10 {
		t.Fatalf("%d bytes resident, bound %d", used, 4<<10)
	}
}

// A lookup made again of a section that is not in memory reads nothing from the file: the
// groups it read last are kept checked (two a section). A third group read pushes out the first.
func TestRepeatedLookupReadsTheFileOnce(t *testing.T) {
	const rows = 1 << 16
	b, key := keyedBuilder(rows)
	data := b.Marshal(nil)
	rd, cr := openResident(data, NewResident(0)) // no room: never read whole
	kg := keysGroupsOf(t, rd, "id")
	probe := func(row uint32) int64 {
		cr.take()
		for range 5 {
			if got, err := rd.AppendKeyRows(nil, "id", key(row)); err != nil || !slices.Contains(got, row) {
				t.Fatalf("row %d: %v, %v", row, got, err)
			}
		}
		reads, _ := cr.take()
		return reads
	}
	// Three rows in three different groups.
	var rs []uint32
	seen := map[int]bool{}
	for r := uint32(0); len(rs) < 3; r++ {
		if j := kg.groupOf(KeyHash(key(r))); !seen[j] {
			seen[j] = true
			rs = append(rs, r)
		}
	}
	if n := probe(rs[0]); n != 2 {
		t.Fatalf("5 lookups of one key read the file %d times, want 2 (the table entry and the group, once)", n)
	}
	if n := probe(rs[1]); n != 2 {
		t.Fatalf("another group: %d reads, want 2", n)
	}
	if n := probe(rs[0]); n != 0 {
		t.Fatalf("the first key again: %d reads, want none", n)
	}
	probe(rs[2]) // pushes out the least recently kept, rs[0]'s
	if n := probe(rs[0]); n != 2 {
		t.Fatalf("after two other groups: %d reads, want 2", n)
	}
}
