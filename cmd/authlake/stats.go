package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
)

func statsCmd() *cobra.Command {
	var (
		dataDir string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "stats --data DIR [--json]",
		Short: "Show events, tenants, days, segments and bytes on disk (total and per column)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openDB(dataDir, openReadOnly, engine.Options{DisableBackground: true})
			if err != nil {
				return err
			}
			defer db.Close()
			st := db.Stats()
			if st.ColumnBytes, err = db.ColumnBytes(); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			disk := st.SegmentBytes + st.IndexBytes
			fmt.Printf("events      %d (%d not yet flushed)\n", st.Events, st.MemtableRows)
			tenants := 0
			for _, t := range st.Tenants {
				if t.ReportedBy == "" {
					tenants++
				}
			}
			fmt.Printf("tenants     %d\n", tenants)
			fmt.Printf("segments    %d\n", st.Segments)
			fmt.Printf("on disk     %s segments + %s indexes + %s WAL", humanBytes(st.SegmentBytes), humanBytes(st.IndexBytes), humanBytes(st.WALBytes))
			if st.Events > 0 {
				fmt.Printf("  (%.1f B/event)", float64(disk)/float64(st.Events))
			}
			fmt.Println()
			tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			// Largest first: the first is the tenant commands read by default (see pickTenant).
			sort.SliceStable(st.Tenants, func(i, j int) bool { return st.Tenants[i].Events > st.Tenants[j].Events })
			versions := int64(0)
			for _, t := range st.Tenants {
				versions += t.Versions
			}
			if versions > 0 {
				fmt.Fprintln(tw, "\nTENANT\tEVENTS\tLATER VERSIONS\tDAYS\tFIRST\tLAST\tSEGMENTS")
			} else {
				fmt.Fprintln(tw, "\nTENANT\tEVENTS\tDAYS\tFIRST\tLAST\tSEGMENTS")
			}
			def := ""
			if own := ownTenants(st.Tenants); len(own) > 1 {
				def = mainTenant(own).Tenant
			}
			for _, t := range st.Tenants {
				name, mark := t.Tenant, ""
				if t.ReportedBy != "" {
					name += " (copies reported by " + t.ReportedBy + ")"
				}
				if t.Tenant == def && t.ReportedBy == "" {
					mark = "  (default for --tenant)"
				}
				if versions > 0 {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d%s\n", name, t.Events, t.Versions, t.Days, t.FirstDay, t.LastDay, t.Segments, mark)
				} else {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d%s\n", name, t.Events, t.Days, t.FirstDay, t.LastDay, t.Segments, mark)
				}
			}
			tw.Flush()
			type col struct {
				name  string
				bytes int64
			}
			var cols []col
			for n, b := range st.ColumnBytes {
				cols = append(cols, col{n, b})
			}
			sort.Slice(cols, func(i, j int) bool { return cols[i].bytes > cols[j].bytes })
			fmt.Fprintln(tw, "\nCOLUMN\tBYTES\tB/EVENT\tSHARE")
			for _, c := range cols {
				fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f%%\n", c.name, humanBytes(c.bytes), float64(c.bytes)/float64(max(st.Events, 1)), 100*float64(c.bytes)/float64(max(st.SegmentBytes, 1)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "database directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
