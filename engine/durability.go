package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/authlake/authlake/engine/wal"
)

// Losing the ability to write. A failed WAL write or fdatasync (disk full, an I/O error)
// poisons the log: after a failed fsync the kernel may have dropped the dirty pages, so the
// log never retries over them. The database then keeps answering reads, fails each ingest with
// ErrNotDurable (the server answers 507 with Retry-After and reports not ready), and, at most
// once a second, tries to reopen the log: closing it, opening it again reads what is really on
// disk and starts a new file. Once space is back, ingest resumes without a restart. Everything
// acknowledged before the failure is in the memtable and in the WAL files already synced; the
// failed group was never acknowledged.

// ErrNotDurable is returned (wrapped, with the cause) by an Ingest that could not be made
// durable because the write-ahead log cannot be written.
var ErrNotDurable = errors.New("the write-ahead log cannot be written")

func (db *DB) walOptions() wal.Options {
	return wal.Options{NoSync: db.opts.NoSync, Logger: db.log, ReadOnly: db.opts.ReadOnly,
		NoLock: db.lock == nil, FS: db.fs}
}

// saveManifest makes db.man's changes durable (db.mu held). written names the files of segments
// the changes add: when the save fails, the disk's manifest may or may not name them (a write
// that failed may have landed), so they are kept, not deleted, and removed only once a later
// save healed the manifest's log and the manifest does not name them. (A file whose removal the
// changes record is only ever removed after they saved.)
func (db *DB) saveManifest(written ...string) error {
	healing := db.man.broken
	if err := db.man.save(db.dir); err != nil {
		db.orphans = append(db.orphans, written...)
		return fmt.Errorf("save manifest: %w", err)
	}
	if healing && len(db.orphans) > 0 {
		named := map[string]bool{}
		for _, ms := range db.man.Segments {
			p := filepath.Join(db.dir, ms.relPath())
			named[p], named[p+".idx"] = true, true
		}
		for _, p := range db.orphans {
			if !named[p] {
				db.fs.Remove(p)
			}
		}
		db.orphans = nil
	}
	return nil
}

// Writable is nil while ingest can be made durable, else why not.
func (db *DB) Writable() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.mu.RLock()
	w := db.wal
	db.mu.RUnlock()
	if w == nil {
		return ErrClosed
	}
	if err := w.Poisoned(); err != nil {
		return fmt.Errorf("%w (%s): %w", ErrNotDurable, filepath.Join(db.dir, "wal"), err)
	}
	return nil
}

// healWAL reopens a poisoned log, at most once a second (wall clock: it paces retries against
// the disk). It returns nil once the log accepts appends again.
func (db *DB) healWAL() error {
	err := db.Writable()
	if err == nil || !errors.Is(err, ErrNotDurable) {
		return err
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	db.healMu.Lock()
	defer db.healMu.Unlock()
	if time.Since(db.lastHeal) < time.Second {
		return err
	}
	db.lastHeal = time.Now()
	// No append may run while the log is swapped.
	db.ingestMu.Lock()
	defer db.ingestMu.Unlock()
	db.mu.RLock()
	old := db.wal
	db.mu.RUnlock()
	if old.Poisoned() == nil {
		return nil // another caller healed it
	}
	_ = old.Close() // returns the poison; its file is left for replay to judge
	w, oerr := wal.Open(filepath.Join(db.dir, "wal"), db.walOptions())
	if oerr == nil {
		// Every acknowledged record is already in the memtable or in segments: replay only
		// reads the files (and truncates a tail the failed write may have left).
		_, oerr = w.Replay(func(wal.Pos, []byte) error { return nil })
		if oerr != nil {
			w.Close()
		}
	}
	if oerr != nil {
		// Leave a closed, poisoned log in place; the next attempt reopens from scratch.
		db.log.Warn("the write-ahead log is still not writable; ingest stays refused", "err", oerr)
		return fmt.Errorf("%w (%s): %w", ErrNotDurable, filepath.Join(db.dir, "wal"), oerr)
	}
	db.mu.Lock()
	db.wal = w
	db.mu.Unlock()
	db.log.Info("the write-ahead log is writable again; ingest resumed", "dir", filepath.Join(db.dir, "wal"))
	return nil
}
