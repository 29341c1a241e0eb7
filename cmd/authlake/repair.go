package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine/wal"
)

func init() { extraCommands = append(extraCommands, repairCmd) }

func repairCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "repair --data DIR",
		Short: "Recover a database whose write-ahead log is damaged, keeping every readable event",
		Long: `repair is for a database that refuses to open because its write-ahead log is damaged
("corrupt record in … at offset …: a valid record follows"): bit rot, a bad disk write or a
tampered file, as opposed to the torn tail a crash leaves, which every open truncates by itself.

It rewrites each damaged WAL file without its damaged spans, so every acknowledged event before
and after the damage is kept, and moves the original into DIR/wal/corrupt/ (nothing is
deleted). It prints each skipped span (file, offset, bytes): the events in it are lost unless
you can ingest them again from their source (re-ingesting is harmless: known ids are skipped).

The database must not be open in another process. A missing manifest (DIR/manifest) is not
repaired: restore it from a backup (without it, live segments cannot be told from leftovers of a compaction).`,
		Example: `  authlake repair --data ./data`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				return fmt.Errorf("--data is required: the database directory")
			}
			walDir := filepath.Join(dataDir, "wal")
			if _, err := os.Stat(walDir); err != nil {
				return fmt.Errorf("no write-ahead log in %s: %w", dataDir, err)
			}
			rep, err := wal.Repair(walDir, wal.Options{})
			if err != nil {
				return err
			}
			for _, s := range rep.Skipped {
				fmt.Printf("skipped %d damaged bytes of %s at offset %d (%s)\n", s.Bytes, s.File, s.Offset, s.Reason)
			}
			if len(rep.Rewritten) == 0 {
				fmt.Printf("read %d WAL files: no damage found, nothing changed\n", rep.Files)
				return nil
			}
			fmt.Printf("read %d WAL files, rewrote %d keeping %d records; the originals are in %s\n",
				rep.Files, len(rep.Rewritten), rep.Kept, filepath.Join(walDir, wal.CorruptDir))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "database directory")
	return cmd
}
