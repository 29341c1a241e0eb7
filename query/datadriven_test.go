package query_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// TestDataDriven runs testdata/*: a filter in, an error or a row count out. Row counts
// are also checked against the reference evaluator, so a rewritten file cannot bless a
// wrong answer.
//
//	run [v1] [interactive] [orderby=...]
//	<filter>
//	----
//	rows: N | error
func TestDataDriven(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			filter := strings.TrimSpace(d.Input)
			req := query.Request{Filter: filter, Select: []string{"id"}, Top: 100000, Count: true}
			for _, a := range d.CmdArgs {
				switch a.Key {
				case "v1":
					req.Version = columnar.V1
				case "interactive":
					req.DefaultInteractiveOnly = true
				case "orderby":
					req.OrderBy = strings.Join(a.Vals, ",")
				case "select":
					req.Select = a.Vals
				}
			}
			switch d.Cmd {
			case "run":
				res, err := query.Run(context.Background(), columnar.SignIns, f.src, req)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				refFilter := filter
				if req.DefaultInteractiveOnly && !strings.Contains(strings.ToLower(filter), "signineventtypes/any") {
					if filter == "" {
						refFilter = "signInEventTypes/any(t: t eq 'interactiveUser')"
					} else {
						refFilter = "(" + filter + ") and signInEventTypes/any(t: t eq 'interactiveUser')"
					}
				}
				if want := len(refIDs(t, f, refFilter)); want != len(res.Rows) || res.Count != int64(want) {
					t.Errorf("%s: %d rows, $count %d, reference %d", d.Pos, len(res.Rows), res.Count, want)
				}
				return fmt.Sprintf("rows: %d\n", len(res.Rows))
			case "plan":
				flt, err := query.Compile(columnar.SignIns, filter, query.Options{})
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				req.Explain, req.Top = true, 1
				res, err := query.Run(context.Background(), columnar.SignIns, f.src, req)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				ex := res.Explain
				out := flt.Plan()
				// The count pass is deterministic; the top-N pass is not (its block skipping
				// depends on which worker fills its heap first).
				c := ex.CountPass
				out += fmt.Sprintf("segments %d, blocks %d; count pass: %d blocks read, %d pruned, index-only %v, matched %d\n",
					c.Segments, c.Blocks, c.BlocksRead, c.BlocksPrunedZone, c.IndexOnly, res.Count)
				for _, p := range ex.CountPass.Probes {
					if p.Segment == ex.CountPass.Probes[0].Segment {
						out += fmt.Sprintf("probe: %s -> %d rows (exact %v)\n", p.Probe, p.Rows, p.Exact)
					}
				}
				return out
			case "compile":
				_, err := query.Compile(columnar.SignIns, filter, query.Options{Version: req.Version})
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				return "ok\n"
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}
