package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/authlake/authlake/columnar/input"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

func ingestCmd() *cobra.Command {
	var (
		dataDir, tenant, rejects  string
		format                    string
		blobContainer, blobPrefix string
		follow                    time.Duration
		threads, batch            int
		merge                     string
		trust                     trustFlag
		retention                 retentionFlag
	)
	cmd := &cobra.Command{
		Use:   "ingest --data DIR [--tenant T] FILE...|-",
		Short: "Ingest sign-in events (NDJSON, Graph pages, diagnostic-settings exports; gzip/zstd) durably",
		Long: `ingest reads Microsoft Graph signIn JSON (one object, NDJSON, arrays, {"value":[...]}
pages), Azure Monitor diagnostic-settings exports ({"records":[...]}), Log Analytics and
Sentinel exports (CSV or JSON rows) and the admin center's sign-in downloads (CSV or JSON),
plain or gzip/zstd compressed, all recognised from the content (--format overrides), and stores
every good record durably. A record the tenant already stores with the same content is a
duplicate, so re-ingesting an export is harmless; one with other content is the sign-in's newest
version (docs/versions.md). Events go to one
tenant's log only; a cross-tenant sign-in is also copied (marked) for the user's home tenant
only where --trust says that tenant accepts the resource tenant's reports.

A malformed record is written verbatim to the rejects file, with its file, line and reason in
REJECTS.reasons, and the exit status is 2; every good record is still ingested.`,
		Example: `  authlake gen --events 1000000 -o signins.ndjson
  authlake ingest --data ./data signins.ndjson
  authlake ingest --data ./data --tenant contoso export-*.json.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && blobContainer == "" {
				return fmt.Errorf("name the files to ingest (or - for stdin), or a storage container with --blob-container")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if merge != "days" && merge != "tiers" {
				return fmt.Errorf("--merge %q: want days or tiers", merge)
			}
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			db, err := openDB(dataDir, openOrCreate, engine.Options{Trust: tr})
			if err == nil {
				if err = retention.apply(db, tenant); err != nil {
					db.Close()
				}
			}
			if err != nil {
				return err
			}
			defer db.Close()
			var sources []load.Source
			var total int64
			var archives []*load.Archive
			defer func() {
				for _, ar := range archives {
					ar.Close()
				}
			}()
			if blobContainer != "" {
				// The storage account's container itself (docs/streams.md): its connection
				// string is a secret, so it comes from the environment.
				conn := os.Getenv(storageEnv)
				if conn == "" {
					return fmt.Errorf("--blob-container needs the storage account's connection string in $%s", storageEnv)
				}
				store, err := load.NewAzureStore(conn, blobContainer, blobPrefix)
				if err != nil {
					return err
				}
				ar := &load.Archive{Store: store, State: archiveStatePath(dataDir, store.ID())}
				archives = append(archives, ar)
				srcs, err := ar.Sources(context.Background())
				if err != nil {
					return err
				}
				sources = append(sources, srcs...)
			}
			for _, a := range args {
				if a == "-" {
					if follow > 0 {
						return errors.New("--follow reads storage-account trees and --blob-container only, not stdin")
					}
					sources = append(sources, load.Source{Name: "stdin", R: os.Stdin})
					continue
				}
				if fi, err := os.Stat(a); err == nil && (fi.IsDir() || load.IsArchiveBlob(a)) {
					// A storage account's tree (or one of its blobs): only what was appended
					// since the last run is read (docs/streams.md).
					ar, err := archiveOf(dataDir, a)
					if err != nil {
						return err
					}
					archives = append(archives, ar)
					srcs, err := ar.Sources(context.Background())
					if err != nil {
						return err
					}
					sources = append(sources, srcs...)
					continue
				}
				if follow > 0 {
					return fmt.Errorf("--follow reads storage-account trees (directories of PT1H.json blobs) and --blob-container only, not %s", a)
				}
				f, err := os.Open(a)
				if err != nil {
					return err
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					total += st.Size()
				}
				sources = append(sources, load.Source{Name: a, R: f})
			}
			fm, err := input.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			pass := func(sources []load.Source, total int64) error {
				sink, err := rejectsSink(dataDir, rejects)
				if err != nil {
					return err
				}
				opts := load.Options{Tenant: tenant, Threads: threads, BatchSize: batch, Rejects: sink, Format: fm}
				var bar *progressbar.ProgressBar
				if term.IsTerminal(int(os.Stderr.Fd())) && total > 0 {
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr),
						progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("ingesting"),
						progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
					for i := range sources {
						sources[i].R = io.TeeReader(sources[i].R, bar)
					}
				}
				sum, err := load.Load(ctx, db, sources, opts)
				if bar != nil {
					bar.Finish()
				}
				if cerr := sink.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				for _, ar := range archives {
					if err := ar.Commit(); err != nil {
						return fmt.Errorf("remember how far %s was read: %w", ar.Store.ID(), err)
					}
				}
				flushStart := time.Now()
				if err := db.Flush(); err != nil {
					return err
				}
				flushed := time.Since(flushStart)
				// The input is done: merge whole days now, as the server's compactor does when
				// ingest pauses (and charge it to the ingest, as a database's checkpoint is);
				// or, for frequent small imports, only what the size tiers call for.
				compact := db.CompactAll
				if merge == "tiers" {
					compact = db.Compact
				}
				if err := compact(); err != nil {
					return err
				}
				el := sum.Elapsed + time.Since(flushStart) // durable, indexed and compacted
				fmt.Printf("ingested %d records in %s (%.0f events/s, %.0f MB/s, to durable, indexed segments): %d accepted, %d updated, %d duplicates, %d rejected\n",
					sum.Records, el.Round(time.Millisecond), float64(sum.Records)/el.Seconds(), float64(sum.Bytes)/el.Seconds()/1e6, sum.Accepted, sum.Updated, sum.Duplicates, sum.Rejected)
				if sum.Reframed > 0 {
					// Lines that were not one compact sign-in object (escapes, several records,
					// a Graph page, bad JSON) cost a second framing: an input made of them is
					// slower, and the operator should know why (docs/ingest-formats.md). On
					// stderr: stdout's report lines are read by scripts (and --follow's by tests).
					lines := fmt.Sprintf("%d lines were", sum.Reframed)
					if sum.Reframed == 1 {
						lines = "1 line was"
					}
					fmt.Fprintf(os.Stderr, "  %s not one compact sign-in object and framed again by the JSON scanner (docs/ingest-formats.md, \"Framing NDJSON by lines\")\n", lines)
				}
				fmt.Fprintf(os.Stderr, "  write-ahead logged in %s, final flush %s, compaction %s\n", sum.Elapsed.Round(time.Millisecond), flushed.Round(time.Millisecond), (time.Since(flushStart) - flushed).Round(time.Millisecond))
				if sum.Rejected > 0 {
					msg := fmt.Sprintf("%d records rejected: see %s (records) and %s.reasons (file:line:column and reason)", sum.Rejected, sink.Path, sink.Path)
					if sink.Dropped > 0 {
						msg += fmt.Sprintf("; only the first %d were written, the files reached their size limit", sink.Count())
					}
					return &exitError{code: 2, msg: msg}
				}
				return nil
			}
			err = pass(sources, total)
			if follow <= 0 {
				return err
			}
			// --follow: read what the storage account appends, every interval, until Ctrl-C. A
			// pass with rejects is reported and the next one still runs.
			var rejected *exitError
			if err != nil && !errors.As(err, &rejected) {
				return err
			} else if err != nil {
				fmt.Fprintln(os.Stderr, "authlake:", err)
			}
			fmt.Fprintf(os.Stderr, "following %d storage location(s) every %s (Ctrl-C stops)\n", len(archives), follow)
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(follow):
				}
				var next []load.Source
				for _, ar := range archives {
					ar.Close() // the readers of the last pass
					srcs, err := ar.Sources(ctx)
					if err != nil {
						return err
					}
					next = append(next, srcs...)
				}
				if len(next) == 0 {
					continue
				}
				if err := pass(next, 0); err != nil && !errors.As(err, &rejected) {
					return err
				} else if err != nil {
					fmt.Fprintln(os.Stderr, "authlake:", err)
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "database directory (created if missing)")
	f.StringVar(&tenant, "tenant", "", "tenant whose log the events are (default: each event's resourceTenantId)")
	f.StringVar(&rejects, "rejects", "", "rejects file (default DIR/rejects/<time>.ndjson)")
	f.StringVar(&blobContainer, "blob-container", "", "also read a storage account's container of diagnostic-settings archives (insights-logs-signinlogs), connection string in $"+storageEnv+"; only what was appended since the last run")
	f.StringVar(&blobPrefix, "blob-prefix", "", "only the container's blobs under this prefix")
	f.DurationVar(&follow, "follow", 0, "keep reading what is appended to storage-account trees and --blob-container, every interval (e.g. 1m), until Ctrl-C")
	f.StringVar(&format, "format", "auto", "what the input is, when its content looks like something else: auto, graph, loganalytics or portal")
	retention.register(f)
	f.IntVar(&threads, "threads", 0, "ingest goroutines (default: number of CPUs)")
	f.IntVar(&batch, "batch", 4096, "records per ingest batch")
	f.StringVar(&merge, "merge", "days", "when the input ends: days merges each day's segments into as few as the memory budget allows; tiers merges only segments of one size (for frequent small imports: a later `authlake compact` merges days)")
	trust.register(f)
	return cmd
}

// rejectsSink is the rejects file of a command: path, or DIR/rejects/<time>.ndjson.
func rejectsSink(dataDir, path string) (*load.FileRejects, error) {
	if path == "" {
		path = filepath.Join(dataDir, "rejects", now().UTC().Format("20060102T150405Z")+".ndjson")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return &load.FileRejects{Path: path}, nil
}

// archiveOf is the Archive of a storage-account tree, its state kept in the data directory per
// tree (named by the tree's absolute path).
func archiveOf(dataDir, root string) (*load.Archive, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &load.Archive{Store: load.DirStore{Root: abs}, State: archiveStatePath(dataDir, abs)}, nil
}

// archiveStatePath is where the data directory remembers how far a store was read.
func archiveStatePath(dataDir, id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(dataDir, "archives", hex.EncodeToString(sum[:8])+".json")
}

// storageEnv holds a storage account's connection string: a secret, so never a flag.
const storageEnv = "AUTHLAKE_STORAGE_CONNECTION_STRING"
