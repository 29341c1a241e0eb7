package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
)

func TestMkdirAllDurable(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "segments", "tenant", "2026-11-20")
	if err := MkdirAllDurable(vfs.Default, deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(deep); err != nil || !st.IsDir() {
		t.Fatalf("%s: %v", deep, err)
	}
	if err := MkdirAllDurable(vfs.Default, deep, 0o755); err != nil { // existing: a no-op
		t.Fatal(err)
	}
	file := filepath.Join(root, "f")
	os.WriteFile(file, nil, 0o644)
	if err := MkdirAllDurable(vfs.Default, filepath.Join(file, "x"), 0o755); err == nil {
		t.Fatal("a directory under a file was made")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range []string{"one", "two, longer"} {
		if err := WriteFileAtomic(vfs.Default, path, []byte(data), 0o600, false); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != data {
			t.Fatalf("read %q, want %q", b, data)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Fatal("the temporary file was left behind")
	}
	// A failing sync leaves the old file in place.
	fail := &vfs.Switch{Errno: syscall.EIO, Kinds: []vfs.OpKind{vfs.OpSync}}
	fail.On()
	if err := WriteFileAtomic(vfs.Inject(vfs.Default, fail.Inject), path, []byte("three"), 0o600, false); !errors.Is(err, syscall.EIO) {
		t.Fatal("a failed sync was not reported")
	}
	if b, _ := os.ReadFile(path); string(b) != "two, longer" {
		t.Fatalf("after a failed sync the file reads %q", b)
	}
}
