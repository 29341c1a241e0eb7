package diagnostic

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// session runs the queries of one diagnosis over one engine snapshot, so that every step
// sees the same events, and records their plans.
type session struct {
	ctx     context.Context
	snap    *engine.Snapshot
	schema  *columnar.Schema
	src     query.Source
	explain bool
	plans   []Plan
}

func (d *Diagnoser) open(ctx context.Context, tenant string, explain bool) (*session, error) {
	snap, err := d.db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	return &session{ctx: ctx, snap: snap, schema: snap.Schema(), src: snap.Source(), explain: explain}, nil
}

func (s *session) close() { s.snap.Release() }

// run is one list query. Graph's interactive-only default does not apply: a diagnosis looks
// at every event type of the user (non-interactive refreshes fail too). The diagnosis's
// conditions are req.Where, built from the input's values: nothing it queries is quoted
// into $filter text.
func (s *session) run(step string, req query.Request) (*query.Result, error) {
	req.Explain = s.explain
	start := time.Now()
	res, err := query.Run(s.ctx, s.schema, s.src, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if s.explain && res.Explain != nil {
		s.plans = append(s.plans, Plan{Step: step, Filter: req.Where.String(), Took: time.Since(start).String(), Explain: res.Explain.String()})
	}
	return res, nil
}

// aggregate groups matching events; its plan is the compiled filter's (Aggregate reports
// no run-time Explain).
func (s *session) aggregate(step string, where query.Pred, groupBy []string, aggs []query.Agg) ([]query.Group, error) {
	start := time.Now()
	gs, err := query.AggregateWhere(s.ctx, s.schema, s.src, where, groupBy, aggs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if s.explain {
		plan := ""
		if f, err := query.CompileWhere(s.schema, "", where, query.Options{}); err == nil {
			plan = f.Plan()
		}
		s.plans = append(s.plans, Plan{Step: step, Filter: where.String(), Took: time.Since(start).String(),
			Explain: fmt.Sprintf("aggregate by %s: %d groups\n%s", strings.Join(groupBy, ","), len(gs), plan)})
	}
	return gs, nil
}

// events runs req and decodes its rows.
func (s *session) events(step string, req query.Request) ([]Event, *query.Result, error) {
	if req.Select == nil {
		req.Select = eventSelect
	}
	var (
		out  []Event
		view columnar.RowView
	)
	req.Visit = func(i int, b *columnar.Batch, row int) error {
		if i >= len(out) {
			out = append(out, make([]Event, i+1-len(out))...)
		}
		view.Reset(b, row)
		e, err := fillEvent(&view)
		if err == nil {
			err = view.Err()
		}
		out[i] = e
		return err
	}
	res, err := s.run(step, req)
	if err != nil {
		return nil, nil, err
	}
	return out[:res.PageRows:res.PageRows], res, nil
}

// eventsJSON is events with each event's Graph JSON row kept (Event.object), for the
// summary's caller-chosen columns.
func (s *session) eventsJSON(step string, req query.Request) ([]Event, *query.Result, error) {
	res, err := s.run(step, req)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Event, 0, len(res.Rows))
	for _, r := range res.Rows {
		e, err := decodeEvent(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", step, err)
		}
		out = append(out, e)
	}
	return out, res, nil
}

// span returns the first and last instant the snapshot holds events for (whole UTC days).
func (s *session) span() (from, to time.Time, ok bool) {
	if len(s.snap.Days) == 0 {
		return time.Time{}, time.Time{}, false
	}
	return engine.DayTime(s.snap.Days[0].Day), engine.DayTime(s.snap.Days[len(s.snap.Days)-1].Day).Add(24 * time.Hour), true
}

// window is a time bound; a zero window has no bound.
type window struct{ from, to time.Time }

func (w window) bounded() bool { return !w.from.IsZero() }

// pred selects the window: whole seconds, as the window is shown to people (a window
// around an event's millisecond time starts and ends on the second).
func (w window) pred() query.Pred {
	if !w.bounded() {
		return query.Pred{}
	}
	return query.And(query.Ge("createdDateTime", w.from.UTC().Truncate(time.Second)),
		query.Le("createdDateTime", w.to.UTC().Truncate(time.Second)))
}

func (w window) String() string {
	if !w.bounded() {
		return "the whole retention"
	}
	return w.from.UTC().Format(time.RFC3339) + " – " + w.to.UTC().Format(time.RFC3339)
}
