package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MemFS is a crashable in-memory file system. It remembers, for every file, the data its last
// Sync or Datasync made durable and, for every directory, the entries its last SyncDir made
// durable; Crash returns the file system a power loss at that moment would leave: unsynced
// data and unsynced creations, renames and removals are gone.
//
// All operations take one mutex: it is a test file system, made to be exact, not fast.
type MemFS struct {
	mu    sync.Mutex
	root  *memNode
	locks map[*memNode]bool
}

type memNode struct {
	dir bool
	// A directory's entries now, and as its last SyncDir left them.
	children, synced map[string]*memNode
	// A file's data now, and as its last sync left it. dirtyFrom is the lowest offset changed
	// since that sync (data and synced agree below it), so a sync copies only what changed:
	// the WAL syncs its growing file after every group of records.
	data, syncedData []byte
	dirtyFrom        int
	mode             fs.FileMode
}

// NewCrashableMem returns an empty MemFS.
func NewCrashableMem() *MemFS {
	return &MemFS{root: newDir(), locks: map[*memNode]bool{}}
}

func newDir() *memNode {
	return &memNode{dir: true, children: map[string]*memNode{}, synced: map[string]*memNode{}, mode: fs.ModeDir | 0o755}
}

// Crash returns the file system a power loss now would leave. With rng nil it holds exactly
// what was synced. With rng, each directory keeps either its synced entries or its current
// ones, and each file that grew by appends keeps a random part of its unsynced tail (a torn
// write), as a disk that wrote some of its queue before the power went may; a file changed
// otherwise keeps either its synced or its current data. Locks are not carried over: the
// process that held them is gone.
func (m *MemFS) Crash(rng *rand.Rand) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	clones := map[*memNode]*memNode{}
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if c, ok := clones[n]; ok {
			return c
		}
		c := &memNode{dir: n.dir, mode: n.mode}
		clones[n] = c
		if n.dir {
			entries := n.synced
			if rng != nil && rng.IntN(2) == 0 {
				entries = n.children
			}
			c.children = make(map[string]*memNode, len(entries))
			for name, child := range entries {
				c.children[name] = clone(child)
			}
			c.synced = maps.Clone(c.children)
			return c
		}
		data := n.syncedData
		if rng != nil && !bytes.Equal(n.data, n.syncedData) {
			switch {
			case len(n.data) > len(n.syncedData) && bytes.HasPrefix(n.data, n.syncedData):
				data = n.data[:len(n.syncedData)+rng.IntN(len(n.data)-len(n.syncedData)+1)]
			case rng.IntN(2) == 0:
				data = n.data
			}
		}
		c.data = bytes.Clone(data)
		c.syncedData = bytes.Clone(data)
		c.dirtyFrom = len(data)
		return c
	}
	return &MemFS{root: clone(m.root), locks: map[*memNode]bool{}}
}

// split cleans name into its path elements below the root.
func split(name string) []string {
	name = filepath.ToSlash(filepath.Clean(name))
	name = strings.Trim(name, "/")
	if name == "" || name == "." {
		return nil
	}
	return strings.Split(name, "/")
}

// lookup finds the directory holding name and name's base; mu is held.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	d := m.root
	for _, p := range parts[:len(parts)-1] {
		c, ok := d.children[p]
		if !ok {
			return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if !c.dir {
			return nil, "", &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		d = c
	}
	return d, parts[len(parts)-1], nil
}

// node finds name itself; mu is held.
func (m *MemFS) node(op, name string) (*memNode, error) {
	if len(split(name)) == 0 {
		return m.root, nil
	}
	d, base, err := m.parent(op, name)
	if err != nil {
		return nil, err
	}
	n, ok := d.children[base]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return n, nil
}

func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openLocked(name, flag, perm)
}

func (m *MemFS) openLocked(name string, flag int, perm fs.FileMode) (*memFile, error) {
	var n *memNode
	if len(split(name)) == 0 {
		n = m.root
	} else {
		d, base, err := m.parent("open", name)
		if err != nil {
			return nil, err
		}
		c, ok := d.children[base]
		switch {
		case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
		case !ok && flag&os.O_CREATE == 0:
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		case !ok:
			c = &memNode{mode: perm.Perm()}
			d.children[base] = c
		}
		n = c
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if n.dir && writable {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	if flag&os.O_TRUNC != 0 && writable {
		n.truncate(0)
	}
	return &memFile{fs: m, n: n, name: name, read: flag&os.O_WRONLY == 0, write: writable, append: flag&os.O_APPEND != 0}, nil
}

func (m *MemFS) Open(name string) (File, error) { return m.OpenFile(name, os.O_RDONLY, 0) }

func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent("remove", name)
	if err != nil {
		return err
	}
	n, ok := d.children[base]
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
	}
	delete(d.children, base)
	return nil
}

func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent("removeall", name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	delete(d.children, base)
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	od, ob, err := m.parent("rename", oldname)
	if err != nil {
		return err
	}
	n, ok := od.children[ob]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	nd, nb, err := m.parent("rename", newname)
	if err != nil {
		return err
	}
	if t, ok := nd.children[nb]; ok && t.dir && (!n.dir || len(t.children) > 0) {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EEXIST}
	}
	delete(od.children, ob)
	nd.children[nb] = n
	return nil
}

// Link gives the file oldname a second name; like a hard link, both names are one file, and the
// new name is durable once its directory is synced.
func (m *MemFS) Link(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node("link", oldname)
	if err != nil {
		return err
	}
	if n.dir {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	nd, nb, err := m.parent("link", newname)
	if err != nil {
		return err
	}
	if _, ok := nd.children[nb]; ok {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EEXIST}
	}
	nd.children[nb] = n
	return nil
}

func (m *MemFS) Mkdir(name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent("mkdir", name)
	if err != nil {
		return err
	}
	if _, ok := d.children[base]; ok {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	n := newDir()
	n.mode = fs.ModeDir | perm.Perm()
	d.children[base] = n
	return nil
}

func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node("stat", name)
	if err != nil {
		return nil, err
	}
	return n.info(filepath.Base(name)), nil
}

func (m *MemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	es := make([]fs.DirEntry, 0, len(n.children))
	for base, c := range n.children {
		es = append(es, fs.FileInfoToDirEntry(c.info(base)))
	}
	return sortEntries(es), nil
}

func (m *MemFS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node("sync", name)
	if err != nil {
		return err
	}
	if !n.dir {
		return &fs.PathError{Op: "sync", Path: name, Err: syscall.ENOTDIR}
	}
	n.synced = maps.Clone(n.children)
	return nil
}

func (m *MemFS) Lock(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.openLocked(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if m.locks[f.n] {
		return nil, ErrLocked
	}
	m.locks[f.n] = true
	f.locked = true
	return f, nil
}

// String lists every file with its size and synced size, for a test's failure message.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	var walk func(n *memNode, path string)
	walk = func(n *memNode, path string) {
		for _, base := range sortedKeys(n.children) {
			c := n.children[base]
			_, synced := n.synced[base]
			if c.dir {
				fmt.Fprintf(&b, "%s/%s/ (entry synced %t)\n", path, base, synced)
				walk(c, path+"/"+base)
			} else {
				fmt.Fprintf(&b, "%s/%s %d bytes, %d synced (entry synced %t)\n", path, base, len(c.data), len(c.syncedData), synced)
			}
		}
	}
	walk(m.root, "")
	return b.String()
}

func sortedKeys(m map[string]*memNode) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (n *memNode) info(name string) fs.FileInfo {
	return memInfo{name: name, size: int64(len(n.data)), mode: n.mode}
}

func (n *memNode) truncate(size int) {
	if size < len(n.data) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-len(n.data))...)
	}
	n.dirtyFrom = min(n.dirtyFrom, size)
}

func (n *memNode) writeAt(p []byte, off int) {
	if end := off + len(p); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], p)
	n.dirtyFrom = min(n.dirtyFrom, off)
}

func (n *memNode) sync() {
	from := min(n.dirtyFrom, len(n.syncedData), len(n.data))
	n.syncedData = append(n.syncedData[:from], n.data[from:]...)
	n.dirtyFrom = len(n.data)
}

type memInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

type memFile struct {
	fs                          *MemFS
	n                           *memNode
	name                        string
	pos                         int
	read, write, append, locked bool
	closed                      bool
}

func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed:
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	case f.n.dir:
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EISDIR}
	case write && !f.write, !write && !f.read:
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	return nil
}

func (f *memFile) Name() string { return f.name }

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if f.pos >= len(f.n.data) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[f.pos:])
	f.pos += n
	return n, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch whence {
	case io.SeekCurrent:
		offset += int64(f.pos)
	case io.SeekEnd:
		offset += int64(len(f.n.data))
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.pos = int(offset)
	return offset, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if f.append {
		f.pos = len(f.n.data)
	}
	f.n.writeAt(p, f.pos)
	f.pos += len(p)
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	f.n.writeAt(p, int(off))
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	f.n.truncate(int(size))
	return nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "sync", Path: f.name, Err: fs.ErrClosed}
	}
	if f.n.dir {
		f.n.synced = maps.Clone(f.n.children)
	} else {
		f.n.sync()
	}
	return nil
}

func (f *memFile) Datasync() error { return f.Sync() }

// Preallocate is unsupported: the WAL then pays a size update per sync, as on a file system
// without fallocate, and a test's memory holds only what was written.
func (f *memFile) Preallocate(int64) error { return errors.ErrUnsupported }

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.n.info(filepath.Base(f.name)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	if f.locked {
		delete(f.fs.locks, f.n)
	}
	return nil
}
