package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// peerRunner drives the DuckDB peer (bench/peer, its own module) as a separate process: it has
// its own memory, threads and peak RSS, and the main module never links DuckDB.
type peerRunner struct {
	dir     string
	work    string
	threads int
	bin     string
	log     func(string, ...any)
}

// PeerLoad is `peer load`'s report.
type PeerLoad struct {
	Version         string  `json:"version"`
	Events          int64   `json:"events"`
	LoadSeconds     float64 `json:"load_seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	DBBytes         int64   `json:"db_bytes"`
	BytesPerEvent   float64 `json:"bytes_per_event"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
}

// PeerQueries is `peer query`'s report.
type PeerQueries struct {
	Version      string      `json:"version"`
	Cold         string      `json:"cold"` // what cold meant on DuckDB's side (ColdMethod)
	PeakRSSBytes int64       `json:"peak_rss_bytes"`
	Queries      []PeerQuery `json:"queries"`
}

// PeerQuery is one query's DuckDB result.
type PeerQuery struct {
	ID      string     `json:"id"`
	Graph   string     `json:"graph_filter"`
	SQL     string     `json:"sql"`
	Columns string     `json:"columns"` // a page's: "all" or the selected ones
	Count   int64      `json:"count"`
	IDsHash string     `json:"ids_fnv1a64"`
	Rows    []AppCount `json:"rows"`
	ColdMs  float64    `json:"cold_ms"`
	// ColdRunsMs is each cold run (ColdRuns of them); absent from results made before 2026-12-06.
	ColdRunsMs []float64 `json:"cold_runs_ms,omitempty"`
	WarmMs     float64   `json:"warm_median_ms"`
	P99Ms      float64   `json:"warm_p99_ms"`
}

func (p *peerRunner) db() string { return filepath.Join(p.work, "duckdb.db") }

func (p *peerRunner) build(ctx context.Context) error {
	// Absolute: the build runs in the peer's directory, and a relative --work put the binary
	// under bench/peer, where the run then did not find it.
	bin, err := filepath.Abs(filepath.Join(p.work, "peer"))
	if err != nil {
		return err
	}
	p.bin = bin
	abs, err := filepath.Abs(p.dir)
	if err != nil {
		return err
	}
	p.log("building the DuckDB peer (bench/peer; the first build downloads DuckDB's libraries)…")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", p.bin, ".")
	cmd.Dir = abs
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build bench/peer: %w (if go.sum entries are missing after a dependency change: cd bench/peer && go mod tidy)", err)
	}
	return nil
}

func (p *peerRunner) run(ctx context.Context, out any, args ...string) error {
	cmd := exec.CommandContext(ctx, p.bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("peer %s: %w", args[0], err)
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("peer %s printed unexpected output: %w", args[0], err)
	}
	return nil
}

func (p *peerRunner) load(ctx context.Context, input string) (*PeerLoad, error) {
	os.Remove(p.db())
	os.Remove(p.db() + ".wal")
	var r PeerLoad
	err := p.run(ctx, &r, "load", "--ndjson", input, "--db", p.db(), "--threads", strconv.Itoa(p.threads))
	return &r, err
}

func (p *peerRunner) params(ctx context.Context) (Params, error) {
	path := filepath.Join(p.work, "params.json")
	cmd := exec.CommandContext(ctx, p.bin, "params", "--db", p.db(), "--out", path, "--threads", strconv.Itoa(p.threads))
	cmd.Stderr = os.Stderr
	cmd.Stdout = nil
	if err := cmd.Run(); err != nil {
		return Params{}, fmt.Errorf("peer params: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Params{}, err
	}
	var pr Params
	if err := json.Unmarshal(b, &pr); err != nil {
		return Params{}, err
	}
	pr.Now = pr.Now.UTC().Truncate(time.Second)
	return pr, nil
}

func (p *peerRunner) query(ctx context.Context, pr Params, runs int) (*PeerQueries, error) {
	path := filepath.Join(p.work, "params.json")
	b, _ := json.Marshal(pr)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return nil, err
	}
	var r PeerQueries
	settleWrites()
	err := p.run(ctx, &r, "query", "--db", p.db(), "--params", path, "--threads", strconv.Itoa(p.threads), "--runs", strconv.Itoa(runs))
	return &r, err
}
