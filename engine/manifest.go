package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/authlake/authlake/engine/wal"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// The manifest is the list of live segments. It is the only source of truth for which segment
// files are part of the database: a segment file on disk that the manifest does not name is a
// leftover of an interrupted flush or compaction and is deleted at open. It lives in an
// append-only log of edits in DIR/manifest, the engine's checksummed WAL format: a flush appends
// the segments it adds, a compaction those it adds and removes, retention those it removes, each
// edit fsync'd before it takes effect; a snapshot of the whole manifest starts the log and
// replaces it once it has grown. A flipped bit is refused with its file and offset instead of
// read as another catalog. See docs/format/manifest.md.

// manifestDir is the manifest's log directory in a data directory.
const manifestDir = "manifest"

// legacyManifest is the JSON document earlier versions rewrote whole: imported once into the
// log, then removed.
const legacyManifest = "MANIFEST"

// manifestCompactEvery bounds the log: after this many edits a snapshot replaces it.
const manifestCompactEvery = 256

type manifest struct {
	Version  int               `json:"version"`
	NextID   uint64            `json:"nextSegmentId"`
	Segments []manifestSegment `json:"segments"`
	// Retention holds the operator's retention settings (see retention_setting.go).
	Retention retentionSettings `json:"retention,omitempty"`

	log       *wal.Log  // nil for a read-only open
	persisted *manifest // what the log holds: save appends the difference
	edits     int       // edits since the last snapshot
	// broken: a write to the log failed (a full disk, an I/O error), so what the log holds is
	// unknown, and the log refuses appends; the next save heals it.
	broken bool
	fs     vfs.FS
	logDir string
}

type manifestSegment struct {
	ID     uint64 `json:"id"`
	Tenant string `json:"tenant"`
	Day    int32  `json:"day"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	Index  int64  `json:"indexBytes"`
	// What a query plans with, copied from the footer when the segment was written, so that an
	// open reads no segment file (a manifest of an earlier version lacks them: its segments are
	// opened at open, and the next read-write open records them).
	BlockRows int   `json:"blockRows,omitempty"`
	MinTime   int64 `json:"minTime,omitempty"`
	MaxTime   int64 `json:"maxTime,omitempty"`
}

// cataloged reports whether the manifest holds what a lazy open needs.
func (s manifestSegment) cataloged() bool { return s.BlockRows > 0 }

func (s manifestSegment) relPath() string {
	return filepath.Join("segments", s.Tenant, dayString(s.Day), fmt.Sprintf("%016x.seg", s.ID))
}

// manifestEdit is one record of the log.
type manifestEdit struct {
	Op       string            `json:"op"`                 // "snapshot" or "edit"
	Snapshot *manifest         `json:"snapshot,omitempty"` // snapshot: the whole manifest
	Add      []manifestSegment `json:"add,omitempty"`      // edit: segments now live
	Remove   []uint64          `json:"remove,omitempty"`   // edit: segments no longer live
	NextID   uint64            `json:"nextSegmentId,omitempty"`
	// Retention, when set, replaces the retention settings (an empty map clears them).
	Retention *retentionSettings `json:"retention,omitempty"`
}

func (e *manifestEdit) apply(m *manifest) error {
	switch e.Op {
	case "snapshot":
		if e.Snapshot == nil || e.Snapshot.Version != 1 {
			return errors.New("a snapshot without a version 1 manifest")
		}
		*m = manifest{Version: 1, NextID: e.Snapshot.NextID, Segments: e.Snapshot.Segments, Retention: e.Snapshot.Retention}
	case "edit":
		if m.Version == 0 {
			return errors.New("an edit before the first snapshot")
		}
		if len(e.Remove) > 0 {
			gone := map[uint64]bool{}
			for _, id := range e.Remove {
				gone[id] = true
			}
			m.Segments = slices.DeleteFunc(m.Segments, func(s manifestSegment) bool { return gone[s.ID] })
		}
		m.Segments = append(m.Segments, e.Add...)
		m.NextID = max(m.NextID, e.NextID)
		if e.Retention != nil {
			m.Retention = *e.Retention
			if len(m.Retention) == 0 {
				m.Retention = nil
			}
		}
	default:
		return fmt.Errorf("unknown op %q", e.Op)
	}
	return nil
}

// loadManifest reads the manifest, changing nothing on disk (a read-write open then calls
// openLog once the rest of recovery succeeded). A database without one is new only if it has no
// segment file: a manifest that went missing (deleted, a restore that forgot it) must not make
// every segment look like a leftover, as it once did (they were all deleted, read-only commands
// included). A new read-write database gets its manifest at once, so from then on its absence
// always means loss.
func loadManifest(fsys vfs.FS, dir string) (*manifest, error) {
	logDir := filepath.Join(dir, manifestDir)
	legacy := filepath.Join(dir, legacyManifest)
	if _, err := fsys.Stat(logDir); err == nil {
		_, m, err := replayManifest(fsys, logDir, true)
		if err != nil {
			return nil, err
		}
		if m.Version == 1 {
			m.persisted = m.clone()
			return m, nil
		}
		// An empty log (a crash before its first snapshot): as if there were none.
	}
	m := &manifest{}
	b, err := vfs.ReadFile(fsys, legacy)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("%s: corrupt manifest: %w: %v", legacy, wal.ErrCorrupt, err)
		}
		if m.Version != 1 {
			return nil, fmt.Errorf("%s: manifest version %d is not supported by this build", legacy, m.Version)
		}
	case errors.Is(err, fs.ErrNotExist):
		if n, first := countSegmentFiles(fsys, dir); n > 0 {
			return nil, fmt.Errorf("%w: the manifest (%s) is missing but %d segment files exist (e.g. %s): refusing to open, nothing was changed; "+
				"restore the manifest from a backup (authlake cannot tell live segments from leftovers of an interrupted compaction without it)",
				ErrManifestMissing, logDir, n, first)
		}
		m = &manifest{Version: 1, NextID: 1}
	default:
		return nil, err
	}
	m.persisted = m.clone()
	return m, nil
}

// openLog opens the manifest's log for writing, after a read-write open recovered everything
// else: it starts the log anew with a snapshot of the manifest (so the log is one small file
// after every open, and an earlier version's MANIFEST, imported by loadManifest, is in it), then
// removes that legacy file.
func (m *manifest) openLog(fsys vfs.FS, dir string) error {
	l, replayed, err := replayManifest(fsys, filepath.Join(dir, manifestDir), false)
	if err != nil {
		return err
	}
	sameIDs := func(a, b []manifestSegment) bool {
		return slices.EqualFunc(a, b, func(x, y manifestSegment) bool { return x.ID == y.ID })
	}
	if replayed.Version == 1 && !sameIDs(replayed.Segments, m.Segments) {
		l.Close()
		return fmt.Errorf("manifest log %s changed during open", filepath.Join(dir, manifestDir))
	}
	m.log, m.fs, m.logDir = l, fsys, filepath.Join(dir, manifestDir)
	if err := m.snapshot(); err != nil {
		m.close()
		return err
	}
	legacy := filepath.Join(dir, legacyManifest)
	if _, err := fsys.Stat(legacy); err == nil {
		if err := fsys.Remove(legacy); err != nil {
			return err
		}
		return fsutil.SyncDir(fsys, dir)
	}
	return nil
}

// replayManifest opens the log in dir and replays it into a manifest (Version 0 if it holds no
// snapshot yet). A read-only replay takes no lock, creates nothing and returns no log.
func replayManifest(fsys vfs.FS, dir string, readOnly bool) (*wal.Log, *manifest, error) {
	l, err := wal.Open(dir, wal.Options{FS: fsys, ReadOnly: readOnly, NoLock: readOnly, SegmentSize: 1 << 20,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, fmt.Errorf("manifest log: %w", err)
	}
	m := &manifest{}
	if _, err := wal.ReplayJSON(l, "manifest edit", func(e *manifestEdit) error { return e.apply(m) }); err != nil {
		l.Close()
		return nil, nil, fmt.Errorf("manifest log %s: %w", dir, err)
	}
	if readOnly {
		l.Close()
		return nil, m, nil
	}
	return l, m, nil
}

// Exists reports whether dir holds a database: a manifest (or an earlier version's), or a WAL
// of a database never flushed.
func Exists(dir string) bool {
	for _, name := range []string{manifestDir, legacyManifest, "wal"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// ErrManifestMissing is returned by Open for a database whose manifest is gone while its
// segment files are there.
var ErrManifestMissing = errors.New("database manifest missing")

// countSegmentFiles counts the segment and index files under DIR/segments.
func countSegmentFiles(fsys vfs.FS, dir string) (n int, first string) {
	vfs.WalkFiles(fsys, filepath.Join(dir, "segments"), func(path string) error {
		if n == 0 {
			first = path
		}
		n++
		return nil
	})
	return n, first
}

func (m *manifest) clone() *manifest {
	return &manifest{Version: m.Version, NextID: m.NextID, Segments: slices.Clone(m.Segments), Retention: maps.Clone(m.Retention)}
}

// save makes the manifest's changes since the last save durable: one edit record with the
// segments added and removed, the next id and the retention settings if they changed. The
// callers change the fields, then save (under the engine's lock); dir is the data directory.
func (m *manifest) save(dir string) error {
	if m.log == nil {
		return fmt.Errorf("write manifest in %s: %w", dir, ErrReadOnly)
	}
	if m.broken {
		return m.heal()
	}
	if m.edits >= manifestCompactEvery {
		return m.snapshot()
	}
	p := m.persisted
	e := manifestEdit{Op: "edit"}
	had := map[uint64]bool{}
	for _, s := range p.Segments {
		had[s.ID] = true
	}
	has := map[uint64]bool{}
	for _, s := range m.Segments {
		has[s.ID] = true
		if !had[s.ID] {
			e.Add = append(e.Add, s)
		}
	}
	for _, s := range p.Segments {
		if !has[s.ID] {
			e.Remove = append(e.Remove, s.ID)
		}
	}
	if m.NextID != p.NextID {
		e.NextID = m.NextID
	}
	if !maps.Equal(m.Retention, p.Retention) {
		r := maps.Clone(m.Retention)
		if r == nil {
			r = retentionSettings{}
		}
		e.Retention = &r
	}
	if e.Add == nil && e.Remove == nil && e.NextID == 0 && e.Retention == nil {
		return nil
	}
	if err := m.append(&e); err != nil {
		return err
	}
	m.edits++
	return nil
}

// snapshot replaces the log by one record of the whole manifest: written to a new file, then the
// older files are removed (a crash in between replays the old edits, then the snapshot, which
// replaces them).
func (m *manifest) snapshot() error {
	seq, err := m.log.Rotate()
	if err != nil {
		m.broken = true
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := m.append(&manifestEdit{Op: "snapshot", Snapshot: m.clone()}); err != nil {
		return err
	}
	if err := m.log.RemoveBefore(seq); err != nil {
		m.broken = true
		return fmt.Errorf("write manifest: %w", err)
	}
	m.edits = 0
	return nil
}

func (m *manifest) append(e *manifestEdit) error {
	if _, err := wal.AppendJSON(m.log, e); err != nil {
		m.broken = true
		return fmt.Errorf("write manifest: %w", err)
	}
	m.persisted = m.clone()
	return nil
}

// heal replaces a broken log (save's caller holds the engine's lock). A write or fsync that
// failed may have reached the disk in part, in whole or not at all, and a poisoned log refuses
// appends: so the log is closed, opened again (which reads what is really on disk and starts a
// new file), and given a snapshot of the manifest as this process holds it. From then on the
// disk and the process agree again, whatever the failed write left, without a restart. The
// callers never delete a file whose removal an unsaved edit was to record (see
// DB.saveManifest), so every file the snapshot names is there.
func (m *manifest) heal() error {
	_ = m.log.Close() // the poison, already reported
	l, _, err := replayManifest(m.fs, m.logDir, false)
	if err != nil {
		return fmt.Errorf("write manifest: reopen its log: %w", err)
	}
	m.log = l
	if err := m.snapshot(); err != nil {
		return err
	}
	m.broken = false
	return nil
}

// close closes the log (a read-write open).
func (m *manifest) close() error {
	if m == nil || m.log == nil {
		return nil
	}
	err := m.log.Close()
	m.log = nil
	return err
}
