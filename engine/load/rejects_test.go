package load

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRejectFilesNeverOverwritten: two sinks given the same path (two ingests started in the
// same second get the same default name) keep both sets of records and reasons.
func TestRejectFilesNeverOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "20261120T143000Z.ndjson")
	a, b := &FileRejects{Path: path}, &FileRejects{Path: path}
	if err := a.Reject("one.ndjson", 1, 1, "bad", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := b.Reject("two.ndjson", 7, 3, "worse", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if a.Path == b.Path || !strings.HasSuffix(b.Path, "-2.ndjson") {
		t.Fatalf("both sinks wrote %s and %s", a.Path, b.Path)
	}
	for _, c := range []struct{ path, data, reason string }{{a.Path, "first", "one.ndjson:1:1"}, {b.Path, "second", "two.ndjson:7:3"}} {
		d, _ := os.ReadFile(c.path)
		r, _ := os.ReadFile(c.path + ".reasons")
		if string(d) != c.data+"\n" || !strings.Contains(string(r), c.reason) {
			t.Fatalf("%s holds %q / %q", c.path, d, r)
		}
	}
}

// TestRejectFilesBounded: past MaxBytes, rejects are counted, not written, and the reasons file
// says how many were left out.
func TestRejectFilesBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	f := &FileRejects{Path: path, MaxBytes: 4096}
	for i := range 1000 {
		if err := f.Reject("in", i+1, 1, "not valid JSON", []byte("{}{}{}{}{}{}{}{}{}{}")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	d, _ := os.Stat(path)
	r, _ := os.ReadFile(path + ".reasons")
	if f.Count()+f.Dropped != 1000 || f.Dropped == 0 || d.Size()+int64(len(r)) > 4096+200 ||
		!strings.Contains(string(r), strconv.Itoa(f.Dropped)+" more rejected records were not written") {
		t.Fatalf("written %d, dropped %d, %d+%d bytes:\n%s", f.Count(), f.Dropped, d.Size(), len(r), r)
	}
}
