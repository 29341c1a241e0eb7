package query

import (
	"fmt"
	"strings"
	"time"
)

// Explain reports how a query ran (for `authlake query --explain`).
type Explain struct {
	Filter    string // normalized filter actually run (with the interactive-only default)
	OrderBy   string
	Segments  int // segments in the source
	SegPruned int // segments skipped whole (time range or top-N bound)
	Blocks    int // segment blocks in the source
	// BlocksPrunedZone counts blocks skipped because no row could match (zone maps and
	// index probes); BlocksPrunedTopN those skipped because no row could enter the page.
	BlocksPrunedZone int
	BlocksPrunedTopN int
	BlocksRead       int
	MemChunks        int
	MemRows          int64
	Probes           []ProbeStat
	RowsScanned      int64 // rows touched by residual kernels
	RowsMatched      int64 // rows that passed the filter (and paging condition)
	// IndexOnly: the indexes answered the filter for every segment (no residual kernel
	// ran on segment blocks; memtable chunks are always scanned).
	IndexOnly   bool
	segResidual bool
	// wantProbes: the caller asked for the plan, so index probes note what they found (a
	// note costs each probed bitmap's cardinality: a third of a warm count of failures from
	// one country went to it).
	wantProbes bool
	Stages     []StageTime
	// CountPass describes the separate $count pass (nil without $count).
	CountPass *Explain
}

// ProbeStat is one index probe on one segment.
type ProbeStat struct {
	Day     int32
	Segment uint64
	Probe   string
	Rows    int64 // cardinality of the probe's candidate bitmap
	Exact   bool  // false: a superset, re-checked by the residual kernels
}

// StageTime is the wall time of one stage.
type StageTime struct {
	Stage string
	Time  time.Duration
}

// add accumulates the counters of a worker.
func (e *Explain) add(o *Explain) {
	e.Segments += o.Segments
	e.SegPruned += o.SegPruned
	e.Blocks += o.Blocks
	e.BlocksPrunedZone += o.BlocksPrunedZone
	e.BlocksPrunedTopN += o.BlocksPrunedTopN
	e.BlocksRead += o.BlocksRead
	e.MemChunks += o.MemChunks
	e.MemRows += o.MemRows
	e.Probes = append(e.Probes, o.Probes...)
	e.RowsScanned += o.RowsScanned
	e.RowsMatched += o.RowsMatched
	e.segResidual = e.segResidual || o.segResidual
}

func (e *Explain) stage(name string, start time.Time) {
	e.Stages = append(e.Stages, StageTime{Stage: name, Time: time.Since(start)})
}

// String renders the explanation as indented text.
func (e *Explain) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "filter:   %s\n", orNone(e.Filter))
	fmt.Fprintf(&b, "orderby:  %s\n", e.OrderBy)
	fmt.Fprintf(&b, "segments: %d (%d skipped)\n", e.Segments, e.SegPruned)
	fmt.Fprintf(&b, "blocks:   %d total, %d pruned by zone maps/indexes, %d skipped by top-N bound, %d read\n",
		e.Blocks, e.BlocksPrunedZone, e.BlocksPrunedTopN, e.BlocksRead)
	fmt.Fprintf(&b, "memtable: %d chunks, %d rows\n", e.MemChunks, e.MemRows)
	if len(e.Probes) > 0 {
		b.WriteString("probes:\n")
		for _, p := range e.Probes {
			kind := "exact"
			if !p.Exact {
				kind = "superset"
			}
			fmt.Fprintf(&b, "  day %d seg %d: %s → %d rows (%s)\n", p.Day, p.Segment, p.Probe, p.Rows, kind)
		}
	}
	fmt.Fprintf(&b, "rows:     %d scanned by residual kernels, %d matched\n", e.RowsScanned, e.RowsMatched)
	if c := e.CountPass; c != nil {
		fmt.Fprintf(&b, "count:    %d blocks read, %d pruned, %d rows scanned, %d matched (index-only %v)\n",
			c.BlocksRead, c.BlocksPrunedZone, c.RowsScanned, c.RowsMatched, c.IndexOnly)
	}
	for _, s := range e.Stages {
		fmt.Fprintf(&b, "time %-10s %v\n", s.Stage+":", s.Time)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
