package bench

import (
	"fmt"
	"strings"
)

// crossCheck fails the run unless both engines gave the same answer to every query: the same
// count, the same page of ids in the same order (of rows holding the same properties), the same
// aggregation rows.
func crossCheck(ours []QueryStat, peer *PeerQueries) error {
	byID := map[string]PeerQuery{}
	for _, q := range peer.Queries {
		byID[q.ID] = q
	}
	var bad []string
	for _, q := range ours {
		pq, ok := byID[q.ID]
		if !ok {
			bad = append(bad, q.ID+": the peer did not run it")
			continue
		}
		if q.Count != pq.Count {
			bad = append(bad, fmt.Sprintf("%s: authlake %d, duckdb %d (filter %s)", q.ID, q.Count, pq.Count, q.Filter))
			continue
		}
		if q.Properties != pq.Columns {
			bad = append(bad, fmt.Sprintf("%s: authlake's rows hold %q, duckdb's %q", q.ID, q.Properties, pq.Columns))
		}
		if q.IDsHash != "" && pq.IDsHash != "" && q.IDsHash != pq.IDsHash {
			bad = append(bad, fmt.Sprintf("%s: same count but different rows or order (ids hash %s vs %s)", q.ID, q.IDsHash, pq.IDsHash))
		}
		if len(q.Rows) != len(pq.Rows) {
			bad = append(bad, fmt.Sprintf("%s: %d aggregation rows vs %d", q.ID, len(q.Rows), len(pq.Rows)))
			continue
		}
		for i := range q.Rows {
			a, b := q.Rows[i], pq.Rows[i]
			if a.Failures != b.Failures || (a.App == nil) != (b.App == nil) || (a.App != nil && *a.App != *b.App) {
				bad = append(bad, fmt.Sprintf("%s: row %d differs: %s vs %s", q.ID, i, appText(a), appText(b)))
				break
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the engines disagree; a fast wrong answer is a bug:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func appText(a AppCount) string {
	if a.App == nil {
		return fmt.Sprintf("(null)=%d", a.Failures)
	}
	return fmt.Sprintf("%s=%d", *a.App, a.Failures)
}

// CompareRow is one line of the side-by-side table. Ratio is "how many times better authlake
// is": DuckDB's figure over authlake's for times and bytes, authlake's over DuckDB's for rates.
type CompareRow struct {
	Measure  string  `json:"measure"`
	Authlake float64 `json:"authlake"`
	DuckDB   float64 `json:"duckdb"`
	Unit     string  `json:"unit"`
	Ratio    float64 `json:"ratio"`
	Goal     float64 `json:"goal"` // 0: none
	Met      bool    `json:"met"`  // the goal is met, or there is none
}

// GoalText is the goal column of the reports: "≥10x", or "–" without a goal.
func (c CompareRow) GoalText() string {
	if c.Goal == 0 {
		return "–"
	}
	return fmt.Sprintf("≥%.3gx", c.Goal)
}

func compare(r *Results) []CompareRow {
	var rows []CompareRow
	add := func(measure, unit string, ours, theirs float64, higherBetter bool, goal float64) {
		ratio := 0.0
		if higherBetter && theirs > 0 {
			ratio = ours / theirs
		} else if !higherBetter && ours > 0 {
			ratio = theirs / ours
		}
		rows = append(rows, CompareRow{Measure: measure, Authlake: ours, DuckDB: theirs, Unit: unit, Ratio: ratio, Goal: goal, Met: goal == 0 || ratio >= goal})
	}
	last := r.Ingest[len(r.Ingest)-1]
	// The write-path issue's goal: at least 4x DuckDB's load of the same file on two threads.
	add(fmt.Sprintf("ingest, %d threads", last.Threads), "events/s", last.EventsPerSec, r.Peer.EventsPerSecond, true, 4)
	add("bytes on disk per event", "B", r.BytesPerEvt, r.Peer.BytesPerEvent, false, 1/0.8)
	peer := map[string]PeerQuery{}
	for _, q := range r.PeerQueries.Queries {
		peer[q.ID] = q
	}
	for _, q := range r.Queries {
		pq, sq := peer[q.ID], suiteQuery(q.ID)
		add(q.ID+" "+sq.What+" (warm)", "ms", q.WarmMs, pq.WarmMs, false, sq.Goal)
		add(q.ID+" (cold)", "ms", q.ColdMs, pq.ColdMs, false, sq.ColdGoal)
	}
	add("peak RSS (whole run vs DuckDB's larger of load and query)", "MB", float64(r.PeakRSS)/1e6,
		float64(max(r.Peer.PeakRSSBytes, r.PeerQueries.PeakRSSBytes))/1e6, false, 1)
	return rows
}

// suiteQuery is the suite's query of that id (a zero Query for an id the suite no longer has).
func suiteQuery(id string) Query {
	for _, q := range Suite {
		if q.ID == id {
			return q
		}
	}
	return Query{ID: id}
}
