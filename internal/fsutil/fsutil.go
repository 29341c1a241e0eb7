// Package fsutil is the storage plumbing every room that writes files shares, on a vfs.FS:
// directory fsync, durable directory creation and atomic file replacement. (The checksummed
// log is engine/wal; the file systems themselves, real, crashable and error-injecting, are
// internal/vfs.)
package fsutil

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/internal/failpoint"
	"github.com/authlake/authlake/internal/vfs"
)

// SyncDir fsyncs a directory so that a create, rename or remove inside it is durable.
func SyncDir(fsys vfs.FS, dir string) error {
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// MkdirAllDurable is os.MkdirAll that also makes the new directories survive power loss: each
// directory it creates is fsynced in its parent (a new directory's entry lives in the parent,
// and without that fsync a power loss can lose the directory and every file made in it, e.g. a
// new tenant's or day's segments after the WAL that held them was removed).
func MkdirAllDurable(fsys vfs.FS, dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := fsys.Mkdir(d, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := SyncDir(fsys, filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data so that a crash or power loss leaves either the old
// file or the new one, never a mix: a temporary file beside it is written and synced, renamed
// over path, and the directory synced. noSync skips both syncs (tests and benchmarks that
// measure something else).
func WriteFileAtomic(fsys vfs.FS, path string, data []byte, perm fs.FileMode, noSync bool) error {
	f, err := CreateAtomic(fsys, path, perm, noSync)
	if err != nil {
		return err
	}
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
	fs     vfs.FS
	f      vfs.File
	path   string
	noSync bool
}

// CreateAtomic starts an AtomicFile for path.
func CreateAtomic(fsys vfs.FS, path string, perm fs.FileMode, noSync bool) (*AtomicFile, error) {
	f, err := fsys.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{fs: fsys, f: f, path: path, noSync: noSync}, nil
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
		if err := a.f.Sync(); err != nil {
			a.Abort()
			return fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if err := a.f.Close(); err != nil {
		a.fs.Remove(tmp)
		return err
	}
	failpoint.Hit(failpoint.AtomicBeforeRename)
	if err := a.fs.Rename(tmp, a.path); err != nil {
		a.fs.Remove(tmp)
		return err
	}
	if a.noSync {
		return nil
	}
	failpoint.Hit(failpoint.AtomicBeforeDirSync)
	return SyncDir(a.fs, filepath.Dir(a.path))
}

// Abort drops the file; its path keeps what it had.
func (a *AtomicFile) Abort() {
	a.f.Close()
	a.fs.Remove(a.f.Name())
}

// CreateExclusive writes data at path if, and only if, nothing is there yet, so that whoever
// reads path sees all of data or no file: the bytes go to a file of their own beside path,
// synced, and are then linked at path, which fails with fs.ErrExist when another writer (or
// process) got there first. (Creating path with O_EXCL and then writing it would let a reader
// in between see an empty or half-written file: a server and `authlake token` started together
// both make the development signing key.)
func CreateExclusive(fsys vfs.FS, path string, data []byte, perm fs.FileMode) error {
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := fmt.Sprintf("%s.%x.tmp", path, suffix)
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Link(tmp, path)
	}
	fsys.Remove(tmp)
	if err != nil {
		return err
	}
	return SyncDir(fsys, filepath.Dir(path))
}
