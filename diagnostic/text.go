package diagnostic

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText renders the report for a terminal: search, findings, summary with flows, and
// (when explained) the query plans. rerun is the command line that diagnoses again on the same
// data (e.g. "authlake diagnose --data ./data --tenant T"), so that each hint the report prints
// can be pasted as it stands.
func (r *Report) WriteText(w io.Writer, rerun string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Sign-in diagnostic for tenant %s\n", r.Tenant)
	s := r.Search
	if s.User != nil {
		fmt.Fprintf(&b, "  user:     %s (%s, id %s)\n", s.User.DisplayName, s.User.Name, s.User.ID)
	}
	if s.App != nil {
		fmt.Fprintf(&b, "  app:      %s (id %s)\n", s.App.Name, s.App.ID)
	}
	if s.Event != "" {
		fmt.Fprintf(&b, "  event:    %s\n", s.Event)
	}
	if !s.From.IsZero() {
		fmt.Fprintf(&b, "  window:   %s – %s\n", stamp(s.From), stamp(s.To))
	}
	fmt.Fprintf(&b, "  filter:   %s\n", s.Filter)
	fmt.Fprintf(&b, "  matched:  %d events (%d diagnosed)\n", s.Matched, s.Diagnosed)
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "  note:     %s\n", n)
	}

	if r.Flagged != nil {
		fmt.Fprintf(&b, "\nFlagged sign-ins by user and client (%d groups)\n", len(r.Flagged))
		for i, g := range r.Flagged {
			fmt.Fprintf(&b, "\n%d. %s (%s) on %s\n", i+1, g.DisplayName, g.User, g.Client)
			fmt.Fprintf(&b, "   %d events, %d failed, %s – %s, error codes %v\n", g.Events, g.Failures, stamp(g.First), stamp(g.Last), g.Codes)
			if len(g.Scenarios) > 0 {
				fmt.Fprintf(&b, "   scenarios: %s\n", strings.Join(g.Scenarios, ", "))
			}
			fmt.Fprintf(&b, "   diagnose:  %s --event %s\n", rerun, g.DiagnoseEvent)
		}
	}

	if len(r.Findings) > 0 {
		fmt.Fprintf(&b, "\nDiagnostic results (%d)\n", len(r.Findings))
	}
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "\n%d. [%s] %s\n", i+1, f.Severity, f.Title)
		fmt.Fprintf(&b, "   What happened: %s\n", f.What)
		fmt.Fprintf(&b, "   Recommended:   %s\n", f.Action)
		if len(f.Histogram) > 0 {
			b.WriteString("   Failures per hour:\n")
			for _, h := range f.Histogram {
				fmt.Fprintf(&b, "     %s %4d %s\n", h.Hour.UTC().Format("2006-01-02 15:04Z"), h.Count, strings.Repeat("#", min(h.Count, 60)))
			}
		}
		if len(f.Evidence) > 0 {
			fmt.Fprintf(&b, "   Evidence (%d of %d):\n", len(f.Evidence), f.Count)
			for _, e := range f.Evidence {
				fields := make([]string, len(e.Fields))
				for k, fl := range e.Fields {
					fields[k] = fl.Name + "=" + fl.Value
				}
				fmt.Fprintf(&b, "     %s %s  %s\n", stamp(e.Time), e.EventID, strings.Join(fields, "  "))
			}
		}
		for _, l := range f.Links {
			fmt.Fprintf(&b, "   See: %s <%s>\n", l.Title, l.URL)
		}
	}

	if r.Summary != nil {
		fmt.Fprintf(&b, "\nAuthentication summary (%d of %d events, newest first)\n", len(r.Summary.Rows), s.Matched)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(r.Summary.Columns, "\t"))
		for _, row := range r.Summary.Rows {
			fmt.Fprintln(tw, strings.Join(row.Values, "\t"))
		}
		tw.Flush()
		if r.Summary.SkipToken != "" {
			fmt.Fprintf(&b, "next page: the same command with --skip-token %s\n", r.Summary.SkipToken)
		}
		b.WriteString("\nCorrelated flows\n")
		seen := map[string]bool{}
		for _, row := range r.Summary.Rows {
			if seen[row.CorrelationID] || row.CorrelationID == "" {
				continue
			}
			seen[row.CorrelationID] = true
			fmt.Fprintf(&b, "  correlationId %s\n", row.CorrelationID)
			for _, st := range r.Summary.Flows[row.CorrelationID] {
				kind := "non-interactive"
				if st.Interactive {
					kind = "interactive"
				}
				fmt.Fprintf(&b, "    %s %s  errorCode=%d  %s → %s  %s  originalRequestId=%s\n", stamp(st.Time), st.ID, st.ErrorCode,
					st.App, st.Resource, kind, st.OriginalRequestID)
			}
		}
	}

	if len(r.Plans) > 0 {
		b.WriteString("\nQuery plans\n")
		for _, p := range r.Plans {
			fmt.Fprintf(&b, "\n-- %s (%s)\n", p.Step, p.Took)
			b.WriteString(indent(p.Explain, "   "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}
