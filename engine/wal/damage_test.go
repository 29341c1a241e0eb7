package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// appendN writes n records "rec-<i>" of ~200 bytes to a fresh log in dir and closes it; it
// returns the active file's path.
func appendN(t *testing.T, dir string, n int, opts Options) string {
	t.Helper()
	l, _, _ := openReplayed(t, dir, opts)
	for i := range n {
		if _, err := l.Append(fmt.Appendf(nil, "rec-%05d-%0190d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	l.filesMu.Lock()
	path := l.path(l.files[len(l.files)-1])
	l.filesMu.Unlock()
	mustClose(t, l)
	return path
}

// TestBitFlipInActiveFileIsCorruptionNotTornTail: one flipped bit in the middle of the last file
// used to be taken for a torn tail, and every acknowledged record after it was truncated away.
// Now Open's replay reports corruption with the file and offset, changes nothing on disk, and
// Repair recovers every record before and after the damaged one.
func TestBitFlipInActiveFileIsCorruptionNotTornTail(t *testing.T) {
	dir := t.TempDir()
	const n = 1000
	path := appendN(t, dir, n, Options{Logger: quiet})
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(orig)
	mid := len(damaged) / 2
	damaged[mid] ^= 0x10
	if err := os.WriteFile(path, damaged, 0o644); err != nil {
		t.Fatal(err)
	}

	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Replay(func(Pos, []byte) error { return nil })
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.File != path || ce.Offset <= 20 || ce.Offset > int64(mid) || ce.ValidAfter <= int64(mid) {
		t.Fatalf("replay of a flipped bit: %v (want corruption in %s before offset %d with a valid record after it)", err, path, mid)
	}
	l.Close()
	if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
		t.Fatalf("the damaged file was changed (%d bytes, was %d): evidence destroyed", len(now), len(damaged))
	}

	rep, err := Repair(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 1 || len(rep.Rewritten) != 1 || rep.Kept != n-1 {
		t.Fatalf("repair: %+v", rep)
	}
	if kept, _ := os.ReadFile(filepath.Join(dir, CorruptDir, filepath.Base(path))); !bytes.Equal(kept, damaged) {
		t.Fatal("the original was not kept aside in corrupt/")
	}
	got, _ := replayAll(t, dir, Options{Logger: quiet})
	if len(got) != n-1 {
		t.Fatalf("after repair %d records replay, want %d (all but the damaged one)", len(got), n-1)
	}
	for i, j := 0, 0; i < n; i++ {
		want := fmt.Sprintf("rec-%05d-", i)
		if j < len(got) && strings.HasPrefix(string(got[j]), want) {
			j++
		} else if i < n-1 && j < len(got) && !strings.HasPrefix(string(got[j]), fmt.Sprintf("rec-%05d-", i+1)) {
			t.Fatalf("record %d is neither kept nor the one damaged record", i)
		}
	}
}

// TestTornTailStillTruncated: a partial last record followed by zeros, and nothing valid after
// it, is what a crash leaves; it is still truncated with a warning, and the log opens.
func TestTornTailStillTruncated(t *testing.T) {
	dir := t.TempDir()
	path := appendN(t, dir, 50, Options{Logger: quiet})
	b, _ := os.ReadFile(path)
	cut := len(b) - 100 // inside the last record
	b = append(b[:cut], make([]byte, 4096)...)
	os.WriteFile(path, b, 0o644)
	got, stats := replayAll(t, dir, Options{Logger: quiet})
	if len(got) != 49 || stats.TornBytes == 0 {
		t.Fatalf("torn tail: %d records, %+v", len(got), stats)
	}
}

// TestMissingWALFilesAreErrors: deleting the newest file, the oldest kept file or every file
// loses acknowledged records, so Open refuses and says which file is missing.
func TestMissingWALFilesAreErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		drop func(files []string) []string
	}{
		{"newest", func(f []string) []string { return f[len(f)-1:] }},
		{"oldest", func(f []string) []string { return f[:1] }},
		{"middle", func(f []string) []string { return f[1:2] }},
		{"all", func(f []string) []string { return f }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l, _, _ := openReplayed(t, dir, Options{Logger: quiet})
			for i := range 3 {
				if _, err := l.Append([]byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Rotate(); err != nil {
					t.Fatal(err)
				}
			}
			mustClose(t, l)
			files, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
			for _, f := range c.drop(files) {
				os.Remove(f)
			}
			if _, err := Open(dir, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "missing") {
				t.Fatalf("open with the %s WAL file(s) deleted: %v", c.name, err)
			}
		})
	}
}

// TestReadOnlyReplayChangesNothing: a read-only replay of a log with a torn tail reads what is
// valid and leaves every byte and file as it was.
func TestReadOnlyReplayChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := appendN(t, dir, 20, Options{Logger: quiet})
	b, _ := os.ReadFile(path)
	b = append(b[:len(b)-50], 0xff, 0x01)
	os.WriteFile(path, b, 0o644)
	before, _ := filepath.Glob(filepath.Join(dir, "*"))
	l, err := Open(dir, Options{Logger: quiet, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := l.Replay(func(Pos, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on a read-only log: %v", err)
	}
	mustClose(t, l)
	after, _ := filepath.Glob(filepath.Join(dir, "*"))
	if now, _ := os.ReadFile(path); n != 19 || !bytes.Equal(now, b) || len(after) != len(before) {
		t.Fatalf("read-only replay: %d records, file changed %v, files %d -> %d", n, !bytes.Equal(now, b), len(before), len(after))
	}
}
