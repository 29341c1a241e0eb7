package engine

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/failpoint"
)

// maxCompactRows bounds a compacted segment whatever the memory budget (memoryBudget.mergeRows
// is usually smaller).
const maxCompactRows = 16 << 20

// Compact runs the merges that are due: in each day, CompactMinSegments segments of one size
// tier are merged into one (see pickMerge). (The background compactor also merges whole each
// day that has stopped receiving rows: compactIdleDays.) Readers keep their snapshots; replaced
// files are deleted once the manifest no longer names them and closed when the last snapshot lets go.
func (db *DB) Compact() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	_, err := db.compactLocked(context.Background(), db.tierMerge)
	return err
}

// CompactAll merges each day's segments into as few as the memory budget allows: the smallest
// as many as fit one merge, again until no two fit together (one per day unless a day holds more
// rows than one merge may write). Tools and benchmarks that report bytes on disk after
// compaction call it; the background compactor's own merges when ingest pauses leave a large
// segment out for a few rows (mergeSettle).
func (db *DB) CompactAll() error { return db.CompactAllContext(context.Background()) }

// CompactAllContext is CompactAll that stops when ctx is done: a whole-day merge of a large day
// takes minutes, and an operator's Ctrl-C or a Close should not wait for it. A merge stopped
// half way leaves nothing behind (its file is not installed, its inputs stay); the merges
// finished before it stay done. The error wraps ctx.Err(). Close stops it too (ErrClosed).
func (db *DB) CompactAllContext(ctx context.Context) error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	return db.compactAll(ctx, db.wholeMerge)
}

// compactAll runs the merges choose picks, day by day, until it picks none.
func (db *DB) compactAll(ctx context.Context, choose mergeChoice) error {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	for {
		if err := db.mergeStopped(ctx); err != nil {
			return err
		}
		n, err := db.compactLocked(ctx, choose)
		if err != nil || n == 0 {
			return err
		}
	}
}

// compactIdleDays merges whole each day that this process wrote rows to, then none for
// dayIdleAfter (by Options.Now), once its memtable rows are flushed. A log pipeline's ingest
// never pauses, so the whole-day merges that wait for ingest to pause would never run; yesterday
// stops receiving some time after midnight (sign-ins are reported late) and is merged then.
// Merges stop at Close.
func (db *DB) compactIdleDays() error {
	now := db.opts.Now()
	idle := func(p *partition) []*segment {
		if p.lastWrite.IsZero() || now.Sub(p.lastWrite) < dayIdleAfter || p.mem.rows > 0 {
			return nil
		}
		for _, f := range p.frozen {
			if f.rows > 0 {
				return nil
			}
		}
		return db.settleMerge(p)
	}
	return db.compactAll(context.Background(), idle)
}

// mergeStopped says why a merge must stop: Close has begun (ErrClosed), or ctx is done.
func (db *DB) mergeStopped(ctx context.Context) error {
	if db.closing.Err() != nil {
		return context.Cause(db.closing)
	}
	return ctx.Err()
}

// cancellableUnit is a segment block that a merge reads only until it must stop
// (DB.mergeStopped). A merge asks for each column of each input block in turn, so a stopped
// merge ends within one block's gather.
type cancellableUnit struct {
	*columnar.SegmentUnit
	db  *DB
	ctx context.Context
}

func (u cancellableUnit) Column(idx int) (arrow.Array, error) {
	if err := u.db.mergeStopped(u.ctx); err != nil {
		return nil, err
	}
	return u.SegmentUnit.Column(idx)
}

// compactIdleAfter is how long ingest must pause (by Options.Now) before the compactor merges
// whole days.
const compactIdleAfter = time.Minute

// dayIdleAfter is how long a day must have had no new rows (by Options.Now) before the compactor
// merges it whole while other days ingest. Not a minute, as for all ingest: a day that still
// gets late sign-ins would be merged again after each, and a day streamed in under two minutes
// (authlake bench stream, 10M events over 3 days) was merged while its late rows still came:
// 366 s against 321 s without these merges, with the same final merge (2026-12-06, one run each).
const dayIdleAfter = 10 * time.Minute

// sizeTier is a segment's size class: rows of one tier are within a factor of four of each
// other, so a merge of one tier's segments rewrites each row once per tier it climbs. A row is
// written about log4(mergeRows/flushed rows) times in all, where merging every new segment into
// a day's one big segment rewrote the whole day at every merge (quadratic in the day's size:
// the cause of ingest slowing with data size at 100M events). Tiers of eight (a row of a
// 3.4M-row day written three times, not four) and merges within a tier compressed at zstd's
// default level were measured on 2026-12-06: the same rate within noise (90.5 and 101.0 s
// against 93.2 and 96.7 s for a 3.4M-event day streamed on 2 cores), so neither was kept.
func sizeTier(rows int) int { return bits.Len(uint(rows)) / 2 }

// mergeKind says how pickMerge chooses.
type mergeKind int

const (
	// mergeTier: while ingest runs, the smallest size tier that has minSegs segments, besides
	// those already more than half the cap (they are done).
	mergeTier mergeKind = iota
	// mergeSettle: in the background once a day or all ingest pauses, the smallest segments, as
	// many as fit, whatever their tiers; the largest of them only when the others bring it at
	// least 1/settleShare of its rows (else it is left out, and so on down).
	mergeSettle
	// mergeWhole: asked for (CompactAll), the smallest segments, as many as fit.
	mergeWhole
)

// settleShare: a background merge rewrites a day's largest segment only with at least a quarter
// of its rows more, so that a day that goes on receiving a few late rows between pauses is not
// rewritten whole at each one: each of its rows is then rewritten about log1.25(cap/flushed
// segment) times at most. Segments past half the cap used to be left out of every whole merge,
// which left the weekdays of 100M events over 30 days (4.2M rows) in three segments.
const settleShare = 4

// pickMerge chooses segments of one day to merge into one of at most capRows rows, or nil.
func pickMerge(segs []*segment, minSegs, capRows int, kind mergeKind) []*segment {
	cands := make([]*segment, 0, len(segs))
	for _, s := range segs {
		if s.ms.Rows*2 <= capRows || (kind != mergeTier && s.ms.Rows < capRows) {
			cands = append(cands, s)
		}
	}
	slices.SortStableFunc(cands, func(a, b *segment) int { return cmp.Compare(a.ms.Rows, b.ms.Rows) })
	take := func(from []*segment) []*segment {
		var pick []*segment
		rows := 0
		for _, s := range from {
			if rows+s.ms.Rows > capRows {
				break
			}
			pick = append(pick, s)
			rows += s.ms.Rows
		}
		for kind == mergeSettle && len(pick) >= 2 {
			last := pick[len(pick)-1].ms.Rows
			if (rows-last)*settleShare >= last {
				break
			}
			pick, rows = pick[:len(pick)-1], rows-last
		}
		if len(pick) < 2 {
			return nil
		}
		return pick
	}
	if kind != mergeTier {
		return take(cands)
	}
	for i := 0; i < len(cands); {
		j := i
		for j < len(cands) && sizeTier(cands[j].ms.Rows) == sizeTier(cands[i].ms.Rows) {
			j++
		}
		if j-i >= minSegs {
			if pick := take(cands[i:j]); len(pick) >= minSegs {
				return pick
			}
		}
		i = j
	}
	return nil
}

// A mergeChoice picks the segments of a partition to merge, or nil. Callers hold db.mu (read).
type mergeChoice func(p *partition) []*segment

func (db *DB) tierMerge(p *partition) []*segment {
	return pickMerge(p.segs, db.opts.CompactMinSegments, db.budget.mergeRows, mergeTier)
}

func (db *DB) settleMerge(p *partition) []*segment {
	return pickMerge(p.segs, db.opts.CompactMinSegments, db.budget.mergeRows, mergeSettle)
}

func (db *DB) wholeMerge(p *partition) []*segment {
	return pickMerge(p.segs, db.opts.CompactMinSegments, db.budget.mergeRows, mergeWhole)
}

// compactLocked runs one merge in every day that choose picks one in, and says how many ran.
func (db *DB) compactLocked(ctx context.Context, choose mergeChoice) (int, error) {
	type job struct {
		p    *partition
		segs []*segment
	}
	var jobs []job
	db.mu.RLock()
	for _, p := range db.parts {
		if pick := choose(p); pick != nil {
			for _, s := range pick {
				s.ref()
			}
			jobs = append(jobs, job{p, pick})
		}
	}
	db.mu.RUnlock()
	for ji, j := range jobs {
		err := db.compactPartition(ctx, j.p, j.segs)
		for _, s := range j.segs {
			s.unref()
		}
		if err != nil {
			for _, rest := range jobs[ji+1:] {
				for _, s := range rest.segs {
					s.unref()
				}
			}
			return ji, err
		}
	}
	return len(jobs), nil
}

func (db *DB) compactPartition(ctx context.Context, p *partition, segs []*segment) error {
	var units []columnar.Unit
	var held []*columnar.SegmentUnit
	for _, s := range segs {
		for _, u := range columnar.SegmentUnits(s.seg) {
			held = append(held, u)
			units = append(units, cancellableUnit{u, db, ctx})
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
