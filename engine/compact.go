package engine

import (
	"fmt"
	"github.com/authlake/authlake/internal/failpoint"
	"slices"

	"github.com/authlake/authlake/columnar"
)

// maxCompactRows bounds a compacted segment so one merge never needs unbounded memory.
const maxCompactRows = 16 << 20

// Compact merges the segments of every day that has at least CompactMinSegments of them into
// one segment per day. Readers keep their snapshots; replaced files are deleted once the manifest
// no longer names them and closed when the last snapshot lets go.
func (db *DB) Compact() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	return db.compactLocked(db.opts.CompactMinSegments)
}

// CompactAll merges every day with more than one segment (used by tools and benchmarks that
// report bytes on disk after compaction).
func (db *DB) CompactAll() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	return db.compactLocked(2)
}

func (db *DB) compactLocked(minSegs int) error {
	type job struct {
		p    *partition
		segs []*segment
	}
	var jobs []job
	db.mu.RLock()
	for _, p := range db.parts {
		if len(p.segs) < minSegs {
			continue
		}
		var pick []*segment
		rows := 0
		for _, s := range p.segs {
			if rows+s.ms.Rows > maxCompactRows && len(pick) >= 2 {
				break
			}
			pick = append(pick, s)
			rows += s.ms.Rows
		}
		if len(pick) >= 2 {
			for _, s := range pick {
				s.ref()
			}
			jobs = append(jobs, job{p, pick})
		}
	}
	db.mu.RUnlock()
	for ji, j := range jobs {
		err := db.compactPartition(j.p, j.segs)
		for _, s := range j.segs {
			s.unref()
		}
		if err != nil {
			for _, rest := range jobs[ji+1:] {
				for _, s := range rest.segs {
					s.unref()
				}
			}
			return err
		}
	}
	return nil
}

func (db *DB) compactPartition(p *partition, segs []*segment) error {
	var units []columnar.Unit
	var held []*columnar.SegmentUnit
	for _, s := range segs {
		for b := 0; b < s.seg.NumBlocks(); b++ {
			u := &columnar.SegmentUnit{Seg: s.seg, Block: b}
			held = append(held, u)
			units = append(units, u)
		}
	}
	defer func() {
		for _, u := range held {
			u.Release()
		}
	}()
	ns, err := db.writeSegment(p.key, units, true) // compaction output is read for weeks: compress harder
	if err != nil {
		return fmt.Errorf("compact tenant %s day %s: %w", p.key.tenant, dayString(p.key.day), err)
	}
	db.manMu.Lock() // the manifest's fsync holds up no query or ingest (see flushPartitions)
	defer db.manMu.Unlock()
	old := map[uint64]bool{}
	for _, s := range segs {
		old[s.ms.ID] = true
	}
	prev := db.man.Segments
	next := make([]manifestSegment, 0, len(prev))
	for _, ms := range prev {
		if !old[ms.ID] {
			next = append(next, ms)
		}
	}
	next = append(next, ns.ms)
	db.man.Segments = next
	if err := db.saveManifest(ns.path, ns.path+".idx"); err != nil {
		db.man.Segments = prev
		ns.unref()
		return err
	}
	failpoint.Hit(failpoint.CompactInstalled)
	db.mu.Lock()
	defer db.mu.Unlock()
	p.segs = slices.DeleteFunc(p.segs, func(s *segment) bool {
		if old[s.ms.ID] {
			s.retire()
			return true
		}
		return false
	})
	p.segs = append(p.segs, ns)
	return nil
}
