package engine

import (
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
)

// Reading home-tenant copies (see homecopy.go): which rows of a copy segment or memtable chunk
// a snapshot of the home tenant must not show, because its own log holds their ids.

// hiddenRows caches a copy segment's hidden rows: those whose id is among the first n entries
// of its home tenant's shadow log (of one epoch). The segment is immutable and the log only
// grows, so each id is probed once per segment. A bitmap handed to a snapshot is never modified
// afterwards.
type hiddenRows struct {
	mu    sync.Mutex
	epoch uint64
	log   [][16]byte // the longest prefix seen
	n     int        // entries of log applied to rows
	rows  *roaring.Bitmap
}

// hiddenFor returns the segment's rows hidden by log (a prefix of its home's shadow log of
// epoch, as a snapshot saw it), nil when none.
func (s *segment) hiddenFor(epoch uint64, log [][16]byte) (*roaring.Bitmap, error) {
	c := &s.hidden
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		c.epoch, c.log, c.n, c.rows = epoch, nil, 0, nil
	}
	if len(log) < c.n {
		// A snapshot taken before a newer one that already extended the cache: without the
		// ids found since, so that it shows exactly what existed when it was taken. Each row
		// has one id, and each id is once in the log.
		later, err := s.rowsOf(c.log[len(log):c.n])
		if err != nil || len(later) == 0 || c.rows == nil {
			return c.rows, err
		}
		rows := c.rows.Clone()
		for _, r := range later {
			rows.Remove(r)
		}
		return rows, nil
	}
	if len(log) > c.n {
		found, err := s.rowsOf(log[c.n:])
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			rows := roaring.New()
			if c.rows != nil {
				rows = c.rows.Clone()
			}
			rows.AddMany(found)
			c.rows = rows
		}
		c.log, c.n = log, len(log)
	}
	return c.rows, nil
}

func (s *segment) rowsOf(ids [][16]byte) ([]uint32, error) {
	var rows []uint32
	for _, id := range ids {
		var err error
		if rows, err = s.idRows(rows, id[:]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// shadowedIn returns the ids of m that are in shadowed, iterating the smaller of the two.
func shadowedIn(m *memPart, shadowed map[[16]byte]struct{}) map[[16]byte]struct{} {
	var out map[[16]byte]struct{}
	add := func(id [16]byte) {
		if out == nil {
			out = map[[16]byte]struct{}{}
		}
		out[id] = struct{}{}
	}
	if len(shadowed) < len(m.ids) {
		for id := range shadowed {
			if _, ok := m.ids[id]; ok {
				add(id)
			}
		}
	} else {
		for id := range m.ids {
			if _, ok := shadowed[id]; ok {
				add(id)
			}
		}
	}
	return out
}

// visibleRows returns the rows of a memtable chunk whose ids are not in hide, and whether any
// row is hidden.
func visibleRows(c arrow.RecordBatch, hide map[[16]byte]struct{}) ([]int, bool, error) {
	b, err := columnar.NewBatch(columnar.SignIns, c)
	if err != nil {
		return nil, false, err
	}
	idCol, _ := columnar.SignIns.Lookup("id")
	keep := make([]int, 0, b.Rows)
	for r := 0; r < b.Rows; r++ {
		if _, hidden := hide[[16]byte(b.Bytes(idCol.Index, r))]; !hidden {
			keep = append(keep, r)
		}
	}
	return keep, len(keep) < b.Rows, nil
}
