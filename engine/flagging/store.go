package flagging

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/authlake/authlake/engine/wal"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// The windows live in a checksummed append-only log, the engine's WAL format
// (docs/format/wal.md), in their own directory: one JSON record per frame, fsync'd before the
// change is applied, so an acknowledged start or stop survives power loss and a flipped bit is
// refused with the file and offset instead of read as another window. docs/format/flagging.md.

// Dir is the log's directory inside a data directory.
const Dir = "flagging"

// LegacyFile is where earlier versions kept the windows (one JSON document, replaced whole):
// imported once by Open, then removed.
const LegacyFile = "flagging-windows.json"

// compactEvery bounds the log: after this many records a snapshot replaces it.
const compactEvery = 1000

// Record operations.
const (
	opStart    = "start"    // Window: a window opened
	opStop     = "stop"     // Tenant, ID, At: a window stopped early
	opSnapshot = "snapshot" // Windows: every kept window, replacing what came before
)

type record struct {
	Op      string    `json:"op"`
	Window  *Window   `json:"window,omitempty"`
	Tenant  string    `json:"tenant,omitempty"`
	ID      string    `json:"id,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Windows []Window  `json:"windows,omitempty"`
}

func (r *record) check() error {
	switch r.Op {
	case opStart:
		if r.Window == nil || r.Window.Tenant == "" || r.Window.ID == "" {
			return errors.New("a start record without its window")
		}
	case opStop:
		if r.Tenant == "" || r.ID == "" || r.At.IsZero() {
			return errors.New("a stop record without tenant, id or time")
		}
	case opSnapshot:
	default:
		return fmt.Errorf("unknown op %q", r.Op)
	}
	return nil
}

// apply changes ws by r (checked).
func apply(ws []Window, r *record) []Window {
	switch r.Op {
	case opStart:
		return append(ws, *r.Window)
	case opStop:
		for i := range ws {
			if ws[i].Tenant == r.Tenant && ws[i].ID == r.ID {
				ws[i].Stopped, ws[i].End = true, r.At
			}
		}
		return ws
	default:
		return append([]Window(nil), r.Windows...)
	}
}

// openLog opens (creating) the log in dir, imports the legacy file beside it if there is one,
// and returns the windows it holds.
func openLog(fsys vfs.FS, dir string) (*wal.Log, []Window, bool, error) {
	legacy := filepath.Join(filepath.Dir(dir), LegacyFile)
	ws, hasLegacy, err := loadLegacy(fsys, legacy)
	if err != nil {
		return nil, nil, false, err
	}
	l, err := wal.Open(dir, wal.Options{FS: fsys, SegmentSize: 4 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, false, fmt.Errorf("flagging windows log: %w", err)
	}
	if _, err := wal.ReplayJSON(l, "flagging", func(r *record) error {
		if err := r.check(); err != nil {
			return err
		}
		ws = apply(ws, r)
		return nil
	}); err != nil {
		l.Close()
		return nil, nil, false, fmt.Errorf("flagging windows log %s: %w", dir, err)
	}
	return l, ws, hasLegacy, nil
}

// loadLegacy reads an earlier version's windows file, if there is one.
func loadLegacy(fsys vfs.FS, path string) ([]Window, bool, error) {
	b, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read flagging windows: %w", err)
	}
	var fc struct {
		Version int      `json:"version"`
		Windows []Window `json:"windows"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, false, fmt.Errorf("flagging windows file %s: %w: %v", path, wal.ErrCorrupt, err)
	}
	if fc.Version != 1 {
		return nil, false, fmt.Errorf("flagging windows file %s has version %d; this build reads 1", path, fc.Version)
	}
	return fc.Windows, true, nil
}

// append logs records durably (the caller applies them after).
func (m *Manager) append(recs ...*record) error {
	if _, err := wal.AppendJSON(m.log, recs...); err != nil {
		return fmt.Errorf("flagging windows log: %w", err)
	}
	m.appended += len(recs)
	return nil
}

// compactLocked replaces the log by one snapshot of the kept windows: the snapshot goes to a new
// file, then the older files are removed (a crash in between replays the old records, then the
// snapshot, which replaces them).
func (m *Manager) compactLocked() error {
	seq, err := m.log.Rotate()
	if err != nil {
		return fmt.Errorf("flagging windows log: %w", err)
	}
	if err := m.append(&record{Op: opSnapshot, Windows: append([]Window{}, m.windows...)}); err != nil {
		return err
	}
	if err := m.log.RemoveBefore(seq); err != nil {
		return fmt.Errorf("flagging windows log: %w", err)
	}
	m.appended = 0
	return nil
}

// removeLegacy deletes the imported legacy file, once its windows are in the log.
func removeLegacy(fsys vfs.FS, dir string) error {
	if err := fsys.Remove(filepath.Join(filepath.Dir(dir), LegacyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fsutil.SyncDir(fsys, filepath.Dir(dir))
}
