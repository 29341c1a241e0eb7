package httpload

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authlake/authlake/bench"
)

// header describes the run in a few lines: what was measured, on what, how.
func (r *Results) header() []string {
	bound, bound3 := "for "+r.Duration, "for "+r.Duration
	if r.Duration == "" {
		bound = fmt.Sprintf("%d requests per query client and %d batches per ingest client", r.LoadedRequests, r.IngestBatches)
		bound3 = fmt.Sprintf("%d batches per client", r.IngestBatches)
	}
	lines := []string{
		fmt.Sprintf("authlake bench load: %d events (seed %d, %.2f GB NDJSON), %s, revision %s", r.Events, r.Seed, float64(r.RawBytes)/1e9, r.Date.Format("2006-01-02"), r.Revision),
		fmt.Sprintf("machine: %s, GOMAXPROCS %d (%d while serving), %s; memory limit %d MiB", r.Machine, r.GOMAXPROCS, r.ServeGOMAXPROCS, r.GoVersion, r.MemoryLimit>>20),
		fmt.Sprintf("phase 1: each route alone, %d timed requests in sequence after one untimed", r.Requests),
		fmt.Sprintf("phase 2: %d query clients cycling through the routes while %d clients post %d-event batches, %s (%.1f s, %d queries answered, %.1f/s)",
			r.QueryClients, r.IngestClients, r.Batch, bound, r.LoadedSeconds, r.LoadedQueries, float64(r.LoadedQueries)/max(r.LoadedSeconds, 1e-9)),
		fmt.Sprintf("phase 3: %d clients posting %d-event batches, nothing else, %s (%.1f s)", r.AloneClients, r.Batch, bound3, r.AloneIngest.Seconds),
		"latency: from sending the request to its answer's last byte, plain http on 127.0.0.1, " + r.clientsWhere(),
	}
	if d := r.Detection; d != nil {
		lines = append(lines, fmt.Sprintf("identity protection: one detection run before serving (%.1f s): %d detections, %d risky users", d.Seconds, d.Detections, d.RiskyUsers))
	}
	for _, p := range r.Phases {
		clients := ""
		if r.ClientsProcess == "child" {
			clients = fmt.Sprintf(", the clients' %.2f", p.ClientCores)
		}
		lines = append(lines, fmt.Sprintf("CPU, phase %s: the server's process %.2f cores%s, the whole machine %.2f of %d (load average %.1f at its end)", p.Phase, p.ProcessCores, clients, p.MachineCores, r.GOMAXPROCS, p.LoadAvg))
	}
	lines = append(lines, fmt.Sprintf("verified: the count grew from %d to %d, by the %d events acknowledged; %d posted ids fetched by id", r.Verify.CountBefore, r.Verify.CountAfter, r.Verify.Posted, r.Verify.Gets))
	return lines
}

// clientsWhere says where the clients ran.
func (r *Results) clientsWhere() string {
	if r.ClientsProcess == "child" {
		return "clients in a process of their own"
	}
	return "clients in the server's process"
}

type ingestLine struct {
	name      string
	rate      float64
	share     float64
	p50, p99  float64
	throttled int64
	note      string
}

func (r *Results) ingestLines() []ingestLine {
	file := r.FileIngest.EventsPerSec
	share := func(v float64) float64 {
		if file <= 0 {
			return 0
		}
		return v / file
	}
	lines := []ingestLine{{name: fmt.Sprintf("file, %d thread(s)", r.FileIngest.Threads), rate: file, share: 1, note: "to durable segments, flush included"}}
	if r.IngestClients > 0 {
		in := r.LoadedIngest
		lines = append(lines, ingestLine{name: fmt.Sprintf("HTTP, %d clients, %d query clients beside", in.Clients, r.QueryClients), rate: in.EventsPerSec, share: share(in.EventsPerSec),
			p50: in.P50Ms, p99: in.P99Ms, throttled: in.Throttled, note: fmt.Sprintf("%d events acknowledged; %.0f/s with the flush after; generating them took %.1f s", in.Events, in.ToSegmentsPerSec, in.GenerateSeconds)})
	}
	if r.AloneClients > 0 {
		in := r.AloneIngest
		lines = append(lines, ingestLine{name: fmt.Sprintf("HTTP, %d clients, alone", in.Clients), rate: in.EventsPerSec, share: share(in.EventsPerSec),
			p50: in.P50Ms, p99: in.P99Ms, throttled: in.Throttled, note: fmt.Sprintf("%d events acknowledged; %.0f/s with the flush after; generating them took %.1f s", in.Events, in.ToSegmentsPerSec, in.GenerateSeconds)})
	}
	return lines
}

func rowsCell(rt RouteStat) string {
	if !rt.Page {
		return "–"
	}
	return bench.Num(rt.Rows)
}

func mark(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// WriteTable prints the results as tables a person would read.
func (r *Results) WriteTable(w io.Writer) {
	if r.Failed != "" {
		fmt.Fprintln(w, bench.FailedLine(r.Failed))
	}
	for _, l := range r.header() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\trows\talone p50\tp99\tloaded p50\tp99\tserver p50\tp99\tn\tloaded÷alone\t")
	for _, rt := range r.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.2fx\t\n", rt.Name, rowsCell(rt), bench.Num(rt.Unloaded.P50Ms), bench.Num(rt.Unloaded.P99Ms),
			bench.Num(rt.Loaded.P50Ms), bench.Num(rt.Loaded.P99Ms), bench.Num(rt.ServerLoaded.P50Ms), bench.Num(rt.ServerLoaded.P99Ms), rt.Loaded.N, rt.Ratio)
	}
	tw.Flush()
	fmt.Fprintln(w, "(ms; server: the server's own time of the loaded requests)")
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "ingest\tevents/s\t÷ file\tbatch p50 ms\tp99 ms\t429s\t")
	for _, l := range r.ingestLines() {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%s\t%s\t%d\t\n", l.name, l.rate, l.share, bench.Num(l.p50), bench.Num(l.p99), l.throttled)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "goal\tmeasured\ttarget\t\t")
	for _, g := range r.Goals {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t\n", g.Measure, bench.Num(g.Value), g.Unit, g.Goal, mark(g.Met))
	}
	tw.Flush()
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

// Markdown renders the results for bench/results and the README.
func (r *Results) Markdown() string {
	var b strings.Builder
	h := r.header()
	fmt.Fprintf(&b, "# %s\n\n", h[0])
	if r.Failed != "" {
		fmt.Fprintf(&b, "**%s**\n\n", bench.FailedLine(r.Failed))
	}
	for _, l := range h[1:] {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	b.WriteString("\n| route | request | rows | alone p50 | alone p99 | loaded p50 | loaded p99 | server p50, loaded | server p99, loaded | loaded n | loaded ÷ alone (p99) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rt := range r.Routes {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %d | %.2fx |\n", rt.Name, strings.ReplaceAll(rt.Example, "|", `\|`), rowsCell(rt),
			bench.Num(rt.Unloaded.P50Ms), bench.Num(rt.Unloaded.P99Ms), bench.Num(rt.Loaded.P50Ms), bench.Num(rt.Loaded.P99Ms),
			bench.Num(rt.ServerLoaded.P50Ms), bench.Num(rt.ServerLoaded.P99Ms), rt.Loaded.N, rt.Ratio)
	}
	b.WriteString("\nLatencies in ms, as the client measured them; server: the server's own time of the same loaded requests (from their headers read to the handler's return), the rest being the connection and waits for a P on either side. Get by id cycles through sign-ins spread over the data's time span, one user's sign-ins through their users, the diagnostic through interactive ones.\n")
	b.WriteString("\n| ingest | events/s | ÷ file | batch p50 ms | batch p99 ms | 429s | |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, l := range r.ingestLines() {
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %s | %s | %d | %s |\n", l.name, l.rate, l.share, bench.Num(l.p50), bench.Num(l.p99), l.throttled, l.note)
	}
	b.WriteString("\n| goal | measured | target | |\n|---|---:|---|---|\n")
	for _, g := range r.Goals {
		m := "met"
		if !g.Met {
			m = "**missed**"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", g.Measure, bench.Num(g.Value), g.Unit, g.Goal, m)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\n%d requests failed; the first:\n\n", r.ErrorCount)
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- `%s`\n", e)
		}
	}
	return b.String()
}
