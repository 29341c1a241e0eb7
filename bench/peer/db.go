package main

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// driverVersion is the pinned driver; DESIGN.md explains why it cannot move.
const driverVersion = "github.com/duckdb/duckdb-go/v2 v2.10506.0"

// openOptions configure one database handle.
type openOptions struct {
	Path        string
	Threads     int    // SET threads; 0 leaves DuckDB's default (one per core)
	MemoryLimit string // SET memory_limit, e.g. "8GB"; "" leaves the default (80% of RAM)
	ReadOnly    bool
}

// open returns a fresh DuckDB database handle. Every connection is initialised with the same
// settings. duckdb-go caches file-backed instances by path only while a handle is open, so
// closing the previous handle first really gives a new instance with an empty buffer pool.
func open(o openOptions) (*sql.DB, error) {
	if o.Path == "" {
		return nil, errors.New("--db is required")
	}
	q := url.Values{}
	if o.ReadOnly {
		q.Set("access_mode", "read_only")
	}
	if o.Threads > 0 {
		q.Set("threads", strconv.Itoa(o.Threads))
	}
	if o.MemoryLimit != "" {
		q.Set("memory_limit", o.MemoryLimit)
	}
	dsn := o.Path
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	init := func(ex driver.ExecerContext) error {
		// Timestamps are compared and printed in UTC whatever the machine's zone is.
		_, err := ex.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	}
	c, err := duckdb.NewConnector(dsn, init)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", o.Path, err)
	}
	db := sql.OpenDB(c)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", o.Path, err)
	}
	return db, nil
}

// duckdbVersion reports the engine version of an open handle, e.g. "v1.5.6".
func duckdbVersion(db *sql.DB) (string, error) {
	var v string
	err := db.QueryRow("SELECT version()").Scan(&v)
	return v, err
}

// peakRSS returns VmHWM (the process's peak resident set) in bytes; DuckDB runs in-process, so
// its memory is included. 0 if /proc is unavailable.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// loadAvg1 is the 1-minute load average from /proc/loadavg (-1 if unavailable): timings taken on
// a machine shared with other work are only comparable when both engines saw the same load.
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// fileSize is the database size on disk: the file plus a leftover WAL, if any.
func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	n := st.Size()
	if wal, err := os.Stat(path + ".wal"); err == nil {
		n += wal.Size()
	}
	return n, nil
}
