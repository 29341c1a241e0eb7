package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/lake"
)

func exportCmd() *cobra.Command {
	var dataDir, tenant, out string
	var versions bool
	var format string
	var trust trustFlag
	cmd := &cobra.Command{
		Use:   "export --data DIR [--tenant T] [--versions] [-o FILE] | --format parquet -o DIR",
		Short: "Write a tenant's events as Graph JSON lines, exactly as ingested, or as a Parquet tree",
		Long: `export writes a tenant's sign-ins as Graph JSON lines, the same JSON values as ingested
(--versions: every stored version of sign-ins seen again), or with --format parquet as a
Hive-partitioned tree of Parquet files for distributed engines (DIR/tenant=T/date=YYYY-MM-DD/
part-00000.parquet and a manifest; see docs/lake.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			switch format {
			case "json":
			case "parquet":
				if out == "-" || versions {
					return fmt.Errorf("--format parquet writes a directory tree: give it with -o DIR (and without --versions)")
				}
				start := time.Now()
				days, err := lake.Export(db, t, out, lake.Options{})
				if err != nil {
					return err
				}
				var rows, size int64
				for _, d := range days {
					rows, size = rows+d.Rows, size+d.Bytes
				}
				el := time.Since(start)
				fmt.Fprintf(os.Stderr, "exported %d events of tenant %s as %d days of Parquet (%s, %.0f B/event) to %s in %s (%.0f events/s)\n",
					rows, t, len(days), humanBytes(size), float64(size)/float64(max(rows, 1)), out, el.Round(time.Millisecond), float64(rows)/el.Seconds())
				return nil
			default:
				return fmt.Errorf("--format %q: json or parquet", format)
			}
			w, closeFn, err := createOutput(out)
			if err != nil {
				return err
			}
			export := db.Export
			if versions {
				export = db.ExportVersions
			}
			n, err := export(t, func(line []byte) error { _, err := w.Write(line); return err })
			if cerr := closeFn(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(os.Stderr, "exported %d events of tenant %s to %s\n", n, t, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "database directory")
	cmd.Flags().StringVar(&tenant, "tenant", "", tenantHelp)
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output file (- for stdout; .gz or .zst compresses)")
	cmd.Flags().StringVar(&format, "format", "json", "json (Graph JSON lines) or parquet (a Hive-partitioned tree in the directory -o names)")
	cmd.Flags().BoolVar(&versions, "versions", false, "every stored version of each sign-in seen again, not only the newest (later versions carry @authlake.version)")
	trust.register(cmd.Flags())
	return cmd
}

func compactCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "compact --data DIR",
		Short: "Merge each day's segments into one (normally done in the background)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openDB(dataDir, openExisting, engine.Options{DisableBackground: true})
			if err != nil {
				return err
			}
			defer db.Close()
			before := db.Stats()
			if err := db.Flush(); err != nil {
				return err
			}
			if err := db.CompactAll(); err != nil {
				return err
			}
			after := db.Stats()
			fmt.Printf("segments %d → %d, bytes %s → %s\n", before.Segments, after.Segments, humanBytes(before.SegmentBytes+before.IndexBytes), humanBytes(after.SegmentBytes+after.IndexBytes))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "database directory")
	return cmd
}
