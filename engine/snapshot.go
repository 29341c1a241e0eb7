package engine

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
)

// Snapshot is a consistent, immutable view of one tenant's events: the segments and memtable
// chunks that existed when it was taken. Flushes, compactions and retention that happen later
// do not change it. Release it when done; until then the files and memory it names stay alive.
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
}

// Snapshot returns a view of tenant's events. A tenant with no events gives an empty snapshot.
func (db *DB) Snapshot(tenant string) (*Snapshot, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	snap := &Snapshot{Tenant: tenant}
	for k, p := range db.parts {
		if k.tenant != tenant || p.empty() {
			continue
		}
		dv := DayView{Day: k.day}
		for _, s := range p.segs {
			s.ref()
			snap.segs = append(snap.segs, s)
			dv.Segments = append(dv.Segments, SegmentView{ID: s.ms.ID, Seg: s.seg, Index: s.idx})
		}
		for _, f := range p.frozen {
			for _, c := range f.chunks {
				c.Retain()
				dv.Mem = append(dv.Mem, c)
				snap.chunks = append(snap.chunks, c)
			}
		}
		for _, c := range p.mem.chunks {
			c.Retain()
			dv.Mem = append(dv.Mem, c)
			snap.chunks = append(snap.chunks, c)
		}
		snap.Days = append(snap.Days, dv)
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
		}
		for _, c := range d.Mem {
			n += int(c.NumRows())
		}
	}
	return n
}

// Schema is the table schema of the snapshot's rows.
func (s *Snapshot) Schema() *columnar.Schema { return columnar.SignIns }
