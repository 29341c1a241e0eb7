package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
)

// Snapshot is a consistent, immutable view of one tenant's events: the segments and memtable
// chunks that existed when it was taken. Flushes, compactions and retention that happen later
// do not change it. Release it when done; until then the files and memory it names stay alive.
//
// A tenant's events are its own log plus the copies of its users' cross-tenant sign-ins that
// tenants it trusts reported (see homecopy.go), without the copies whose ids its own log holds.
type Snapshot struct {
	Tenant string
	Days   []DayView // ascending by day
	segs   []*segment
	chunks []arrow.RecordBatch
}

// DayView is one UTC day of a snapshot.
type DayView struct {
	Day      int32
	Segments []SegmentView
	Mem      []arrow.RecordBatch // unflushed rows, in arrival order, unsorted
}

// SegmentView is one segment of a snapshot with its index.
type SegmentView struct {
	ID    uint64
	Seg   *columnar.Segment
	Index *index.Reader
	// Hidden rows are not part of the snapshot: copies its tenant's own log shadows.
	Hidden *roaring.Bitmap
}

// Snapshot returns a view of tenant's events. A tenant with no events gives an empty snapshot.
func (db *DB) Snapshot(tenant string) (*Snapshot, error) {
	if strings.Contains(tenant, copySep) {
		return nil, fmt.Errorf("invalid tenant %q", tenant)
	}
	snap := &Snapshot{Tenant: tenant}
	type hideSeg struct {
		dv  *DayView
		i   int
		seg *segment
		h   *homeCopies
		log [][16]byte
	}
	type hideMem struct {
		dv   *DayView
		i    int
		hide map[[16]byte]struct{}
	}
	var segWork []hideSeg
	var memWork []hideMem
	days := map[int32]*DayView{}

	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return nil, ErrClosed
	}
	// The tenant's own partitions first, then trusted copies by reporter, so that the order of
	// a day's segments and chunks does not depend on map order.
	var parts []*partition
	for k, p := range db.parts {
		if p.empty() {
			continue
		}
		if home, src, ok := splitCopyNamespace(k.tenant); k.tenant == tenant || ok && home == tenant && db.trust.trusts(home, src) {
			parts = append(parts, p)
		}
	}
	slices.SortFunc(parts, func(a, b *partition) int { return strings.Compare(a.key.tenant, b.key.tenant) })
	h := db.homes[tenant]
	for _, p := range parts {
		dv := days[p.key.day]
		if dv == nil {
			dv = &DayView{Day: p.key.day}
			days[p.key.day] = dv
		}
		isCopy := p.key.tenant != tenant
		for _, s := range p.segs {
			s.ref()
			snap.segs = append(snap.segs, s)
			dv.Segments = append(dv.Segments, SegmentView{ID: s.ms.ID, Seg: s.seg, Index: s.idx})
			if isCopy && h != nil && len(h.log) > 0 {
				segWork = append(segWork, hideSeg{dv, len(dv.Segments) - 1, s, h, h.log[:len(h.log):len(h.log)]})
			}
		}
		for _, m := range append(slices.Clone(p.frozen), p.mem) {
			var hide map[[16]byte]struct{}
			if isCopy && h != nil && len(h.shadowed) > 0 {
				hide = shadowedIn(m, h.shadowed)
			}
			for _, c := range m.chunks {
				c.Retain()
				dv.Mem = append(dv.Mem, c)
				snap.chunks = append(snap.chunks, c)
				if hide != nil {
					memWork = append(memWork, hideMem{dv, len(dv.Mem) - 1, hide})
				}
			}
		}
	}
	db.mu.RUnlock()

	// Shadowed copies are worked out outside the lock: it may read segment blocks.
	for _, w := range segWork {
		rows, err := w.seg.hiddenFor(w.h.epoch, w.log)
		if err != nil {
			snap.Release()
			return nil, fmt.Errorf("copies hidden by tenant %s's own events: %w", tenant, err)
		}
		w.dv.Segments[w.i].Hidden = rows
	}
	for _, w := range memWork {
		c := w.dv.Mem[w.i]
		keep, hidden, err := visibleRows(c, w.hide)
		if err != nil {
			snap.Release()
			return nil, err
		}
		switch {
		case !hidden:
		case len(keep) == 0:
			w.dv.Mem[w.i] = nil
		default:
			t := columnar.Take(columnar.SignIns, c, keep)
			snap.chunks = append(snap.chunks, t)
			w.dv.Mem[w.i] = t
		}
	}
	for _, dv := range days {
		dv.Mem = slices.DeleteFunc(dv.Mem, func(c arrow.RecordBatch) bool { return c == nil })
		snap.Days = append(snap.Days, *dv)
	}
	slices.SortFunc(snap.Days, func(a, b DayView) int { return int(a.Day - b.Day) })
	return snap, nil
}

// Release lets go of the snapshot's segments and memtable chunks.
func (s *Snapshot) Release() {
	for _, sg := range s.segs {
		sg.unref()
	}
	for _, c := range s.chunks {
		c.Release()
	}
	s.segs, s.chunks, s.Days = nil, nil, nil
}

// Rows counts the snapshot's events.
func (s *Snapshot) Rows() int {
	n := 0
	for _, d := range s.Days {
		for _, sv := range d.Segments {
			n += sv.Seg.Meta.Rows
			if sv.Hidden != nil {
				n -= int(sv.Hidden.GetCardinality())
			}
		}
		for _, c := range d.Mem {
			n += int(c.NumRows())
		}
	}
	return n
}

// Schema is the table schema of the snapshot's rows.
func (s *Snapshot) Schema() *columnar.Schema { return columnar.SignIns }
