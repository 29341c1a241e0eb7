package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/internal/fsutil"
)

// The manifest is the list of live segments. It is the only source of truth for which segment
// files are part of the database: a segment file on disk that the manifest does not name is a
// leftover of an interrupted flush or compaction and is deleted at open. It is rewritten whole
// (temp file, fsync, rename, directory fsync) on every change; it is small (one line per
// segment) and changes only at flush, compaction and retention.

const manifestName = "MANIFEST"

type manifest struct {
	Version  int               `json:"version"`
	NextID   uint64            `json:"nextSegmentId"`
	Segments []manifestSegment `json:"segments"`
	// Retention holds the operator's retention settings (see retention_setting.go).
	Retention retentionSettings `json:"retention,omitempty"`
}

type manifestSegment struct {
	ID     uint64 `json:"id"`
	Tenant string `json:"tenant"`
	Day    int32  `json:"day"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	Index  int64  `json:"indexBytes"`
}

func (s manifestSegment) relPath() string {
	return filepath.Join("segments", s.Tenant, dayString(s.Day), fmt.Sprintf("%016x.seg", s.ID))
}

// loadManifest reads the manifest. A database without one is new only if it has no segment
// file: a manifest that went missing (deleted, a restore that forgot it) must not make every
// segment look like a leftover, as it once did (they were all deleted, read-only commands
// included). A new read-write database gets its (empty) manifest at once, so from then on its
// absence always means loss.
func loadManifest(dir string, readOnly bool) (*manifest, error) {
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if n, first := countSegmentFiles(dir); n > 0 {
			return nil, fmt.Errorf("%w: %s is missing but %d segment files exist (e.g. %s): refusing to open, nothing was changed; "+
				"restore the MANIFEST from a backup (authlake cannot tell live segments from leftovers of an interrupted compaction without it)",
				ErrManifestMissing, path, n, first)
		}
		m := &manifest{Version: 1, NextID: 1}
		if !readOnly {
			if err := m.save(dir); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	m := &manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: corrupt manifest: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: manifest version %d is not supported by this build", filepath.Join(dir, manifestName), m.Version)
	}
	return m, nil
}

// ErrManifestMissing is returned by Open for a database whose MANIFEST is gone while its
// segment files are there.
var ErrManifestMissing = errors.New("database manifest missing")

// countSegmentFiles counts the segment and index files under DIR/segments.
func countSegmentFiles(dir string) (n int, first string) {
	filepath.WalkDir(filepath.Join(dir, "segments"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if n == 0 {
				first = path
			}
			n++
		}
		return nil
	})
	return n, first
}

func (m *manifest) save(dir string) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, manifestName), b, 0o644, nil, false); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
