package wal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
)

// A read-only replay beside a live writer took the file's size before the writer cut its tail:
// the bytes past the new end are gone, not an error (isZero, for the writer, still reports a
// file shorter than it was told).
func TestZeroOrGoneToleratesACutTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := vfs.Default.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if zero, err := zeroOrGone(f, 20, 4096); err != nil || !zero {
		t.Fatalf("cut tail: %v, %v; want zero, no error", zero, err)
	}
	if zero, err := zeroOrGone(f, 4, 4096); err != nil || !zero {
		t.Fatalf("zeros then a cut tail: %v, %v; want zero, no error", zero, err)
	}
	if _, err := isZero(f, 20, 4096); err == nil {
		t.Fatal("isZero accepted a file shorter than its size")
	}
	if err := os.WriteFile(path, append(make([]byte, 10), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if zero, err := zeroOrGone(f, 0, 4096); err != nil || zero {
		t.Fatalf("a non-zero byte before the cut: %v, %v; want not zero", zero, err)
	}
}
