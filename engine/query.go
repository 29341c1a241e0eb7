package engine

import (
	"context"

	"github.com/authlake/authlake/query"
)

// Source adapts the snapshot for the query layer.
func (s *Snapshot) Source() query.Source {
	src := query.Source{Days: make([]query.Day, len(s.Days)), CPU: s.cpu}
	for i, d := range s.Days {
		qd := query.Day{Day: d.Day, Mem: d.Mem}
		for _, sv := range d.Segments {
			qd.Segments = append(qd.Segments, query.Segment{ID: sv.ID, Seg: sv.Seg, Index: sv.Index, Hidden: sv.Hidden})
		}
		src.Days[i] = qd
	}
	return src
}

// Query runs one OData list query ($filter, $orderby, $top, $skiptoken, $select, $count,
// $apply) over a consistent snapshot of tenant's events.
func (db *DB) Query(ctx context.Context, tenant string, req query.Request) (*query.Result, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	if req.Now == nil {
		req.Now = db.opts.Now
	}
	return query.Run(ctx, db.schema, snap.Source(), req)
}
