package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/columnar"
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

func loadManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return &manifest{Version: 1, NextID: 1}, nil
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

func (m *manifest) save(dir string) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync manifest: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return err
	}
	return columnar.SyncDir(dir)
}
