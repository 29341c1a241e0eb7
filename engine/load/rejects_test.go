package load

import (
	"os"
	"path/filepath"
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
