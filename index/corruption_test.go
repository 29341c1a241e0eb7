package index

import (
	"bytes"
	"errors"
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
// different from the intact file's.
func TestEverySingleByteCorruptionIsDetected(t *testing.T) {
	s := newRefSegment(21, 300, 64)
	data := s.build()
	ps := s.probes()
	for _, flip := range []byte{0x01, 0x80, 0xff} {
		for off := range data {
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
