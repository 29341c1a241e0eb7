package engine

import (
	"bytes"
	"fmt"
	"github.com/authlake/authlake/internal/vfs"
	"path/filepath"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
)

// partition is one tenant's events of one UTC day: immutable segments plus the memtable rows
// not yet flushed (the active memtable and, during a flush, the frozen one being written).
type partition struct {
	key    partKey
	segs   []*segment
	mem    *memPart
	frozen []*memPart
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
	ms    manifestSegment
	path  string
	seg   *columnar.Segment
	idx   *index.Reader
	idxF  vfs.File
	refs  atomic.Int32
	idCol int

	// hidden caches, for a segment of home-tenant copies, the rows its home tenant's own log
	// shadows (see copyview.go), and for a segment of a tenant's own log, the rows of sign-ins
	// with later versions (versions.go).
	hidden hiddenRows
	// stale caches, for a segment of later versions, the rows a newer version supersedes.
	stale staleRows
}

func openSegment(fsys vfs.FS, dir string, ms manifestSegment, s *columnar.Schema, cache *columnar.BlockCache) (*segment, error) {
	path := filepath.Join(dir, ms.relPath())
	seg, err := columnar.OpenSegment(fsys, path, s, cache)
	if err != nil {
		return nil, err
	}
	if seg.Meta.Tenant != ms.Tenant || seg.Meta.Day != ms.Day || seg.Meta.Rows != ms.Rows {
		seg.Close()
		return nil, &columnar.CorruptError{Path: path, What: fmt.Sprintf("footer says tenant %s day %d rows %d, manifest says %s %d %d",
			seg.Meta.Tenant, seg.Meta.Day, seg.Meta.Rows, ms.Tenant, ms.Day, ms.Rows)}
	}
	f, err := fsys.Open(path + ".idx")
	if err != nil {
		seg.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		seg.Close()
		f.Close()
		return nil, err
	}
	idx, err := index.OpenTrusted(f, st.Size())
	if err != nil {
		seg.Close()
		f.Close()
		return nil, fmt.Errorf("index %s.idx: %w", path, err)
	}
	col, _ := s.Lookup("id")
	sg := &segment{ms: ms, path: path, seg: seg, idx: idx, idxF: f, idCol: col.Index}
	sg.refs.Store(1)
	return sg, nil
}

func (s *segment) ref() { s.refs.Add(1) }

func (s *segment) unref() {
	if s.refs.Add(-1) == 0 {
		s.seg.Close()
		s.idxF.Close()
	}
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
// candidates by hash; they are verified against the id column so a hash collision never drops
// (or hides) an event.
func segmentIDRows(seg *columnar.Segment, idx *index.Reader, dst []uint32, id []byte) ([]uint32, error) {
	cand, err := idx.AppendKeyRows(nil, "id", id)
	if err != nil || len(cand) == 0 {
		return dst, err
	}
	br := seg.Meta.BlockRows
	for _, r := range cand {
		b := int(r) / br
		a, err := seg.Block(colID.Index, b)
		if err != nil {
			return dst, err
		}
		v := a.(*array.FixedSizeBinary).Value(int(r) - b*br)
		same := bytes.Equal(v, id)
		a.Release()
		if same {
			dst = append(dst, r)
		}
	}
	return dst, nil
}
