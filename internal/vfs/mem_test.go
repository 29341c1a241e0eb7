package vfs

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
)

func write(t *testing.T, m FS, name, data string, sync bool) {
	t.Helper()
	f, err := m.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func content(m FS, name string) string {
	b, err := ReadFile(m, name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// A power loss keeps exactly what was synced: file data by its file's sync, names by their
// directory's sync, whatever the order they were made in.
func TestCrashKeepsOnlySynced(t *testing.T) {
	m := NewCrashableMem()
	if err := m.Mkdir("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, m, "/d/synced", "one", true)
	write(t, m, "/d/unsynced", "two", false)
	if got := content(m.Crash(nil), "/d/synced"); got != "<open /d/synced: file does not exist>" {
		t.Fatalf("before the directories were synced, /d/synced after a crash: %s", got)
	}
	if err := m.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	c := m.Crash(nil)
	if got := content(c, "/d/synced"); got != "one" {
		t.Fatalf("synced file: %q", got)
	}
	if got := content(c, "/d/unsynced"); got != "" {
		t.Fatalf("an unsynced file's entry survives but not its data: %q", got)
	}
	// A rename not made durable by a directory sync is undone; a removal too.
	write(t, m, "/d/new", "three", true)
	if err := m.Rename("/d/new", "/d/synced"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("/d/unsynced"); err != nil {
		t.Fatal(err)
	}
	c = m.Crash(nil)
	if got := content(c, "/d/synced"); got != "one" {
		t.Fatalf("unsynced rename: %q", got)
	}
	if _, err := c.Stat("/d/unsynced"); err != nil {
		t.Fatalf("unsynced remove: %v", err)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	c = m.Crash(nil)
	if got := content(c, "/d/synced"); got != "three" {
		t.Fatalf("synced rename: %q", got)
	}
	if _, err := c.Stat("/d/unsynced"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("synced remove: %v", err)
	}
}

// With a random source, an appended file keeps its synced prefix and some of its tail.
func TestCrashTornTail(t *testing.T) {
	m := NewCrashableMem()
	f, err := m.OpenFile("/log", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("synced;"))
	f.Datasync()
	f.Write([]byte("tail-tail-tail"))
	m.SyncDir("/")
	lens := map[int]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		got := content(m.Crash(rng), "/log")
		if !bytes.HasPrefix([]byte("synced;tail-tail-tail"), []byte(got)) || len(got) < len("synced;") {
			t.Fatalf("torn file %q is not a prefix holding the synced part", got)
		}
		lens[len(got)] = true
	}
	if len(lens) < 5 {
		t.Fatalf("200 crashes left only %d distinct lengths", len(lens))
	}
}

func TestLockExclusive(t *testing.T) {
	m := NewCrashableMem()
	l, err := m.Lock("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock("/LOCK"); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v", err)
	}
	l.Close()
	if _, err := m.Lock("/LOCK"); err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if _, err := m.Crash(nil).Lock("/LOCK"); err != nil {
		t.Fatalf("a crash releases locks: %v", err)
	}
}

// An injected write error writes half the bytes, as a filling disk does; Nth fails only its
// operation; a Switch fails its kinds while on.
func TestInject(t *testing.T) {
	m := NewCrashableMem()
	nth := &Nth{N: 2, Errno: syscall.ENOSPC, Kinds: []OpKind{OpWrite}}
	fsys := Inject(m, nth.Inject)
	f, err := fsys.OpenFile("/f", os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("abcd")); err != nil {
		t.Fatal(err)
	}
	n, err := f.Write([]byte("efgh"))
	if !errors.Is(err, syscall.ENOSPC) || n != 2 {
		t.Fatalf("second write: %d, %v; want 2, ENOSPC", n, err)
	}
	if _, err := f.Write([]byte("ij")); err != nil {
		t.Fatal(err)
	}
	if got := content(m, "/f"); got != "abcdefij" || nth.Seen() != 3 {
		t.Fatalf("content %q after %d writes", got, nth.Seen())
	}
	sw := &Switch{Errno: syscall.EIO, Kinds: []OpKind{OpSync, OpSyncDir}}
	fsys = Inject(m, sw.Inject)
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	sw.On()
	if err := fsys.SyncDir("/"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("switched on: %v", err)
	}
	sw.Off()
	if err := fsys.SyncDir("/"); err != nil || sw.Hits() != 1 {
		t.Fatalf("switched off: %v, %d hits", err, sw.Hits())
	}
}

// The operating system's file system does what the in-memory one does, for the calls the
// storage code makes.
func TestOSLock(t *testing.T) {
	path := t.TempDir() + "/LOCK"
	l, err := Default.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Default.Lock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second flock in one process: %v", err)
	}
	l.Close()
}
