package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// loadReport is the JSON printed by `peer load`.
type loadReport struct {
	Engine          string   `json:"engine"`  // "duckdb"
	Version         string   `json:"version"` // DuckDB version, e.g. "v1.5.6"
	Driver          string   `json:"driver"`
	DB              string   `json:"db"`
	Files           []string `json:"files"`
	InputBytes      int64    `json:"input_bytes"`
	Threads         int      `json:"threads"`
	Events          int64    `json:"events"`       // rows inserted by this load
	TableEvents     int64    `json:"table_events"` // rows in the table afterwards
	InsertSeconds   float64  `json:"insert_seconds"`
	CheckpointSecs  float64  `json:"checkpoint_seconds"`
	LoadSeconds     float64  `json:"load_seconds"` // insert + checkpoint
	EventsPerSecond float64  `json:"events_per_second"`
	DBBytes         int64    `json:"db_bytes"` // database file after CHECKPOINT
	BytesPerEvent   float64  `json:"bytes_per_event"`
	PeakRSSBytes    int64    `json:"peak_rss_bytes"` // VmHWM of the process
	LoadAvgStart    float64  `json:"loadavg_1m_start"`
	LoadAvgEnd      float64  `json:"loadavg_1m_end"`
}

// load appends NDJSON files to the sign-in table of a persistent database and checkpoints it.
func load(ctx context.Context, o openOptions, files []string) (*loadReport, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("--ndjson is required")
	}
	r := &loadReport{Engine: "duckdb", Driver: driverVersion, DB: o.Path, Threads: o.Threads}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		r.Files = append(r.Files, abs)
		r.InputBytes += st.Size()
	}
	db, err := open(o)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// One connection: settings and the table are visible to every statement below.
	db.SetMaxOpenConns(1)
	if r.Version, err = duckdbVersion(db); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, createTableSQL()); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}

	r.LoadAvgStart = loadAvg1()
	start := time.Now()
	res, err := db.ExecContext(ctx, insertSQL(r.Files))
	if err != nil {
		return nil, fmt.Errorf("read_ndjson: %w", err)
	}
	inserted := time.Now()
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	done := time.Now()

	if r.Events, err = res.RowsAffected(); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tableName).Scan(&r.TableEvents); err != nil {
		return nil, err
	}
	r.InsertSeconds = inserted.Sub(start).Seconds()
	r.CheckpointSecs = done.Sub(inserted).Seconds()
	r.LoadSeconds = done.Sub(start).Seconds()
	if r.LoadSeconds > 0 {
		r.EventsPerSecond = float64(r.Events) / r.LoadSeconds
	}
	if r.DBBytes, err = fileSize(o.Path); err != nil {
		return nil, err
	}
	if r.TableEvents > 0 {
		r.BytesPerEvent = float64(r.DBBytes) / float64(r.TableEvents)
	}
	r.PeakRSSBytes = peakRSS()
	r.LoadAvgEnd = loadAvg1()
	return r, nil
}
