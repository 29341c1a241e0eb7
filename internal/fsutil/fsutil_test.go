package fsutil

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// CreateExclusive publishes a file whole or not at all: a power loss before any of its
// operations (each crash state taken with the directory's and the file's unsynced changes kept
// or lost at random) leaves no file or all of it; after it returns the file is durable; a second
// writer gets fs.ErrExist and changes nothing; no temporary file stays.
func TestCreateExclusive(t *testing.T) {
	m := vfs.NewCrashableMem()
	if err := m.Mkdir("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	data := []byte("-----BEGIN PRIVATE KEY-----\nwhole\n-----END PRIVATE KEY-----\n")
	var crashes []*vfs.MemFS
	rng := rand.New(rand.NewPCG(1, 2))
	fsys := vfs.Inject(m, func(vfs.Op) error {
		for range 8 {
			crashes = append(crashes, m.Crash(rng))
		}
		return nil
	})
	if err := CreateExclusive(fsys, "/d/key", data, 0o600); err != nil {
		t.Fatal(err)
	}
	crashes = append(crashes, m.Crash(nil))
	var states [2]int // no file, the whole file
	for i, c := range crashes {
		b, err := vfs.ReadFile(c, "/d/key")
		switch {
		case errors.Is(err, fs.ErrNotExist):
			states[0]++
		case err == nil && bytes.Equal(b, data):
			states[1]++
		default:
			t.Fatalf("crash state %d left %q (%v)", i, b, err)
		}
	}
	if last, err := vfs.ReadFile(crashes[len(crashes)-1], "/d/key"); err != nil || !bytes.Equal(last, data) {
		t.Fatalf("after its return the file is not durable: %q %v", last, err)
	}
	if states[0] == 0 || states[1] < 2 {
		t.Fatalf("crash states (none, whole) %v: expected both", states)
	}
	if err := CreateExclusive(m, "/d/key", []byte("other"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second writer: %v, want fs.ErrExist", err)
	}
	if b, _ := vfs.ReadFile(m, "/d/key"); !bytes.Equal(b, data) {
		t.Fatalf("second writer changed the file to %q", b)
	}
	if ents, _ := m.ReadDir("/d"); len(ents) != 1 {
		t.Fatalf("entries left: %v", ents)
	}
	t.Logf("%d crash states: %d without the file, %d with all of it", len(crashes), states[0], states[1])
}

// Writers and readers racing on a real directory: exactly one writer wins, and every read sees
// no file or one writer's whole bytes.
func TestCreateExclusiveRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	const writers = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte('a' + w)}, 64<<10)
			err := CreateExclusive(vfs.Default, path, data, 0o600)
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, fs.ErrExist) {
				t.Error(err)
			}
		}()
	}
	var reads sync.WaitGroup
	for range 2 {
		reads.Add(1)
		go func() {
			defer reads.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := os.ReadFile(path)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil || len(b) != 64<<10 || bytes.Count(b, b[:1]) != len(b) {
					t.Errorf("read %d bytes (%v): not one writer's whole file", len(b), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	reads.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers won", wins.Load())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("entries left: %v", ents)
	}
}

// TestReadEnds: the header and the tail come from the two ends, a file shorter than both gives
// the bytes after its header, and a short read or a file shorter than the header is an error.
func TestReadEnds(t *testing.T) {
	data := []byte("HEADbody-body-body-TAIL")
	r := bytes.NewReader(data)
	head := make([]byte, 4)
	tail, err := ReadEnds(r, int64(len(data)), head, 4)
	if err != nil || string(head) != "HEAD" || string(tail) != "TAIL" {
		t.Fatalf("%q %q %v", head, tail, err)
	}
	tail, err = ReadEnds(r, int64(len(data)), head, 1000)
	if err != nil || string(tail) != "body-body-body-TAIL" {
		t.Fatalf("short file: %q %v", tail, err)
	}
	if _, err := ReadEnds(r, 40, head, 8); err == nil {
		t.Fatal("a size past the end read without error")
	}
	if _, err := ReadEnds(bytes.NewReader(data[:2]), 2, head, 8); err == nil {
		t.Fatal("a file shorter than its header read without error")
	}
}
