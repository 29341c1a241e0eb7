package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authlake/authlake/internal/failpoint"
)

// EnforceRetention drops every day partition older than its tenant's retention. Events are
// never deleted one by one: whole UTC days go at once.
func (db *DB) EnforceRetention() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return db.retentionLocked()
}

func (db *DB) retentionLocked() error {
	now := db.opts.Now()
	// The manifest is saved under manMu alone (no query or ingest waits for its fsync); compactMu
	// and flushMu, held by the caller, keep flushes and compactions from changing the days'
	// segments meanwhile.
	db.manMu.Lock()
	defer db.manMu.Unlock()
	db.mu.RLock()
	var drop []*partition
	for k, p := range db.parts {
		if db.outsideRetention(k.tenant, k.day, now) != "" {
			drop = append(drop, p)
		}
	}
	db.mu.RUnlock()
	if len(drop) == 0 {
		return nil
	}
	gone := map[uint64]bool{}
	for _, p := range drop {
		for _, s := range p.segs {
			gone[s.ms.ID] = true
		}
	}
	prev := db.man.Segments
	next := make([]manifestSegment, 0, len(prev))
	for _, ms := range prev {
		if !gone[ms.ID] {
			next = append(next, ms)
		}
	}
	db.man.Segments = next
	if err := db.saveManifest(); err != nil {
		db.man.Segments = prev
		return err
	}
	failpoint.Hit(failpoint.RetentionInstalled)
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, p := range drop {
		rows := p.rows()
		for _, s := range p.segs {
			s.retire()
		}
		p.segs = nil
		db.memRows -= p.mem.rows
		db.memBytes -= p.mem.bytes
		p.mem.release()
		p.mem = newMemPart()
		if len(p.frozen) == 0 {
			delete(db.parts, p.key)
		}
		db.log.Info("retention dropped a day", "tenant", p.key.tenant, "day", dayString(p.key.day), "events", rows)
	}
	// Which copies are shadowed may have changed with a day of copies or of the tenant's own
	// events gone (and the ids of dropped copies need not be kept in memory any longer).
	// Likewise which sign-ins have later versions (a day of them gone shows the newest left).
	homes, versioned := map[string]bool{}, map[string]bool{}
	for _, p := range drop {
		if home, _, ok := splitCopyNamespace(p.key.tenant); ok {
			homes[home] = true
		} else if t, ok := splitVersionNamespace(p.key.tenant); ok {
			versioned[t] = true
		} else if db.homes[p.key.tenant] != nil {
			homes[p.key.tenant] = true
		}
	}
	if len(homes) > 0 {
		if err := db.rebuildHomes(homes); err != nil {
			return fmt.Errorf("after retention: %w", err)
		}
	}
	if len(versioned) > 0 {
		if err := db.rebuildVersions(versioned); err != nil {
			return fmt.Errorf("after retention: %w", err)
		}
	}
	return nil
}

// maintain is the background work: a flusher (the memtable full or old, and the WAL's healing
// after a full disk) and a compactor (merges, then retention hourly), in goroutines of their own
// so that a flush never waits for a merge. Errors are logged loudly and retried on the next
// tick; they never lose data (the WAL still holds every unflushed event).
func (db *DB) maintain() {
	defer db.bg.Done()
	db.bg.Add(1)
	go db.compactor()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
		case <-db.kick:
		}
		_ = db.healWAL() // a log poisoned by a full disk comes back once space is freed
		db.mu.RLock()
		full := db.memtableFull()
		old := db.memRows > 0 && db.opts.Now().Sub(db.oldest) >= db.opts.MemtableAge
		db.mu.RUnlock()
		if full || old {
			if err := db.Flush(); err != nil && err != ErrClosed {
				db.log.Error("background flush failed; will retry", "err", err)
			}
		}
	}
}

func (db *DB) compactor() {
	defer db.bg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRetention := time.Time{}
	idleMerged := time.Time{} // the last ingest before the latest whole-day merge
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
		}
		if err := db.Compact(); err != nil && !errors.Is(err, ErrClosed) {
			db.log.Error("background compaction failed; will retry", "err", err)
		}
		if err := db.compactIdleDays(); err != nil && !errors.Is(err, ErrClosed) {
			db.log.Error("background compaction failed; will retry", "err", err)
		}
		// Whole-day merges wait for ingest to pause: during ingest, merges stay small (tiers),
		// so that they neither hold up flushes for minutes nor rewrite a day at every flush.
		db.mu.RLock()
		last := db.lastIngest
		db.mu.RUnlock()
		if !last.IsZero() && !last.Equal(idleMerged) && db.opts.Now().Sub(last) >= compactIdleAfter {
			if err := db.compactAll(context.Background(), db.settleMerge); err != nil && !errors.Is(err, ErrClosed) {
				db.log.Error("background compaction failed; will retry", "err", err)
			} else {
				idleMerged = last
			}
		}
		if now := db.opts.Now(); lastRetention.IsZero() || now.Sub(lastRetention) > time.Hour || now.Before(lastRetention) {
			if err := db.EnforceRetention(); err != nil && err != ErrClosed {
				db.log.Error("retention failed; will retry", "err", err)
			}
			lastRetention = now
		}
	}
}
