package engine

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/vfs"
)

// partition is one tenant's events of one UTC day: immutable segments plus the memtable rows
// not yet flushed (the active memtable and, during a flush, the frozen one being written).
type partition struct {
	key    partKey
	segs   []*segment
	mem    *memPart
	frozen []*memPart
	// lastWrite is when this process last published rows to the partition (by Options.Now;
	// zero if it has not): a day that stops receiving rows is merged whole (compactIdleDays).
	// Rows replayed from the WAL at open count: a crash left them unflushed and their day
	// unmerged, and this process flushes them, so their day is merged whole once idle too.
	lastWrite time.Time
}

func (p *partition) empty() bool {
	if len(p.segs) > 0 || p.mem.rows > 0 {
		return false
	}
	for _, f := range p.frozen {
		if f.rows > 0 {
			return false
		}
	}
	return true
}

func (p *partition) rows() int {
	n := p.mem.rows
	for _, f := range p.frozen {
		n += f.rows
	}
	for _, s := range p.segs {
		n += s.seg.Meta.Rows
	}
	return n
}

// memPart is a partition's share of the memtable: sealed Arrow record batches (one per ingest
// call that touched the partition) and the set of their request ids for dedup.
type memPart struct {
	chunks []arrow.RecordBatch
	ids    map[[16]byte]memLoc // dedup key (the id; versionKey in a versions partition) → row
	rows   int
	bytes  int64 // what the chunks and ids cost (DB.memBytes)
}

func newMemPart() *memPart { return &memPart{ids: map[[16]byte]memLoc{}} }

func (m *memPart) release() {
	for _, c := range m.chunks {
		c.Release()
	}
	m.chunks = nil
}

// segment is an open segment with its index sidecar, reference counted: snapshots hold
// references, and a segment replaced by compaction or dropped by retention is closed (its files
// already deleted) when the last reference goes.
type segment struct {
	ms   manifestSegment
	path string
	seg  *columnar.Segment
	idx  *index.Reader
	idxF vfs.File // nil until the sidecar is first used
	fs   vfs.FS
	// retired: the manifest no longer names the segment; the last unref deletes its files.
	retired atomic.Bool
	refs    atomic.Int32
	idCol   int

	// idxMu guards idxF, opened on the sidecar's first use, and closed.
	idxMu  sync.Mutex
	closed bool

	// hidden caches, for a segment of home-tenant copies, the rows its home tenant's own log
	// shadows (see copyview.go), and for a segment of a tenant's own log, the rows of sign-ins
	// with later versions (versions.go).
	hidden hiddenRows
	// stale caches, for a segment of later versions, the rows a newer version supersedes.
	stale staleRows
}

// openSegment opens the segment ms names. A segment the manifest catalogs is opened lazily:
// its footer and its sidecar are read when a query, a compaction or a check first reads it, so
// that opening a database reads nothing of its segments. The files themselves are opened then
// too, unless hold is set: a reader beside a writer (no directory lock) opens both files at
// once, since the writer may delete them after a compaction, and open files are the reader's
// snapshot of the database.
func openSegment(fsys vfs.FS, dir string, ms manifestSegment, s *columnar.Schema, cache *columnar.BlockCache, res *index.Resident, hold bool) (*segment, error) {
	path := filepath.Join(dir, ms.relPath())
	col, _ := s.Lookup("id")
	sg := &segment{ms: ms, path: path, fs: fsys, idCol: col.Index}
	if !ms.cataloged() {
		seg, err := columnar.OpenSegment(fsys, path, s, cache)
		if err != nil {
			return nil, err
		}
		if seg.Meta.Tenant != ms.Tenant || seg.Meta.Day != ms.Day || seg.Meta.Rows != ms.Rows {
			seg.Close()
			return nil, &columnar.CorruptError{Path: path, What: fmt.Sprintf("footer says tenant %s day %d rows %d, manifest says %s %d %d",
				seg.Meta.Tenant, seg.Meta.Day, seg.Meta.Rows, ms.Tenant, ms.Day, ms.Rows)}
		}
		sg.seg = seg
		hold = true
	}
	if hold {
		f, err := fsys.Open(path + ".idx")
		if err != nil {
			if sg.seg != nil {
				sg.seg.Close()
			}
			return nil, fmt.Errorf("index %s.idx: %w", path, err)
		}
		sg.idxF = f
	}
	if sg.seg == nil {
		var f vfs.File
		if hold {
			var err error
			if f, err = fsys.Open(path); err != nil {
				sg.idxF.Close()
				return nil, err
			}
		}
		sg.seg = columnar.OpenSegmentLazy(fsys, path, s, cache, columnar.SegmentMeta{Tenant: ms.Tenant, Day: ms.Day, Rows: ms.Rows,
			BlockRows: ms.BlockRows, MinTime: ms.MinTime, MaxTime: ms.MaxTime}, ms.Bytes, f)
	}
	sg.idx = index.OpenLazy(func() (io.ReaderAt, int64, error) {
		sg.idxMu.Lock()
		defer sg.idxMu.Unlock()
		if sg.closed {
			return nil, 0, fmt.Errorf("index %s.idx: the segment is closed", path)
		}
		if sg.idxF == nil {
			f, err := fsys.Open(path + ".idx")
			if err != nil {
				return nil, 0, fmt.Errorf("index %s.idx: %w", path, err)
			}
			sg.idxF = f
		}
		st, err := sg.idxF.Stat()
		if err != nil {
			return nil, 0, fmt.Errorf("index %s.idx: %w", path, err)
		}
		return sg.idxF, st.Size(), nil
	}, res)
	sg.refs.Store(1)
	return sg, nil
}

func (s *segment) ref() { s.refs.Add(1) }

func (s *segment) unref() {
	if s.refs.Add(-1) == 0 {
		s.seg.Close()
		s.idx.Release()
		s.idxMu.Lock()
		s.closed = true
		if s.idxF != nil {
			s.idxF.Close()
		}
		s.idxMu.Unlock()
		if s.retired.Load() {
			s.fs.Remove(s.path)
			s.fs.Remove(s.path + ".idx")
			s.fs.Remove(filepath.Dir(s.path)) // the day's directory, once it is empty
		}
	}
}

// retire drops the installed reference of a segment a compaction or retention removed from the
// manifest: its files are deleted when the last snapshot reading it lets go (a lazily opened
// segment may not have opened them yet). A crash before that leaves files the manifest does
// not name, which the next open removes.
func (s *segment) retire() {
	s.retired.Store(true)
	s.unref()
}

// containsID reports whether the segment stores a row with this request id.
func (s *segment) containsID(id []byte, ns int64) (bool, error) {
	if ns < s.seg.Meta.MinTime || ns > s.seg.Meta.MaxTime {
		return false, nil
	}
	rows, err := s.idRows(nil, id)
	return len(rows) > 0, err
}

// idRows appends the rows that store this request id.
func (s *segment) idRows(dst []uint32, id []byte) ([]uint32, error) {
	return segmentIDRows(s.seg, s.idx, dst, id)
}

// segmentIDRows appends the rows of a segment that store this request id. The index gives
// candidates by hash (every row of a block that holds the id's hash, since index format 5);
// they are verified against the id column, one read of each block, so a hash collision never
// drops (or hides) an event.
func segmentIDRows(seg *columnar.Segment, idx *index.Reader, dst []uint32, id []byte) ([]uint32, error) {
	cand, err := idx.AppendKeyRows(nil, "id", id)
	if err != nil || len(cand) == 0 {
		return dst, err
	}
	br := seg.Meta.BlockRows
	var (
		ids   *array.FixedSizeBinary
		block = -1
	)
	defer func() {
		if ids != nil {
			ids.Release()
		}
	}()
	for _, r := range cand {
		if b := int(r) / br; b != block {
			if ids != nil {
				ids.Release()
				ids = nil
			}
			a, err := seg.Block(colID.Index, b)
			if err != nil {
				return dst, err
			}
			ids, block = a.(*array.FixedSizeBinary), b
		}
		if i := int(r) - block*br; ids.IsValid(i) && bytes.Equal(ids.Value(i), id) {
			dst = append(dst, r)
		}
	}
	return dst, nil
}
