package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/authlake/authlake/internal/fsutil"
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

// Archive reads the blobs of a tree, from where the last committed run stopped.
type Archive struct {
	Root  string // the tree (or one blob)
	State string // the file remembering how far each blob was read
	// NoSync skips the fsync of State (tests).
	NoSync bool

	offsets map[string]int64 // path relative to Root → bytes consumed
	next    map[string]int64
	files   []*os.File
}

// archiveState is the State file's JSON: the format is docs/streams.md's.
type archiveState struct {
	Version int              `json:"version"`
	Root    string           `json:"root"`
	Blobs   map[string]int64 `json:"blobs"`
}

const archiveStateVersion = 1

// IsArchiveBlob reports whether a file of a tree is one of the hourly blobs diagnostic settings
// write.
func IsArchiveBlob(name string) bool { return strings.EqualFold(filepath.Base(name), "PT1H.json") }

// Sources opens what was appended to each blob since the last Commit, in path order (which is
// time order: y=/m=/d=/h=). Close the Archive when done.
func (a *Archive) Sources() ([]Source, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	var paths []string
	err := filepath.WalkDir(a.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && IsArchiveBlob(p) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.Root, err)
	}
	slices.Sort(paths)
	a.next = map[string]int64{}
	var out []Source
	for _, p := range paths {
		rel, _ := filepath.Rel(a.Root, p)
		from := a.offsets[rel]
		f, err := os.Open(p)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.files = append(a.files, f)
		end, err := lastLineEnd(f, from)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("archive blob %s: %w", p, err)
		}
		a.next[rel] = end
		if end <= from {
			continue
		}
		out = append(out, Source{Name: fmt.Sprintf("%s@%d", p, from), R: io.NewSectionReader(f, from, end-from)})
	}
	return out, nil
}

// Commit remembers that everything Sources returned was ingested durably.
func (a *Archive) Commit() error {
	st := archiveState{Version: archiveStateVersion, Root: a.Root, Blobs: map[string]int64{}}
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
	if err := fsutil.MkdirAllDurable(filepath.Dir(a.State), 0o755); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(a.State, append(b, '\n'), 0o644, nil, a.NoSync); err != nil {
		return err
	}
	a.offsets = st.Blobs
	return nil
}

// Close closes the blobs Sources opened.
func (a *Archive) Close() error {
	var errs []error
	for _, f := range a.files {
		errs = append(errs, f.Close())
	}
	a.files = nil
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
	if st.Root != a.Root {
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

// lastLineEnd is the offset after the last newline of f at or after from (from when there is
// none): a blob's last line may still be being appended.
func lastLineEnd(f *os.File, from int64) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size < from {
		return 0, fmt.Errorf("it shrank from %d to %d bytes since it was last read: a blob is only ever appended to", from, size)
	}
	buf := make([]byte, 64<<10)
	for end := size; end > from; {
		start := max(from, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
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
