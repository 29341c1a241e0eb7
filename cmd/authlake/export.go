package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
)

func exportCmd() *cobra.Command {
	var dataDir, tenant, out string
	var versions bool
	var trust trustFlag
	cmd := &cobra.Command{
		Use:   "export --data DIR [--tenant T] [--versions] [-o FILE]",
		Short: "Write a tenant's events as Graph JSON lines, exactly as ingested",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			db, err := openDB(dataDir, true, engine.Options{DisableBackground: true, Trust: tr})
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := pickTenant(db, tenant)
			if err != nil {
				return err
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
			db, err := openDB(dataDir, true, engine.Options{DisableBackground: true})
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
