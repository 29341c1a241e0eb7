package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMkdirAllDurable(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "segments", "tenant", "2026-11-20")
	if err := MkdirAllDurable(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(deep); err != nil || !st.IsDir() {
		t.Fatalf("%s: %v", deep, err)
	}
	if err := MkdirAllDurable(deep, 0o755); err != nil { // existing: a no-op
		t.Fatal(err)
	}
	file := filepath.Join(root, "f")
	os.WriteFile(file, nil, 0o644)
	if err := MkdirAllDurable(filepath.Join(file, "x"), 0o755); err == nil {
		t.Fatal("a directory under a file was made")
	}
}
