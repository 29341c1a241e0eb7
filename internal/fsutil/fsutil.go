// Package fsutil is the storage plumbing every room that writes files shares: directory fsync
// and durable directory creation. (Atomic file replacement, locks and checksummed logs are to
// move here too; see the issue on shared plumbing.)
package fsutil

import (
	"errors"
	"fmt"
	"github.com/authlake/authlake/internal/failpoint"
	"os"
	"path/filepath"
)

// SyncDir fsyncs a directory so that a create, rename or remove inside it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// MkdirAllDurable is os.MkdirAll that also makes the new directories survive power loss: each
// directory it creates is fsynced in its parent (a new directory's entry lives in the parent,
// and without that fsync a power loss can lose the directory and every file made in it, e.g. a
// new tenant's or day's segments after the WAL that held them was removed).
func MkdirAllDurable(dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, perm); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data so that a crash or power loss leaves either the old
// file or the new one, never a mix: a temporary file beside it is written and synced, renamed
// over path, and the directory synced. sync flushes the temporary file (nil: (*os.File).Sync);
// noSync skips both syncs (tests and benchmarks that measure something else).
func WriteFileAtomic(path string, data []byte, perm os.FileMode, sync func(*os.File) error, noSync bool) error {
	f, err := CreateAtomic(path, perm, noSync)
	if err != nil {
		return err
	}
	f.sync = sync
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// AtomicFile is a file written in a stream that appears at its path whole or not at all: it is
// written beside it (path + ".tmp"), and Commit syncs it, renames it over path and syncs the
// directory, as WriteFileAtomic does with bytes in memory.
type AtomicFile struct {
	f      *os.File
	path   string
	noSync bool
	sync   func(*os.File) error
}

// CreateAtomic starts an AtomicFile for path.
func CreateAtomic(path string, perm os.FileMode, noSync bool) (*AtomicFile, error) {
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{f: f, path: path, noSync: noSync}, nil
}

// Write appends to the file (not visible at its path before Commit).
func (a *AtomicFile) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	if err != nil {
		err = fmt.Errorf("write %s: %w", a.f.Name(), err)
	}
	return n, err
}

// Commit makes the file durable at its path. On error the temporary file is removed.
func (a *AtomicFile) Commit() error {
	tmp := a.f.Name()
	if !a.noSync {
		sync := a.sync
		if sync == nil {
			sync = (*os.File).Sync
		}
		if err := sync(a.f); err != nil {
			a.Abort()
			return fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if err := a.f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	failpoint.Hit(failpoint.AtomicBeforeRename)
	if err := os.Rename(tmp, a.path); err != nil {
		os.Remove(tmp)
		return err
	}
	if a.noSync {
		return nil
	}
	failpoint.Hit(failpoint.AtomicBeforeDirSync)
	return SyncDir(filepath.Dir(a.path))
}

// Abort drops the file; its path keeps what it had.
func (a *AtomicFile) Abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}
