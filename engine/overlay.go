package engine

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/authlake/authlake/columnar"
)

// Overlay replaces, in this snapshot only, the sign-ins with the given request ids by what merge
// makes of them. A feature that derives state for some sign-ins (Identity Protection's risk of a
// sign-in, after detections and admin actions) uses it so that queries over the snapshot filter,
// sort, count and aggregate the rows as it shows them, not as they were ingested; nothing is
// stored. merge receives a row as Graph JSON (exactly as ingested, annotations included) and
// returns it changed; a result that no longer decodes as a sign-in is an error.
//
// Its cost is one index probe per id and segment and one decode per merged row: callers pass the
// ids only for queries the merge can change.
func (s *Snapshot) Overlay(ids [][16]byte, merge func(row []byte) []byte) error {
	if len(ids) == 0 {
		return nil
	}
	want := make(map[[16]byte]struct{}, len(ids))
	for _, id := range ids {
		want[id] = struct{}{}
	}
	dec := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	var enc columnar.Encoder
	var buf []byte
	all := allColumns()
	for di := range s.Days {
		d := &s.Days[di]
		var b *columnar.Builder
		add := func(batch *columnar.Batch, r int) error {
			var err error
			if buf, err = enc.AppendJSON(buf[:0], batch, r, nil); err != nil {
				return err
			}
			merged := merge(buf)
			if err := dec.Decode(merged, row); err != nil {
				return fmt.Errorf("overlay of sign-in %s: %w", columnar.FormatGUID(batch.Bytes(colID.Index, r)), err)
			}
			if b == nil {
				b = columnar.NewBuilder(columnar.SignIns)
			}
			b.AppendRow(row)
			return nil
		}
		for si := range d.Segments {
			sv := &d.Segments[si]
			var rows []uint32
			for _, id := range ids {
				var err error
				if rows, err = segmentIDRows(sv.Seg, sv.Index, rows, id[:]); err != nil {
					return err
				}
			}
			var hide *roaring.Bitmap
			for _, r := range rows {
				if sv.Hidden != nil && sv.Hidden.Contains(r) {
					continue // not in the snapshot (a superseded version, a shadowed copy)
				}
				if hide == nil {
					hide = roaring.New()
					if sv.Hidden != nil {
						hide = sv.Hidden.Clone() // handed out by a cache: never changed in place
					}
				}
				hide.Add(r)
				br := sv.Seg.Meta.BlockRows
				batch, release, err := sv.Seg.BlockBatch(int(r)/br, all)
				if err != nil {
					return err
				}
				if err = add(batch, int(r)%br); err == nil {
					err = batch.Err()
				}
				release()
				if err != nil {
					return err
				}
			}
			if hide != nil {
				sv.Hidden = hide
			}
		}
		for ci, c := range d.Mem {
			batch, err := columnar.NewBatch(columnar.SignIns, c)
			if err != nil {
				return err
			}
			var keep []int
			for r := 0; r < batch.Rows; r++ {
				if _, ok := want[[16]byte(batch.Bytes(colID.Index, r))]; !ok {
					keep = append(keep, r)
				} else if err := add(batch, r); err != nil {
					return err
				}
			}
			if len(keep) < batch.Rows {
				t := columnar.Take(columnar.SignIns, c, keep)
				s.chunks = append(s.chunks, t)
				d.Mem[ci] = t
			}
		}
		if b != nil {
			c := b.Seal()
			s.chunks = append(s.chunks, c)
			d.Mem = append(d.Mem, c)
		}
	}
	return nil
}
