package load

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzArchiveState: any state file either loads or is refused with an error; never a panic, and
// a refused one leaves no offsets behind (the blobs are read from their start).
func FuzzArchiveState(f *testing.F) {
	f.Add([]byte(`{"version":1,"root":"/r","blobs":{"a/PT1H.json":120}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		state := filepath.Join(t.TempDir(), "state.json")
		os.WriteFile(state, b, 0o644)
		a := &Archive{Store: DirStore{Root: "/r"}, State: state}
		if err := a.load(); err != nil && len(a.offsets) != 0 {
			t.Fatalf("a refused state left offsets: %v", a.offsets)
		}
	})
}

// A blob that shrank is an error naming it, not a silent re-read or a negative section.
func TestArchiveBlobShrank(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "y=2026", "PT1H.json")
	os.MkdirAll(filepath.Dir(blob), 0o755)
	os.WriteFile(blob, []byte("{\"a\":1}\n{\"a\":2}\n"), 0o644)
	a := &Archive{Store: DirStore{Root: dir}, State: filepath.Join(dir, "state.json"), NoSync: true}
	if _, err := a.Sources(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	os.WriteFile(blob, []byte("{\"a\":1}\n"), 0o644)
	b := &Archive{Store: DirStore{Root: dir}, State: filepath.Join(dir, "state.json"), NoSync: true}
	defer b.Close()
	if _, err := b.Sources(context.Background()); err == nil {
		t.Fatal("a blob that shrank was read")
	}
}
