package engine

import (
	"github.com/authlake/authlake/columnar"
)

// Scan calls fn for every event of the snapshot, one batch at a time with all columns bound:
// day by day (oldest first), segments in segment order, then unflushed rows in arrival order.
// It is the plain full scan that export and tests use; queries use the planner instead.
func (s *Snapshot) Scan(fn func(b *columnar.Batch) error) error {
	all := make([]int, columnar.SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	for _, d := range s.Days {
		for _, sv := range d.Segments {
			for b := 0; b < sv.Seg.NumBlocks(); b++ {
				batch, release, err := sv.Seg.BlockBatch(b, all)
				if err != nil {
					return err
				}
				err = fn(batch)
				release()
				if err != nil {
					return err
				}
			}
		}
		for _, c := range d.Mem {
			batch, err := columnar.NewBatch(columnar.SignIns, c)
			if err != nil {
				return err
			}
			if err := fn(batch); err != nil {
				return err
			}
		}
	}
	return nil
}

// Export writes every event of tenant as Graph JSON lines (exactly as ingested) to fn, one line
// at a time. The slice passed to fn is reused.
func (db *DB) Export(tenant string, fn func(line []byte) error) (int, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return 0, err
	}
	defer snap.Release()
	var enc columnar.Encoder
	var buf []byte
	n := 0
	err = snap.Scan(func(b *columnar.Batch) error {
		for r := 0; r < b.Rows; r++ {
			buf, err = enc.AppendJSON(buf[:0], b, r, nil)
			if err != nil {
				return err
			}
			buf = append(buf, '\n')
			if err := fn(buf); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
