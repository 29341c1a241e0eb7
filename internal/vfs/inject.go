package vfs

import (
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
)

// OpKind is a kind of file-system operation, as an Injector sees it.
type OpKind uint8

const (
	OpOpen    OpKind = iota // OpenFile or Open of an existing file
	OpCreate                // OpenFile with O_CREATE
	OpRead                  // Read or ReadAt
	OpWrite                 // Write or WriteAt: an injected error writes half the bytes first
	OpSync                  // Sync or Datasync of a file
	OpSyncDir               // SyncDir
	OpTruncate
	OpPreallocate
	OpRename
	OpRemove // Remove or RemoveAll
	OpMkdir
	OpList // Stat or ReadDir
	OpLock
	OpLink
)

var opNames = [...]string{"open", "create", "read", "write", "sync", "syncdir", "truncate", "preallocate", "rename", "remove", "mkdir", "list", "lock", "link"}

func (k OpKind) String() string { return opNames[k] }

// Op is one operation about to run.
type Op struct {
	Kind OpKind
	Path string
}

// Injector decides each operation's fate: a non-nil error fails it (without running it, but for
// a write, which writes half its bytes first, as a disk filling up does).
type Injector func(Op) error

// Inject wraps fsys so that inj sees every operation first.
func Inject(fsys FS, inj Injector) FS { return &injectFS{fsys, inj} }

// Errno returns the error an injector gives for op: a *fs.PathError wrapping errno, so that
// errors.Is(err, syscall.ENOSPC) holds as it does for the operating system's.
func Errno(op Op, errno syscall.Errno) error {
	return &fs.PathError{Op: op.Kind.String(), Path: op.Path, Err: errno}
}

// Switch fails every operation of its kinds (all kinds when none are given) on paths containing
// its Path with its Errno while it is on, and counts those it failed. The disk-full tests turn
// it on, check that writes fail cleanly and reads go on, and turn it off again.
type Switch struct {
	Errno syscall.Errno
	Kinds []OpKind
	Path  string
	on    atomic.Bool
	hits  atomic.Int64
}

func (s *Switch) On()         { s.on.Store(true) }
func (s *Switch) Off()        { s.on.Store(false) }
func (s *Switch) Hits() int64 { return s.hits.Load() }

// Inject is the Switch's Injector.
func (s *Switch) Inject(op Op) error {
	if !s.on.Load() || !matches(op, s.Kinds, s.Path) {
		return nil
	}
	s.hits.Add(1)
	return Errno(op, s.Errno)
}

// Nth fails only the N-th operation (1-based) of its kinds on paths containing Path, once; with
// N = 0 it fails none and only counts them, which is how a test learns how many there are to
// try each in turn.
type Nth struct {
	N     int64
	Errno syscall.Errno
	Kinds []OpKind
	Path  string
	seen  atomic.Int64
}

// Seen is the number of matching operations so far.
func (n *Nth) Seen() int64 { return n.seen.Load() }

// Inject is the Nth's Injector.
func (n *Nth) Inject(op Op) error {
	if !matches(op, n.Kinds, n.Path) {
		return nil
	}
	if n.seen.Add(1) == n.N {
		return Errno(op, n.Errno)
	}
	return nil
}

func matches(op Op, kinds []OpKind, path string) bool {
	if path != "" && !strings.Contains(op.Path, path) {
		return false
	}
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if k == op.Kind {
			return true
		}
	}
	return false
}

type injectFS struct {
	fs  FS
	inj Injector
}

func (i *injectFS) check(kind OpKind, path string) error { return i.inj(Op{kind, path}) }

func (i *injectFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	kind := OpOpen
	if flag&os.O_CREATE != 0 {
		kind = OpCreate
	}
	if err := i.check(kind, name); err != nil {
		return nil, err
	}
	f, err := i.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &injectFile{f, i}, nil
}

func (i *injectFS) Open(name string) (File, error) { return i.OpenFile(name, os.O_RDONLY, 0) }

func (i *injectFS) Remove(name string) error {
	if err := i.check(OpRemove, name); err != nil {
		return err
	}
	return i.fs.Remove(name)
}

func (i *injectFS) RemoveAll(name string) error {
	if err := i.check(OpRemove, name); err != nil {
		return err
	}
	return i.fs.RemoveAll(name)
}

func (i *injectFS) Rename(oldname, newname string) error {
	if err := i.check(OpRename, newname); err != nil {
		return err
	}
	return i.fs.Rename(oldname, newname)
}

func (i *injectFS) Link(oldname, newname string) error {
	if err := i.check(OpLink, newname); err != nil {
		return err
	}
	return i.fs.Link(oldname, newname)
}

func (i *injectFS) Mkdir(name string, perm fs.FileMode) error {
	if err := i.check(OpMkdir, name); err != nil {
		return err
	}
	return i.fs.Mkdir(name, perm)
}

func (i *injectFS) Stat(name string) (fs.FileInfo, error) {
	if err := i.check(OpList, name); err != nil {
		return nil, err
	}
	return i.fs.Stat(name)
}

func (i *injectFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := i.check(OpList, name); err != nil {
		return nil, err
	}
	return i.fs.ReadDir(name)
}

func (i *injectFS) SyncDir(name string) error {
	if err := i.check(OpSyncDir, name); err != nil {
		return err
	}
	return i.fs.SyncDir(name)
}

func (i *injectFS) Lock(name string) (File, error) {
	if err := i.check(OpLock, name); err != nil {
		return nil, err
	}
	f, err := i.fs.Lock(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{f, i}, nil
}

type injectFile struct {
	File
	fs *injectFS
}

func (f *injectFile) Read(p []byte) (int, error) {
	if err := f.fs.check(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *injectFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *injectFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *injectFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		n, _ := f.File.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return f.File.WriteAt(p, off)
}

func (f *injectFile) Sync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *injectFile) Datasync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Datasync()
}

func (f *injectFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.Name()); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *injectFile) Preallocate(size int64) error {
	if err := f.fs.check(OpPreallocate, f.Name()); err != nil {
		return err
	}
	return f.File.Preallocate(size)
}
