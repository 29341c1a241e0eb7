package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/cpu"
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
	cpu    *cpu.Pool
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
	// Hidden rows are not part of the snapshot: copies its tenant's own log shadows, versions
	// of a sign-in older than its newest.
	Hidden *roaring.Bitmap
}

// Snapshot returns a view of tenant's events, each sign-in in its newest version. A tenant
// with no events gives an empty snapshot.
func (db *DB) Snapshot(tenant string) (*Snapshot, error) { return db.snapshot(tenant, false) }

// SnapshotVersions is Snapshot with every stored version of each sign-in (docs/versions.md):
// later versions carry "@authlake.version", the first none. It is for audit and export
// --versions; queries over it see a sign-in once per version.
func (db *DB) SnapshotVersions(tenant string) (*Snapshot, error) { return db.snapshot(tenant, true) }

func (db *DB) snapshot(tenant string, allVersions bool) (*Snapshot, error) {
	if strings.Contains(tenant, copySep) || strings.Contains(tenant, versionSuffix) {
		return nil, fmt.Errorf("invalid tenant %q", tenant)
	}
	snap := &Snapshot{Tenant: tenant, cpu: db.cpu()}
	type hideSeg struct {
		dv    *DayView
		i     int
		seg   *segment
		epoch uint64
		log   [][16]byte
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
	vns := versionNamespace(tenant)
	for k, p := range db.parts {
		if p.empty() {
			continue
		}
		if home, src, ok := splitCopyNamespace(k.tenant); k.tenant == tenant || k.tenant == vns || ok && home == tenant && db.trust.trusts(home, src) {
			parts = append(parts, p)
		}
	}
	slices.SortFunc(parts, func(a, b *partition) int { return strings.Compare(a.key.tenant, b.key.tenant) })
	h := db.homes[tenant]
	tv := db.versions[tenant]
	if allVersions {
		tv = nil
	}
	var staleErr error
	for _, p := range parts {
		dv := days[p.key.day]
		if dv == nil {
			dv = &DayView{Day: p.key.day}
			days[p.key.day] = dv
		}
		// What hides rows: for copies, the tenant's own events; for the own log, later
		// versions; for later versions, newer ones.
		var shadowed map[[16]byte]struct{}
		var epoch uint64
		var log [][16]byte
		switch {
		case p.key.tenant == vns:
		case p.key.tenant != tenant:
			if h != nil {
				shadowed, epoch, log = h.shadowed, h.epoch, h.log
			}
		case tv != nil:
			shadowed, epoch, log = tv.shadowed, tv.epoch, tv.log
		}
		for _, s := range p.segs {
			s.ref()
			snap.segs = append(snap.segs, s)
			sv := SegmentView{ID: s.ms.ID, Seg: s.seg, Index: s.idx}
			if p.key.tenant == vns && tv != nil && staleErr == nil {
				// Read under db.mu: ingest changes what is newest.
				sv.Hidden, staleErr = s.staleFor(tv)
			}
			dv.Segments = append(dv.Segments, sv)
			if len(log) > 0 {
				segWork = append(segWork, hideSeg{dv, len(dv.Segments) - 1, s, epoch, log[:len(log):len(log)]})
			}
		}
		for _, m := range append(slices.Clone(p.frozen), p.mem) {
			var hide map[[16]byte]struct{}
			if len(shadowed) > 0 {
				hide = shadowedIn(m, shadowed)
			}
			for _, c := range m.chunks {
				c.Retain()
				snap.chunks = append(snap.chunks, c)
				if p.key.tenant == vns && tv != nil && staleErr == nil {
					keep, stale, err := currentRows(c, tv)
					switch {
					case err != nil:
						staleErr = err
					case stale && len(keep) == 0:
						continue
					case stale:
						c = columnar.Take(columnar.SignIns, c, keep)
						snap.chunks = append(snap.chunks, c)
					}
				}
				dv.Mem = append(dv.Mem, c)
				if hide != nil {
					memWork = append(memWork, hideMem{dv, len(dv.Mem) - 1, hide})
				}
			}
		}
	}
	db.mu.RUnlock()
	if staleErr != nil {
		snap.Release()
		return nil, fmt.Errorf("versions of tenant %s's sign-ins: %w", tenant, staleErr)
	}

	// Shadowed copies are worked out outside the lock: it may read segment blocks.
	for _, w := range segWork {
		rows, err := w.seg.hiddenFor(w.epoch, w.log)
		if err != nil {
			snap.Release()
			return nil, fmt.Errorf("rows hidden from tenant %s: %w", tenant, err)
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
