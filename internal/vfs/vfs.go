// Package vfs is the file system the storage code writes its durable state through: the WAL,
// segments and their index sidecars, the manifest and the flagging log. Production uses the
// operating system's (Default); tests use a crashable in-memory one (NewCrashableMem), whose
// Crash keeps only what was synced, as a power loss does, and an error-injecting wrapper
// (Inject: ENOSPC, EIO or a short write on the N-th operation of a kind), after Pebble's
// vfs.NewCrashableMem and errorfs.
//
// Why not Pebble's own vfs: importing it links cockroachdb/errors, sentry-go and gogo/protobuf
// into every program that embeds authlake, and its File has no Truncate and preallocates
// without changing the size, which the WAL's sealed-file rule and its cheap fdatasync rely on.
// The interface here is the dozen calls the storage code makes, no more.
package vfs

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
)

// File is an open file of an FS.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Seeker
	io.Closer
	Name() string
	Stat() (fs.FileInfo, error)
	// Sync makes the file's data and metadata durable (fsync).
	Sync() error
	// Datasync makes the data and the metadata needed to read it back durable (fdatasync).
	Datasync() error
	Truncate(size int64) error
	// Preallocate reserves zeros up to size, growing the file (fallocate mode 0), so that later
	// syncs of writes inside that range need not journal a size change. errors.ErrUnsupported
	// where the file system cannot, or has too little room to spare.
	Preallocate(size int64) error
}

// FS is a file system. Paths are the operating system's (filepath), absolute or relative.
type FS interface {
	// OpenFile opens as os.OpenFile does, with os.O_* flags.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Open opens for reading.
	Open(name string) (File, error)
	Remove(name string) error
	RemoveAll(name string) error
	Rename(oldname, newname string) error
	// Link makes newname a second name of the file oldname, failing (fs.ErrExist) when newname
	// exists: the one atomic "create if absent" that publishes a file already written whole.
	Link(oldname, newname string) error
	Mkdir(name string, perm fs.FileMode) error
	Stat(name string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
	// SyncDir makes the creations, renames and removals inside a directory durable.
	SyncDir(name string) error
	// Lock takes an exclusive lock on the file name (created if missing) without waiting, or
	// fails with ErrLocked. Closing the returned file releases it.
	Lock(name string) (File, error)
}

// ErrLocked is the error of a Lock another holder has.
var ErrLocked = errors.New("locked by another holder")

// ReadFile reads a whole file.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// WalkFiles calls fn with the path of every regular file under root, in lexical order. A
// missing root is no files.
func WalkFiles(fsys FS, root string, fn func(path string) error) error {
	entries, err := fsys.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if e.IsDir() {
			err = WalkFiles(fsys, p, fn)
		} else {
			err = fn(p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func sortEntries(es []fs.DirEntry) []fs.DirEntry {
	slices.SortFunc(es, func(a, b fs.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return es
}
