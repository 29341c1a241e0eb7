package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/lake"
)

// publishParquet is `export --format parquet`: one pass, or with follow a pass every interval
// until Ctrl-C or SIGTERM. Each pass opens the database read-only, so it runs beside the
// server, ingest or consume process that holds it, and publishes each tenant's days that sealed
// or changed since the tree's manifest recorded them.
func publishParquet(dataDir string, eng engine.Options, tenant, dest string, opts lake.Options, follow time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tree, err := lake.OpenTree(ctx, dest, opts)
	if err != nil {
		return err
	}
	defer tree.Close()
	pass := func() error {
		db, err := openDB(dataDir, openReadOnly, eng)
		if err != nil {
			return err
		}
		defer db.Close()
		if tenant != "" {
			opts.Tenants = []string{tenant}
		}
		start := time.Now()
		rep, err := lake.Publish(ctx, db, tree, opts)
		rows, size := rep.Rows()
		if len(rep.Written) > 0 || follow == 0 {
			el := time.Since(start)
			fmt.Fprintf(os.Stderr, "published %d days (%d events, %s, %.0f B/event) to %s in %s (%.0f events/s); %d days unchanged, %d not sealed yet\n",
				len(rep.Written), rows, humanBytes(size), float64(size)/float64(max(rows, 1)), tree, el.Round(time.Millisecond),
				float64(rows)/el.Seconds(), rep.Unchanged, rep.Open)
			if n := rep.Unfit(); n > 0 {
				fmt.Fprintf(os.Stderr, "%d JSON values did not fit their Parquet type and were written null (the manifest counts them per day; docs/lake.md)\n", n)
			}
		}
		return err
	}
	if err := pass(); err != nil || follow <= 0 {
		return err
	}
	fmt.Fprintf(os.Stderr, "publishing to %s every %s (Ctrl-C stops)\n", tree, follow)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(follow):
		}
		if err := pass(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
