package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
)

func compactCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "compact --data DIR",
		Short: "Merge each day's segments into one (normally done in the background)",
		Long: `compact merges each day's segments into as few as the memory budget allows (one per day
unless a day holds more rows than one merge may write). The server and ingest do this in the
background; run it after an import with --merge tiers. Ctrl-C stops it within a block: merges
already finished stay, the one in progress leaves nothing behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			db, err := openDB(dataDir, openExisting, engine.Options{DisableBackground: true})
			if err != nil {
				return err
			}
			defer db.Close()
			before := db.Stats()
			if err := db.Flush(); err != nil {
				return err
			}
			err = db.CompactAllContext(ctx)
			after := db.Stats()
			summary := fmt.Sprintf("segments %d → %d, bytes %s → %s", before.Segments, after.Segments, humanBytes(before.SegmentBytes+before.IndexBytes), humanBytes(after.SegmentBytes+after.IndexBytes))
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted (%s so far): %w", summary, err)
				}
				return err
			}
			fmt.Println(summary)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "database directory")
	return cmd
}
