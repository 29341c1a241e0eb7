package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// probeResults runs every probe; a failed probe is recorded as an error, not fatal.
func probeResults(rd *Reader, ps []probe) ([]string, []error) {
	got := make([]string, len(ps))
	errs := make([]error, len(ps))
	for i, p := range ps {
		got[i], errs[i] = p.run(rd)
	}
	return got, errs
}

// Every byte of a sidecar is covered by a CRC, so flipping any single byte must be
// detected by Open or by a probe of the affected section, and no probe may return rows
// different from the intact file's. Under the race detector each byte is flipped one of the
// three ways (raceEnabled).
func TestEverySingleByteCorruptionIsDetected(t *testing.T) {
	s := newRefSegment(21, 300, 64)
	data := s.build()
	ps := s.probes()
	flips := []byte{0x01, 0x80, 0xff}
	for k, flip := range flips {
		for off := range data {
			if raceEnabled && off%len(flips) != k {
				continue // one flip per byte, in turn
			}
			bad := bytes.Clone(data)
			bad[off] ^= flip
			rd, err := Open(bytes.NewReader(bad), int64(len(bad)))
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^%#x: Open error %v does not wrap ErrCorrupt", off, flip, err)
				}
				continue
			}
			got, errs := probeResults(rd, ps)
			detected := false
			for i := range ps {
				if errs[i] != nil {
					if !errors.Is(errs[i], ErrCorrupt) {
						t.Fatalf("byte %d ^%#x: %s: error %v does not wrap ErrCorrupt", off, flip, ps[i].name, errs[i])
					}
					detected = true
					continue
				}
				if got[i] != ps[i].want {
					t.Fatalf("byte %d ^%#x: %s returned wrong rows:\n got %s\nwant %s", off, flip, ps[i].name, got[i], ps[i].want)
				}
			}
			if !detected {
				t.Fatalf("byte %d ^%#x: corruption went undetected", off, flip)
			}
		}
	}
}

func TestTruncatedAndExtendedFilesAreRejected(t *testing.T) {
	s := newRefSegment(22, 200, 50)
	data := s.build()
	for n := 0; n < len(data); n++ {
		if _, err := Open(bytes.NewReader(data[:n]), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: Open = %v, want ErrCorrupt", n, len(data), err)
		}
	}
	// Garbage prepended or appended moves the trailer or the sections.
	for _, bad := range [][]byte{append(bytes.Clone(data), 0), append([]byte{0}, data...)} {
		if _, err := Open(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%d bytes: Open = %v, want ErrCorrupt", len(bad), err)
		}
	}
}

// A section whose offset is wrong but whose trailer and directory are intact must fail
// on first probe with an error naming the section and its offset.
func TestSectionErrorNamesSectionAndOffset(t *testing.T) {
	s := newRefSegment(23, 100, 50)
	data := s.build()
	rd := openBytes(t, data)
	var userOff int64
	for _, sec := range rd.Sections() {
		if sec.Column == "user" {
			userOff = sec.Offset
		}
	}
	data[userOff] ^= 0x10
	rd = openBytes(t, data)
	_, err := rd.Codes("user", 0)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	want := `section codes "user" at offset`
	if !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	// The error is sticky: the section is not re-read with possibly different bytes.
	if _, err2 := rd.CodesNull("user"); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second probe: %v, want the same error", err2)
	}
	// Other sections still work.
	if _, err := rd.Bools("flaggedForReview", true); err != nil {
		t.Fatalf("unaffected section: %v", err)
	}
}

// keyedBuilder holds an "id" keys section over rows distinct keys, and a bools section.
func keyedBuilder(rows uint32) (*Builder, func(r uint32) []byte) {
	return keyedBuilderOf(NewBuilder(rows))
}

// keyedBuilderOf is keyedBuilder into b (oldKeysBuilder: keys of layout 3).
func keyedBuilderOf(b *Builder) (*Builder, func(r uint32) []byte) {
	key := func(r uint32) []byte { return binary.LittleEndian.AppendUint64([]byte("request-"), uint64(r)) }
	if err := b.AddKeys("id", 1, func(r uint32) ([]byte, bool) { return key(r), true }); err != nil {
		panic(err)
	}
	if err := b.AddBools("flaggedForReview", func(r uint32) (bool, bool) { return r%3 == 0, true }); err != nil {
		panic(err)
	}
	return b, key
}

func keyedSidecar(rows uint32) ([]byte, func(r uint32) []byte) {
	b, key := keyedBuilder(rows)
	return b.Marshal(nil), key
}

func keysGroupsOf(t *testing.T, rd *Reader, column string) *keysGroups {
	t.Helper()
	kp, _, err := rd.keys(column)
	if err != nil {
		t.Fatal(err)
	}
	return kp.(*keysGroups)
}

// group returns the file offset and length of group j, read from the intact table.
func (kg *keysGroups) group(data []byte, j int) (off, length int64) {
	ent := data[kg.off+keysGroupedHeaderLen+keyGroupEntryLen*int64(j):]
	start, end := binary.LittleEndian.Uint32(ent), binary.LittleEndian.Uint32(ent[8:])
	endsLen := int64(kg.e) << kg.g
	return kg.off + kg.groupsOff() + int64(j)*endsLen + int64(start)*int64(kg.entryLen), endsLen + int64(end-start)*int64(kg.entryLen)
}

func (kg *keysGroups) groupOf(h uint64) int { return int(keyBucket(h, kg.b) >> kg.g) }

// A damaged bucket group fails the probes that read it with an error naming the section, the
// group and its offset; the other groups, and the other sections, still answer.
func TestKeysGroupErrorNamesGroupAndOffset(t *testing.T) {
	data, key := keyedSidecar(20_000)
	kg := keysGroupsOf(t, openBytes(t, data), "id")
	if kg.groups < 8 {
		t.Fatalf("%d groups; the test wants several", kg.groups)
	}
	var in5, in6 uint32
	for r := range uint32(20_000) {
		switch kg.groupOf(KeyHash(key(r))) {
		case 5:
			in5 = r
		case 6:
			in6 = r
		}
	}
	off, length := kg.group(data, 5)
	bad := bytes.Clone(data)
	bad[off+length/2] ^= 0x20
	rd := openBytes(t, bad)
	_, err := rd.AppendKeyRows(nil, "id", key(in5))
	want := fmt.Sprintf(`section keys "id" at offset %d: index: corrupt sidecar: group 5 of %d at offset %d (%d bytes): crc32c mismatch`, kg.off, kg.groups, off, length)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want ErrCorrupt containing %q", err, want)
	}
	if rows, err := rd.AppendKeyRows(nil, "id", key(in6)); err != nil || !slices.Contains(rows, in6) {
		t.Fatalf("a key of an intact group: %v, %v", rows, err)
	}

	// A damaged table entry is caught by the check of the group it locates.
	bad = bytes.Clone(data)
	bad[kg.off+keysGroupedHeaderLen+keyGroupEntryLen*5+4] ^= 0x01 // group 5's crc
	if _, err := openBytes(t, bad).AppendKeyRows(nil, "id", key(in5)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want ErrCorrupt containing %q", err, want)
	}

	// A damaged section header fails every probe of the section, and only of that section.
	bad = bytes.Clone(data)
	bad[kg.off+4] ^= 0x01
	rd = openBytes(t, bad)
	_, err = rd.Keys("id", key(in6))
	want = fmt.Sprintf(`section keys "id" at offset %d (%d bytes): index: corrupt sidecar: keys header: crc32c mismatch`, kg.off, kg.groupsOff()+int64(kg.e)<<kg.b+int64(kg.entryLen)*int64(kg.n))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want ErrCorrupt containing %q", err, want)
	}
	if _, err := rd.Bools("flaggedForReview", true); err != nil {
		t.Fatalf("unaffected section: %v", err)
	}
}

// Every byte of a grouped keys section is covered by the header's or some group's CRC: flipping
// any one fails a probe of some group, and no probe returns other rows than the intact section.
func TestEveryByteOfKeyGroupsIsCovered(t *testing.T) {
	const n = 400
	hashes, rows := make([]uint64, n), make([]uint32, n)
	for i := range hashes {
		hashes[i], rows[i] = KeyHash(binary.LittleEndian.AppendUint32(nil, uint32(i))), uint32(i)
	}
	hashes[9] = hashes[8] // a repeated key
	data := marshalKeysGrouped(nil, sortKeys(slices.Clone(hashes), slices.Clone(rows)), n, 1, 64, keysLayoutPacked)
	kg, err := openKeysPayload(data, n)
	if err != nil {
		t.Fatal(err)
	}
	if kg.groups < 16 {
		t.Fatalf("%d groups; the test wants many", kg.groups)
	}
	// One probe per group: a key of the group, or any hash in it if it has none.
	probes := make([]uint64, kg.groups)
	for j := range probes {
		probes[j] = uint64(j) << (64 - (kg.b - kg.g))
	}
	for _, h := range hashes {
		probes[kg.groupOf(h)] = h
	}
	want := make([]string, len(probes))
	for j, h := range probes {
		got, err := appendRows(kg, nil, h)
		if err != nil {
			t.Fatal(err)
		}
		want[j] = rowsString(got)
	}
	for _, flip := range []byte{0x01, 0x80} {
		for off := range data {
			bad := bytes.Clone(data)
			bad[off] ^= flip
			kg, err := openKeysPayload(bad, n)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^%#x: open: %v does not wrap ErrCorrupt", off, flip, err)
				}
				continue
			}
			detected := false
			for j, h := range probes {
				got, err := appendRows(kg, nil, h)
				switch {
				case err != nil && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "group ")):
					t.Fatalf("byte %d ^%#x: group %d: %v does not wrap ErrCorrupt or name the group", off, flip, j, err)
				case err != nil:
					detected = true
				case rowsString(got) != want[j]:
					t.Fatalf("byte %d ^%#x: group %d returned rows %v, want %s", off, flip, j, got, want[j])
				}
			}
			if !detected {
				t.Fatalf("byte %d ^%#x: corruption went undetected", off, flip)
			}
		}
	}
}

// Once a section is read whole, a damaged group still fails every probe that reads it (it is
// never marked checked), and the intact groups go on answering, read in place.
func TestDamagedGroupFailsEveryProbeOfASectionInMemory(t *testing.T) {
	data, key := keyedSidecar(20_000)
	kg := keysGroupsOf(t, openBytes(t, data), "id")
	var in5 []uint32
	var others []uint32
	for r := range uint32(20_000) {
		if kg.groupOf(KeyHash(key(r))) == 5 {
			in5 = append(in5, r)
		} else {
			others = append(others, r)
		}
	}
	off, length := kg.group(data, 5)
	bad := bytes.Clone(data)
	bad[off+length/2] ^= 0x20
	rd := openBytes(t, bad)
	// Enough probes of intact groups to have the section read whole.
	for _, r := range others[:max(200, kg.groups)] {
		if rows, err := rd.AppendKeyRows(nil, "id", key(r)); err != nil || !slices.Contains(rows, r) {
			t.Fatalf("row %d of an intact group: %v, %v", r, rows, err)
		}
	}
	if keysGroupsOf(t, rd, "id").whole.mem.Load() == nil {
		t.Fatal("the section was not read whole; the test checks the in-memory path")
	}
	for i := range 3 {
		for _, r := range in5[:min(len(in5), 5)] {
			if _, err := rd.AppendKeyRows(nil, "id", key(r)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("probe %d of the damaged group, row %d: %v", i, r, err)
			}
		}
	}
	for _, r := range others[len(others)-100:] {
		if rows, err := rd.AppendKeyRows(nil, "id", key(r)); err != nil || !slices.Contains(rows, r) {
			t.Fatalf("row %d of an intact group after the damaged one failed: %v, %v", r, rows, err)
		}
	}
}
