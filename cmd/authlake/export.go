package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/lake"
)

// defaultSealAfter is how long after its end a day is published by `export --follow`: Entra
// delivers most sign-ins within minutes, some hours late.
const defaultSealAfter = 3 * time.Hour

func exportCmd() *cobra.Command {
	var dataDir, tenant, out string
	var versions bool
	var format string
	var follow, sealAfter time.Duration
	var force bool
	var trust trustFlag
	cmd := &cobra.Command{
		Use:   "export --data DIR [--tenant T] [--versions] [-o FILE] | --format parquet -o DIR|URL [--follow 5m]",
		Short: "Write a tenant's events as Graph JSON lines, exactly as ingested, or as a Parquet tree",
		Long: `export writes a tenant's sign-ins as Graph JSON lines, the same JSON values as ingested
(--versions: every stored version of sign-ins seen again), or with --format parquet as a
Hive-partitioned tree of Parquet files for distributed engines (tenant=T/date=YYYY-MM-DD/
part-00000.parquet and a manifest; see docs/lake.md) in a directory or a bucket
(azblob://CONTAINER/PREFIX with $AUTHLAKE_STORAGE_CONNECTION_STRING, s3://BUCKET/PREFIX?region=R).
A day already published from the same data is not written again; --follow keeps publishing
the days that seal or change, beside the process that writes the database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			eng := engine.Options{DisableBackground: true, Trust: tr}
			switch format {
			case "json":
				if follow > 0 || cmd.Flags().Changed("seal-after") || force {
					return fmt.Errorf("--follow, --seal-after and --force publish Parquet: add --format parquet")
				}
			case "parquet":
				if out == "-" || versions {
					return fmt.Errorf("--format parquet writes a tree: give its directory or bucket URL with -o (and no --versions)")
				}
				if follow > 0 && !cmd.Flags().Changed("seal-after") {
					sealAfter = defaultSealAfter
				}
				return publishParquet(dataDir, eng, tenant, out, lake.Options{SealAfter: sealAfter, Force: force}, follow)
			default:
				return fmt.Errorf("--format %q: json or parquet", format)
			}
			db, err := openDB(dataDir, openReadOnly, eng)
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
	cmd.Flags().StringVar(&tenant, "tenant", "", tenantHelp+"; parquet: every tenant")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output file (- for stdout; .gz or .zst compresses)")
	cmd.Flags().StringVar(&format, "format", "json", "json (Graph JSON lines) or parquet (a Hive-partitioned tree in the directory -o names)")
	cmd.Flags().DurationVar(&follow, "follow", 0, "parquet: publish again every interval (e.g. 5m) what sealed or changed, until Ctrl-C")
	cmd.Flags().DurationVar(&sealAfter, "seal-after", 0, "parquet: publish only days that ended this long ago (default with --follow: "+defaultSealAfter.String()+"; without it every day, today's too)")
	cmd.Flags().BoolVar(&force, "force", false, "parquet: write every day again, even those the tree already holds as they are")
	cmd.Flags().BoolVar(&versions, "versions", false, "every stored version of each sign-in seen again, not only the newest (later versions carry @authlake.version)")
	trust.register(cmd.Flags())
	return cmd
}
