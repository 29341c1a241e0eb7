package identityprotection

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// JobOptions configure an offline detection run.
type JobOptions struct {
	Now      func() time.Time // the watermark: events created before it are read (default time.Now)
	Lookback time.Duration    // history the detectors learn from (default 30 days, the sign-in retention)
	Chunk    time.Duration    // events are read and checkpointed one chunk at a time (default 6 h)
	// StopAfterChunks ends the run with ErrInterrupted after that many chunks that emitted
	// something were committed: the crash in the restart tests.
	StopAfterChunks int
}

// ErrInterrupted is returned by a run stopped by JobOptions.StopAfterChunks.
var ErrInterrupted = errors.New("detection job interrupted")

// JobResult describes one run.
type JobResult struct {
	Tenant       string
	From, To     time.Time // window read
	Resumed      time.Time // cursor the run started from (zero: first run)
	Events       int       // interactive sign-ins read
	Detections   int       // new detections stored
	Observations int       // new observations stored
	Chunks       int
	// Learning is what the profile detectors could not judge yet at To.
	Learning Learning
}

// progress is the job's durable cursor (DIR/jobs/TENANT.json): every event created
// before Cursor has had its detections and observations stored.
type progress struct {
	Version int       `json:"version"`
	Cursor  time.Time `json:"cursor"`
}

// jobFields are the sign-in properties the detectors read: selecting them keeps the
// engine from encoding the other seventy.
var jobFields = []string{"id", "createdDateTime", "correlationId", "userId", "userPrincipalName", "userDisplayName",
	"ipAddress", "autonomousSystemNumber", "status", "location", "deviceDetail", "userAgent", "appDisplayName",
	"tokenIssuerType", "isInteractive", "signInEventTypes", "authenticationDetails",
	"authenticationRequirementPolicies", "networkLocationDetails"}

// The job's queries are typed predicates (query.Pred): its times and ids are values, not
// text to format and quote.
var (
	interactiveOnly = query.Any("signInEventTypes", "t", query.Eq("t", "interactiveUser"))
	allTypes        = query.Any("signInEventTypes", "t", query.Or(query.Eq("t", "interactiveUser"), query.Eq("t", "nonInteractiveUser")))
)

// between is from <= createdDateTime < to.
func between(from, to time.Time) query.Pred {
	return query.And(query.Ge("createdDateTime", from), query.Lt("createdDateTime", to))
}

// RunDetection runs the offline detectors over tenant's recent interactive sign-ins.
//
// The detectors are stateful (user profiles, spray windows, failure reputation) and their
// state is a pure function of the events in time order, so a run rebuilds it by reading
// the whole lookback window and stores only what events at or after the saved cursor
// raise. Detections and observations have content-hash ids and the store ignores ids it
// has, so a crash between storing a chunk's detections and saving the cursor re-raises
// the same ids on the next run: nothing is duplicated and nothing is lost.
//
// Events ingested late (createdDateTime before the cursor) are not re-examined; the
// ingest-time hook described in docs/identity-protection.md would close that gap.
func RunDetection(ctx context.Context, db *engine.DB, s *Store, tenant string, opts JobOptions) (JobResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lookback <= 0 {
		opts.Lookback = 30 * 24 * time.Hour
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 6 * time.Hour
	}
	now := opts.Now().UTC()
	res := JobResult{Tenant: tenant, From: now.Add(-opts.Lookback).Truncate(opts.Chunk), To: now}
	progPath := filepath.Join(s.dir, "jobs", tenant+".json")
	var prog progress
	if _, err := readJSON(progPath, &prog); err != nil {
		return res, err
	}
	res.Resumed = prog.Cursor

	anon, threat := s.Lists()
	det := NewDetector(tenant, s.TenantConfig(tenant).Thresholds, anon, threat)
	det.Now = func() time.Time { return now }
	cands, err := failureCandidates(ctx, db, tenant, res.From, now, det.th.MaliciousUsers)
	if err != nil {
		return res, err
	}
	det.candidates = cands
	if det.orgCities, err = orgCities(ctx, db, tenant, res.From, now); err != nil {
		return res, err
	}

	emitted := 0
	for from := res.From; from.Before(now); from = from.Add(opts.Chunk) {
		to := from.Add(opts.Chunk)
		if to.After(now) {
			to = now
		}
		events, err := readWindow(ctx, db, tenant, from, to)
		if err != nil {
			return res, err
		}
		res.Events += len(events)
		res.Chunks++
		var dets []Detection
		var obs []Observation
		for _, e := range events {
			d, o := det.Observe(e)
			if e.Time.Before(prog.Cursor) {
				continue // raised by an earlier run; observed only to rebuild state
			}
			dets = append(dets, d...)
			obs = append(obs, o...)
		}
		if !to.After(prog.Cursor) {
			continue
		}
		n, err := s.AddDetections(tenant, dets)
		if err != nil {
			return res, err
		}
		res.Detections += n
		m, err := s.AddObservations(tenant, obs)
		if err != nil {
			return res, err
		}
		res.Observations += m
		emitted++
		if opts.StopAfterChunks > 0 && emitted >= opts.StopAfterChunks {
			return res, ErrInterrupted // crash before the cursor is saved
		}
		prog = progress{Version: 1, Cursor: to}
		data, _ := jsonIndent(prog)
		if err := s.writeFile(progPath, data); err != nil {
			return res, err
		}
	}
	res.Learning = det.Learning(now)
	return res, nil
}

// windowPage is the page readWindow reads a chunk's sign-ins in. A page after the first scans
// the chunk's day again from its skip token, and the rows of a segment are ordered by user,
// not time, so pages of Graph's 1,000 rows made a run quadratic in the rows of a day: 7.2 s at
// 1M events, 372 s at 10M (bench load's detection run). A chunk (6 hours) is one page up to
// this many interactive sign-ins, which it holds as events anyway.
const windowPage = 1 << 20

// readWindow reads interactive sign-ins with from <= createdDateTime < to, in
// (createdDateTime, id) order so that replays see ties in the same order.
func readWindow(ctx context.Context, db *engine.DB, tenant string, from, to time.Time) ([]*Event, error) {
	where := query.And(between(from, to), interactiveOnly)
	var out []*Event
	skip := ""
	for {
		page, next, err := queryEvents(ctx, db, tenant, query.Request{Where: where, Top: windowPage, SkipToken: skip, Select: jobFields})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		skip = next
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// queryEvents runs req (Select: jobFields) and reads its page's sign-ins typed from their
// columns: a detection run reads every interactive sign-in of its window, which the query
// layer used to write as Graph JSON for this package to parse again.
func queryEvents(ctx context.Context, db *engine.DB, tenant string, req query.Request) (events []*Event, skipToken string, err error) {
	var view columnar.RowView
	req.Visit = func(i int, b *columnar.Batch, row int) error {
		view.Reset(b, row)
		e, err := eventFrom(&view)
		if err == nil {
			err = view.Err()
		}
		if err != nil {
			return err
		}
		if i >= len(events) {
			events = append(events, make([]*Event, i+1-len(events))...)
		}
		events[i] = e
		return nil
	}
	res, err := db.Query(ctx, tenant, req)
	if err != nil {
		return nil, "", err
	}
	return events[:res.PageRows], res.SkipToken, nil
}

// failureCandidates asks the query engine (index probes on status and the time range)
// which IPs had failed interactive sign-ins from at least minUsers distinct users in the
// window. Only those can become malicious by failure rate, so only they are counted.
func failureCandidates(ctx context.Context, db *engine.DB, tenant string, from, to time.Time, minUsers int) (map[string]bool, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	where := query.And(between(from, to), query.Ne("status/errorCode", 0), interactiveOnly)
	groups, err := query.AggregateWhere(ctx, snap.Schema(), snap.Source(), where, []string{"ipAddress"},
		[]query.Agg{{Op: query.AggCountDistinct, Property: "userId", Alias: "users"}})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, g := range groups {
		ip, _ := g.Keys["ipAddress"].(string)
		if n, _ := g.Values["users"].(int64); int(n) >= minUsers && ip != "" {
			out[ip] = true
		}
	}
	return out, nil
}

// orgCities counts, per "country|city", the distinct users with successful sign-ins of any
// type in the window (an aggregate over the status index).
func orgCities(ctx context.Context, db *engine.DB, tenant string, from, to time.Time) (map[string]int, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	where := query.And(between(from, to), query.Eq("status/errorCode", 0), allTypes)
	groups, err := query.AggregateWhere(ctx, snap.Schema(), snap.Source(), where, []string{"location/countryOrRegion", "location/city"},
		[]query.Agg{{Op: query.AggCountDistinct, Property: "userId", Alias: "users"}})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, g := range groups {
		c, _ := g.Keys["location/countryOrRegion"].(string)
		city, _ := g.Keys["location/city"].(string)
		n, _ := g.Values["users"].(int64)
		out[c+"|"+city] = int(n)
	}
	return out, nil
}
