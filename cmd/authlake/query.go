package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/query/syntax"
)

func init() { extraCommands = append(extraCommands, queryCmd) }

func queryCmd() *cobra.Command {
	var (
		dataDir, tenant, filter, orderBy, apply, format, selectList, skip string
		top, maxGroups                                                    int
		count, explain, parseOnly, all                                    bool
		trust                                                             trustFlag
	)
	cmd := &cobra.Command{
		Use:   "query --data DIR [--tenant T] --filter EXPR [flags]",
		Short: "Run an OData $filter query (with $orderby, $top, $select, $count, $apply)",
		Long: `query runs one OData query over a tenant's sign-ins, as the Graph list API would, but over
every event type (the Graph endpoint's "interactive sign-ins only by default" rule belongs to
the server). Newest first unless --orderby says otherwise.

--parse-only checks syntax without a database: it prints the normalized expression and exits 0,
or prints the positioned error and exits 1.`,
		Example: `  authlake query --data ./data --filter "flaggedForReview eq true" --top 20 --format table --select createdDateTime,userPrincipalName,appDisplayName,status
  authlake query --data ./data --filter "status/errorCode eq 50126 and location/countryOrRegion eq 'RU'" --count
  authlake query --data ./data --apply "filter(status/errorCode ne 0)/groupby((appDisplayName),aggregate(\$count as failures))"
  authlake query --data ./data --filter "correlationId eq '…'" --explain
  authlake query --parse-only --filter "startswith(appDisplayName,'Microsoft') and (a eq 1 or b eq 2)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if parseOnly {
				e, err := syntax.ParseFilter(filter)
				if err != nil {
					return &exitError{code: 1, msg: "Invalid filter clause: " + err.Error()}
				}
				fmt.Println(syntax.String(e))
				return nil
			}
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			db, err := openDB(dataDir, openReadOnly, engine.Options{DisableBackground: true, Trust: tr})
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := pickTenant(db, tenant)
			if err != nil {
				return err
			}
			req := query.Request{Filter: filter, OrderBy: orderBy, Top: top, SkipToken: skip, Count: count, Apply: apply, Explain: explain, MaxGroups: maxGroups,
				CountOnly: count && apply == ""} // --count prints the count alone: build no page
			var columns []string // what csv and table show: nested paths (status/errorCode) included
			if selectList != "" {
				columns = strings.Split(selectList, ",")
				req.Select = selectProperties(columns)
			}
			out := bufio.NewWriterSize(os.Stdout, 1<<20)
			defer out.Flush()
			pages := 0
			for {
				res, err := db.Query(context.Background(), t, req)
				if err != nil {
					var qe *query.Error
					if errors.As(err, &qe) {
						return &exitError{code: 1, msg: err.Error()}
					}
					return err
				}
				if explain && res.Explain != nil {
					fmt.Fprintln(os.Stderr, res.Explain.String())
				}
				if count && apply == "" && pages == 0 {
					fmt.Fprintln(out, res.Count)
					return nil
				}
				if apply != "" {
					return writeGroups(out, res.Groups, format)
				}
				if err := writeRows(out, res.Rows, format, columns, pages == 0); err != nil {
					return err
				}
				pages++
				if !all || res.SkipToken == "" {
					if res.SkipToken != "" && !all {
						fmt.Fprintf(os.Stderr, "more results: --skiptoken %s (or --all)\n", res.SkipToken)
					}
					return nil
				}
				req.SkipToken = res.SkipToken
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "database directory")
	f.StringVar(&tenant, "tenant", "", tenantHelp)
	f.StringVar(&filter, "filter", "", "OData $filter expression")
	f.StringVar(&orderBy, "orderby", "", "OData $orderby (default: createdDateTime desc)")
	f.IntVar(&top, "top", 0, "page size (default 1000)")
	f.IntVar(&maxGroups, "max-groups", query.DefaultMaxGroups, "most groups an --apply may make (more is an error)")
	f.StringVar(&skip, "skiptoken", "", "continue from a previous page's token")
	f.BoolVar(&all, "all", false, "follow skip tokens to the last page")
	f.StringVar(&selectList, "select", "", "comma-separated properties to return")
	f.BoolVar(&count, "count", false, "print only the number of matching events")
	f.StringVar(&apply, "apply", "", "OData $apply: filter(…)/groupby((…),aggregate(…))")
	f.StringVar(&format, "format", "ndjson", "output: ndjson, json, csv or table")
	trust.register(f)
	f.BoolVar(&explain, "explain", false, "print the plan (to stderr): pruning, index probes, rows scanned, stage times")
	f.BoolVar(&parseOnly, "parse-only", false, "check the filter's syntax only (no database)")
	return cmd
}

func writeRows(w *bufio.Writer, rows [][]byte, format string, sel []string, header bool) error {
	switch format {
	case "ndjson":
		for _, r := range rows {
			w.Write(r)
			w.WriteByte('\n')
		}
		return nil
	case "json":
		w.WriteString("[")
		for i, r := range rows {
			if i > 0 {
				w.WriteString(",\n")
			}
			w.Write(r)
		}
		w.WriteString("]\n")
		return nil
	case "csv", "table":
		cols := sel
		objs := make([]map[string]any, len(rows))
		for i, r := range rows {
			if err := json.Unmarshal(r, &objs[i]); err != nil {
				return err
			}
		}
		if len(cols) == 0 {
			cols = defaultColumns
		}
		cells := func(o map[string]any) []string {
			out := make([]string, len(cols))
			for i, c := range cols {
				out[i] = cellText(lookupPath(o, c))
			}
			return out
		}
		if format == "csv" {
			cw := csv.NewWriter(w)
			if header {
				cw.Write(cols)
			}
			for _, o := range objs {
				cw.Write(cells(o))
			}
			cw.Flush()
			return cw.Error()
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		if header {
			fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
		}
		for _, o := range objs {
			fmt.Fprintln(tw, strings.Join(cells(o), "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown --format %q (ndjson, json, csv, table)", format)
}

// defaultColumns is the table/csv column set when --select is not given: what an admin scans
// first in the sign-in log.
var defaultColumns = []string{"createdDateTime", "userPrincipalName", "appDisplayName", "ipAddress", "status/errorCode", "status/failureReason", "id"}

func lookupPath(o map[string]any, path string) any {
	var cur any = o
	for _, seg := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func writeGroups(w *bufio.Writer, groups []query.Group, format string) error {
	if format == "ndjson" || format == "json" {
		if format == "json" {
			w.WriteString("[")
		}
		for i, g := range groups {
			m := map[string]any{}
			for k, v := range g.Keys {
				m[k] = v
			}
			for k, v := range g.Values {
				m[k] = v
			}
			b, _ := json.Marshal(m)
			if format == "json" && i > 0 {
				w.WriteString(",\n")
			}
			w.Write(b)
			if format == "ndjson" {
				w.WriteByte('\n')
			}
		}
		if format == "json" {
			w.WriteString("]\n")
		}
		return nil
	}
	if len(groups) == 0 {
		return nil
	}
	var cols []string
	for k := range groups[0].Keys {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	var vals []string
	for k := range groups[0].Values {
		vals = append(vals, k)
	}
	sort.Strings(vals)
	header := append(append([]string{}, cols...), vals...)
	cells := func(g query.Group) []string {
		out := make([]string, 0, len(header))
		for _, c := range cols {
			out = append(out, cellText(g.Keys[c]))
		}
		for _, v := range vals {
			out = append(out, cellText(g.Values[v]))
		}
		return out
	}
	if format == "csv" {
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, g := range groups {
			cw.Write(cells(g))
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, g := range groups {
		fmt.Fprintln(tw, strings.Join(cells(g), "\t"))
	}
	return tw.Flush()
}

var _ = columnar.SignIns

// selectProperties is what to ask the engine for: the top-level property of each column, once
// (status for status/errorCode), as Graph's $select takes only top-level properties.
func selectProperties(columns []string) []string {
	var out []string
	for _, c := range columns {
		top, _, _ := strings.Cut(c, "/")
		if !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}
