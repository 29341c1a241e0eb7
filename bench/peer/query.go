package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/authlake/authlake/bench"
)

// queryReport is the JSON printed by `peer query`.
type queryReport struct {
	Engine       string        `json:"engine"`
	Version      string        `json:"version"`
	Driver       string        `json:"driver"`
	DB           string        `json:"db"`
	DBBytes      int64         `json:"db_bytes"`
	Events       int64         `json:"events"`
	Threads      int           `json:"threads"`
	Runs         int           `json:"runs"`
	Cold         string        `json:"cold"` // what cold means: bench.ColdMethod
	Params       reportParams  `json:"params"`
	Queries      []queryResult `json:"queries"`
	PeakRSSBytes int64         `json:"peak_rss_bytes"`
	LoadAvgStart float64       `json:"loadavg_1m_start"`
	LoadAvgEnd   float64       `json:"loadavg_1m_end"`
}

type reportParams struct {
	UPN           string    `json:"upn"`
	CorrelationID string    `json:"correlationId"`
	Now           time.Time `json:"now"`
	Since7d       time.Time `json:"now_minus_7d"`
	Since48h      time.Time `json:"now_minus_48h"`
	Since30d      time.Time `json:"now_minus_30d"`
}

type queryResult struct {
	ID    string     `json:"id"`
	Kind  bench.Kind `json:"kind"`
	Graph string     `json:"graph_filter"` // placeholders resolved
	Top   int        `json:"top,omitempty"`
	SQL   string     `json:"sql"`
	Args  []any      `json:"args"`
	// Columns is what a page's rows hold: "all" (SELECT *, every value read into Go), or the
	// selected columns.
	Columns string `json:"columns,omitempty"`
	// Count is the count(*) for count queries and the number of rows returned otherwise.
	Count int64 `json:"count"`
	// Page queries: ids in result order are hashed (FNV-1a 64 over "id\n" per row, lower-case
	// GUIDs) so that another engine's page can be compared without storing it.
	FirstID string     `json:"first_id,omitempty"`
	LastID  string     `json:"last_id,omitempty"`
	IDsHash string     `json:"ids_fnv1a64,omitempty"`
	Top10   []appCount `json:"rows,omitempty"` // aggregation rows
	// Timings in milliseconds, including result materialisation in Go.
	ColdMs       float64   `json:"cold_ms"`      // the median of bench.ColdRuns cold runs
	ColdRunsMs   []float64 `json:"cold_runs_ms"` // each cold run, in order
	WarmMedianMs float64   `json:"warm_median_ms"`
	WarmP99Ms    float64   `json:"warm_p99_ms"`
	WarmMinMs    float64   `json:"warm_min_ms"`
}

type appCount struct {
	App      *string `json:"app"` // null for events without appDisplayName
	Failures int64   `json:"failures"`
}

// outcome is the full materialised result of one run.
type outcome struct {
	count int64
	ids   []string
	times []time.Time
	top   []appCount
	// Pages: the result's column names and every row's values, as the driver read them into Go
	// (strings, numbers, time.Time, map[string]any for a STRUCT, []any for a list): a full-row
	// page holds every value of every row, as authlake's Graph JSON page does.
	cols []string
	rows [][]any
}

func runOnce(ctx context.Context, db *sql.DB, q bench.Query, args []any) (*outcome, error) {
	rows, err := db.QueryContext(ctx, q.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.ID, err)
	}
	defer rows.Close()
	o := &outcome{}
	idCol, timeCol := -1, -1
	if q.Kind == bench.KindPage {
		if o.cols, err = rows.Columns(); err != nil {
			return nil, fmt.Errorf("%s: %w", q.ID, err)
		}
		idCol, timeCol = slices.Index(o.cols, "id"), slices.Index(o.cols, "createdDateTime")
		if idCol < 0 || timeCol < 0 {
			return nil, fmt.Errorf("%s: a page without id and createdDateTime (columns %v)", q.ID, o.cols)
		}
	}
	for rows.Next() {
		switch q.Kind {
		case bench.KindPage:
			vals := make([]any, len(o.cols))
			dest := make([]any, len(vals))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return nil, fmt.Errorf("%s: %w", q.ID, err)
			}
			var id duckdb.UUID
			if err := id.Scan(vals[idCol]); err != nil {
				return nil, fmt.Errorf("%s: id %v: %w", q.ID, vals[idCol], err)
			}
			t, ok := vals[timeCol].(time.Time)
			if !ok {
				return nil, fmt.Errorf("%s: createdDateTime is %T, not a time", q.ID, vals[timeCol])
			}
			o.ids = append(o.ids, id.String())
			o.times = append(o.times, t)
			o.rows = append(o.rows, vals)
			o.count++
		case bench.KindCount:
			if err := rows.Scan(&o.count); err != nil {
				return nil, fmt.Errorf("%s: %w", q.ID, err)
			}
		case bench.KindTop:
			var a appCount
			var app sql.NullString
			if err := rows.Scan(&app, &a.Failures); err != nil {
				return nil, fmt.Errorf("%s: %w", q.ID, err)
			}
			if app.Valid {
				a.App = &app.String
			}
			o.top = append(o.top, a)
			o.count++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", q.ID, err)
	}
	return o, nil
}

// runSuite runs every query: a cold run on a freshly opened database, then runs warm runs on
// the same handle. Each query gets its own handle, so one query's cache never warms the next
// query's cold run, and before it is opened the database file (and a WAL beside it) is dropped
// from the OS page cache (bench.DropPageCache, as authlake's directory is): "cold" means an
// empty buffer pool and catalog, and data read from the disk, on both engines alike.
func runSuite(ctx context.Context, o openOptions, p params, runs int) (*queryReport, map[string]*outcome, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	if runs < 1 {
		return nil, nil, fmt.Errorf("--runs must be at least 1")
	}
	o.ReadOnly = true
	r := &queryReport{Engine: "duckdb", Driver: driverVersion, DB: o.Path, Threads: o.Threads, Runs: runs, Cold: bench.ColdMethod,
		Params: reportParams{UPN: p.UPN, CorrelationID: p.CorrelationID, Now: p.Now.UTC(),
			Since7d: p.since(7 * 24 * time.Hour), Since48h: p.since(48 * time.Hour), Since30d: p.since(30 * 24 * time.Hour)}}
	var err error
	if r.DBBytes, err = fileSize(o.Path); err != nil {
		return nil, nil, err
	}
	r.LoadAvgStart = loadAvg1()
	results := map[string]*outcome{}
	for _, q := range bench.Suite {
		res, out, err := measure(ctx, o, q, p, runs)
		if err != nil {
			return nil, nil, err
		}
		r.Queries = append(r.Queries, res)
		results[q.ID] = out
	}
	db, err := open(o)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	if r.Version, err = duckdbVersion(db); err != nil {
		return nil, nil, err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tableName).Scan(&r.Events); err != nil {
		return nil, nil, err
	}
	r.PeakRSSBytes = peakRSS()
	r.LoadAvgEnd = loadAvg1()
	return r, results, nil
}

func measure(ctx context.Context, o openOptions, q bench.Query, p params, runs int) (queryResult, *outcome, error) {
	args := p.args(q.Args)
	res := queryResult{ID: q.ID, Kind: q.Kind, Graph: p.graphFilter(q), Top: q.Top, SQL: q.SQL, Args: args}
	if res.Args == nil {
		res.Args = []any{}
	}
	if q.Kind == bench.KindPage {
		res.Columns = "all"
		if !q.FullRows() {
			res.Columns = strings.Join(q.Select, ",")
		}
	}
	// bench.ColdRuns cold runs, each on a database opened after the drop (the last stays open
	// for the warm runs); the cold figure is their median, as authlake's.
	var db *sql.DB
	var first *outcome
	for i := range bench.ColdRuns {
		ms, out, d, err := coldRun(ctx, o, q, args)
		if err == nil && i > 0 && !sameOutcome(out, first) {
			err = fmt.Errorf("%s: cold run %d returned a different result than the first", q.ID, i+1)
		}
		if err != nil {
			if d != nil {
				d.Close()
			}
			return res, nil, err
		}
		if i < bench.ColdRuns-1 {
			d.Close()
		} else {
			db = d
		}
		if i == 0 {
			first = out
		}
		res.ColdRunsMs = append(res.ColdRunsMs, ms)
	}
	defer db.Close()
	res.ColdMs = bench.Percentile(slices.Sorted(slices.Values(res.ColdRunsMs)), 0.5)

	warm := make([]float64, runs)
	for i := range warm {
		t := time.Now()
		out, err := runOnce(ctx, db, q, args)
		if err != nil {
			return res, nil, err
		}
		warm[i] = ms(time.Since(t))
		if !sameOutcome(out, first) {
			return res, nil, fmt.Errorf("%s: run %d returned a different result than the cold run", q.ID, i+1)
		}
	}
	slices.Sort(warm)
	res.WarmMedianMs = math.Round(bench.Percentile(warm, 0.5)*1e3) / 1e3
	res.WarmP99Ms = math.Round(bench.Percentile(warm, 0.99)*1e3) / 1e3
	res.WarmMinMs = warm[0]

	res.Count = first.count
	switch q.Kind {
	case bench.KindPage:
		if len(first.ids) > 0 {
			res.FirstID, res.LastID = first.ids[0], first.ids[len(first.ids)-1]
		}
		res.IDsHash = idsHash(first.ids)
	case bench.KindTop:
		res.Top10 = first.top
		if res.Top10 == nil {
			res.Top10 = []appCount{}
		}
	}
	return res, first, nil
}

func sameAppCount(a, b appCount) bool {
	return a.Failures == b.Failures && (a.App == nil) == (b.App == nil) && (a.App == nil || *a.App == *b.App)
}

// idsHash is FNV-1a 64 over each id followed by '\n', as 16 lower-case hex digits.
func idsHash(ids []string) string {
	h := fnv.New64a()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/1e3) / 1e3 }

// dropPageCache drops the database file and a WAL beside it from the OS page cache.
func dropPageCache(path string) error {
	if err := bench.DropPageCache(path); err != nil {
		return err
	}
	if _, err := os.Stat(path + ".wal"); err == nil {
		return bench.DropPageCache(path + ".wal")
	}
	return nil
}

// readParams loads a params file written by `peer params` (or by hand).
func readParams(path string) (params, error) {
	var p params
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, p.validate()
}

// pickParams chooses the params from a loaded database (see pickUPNSQL and friends).
func pickParams(ctx context.Context, o openOptions) (params, error) {
	var p params
	o.ReadOnly = true
	db, err := open(o)
	if err != nil {
		return p, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, pickUPNSQL).Scan(&p.UPN); err != nil {
		return p, fmt.Errorf("pick upn (no flagged sign-ins?): %w", err)
	}
	if err := db.QueryRowContext(ctx, pickCIDSQL).Scan(&p.CorrelationID); err != nil {
		return p, fmt.Errorf("pick correlationId (no multi-event flow?): %w", err)
	}
	if err := db.QueryRowContext(ctx, pickNowSQL).Scan(&p.Now); err != nil {
		return p, fmt.Errorf("pick now: %w", err)
	}
	p.Now = p.Now.UTC()
	return p, nil
}

// coldRun drops the database from the page cache, opens it and times q's first run on it; the
// caller closes the database it returns (also with an error, when not nil).
func coldRun(ctx context.Context, o openOptions, q bench.Query, args []any) (float64, *outcome, *sql.DB, error) {
	if err := dropPageCache(o.Path); err != nil {
		return 0, nil, nil, err
	}
	db, err := open(o)
	if err != nil {
		return 0, nil, nil, err
	}
	// Warm the connection pool itself so the cold run times the query, not connect().
	if err := db.PingContext(ctx); err != nil {
		return 0, nil, db, err
	}
	t0 := time.Now()
	out, err := runOnce(ctx, db, q, args)
	if err != nil {
		return 0, nil, db, err
	}
	return ms(time.Since(t0)), out, db, nil
}

// sameOutcome says whether two runs of a query returned the same result.
func sameOutcome(a, b *outcome) bool {
	return a.count == b.count && slices.Equal(a.ids, b.ids) && slices.EqualFunc(a.times, b.times, time.Time.Equal) &&
		slices.EqualFunc(a.top, b.top, sameAppCount)
}
