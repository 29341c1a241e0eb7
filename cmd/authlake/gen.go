package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"

	"github.com/authlake/authlake/bench/gen"
)

func genCmd() *cobra.Command {
	var (
		events int
		seed   uint64
		tenant string
		start  string
		end    string
		days   int
		users  int
		out    string
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate realistic, deterministic Graph beta sign-in events as NDJSON",
		Long: `gen writes Microsoft Graph beta signIn events, one JSON object per line. The same
flags, with --start or --end, always give the same bytes; without them the events cover the
--days days up to now (so they fall inside the default retention, and none is in the future).
An output name ending in .gz or .zst is compressed.`,
		Example: `  authlake gen --events 1000000 --seed 1 -o signins.ndjson
  authlake gen --events 1000 --start 2026-11-01T00:00:00Z --days 7 | head -1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := gen.Config{Events: events, Seed: seed, Tenant: tenant, Days: days, Users: users}
			// Default to the last D days up to now, so that the events fall inside the default
			// 30-day retention when they are ingested and none is dated in the future; pass
			// --start or --end for bytes that never change.
			if start != "" && end != "" {
				return errors.New("give --start or --end, not both: --days sets the span")
			}
			for _, f := range []struct {
				name, v string
				dst     *time.Time
			}{{"--start", start, &cfg.Start}, {"--end", end, &cfg.End}} {
				if f.v == "" {
					continue
				}
				t, err := parseWhen(f.v)
				if err != nil {
					return fmt.Errorf("%s %q: want RFC 3339 (2026-11-01T00:00:00Z) or days before now (-120d)", f.name, f.v)
				}
				*f.dst = t
			}
			if cfg.Start.IsZero() && cfg.End.IsZero() {
				cfg.End = now()
			}
			w, closeFn, err := createOutput(out)
			if err != nil {
				return err
			}
			began := time.Now()
			n, bytes, err := gen.Write(w, cfg)
			if cerr := closeFn(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				el := time.Since(began)
				fmt.Fprintf(os.Stderr, "wrote %d events (%s, %.0f B/event) to %s in %s\n", n, humanBytes(bytes), float64(bytes)/float64(max(n, 1)), out, el.Round(time.Millisecond))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&events, "events", 10000, "number of events")
	f.Uint64Var(&seed, "seed", 1, "random seed (same seed, same bytes)")
	f.StringVar(&tenant, "tenant", "", "resource tenant GUID (default: the demo tenant "+gen.DefaultTenant+")")
	f.StringVar(&start, "start", "", "start of the span, RFC 3339 or -Nd (N days before now) (default: --days days before --end)")
	f.StringVar(&end, "end", "", "end of the span, RFC 3339 or -Nd (N days before now): no event is later (default: now)")
	f.IntVar(&days, "days", 30, "days the events span")
	f.IntVar(&users, "users", 0, "users signing in (default: events/200, between 50 and 200,000)")
	f.StringVarP(&out, "output", "o", "-", "output file (- for stdout; .gz or .zst compresses)")
	return cmd
}

// createOutput opens path for writing ("-" is stdout), compressing by extension.
func createOutput(path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(os.Stdout, 1<<20)
		return bw, bw.Flush, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case strings.HasSuffix(path, ".gz"):
		zw := gzip.NewWriter(f)
		return zw, func() error { return closeAll(zw.Close, f.Close) }, nil
	case strings.HasSuffix(path, ".zst"):
		zw, err := zstd.NewWriter(f)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return zw, func() error { return closeAll(zw.Close, f.Close) }, nil
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return bw, func() error { return closeAll(bw.Flush, f.Sync, f.Close) }, nil
}

func closeAll(fns ...func() error) error {
	var first error
	for _, fn := range fns {
		if err := fn(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// parseWhen reads an RFC 3339 time or "-Nd", N days before the process clock's now.
func parseWhen(s string) (time.Time, error) {
	if d, ok := strings.CutSuffix(strings.TrimPrefix(s, "-"), "d"); ok && strings.HasPrefix(s, "-") {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("bad relative time %q", s)
		}
		return now().UTC().AddDate(0, 0, -n), nil
	}
	return time.Parse(time.RFC3339, s)
}
