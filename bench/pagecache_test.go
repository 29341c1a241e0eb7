package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// DropPageCache leaves a directory's files on disk unchanged and out of the page cache.
func TestDropPageCache(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("authlake "), 1<<16) // 576 KiB: many pages
	path := filepath.Join(dir, "sub", "segment")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { // dirty pages, not synced
		t.Fatal(err)
	}
	if err := os.Symlink(path, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := DropPageCache(dir); err != nil {
		t.Fatal(err)
	}
	if err := DropPageCache(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing path was dropped without error")
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the file changed: %d bytes, %v", len(got), err)
	}
	cached := residentPages(t, path)
	if err := DropPageCache(path); err != nil { // a single file too
		t.Fatal(err)
	}
	if cached <= 0 {
		t.Skipf("after a read, %d pages reported cached: this system does not say what it caches", cached)
	}
	if n := residentPages(t, path); n != 0 {
		t.Fatalf("%d of %d cached pages still cached after DropPageCache", n, cached)
	}
}
