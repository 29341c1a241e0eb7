package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// FailedLine is what heads the table and the Markdown of a run that failed a check or stopped
// before its end, for the reason given.
func FailedLine(reason string) string {
	return "The run failed or stopped before its end (" + reason + "): the figures below are those of the part that ran, not a result."
}

// WriteTable prints the results as a table a person would read.
func (r *Results) WriteTable(w io.Writer) {
	if r.Failed != "" {
		fmt.Fprintln(w, FailedLine(r.Failed))
	}
	input := fmt.Sprintf("%.2f GB NDJSON", float64(r.RawBytes)/1e9)
	if r.RawBytes == 0 {
		input = "a database built earlier"
	}
	fmt.Fprintf(w, "authlake bench: %d events (seed %d, %s), %d threads, %d warm runs\n", r.Events, r.Seed, input, r.Threads, r.Runs)
	fmt.Fprintf(w, "machine: %s, %s\n", r.Machine, r.GoVersion)
	if r.Cold != "" {
		fmt.Fprintf(w, "cold: %s\n", r.Cold)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	if len(r.Compare) > 0 {
		fmt.Fprintln(tw, "measure\tauthlake\tDuckDB\tunit\tratio\tgoal\t\t")
		for _, c := range r.Compare {
			mark := "met"
			switch {
			case c.Goal == 0:
				mark = ""
			case !c.Met:
				mark = "MISSED"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t%s\t%s\t\n", c.Measure, Num(c.Authlake), Num(c.DuckDB), c.Unit, c.Ratio, c.GoalText(), mark)
		}
		tw.Flush()
		fmt.Fprintln(w, "\nratio = how many times better authlake is (time and bytes: DuckDB ÷ authlake; rates: authlake ÷ DuckDB)")
		return
	}
	for _, in := range r.Ingest {
		fmt.Fprintf(tw, "ingest, %d thread(s)\t%s\tevents/s\t%.0f MB/s\t\n", in.Threads, Num(in.EventsPerSec), in.MBPerSec)
	}
	fmt.Fprintf(tw, "bytes on disk per event\t%.1f\tB\t%.1fx smaller than NDJSON\t\n", r.BytesPerEvt, r.Compression)
	for _, q := range r.Queries {
		fmt.Fprintf(tw, "%s (%d)\tcold %s\twarm %s\tp99 %s ms\t\n", q.ID, q.Count, Num(q.ColdMs), Num(q.WarmMs), Num(q.P99Ms))
	}
	tw.Flush()
}

// Markdown renders the comparison as a Markdown table for the README.
func (r *Results) Markdown() string {
	var b strings.Builder
	if r.Failed != "" {
		fmt.Fprintf(&b, "**%s**\n\n", FailedLine(r.Failed))
	}
	fmt.Fprintf(&b, "%d events (%.1f GB of NDJSON, seed %d), %d threads, %d warm runs; %s; %s, %s.\n\n",
		r.Events, float64(r.RawBytes)/1e9, r.Seed, r.Threads, r.Runs, r.Machine, r.GoVersion, r.Date.Format("2006-01-02"))
	if r.Cold != "" {
		fmt.Fprintf(&b, "Cold, for both engines: the %s. Warm: median and p99 of the runs after it on the same handle.\n\n", r.Cold)
	}
	b.WriteString("| measure | authlake | DuckDB | unit | ratio | goal | |\n|---|---:|---:|---|---:|---:|---|\n")
	for _, c := range r.Compare {
		mark := "met"
		switch {
		case c.Goal == 0:
			mark = ""
		case !c.Met:
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2fx | %s | %s |\n", c.Measure, Num(c.Authlake), Num(c.DuckDB), c.Unit, c.Ratio, c.GoalText(), mark)
	}
	return b.String()
}

// Num formats a figure for the reports' tables: three significant digits or so, no exponent.
func Num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
