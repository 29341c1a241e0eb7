package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// Archives: the storage-account destination of Entra's diagnostic settings, as a local copy of
// its tree (azcopy, a mounted container):
//
//	insights-logs-signinlogs/resourceId=/tenants/T/providers/Microsoft.aadiam/y=2026/m=11/d=20/h=14/m=00/PT1H.json
//
// Each hour's blob holds one JSON record per line and grows while its hour lasts. An Archive
// remembers, per blob, how far it was read (up to its last complete line, so a line still being
// written is never taken for a bad record), and the next run reads only what was appended.
// Reading a blob again from its start would be harmless too (ingest stores a sign-in once), only
// slower.

// BlobStore is where an archive's blobs are: a local copy of the tree (DirStore) or the storage
// account's container itself (AzureStore).
type BlobStore interface {
	// ID names the store in the state file (a path, a container URL with its prefix).
	ID() string
	// List returns the hourly blobs (IsArchiveBlob), any order, names relative to the store.
	List(ctx context.Context) ([]BlobInfo, error)
	// ReadAt reads len(p) bytes of a blob at off (io.ReaderAt's contract).
	ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error)
	// Open streams n bytes of a blob from off.
	Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error)
}

// BlobInfo is one blob of a store.
type BlobInfo struct {
	Name string
	Size int64
}

// Archive reads the blobs of a store, from where the last committed run stopped.
type Archive struct {
	Store BlobStore
	State string // the file remembering how far each blob was read
	// NoSync skips the fsync of State (tests).
	NoSync bool

	offsets map[string]int64 // blob name → bytes consumed
	next    map[string]int64
	open    []io.Closer
}

// archiveState is the State file's JSON: docs/format/archive-state.md.
type archiveState struct {
	Version int              `json:"version"`
	Root    string           `json:"root"`
	Blobs   map[string]int64 `json:"blobs"`
}

const archiveStateVersion = 1

// IsArchiveBlob reports whether a blob is one of the hourly blobs diagnostic settings write.
func IsArchiveBlob(name string) bool {
	return strings.EqualFold(path.Base(filepath.ToSlash(name)), "PT1H.json")
}

// Sources returns what was appended to each blob since the last Commit, in name order (which is
// time order: y=/m=/d=/h=). Each is opened when first read. Close the Archive when done.
func (a *Archive) Sources(ctx context.Context) ([]Source, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	blobs, err := a.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.Store.ID(), err)
	}
	slices.SortFunc(blobs, func(x, y BlobInfo) int { return strings.Compare(x.Name, y.Name) })
	a.next = map[string]int64{}
	var out []Source
	for _, bl := range blobs {
		from := a.offsets[bl.Name]
		end, err := lastLineEnd(ctx, a.Store, bl, from)
		if err != nil {
			return nil, fmt.Errorf("archive blob %s: %w", bl.Name, err)
		}
		a.next[bl.Name] = end
		if end <= from {
			continue
		}
		lr := &lazyReader{open: func() (io.ReadCloser, error) { return a.Store.Open(ctx, bl.Name, from, end-from) }}
		a.open = append(a.open, lr)
		out = append(out, Source{Name: fmt.Sprintf("%s@%d", bl.Name, from), R: lr})
	}
	return out, nil
}

// lazyReader opens its stream on the first Read.
type lazyReader struct {
	open func() (io.ReadCloser, error)
	rc   io.ReadCloser
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.rc == nil {
		rc, err := l.open()
		if err != nil {
			return 0, err
		}
		l.rc = rc
	}
	return l.rc.Read(p)
}

func (l *lazyReader) Close() error {
	if l.rc == nil {
		return nil
	}
	return l.rc.Close()
}

// Commit remembers that everything Sources returned was ingested durably.
func (a *Archive) Commit() error {
	st := archiveState{Version: archiveStateVersion, Root: a.Store.ID(), Blobs: map[string]int64{}}
	for k, v := range a.offsets {
		st.Blobs[k] = v
	}
	for k, v := range a.next {
		st.Blobs[k] = v
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.MkdirAllDurable(vfs.Default, filepath.Dir(a.State), 0o755); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(vfs.Default, a.State, append(b, '\n'), 0o644, a.NoSync); err != nil {
		return err
	}
	a.offsets = st.Blobs
	return nil
}

// Close closes the blobs Sources opened.
func (a *Archive) Close() error {
	var errs []error
	for _, c := range a.open {
		errs = append(errs, c.Close())
	}
	a.open = nil
	return errors.Join(errs...)
}

func (a *Archive) load() error {
	a.offsets = map[string]int64{}
	b, err := os.ReadFile(a.State)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st archiveState
	if err := json.Unmarshal(b, &st); err != nil || st.Version != archiveStateVersion {
		a.offsets = map[string]int64{}
		return fmt.Errorf("archive state %s: not a version %d state file (%v); delete it to read every blob again (harmless: sign-ins are stored once)", a.State, archiveStateVersion, err)
	}
	if st.Root != a.Store.ID() {
		return nil // another tree's state: start over
	}
	for k, v := range st.Blobs {
		if v < 0 {
			return fmt.Errorf("archive state %s: blob %s has a negative offset; delete the file to read every blob again", a.State, k)
		}
	}
	if st.Blobs != nil {
		a.offsets = st.Blobs
	}
	return nil
}

// lastLineEnd is the offset after the last newline of a blob at or after from (from when there
// is none): a blob's last line may still be being appended.
func lastLineEnd(ctx context.Context, st BlobStore, bl BlobInfo, from int64) (int64, error) {
	if bl.Size < from {
		return 0, fmt.Errorf("it shrank from %d to %d bytes since it was last read: a blob is only ever appended to", from, bl.Size)
	}
	buf := make([]byte, 64<<10)
	for end := bl.Size; end > from; {
		start := max(from, end-int64(len(buf)))
		n, err := st.ReadAt(ctx, bl.Name, buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return from, nil
}

// DirStore is a local copy of an archive tree.
type DirStore struct{ Root string } // absolute

func (d DirStore) ID() string { return d.Root }

func (d DirStore) List(context.Context) ([]BlobInfo, error) {
	var out []BlobInfo
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !IsArchiveBlob(p) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.Root, p)
		out = append(out, BlobInfo{Name: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	return out, err
}

func (d DirStore) ReadAt(_ context.Context, name string, p []byte, off int64) (int, error) {
	f, err := os.Open(filepath.Join(d.Root, filepath.FromSlash(name)))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.ReadAt(p, off)
}

func (d DirStore) Open(_ context.Context, name string, off, n int64) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(d.Root, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}
