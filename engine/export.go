package engine

import (
	"github.com/authlake/authlake/columnar"
)

// Scan calls fn for every event of the snapshot, with the batch (all columns bound) holding it:
// day by day (oldest first), segments in segment order, then unflushed rows in arrival order.
// Rows the snapshot hides are skipped. It is the plain full scan that export and tests use;
// queries use the planner instead.
func (s *Snapshot) Scan(fn func(b *columnar.Batch, row int) error) error {
	all := make([]int, columnar.SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	for _, d := range s.Days {
		for _, sv := range d.Segments {
			br := sv.Seg.Meta.BlockRows
			for b := 0; b < sv.Seg.NumBlocks(); b++ {
				batch, release, err := sv.Seg.BlockBatch(b, all)
				if err != nil {
					return err
				}
				for r := 0; r < batch.Rows && err == nil; r++ {
					if sv.Hidden == nil || !sv.Hidden.Contains(uint32(b*br+r)) {
						err = fn(batch, r)
					}
				}
				if err == nil {
					err = batch.Err()
				}
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
			for r := 0; r < batch.Rows; r++ {
				if err := fn(batch, r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Export writes every event of tenant as Graph JSON lines (exactly as ingested, each sign-in
// in its newest version) to fn, one line at a time: its own log, and the copies trusted tenants
// reported, which carry "@authlake.reportedBy" (see homecopy.go). The slice passed to fn is
// reused.
func (db *DB) Export(tenant string, fn func(line []byte) error) (int, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return 0, err
	}
	defer snap.Release()
	return exportRows(snap, fn, func(int) bool { return true })
}

// ExportVersions is Export with every stored version of each sign-in (docs/versions.md): first
// the first versions, then every version 2, then every version 3 and so on, so that ingesting
// the output into an empty database stores the same versions in the same order. Later versions
// carry "@authlake.version".
func (db *DB) ExportVersions(tenant string, fn func(line []byte) error) (int, error) {
	snap, err := db.SnapshotVersions(tenant)
	if err != nil {
		return 0, err
	}
	defer snap.Release()
	total, newest := 0, 1
	for v := 1; v <= newest; v++ {
		n, err := exportRows(snap, fn, func(n int) bool {
			newest = max(newest, n)
			return n == v
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// exportRows writes the snapshot's rows whose version keep accepts.
func exportRows(snap *Snapshot, fn func(line []byte) error, keep func(version int) bool) (int, error) {
	var enc columnar.Encoder
	var buf []byte
	n := 0
	err := snap.Scan(func(b *columnar.Batch, r int) error {
		v, err := columnar.RowVersion(b, r)
		if err != nil {
			return err
		}
		if !keep(v) {
			return nil
		}
		buf, err = enc.AppendJSON(buf[:0], b, r, nil)
		if err != nil {
			return err
		}
		buf = append(buf, '\n')
		if err := fn(buf); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
