package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/bench/httpload"
	"github.com/authlake/authlake/columnar"
)

func init() { extraCommands = append(extraCommands, benchCmd) }

func benchCmd() *cobra.Command {
	var (
		cfg      bench.Config
		out, svg string
		markdown string
		params   string
	)
	cmd := &cobra.Command{
		Use:   "bench [--events N] [--peer duckdb]",
		Short: "Benchmark ingest, bytes on disk and the admin query suite, optionally side by side with DuckDB",
		Long: `bench generates realistic events (cached by seed and size), ingests them to durable indexed
segments with 1 and N threads, compacts, and runs the query suite Q1–Q11 cold and warm. Q1, Q4
and Q10 return full rows (every property, as Graph's list does), each beside a "(2 cols)" twin
returning id and createdDateTime. Cold is the first query after the database's files were
dropped from the OS page cache (posix_fadvise DONTNEED), for both engines alike.

With --peer duckdb it builds bench/peer (its own Go module, DuckDB 1.5.6), loads the same
NDJSON into DuckDB with the same thread count, runs the SQL equivalent of every query, and
prints the side-by-side ratios. Every query's answer is cross-checked between the engines: a
mismatch fails the run.`,
		Example: `  authlake bench --events 1000000
  authlake bench --events 10000000 --peer duckdb --out bench/results/10m.json --svg bench/results/10m.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Peer != "" && cfg.Peer != "duckdb" {
				return fmt.Errorf("--peer %q: only duckdb is supported", cfg.Peer)
			}
			if err := defaultWorkDir(&cfg.WorkDir, fmt.Sprintf("n%d", cfg.Events)); err != nil {
				return err
			}
			if params != "" {
				cfg.Params = &bench.Params{}
				dec := json.NewDecoder(strings.NewReader(params))
				dec.DisallowUnknownFields() // a misspelt key would otherwise leave its input empty
				if err := dec.Decode(cfg.Params); err != nil {
					return fmt.Errorf("--params: %w", err)
				}
			}
			cfg.Log = os.Stderr
			cfg.MemoryLimit = int64(memoryLimit)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			res, err := bench.Run(ctx, cfg)
			if res != nil {
				res.WriteTable(os.Stdout)
				if len(res.Compare) == 0 { // the chart and the table compare two engines
					svg, markdown = "", ""
				}
				if werr := writeResults(out, res, rendering{svg, res.SVG}, rendering{markdown, res.Markdown}); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Events, "events", 10_000_000, "events to generate and ingest")
	f.Uint64Var(&cfg.Seed, "seed", 1, "generator seed")
	f.IntVar(&cfg.Threads, "threads", 0, "threads for both engines (default: number of CPUs)")
	f.IntVar(&cfg.Runs, "runs", 10, "warm runs per query")
	f.StringVar(&cfg.Peer, "peer", "", "also run the same work on this engine (duckdb)")
	f.StringVar(&cfg.PeerDir, "peer-dir", "bench/peer", "the bench/peer module directory")
	f.StringVar(&cfg.CacheDir, "cache", "", "where generated NDJSON is kept (default: the user cache dir)")
	f.StringVar(&cfg.WorkDir, "work", "", "where the databases are built (default: the user cache dir)")
	f.BoolVar(&cfg.Smoke, "smoke", false, "correctness only: one ingest, one warm run (for CI)")
	f.BoolVar(&cfg.NoSingleThread, "no-single-thread", false, "skip the 1-thread ingest measurement")
	f.StringVar(&params, "params", "", `the queries' inputs as JSON, {"upn":…,"correlationId":…,"now":…} (default: picked from the data)`)
	f.BoolVar(&cfg.Reuse, "reuse", false, "query the database an earlier run of this size left in --work instead of ingesting again (authlake only)")
	f.BoolVar(&cfg.ZstdInput, "zstd-input", false, "keep the generated NDJSON zstd-compressed (10x smaller; both engines read it)")
	f.StringVar(&out, "out", "", "write results JSON here")
	f.StringVar(&svg, "svg", "", "write the ratio chart (SVG) here (needs --peer)")
	f.StringVar(&markdown, "markdown", "", "write the comparison as a Markdown table here (needs --peer)")
	cmd.AddCommand(benchGrowthCmd(), benchLoadCmd(), benchLoadClientsCmd(), benchStreamCmd())
	return cmd
}

func benchLoadCmd() *cobra.Command {
	var (
		cfg                              httpload.Config
		out, markdown, profile, traceOut string
		inProcess                        bool
	)
	cmd := &cobra.Command{
		Use:   "load [--events N] [--duration D]",
		Short: "Measure the Graph server's routes alone, under concurrent queries and HTTP ingest, and HTTP ingest alone",
		Long: `load generates N events (cached by seed and size, as bench does), ingests the file into a fresh
database (the file ingest rate), runs Identity Protection's detection once, then serves the
database with the real server (authlake serve's, plain http on 127.0.0.1, a development token)
and measures it from clients in a process of their own (another authlake process, as an SDK
client would be; --clients-in-process runs them beside the server instead):

  1. each route alone: --requests timed requests in sequence after one untimed (get by id, one
     user's sign-ins, a Conditional Access lambda filter, flagged sign-ins, the unfiltered list,
     an $apply aggregation, the sign-in diagnostic, risky users, risk detections);
  2. --query-clients cycling through the routes while --ingest-clients POST --batch-event
     batches of fresh events (another seed, dated after the data) to /authlake/v1/ingest;
  3. --alone-clients posting batches with no query running.

Phases 2 and 3 last --duration each (or, with --duration 0, --loaded-requests per query client
and --ingest-batches per ingest client). It prints p50/p99 per route alone and loaded, the
HTTP ingest rates beside the file's, and the issue's goals (get by id p99 <= 20 ms, one user's
sign-ins p99 <= 50 ms, loaded p99 <= 2x alone, HTTP ingest >= 50% of the file rate). Every
answer is checked: a failed request, or a count that did not grow by exactly the events
acknowledged, fails the run (the results are still written).`,
		Example: `  authlake bench load --events 1000000 --duration 60s --out bench/results/load-1m.json --markdown bench/results/load-1m.md
  authlake bench load --events 20000 --duration 0 --loaded-requests 50 --ingest-batches 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := defaultWorkDir(&cfg.WorkDir, fmt.Sprintf("load-n%d", cfg.Events)); err != nil {
				return err
			}
			cfg.MemoryLimit = int64(memoryLimit)
			cfg.Log = os.Stderr
			cfg.ProfilePrefix = profile
			cfg.TracePath = traceOut
			if !inProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("the load clients' process: %w", err)
				}
				cfg.ClientCommand = []string{exe, "bench", "load-clients"}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			res, err := httpload.Run(ctx, cfg)
			if res != nil {
				res.WriteTable(cmd.OutOrStdout())
				if werr := writeResults(out, res, rendering{markdown, res.Markdown}); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Events, "events", 1_000_000, "events to generate and ingest from the file")
	f.Uint64Var(&cfg.Seed, "seed", 1, "generator seed (the events posted over HTTP use seed+1000)")
	f.IntVar(&cfg.Threads, "threads", 0, "threads of the file ingest (default: number of CPUs)")
	f.StringVar(&cfg.CacheDir, "cache", "", "where generated NDJSON is kept (default: the user cache dir)")
	f.StringVar(&cfg.WorkDir, "work", "", "where the database is built (default: the user cache dir)")
	f.BoolVar(&cfg.ZstdInput, "zstd-input", false, "keep the generated NDJSON zstd-compressed")
	f.IntVar(&cfg.Requests, "requests", 50, "phase 1: timed requests per route")
	f.IntVar(&cfg.QueryClients, "query-clients", 8, "phase 2: clients cycling through the routes")
	f.IntVar(&cfg.IngestClients, "ingest-clients", 2, "phase 2: clients posting batches")
	f.IntVar(&cfg.AloneClients, "alone-clients", 4, "phase 3: clients posting batches, nothing else running")
	f.IntVar(&cfg.Batch, "batch", 1000, "events per ingest request")
	f.DurationVar(&cfg.Duration, "duration", 60*time.Second, "length of phases 2 and 3 each; 0 bounds them by --loaded-requests and --ingest-batches")
	f.IntVar(&cfg.LoadedRequests, "loaded-requests", 0, "with --duration 0: requests per query client in phase 2")
	f.IntVar(&cfg.IngestBatches, "ingest-batches", 0, "with --duration 0: batches per ingest client in phases 2 and 3")
	f.BoolVar(&cfg.NoRisk, "no-risk", false, "skip the Identity Protection detection run (its routes then list an empty store)")
	f.BoolVar(&inProcess, "clients-in-process", false, "run the clients in the server's process (they then wait for its Ps), not in a process of their own")
	f.StringVar(&traceOut, "trace", "", "write an execution trace of the loaded phase's first 10 s to this file, each request a task (read it with go run ./bench/tracetasks FILE)")
	f.StringVar(&profile, "profile", "", "write CPU profiles (server and clients) of phase 2 to PREFIX-loaded.pprof and of phase 3 to PREFIX-ingest.pprof, with their block and mutex profiles (PREFIX-loaded.block.pprof, ...)")
	f.StringVar(&out, "out", "", "write results JSON here")
	f.StringVar(&markdown, "markdown", "", "write the results as Markdown here")
	return cmd
}

// benchLoadClientsCmd is the process bench load starts for its clients (httpload.ServeClients):
// JSON requests on stdin, answers on stdout. Not for people.
func benchLoadClientsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "load-clients",
		Short:  "The clients' process of authlake bench load (requests on stdin, answers on stdout)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return httpload.ServeClients(ctx, os.Stdin, os.Stdout)
		},
	}
}

func benchStreamCmd() *cobra.Command {
	var (
		cfg bench.StreamConfig
		out string
	)
	cmd := &cobra.Command{
		Use:   "stream [--events N]",
		Short: "Stream generated events into one database with no input file: events/s over time, bytes/event, peak RSS",
		Long: `stream generates N events (authlake gen, run as a child process) and ingests them as they are
written, through the same NDJSON path a file takes, into one database (no input file: a billion events are 5.5 TB of
NDJSON). Every --interval it prints the events stored, the rate since the last line, the
process's RSS, the memtable, the segments and the bytes per event on disk; at the end the last
flush and the whole-day merge are charged to the run. With --queries it then runs the query
suite cold and warm on the result. Interrupt it to stop early: the figures so far are written.`,
		Example: `  authlake bench stream --events 100000000 --out bench/results/stream-100m.json
  authlake bench stream --events 1000000000 --interval 60s --queries --out bench/results/stream-1b.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := defaultWorkDir(&cfg.WorkDir, fmt.Sprintf("stream-n%d", cfg.Events)); err != nil {
				return err
			}
			cfg.MemoryLimit = int64(memoryLimit)
			cfg.Log = os.Stderr
			// The generator runs as this binary's gen, a process of its own, as in
			// "authlake gen | authlake ingest -": its population's memory is not the engine's.
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			cfg.GenCommand = []string{exe, "gen", "--events", strconv.FormatInt(cfg.Events, 10), "--seed", strconv.FormatUint(cfg.Seed, 10),
				"--end", gen.BenchEnd.Format(time.RFC3339), "--days", strconv.Itoa(cfg.Days), "--users", strconv.Itoa(cfg.Users), "-o", "-"}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			res, err := bench.Stream(ctx, cfg)
			if res != nil {
				res.WriteTable(cmd.OutOrStdout())
				if werr := writeResults(out, res); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.Int64Var(&cfg.Events, "events", 100_000_000, "events to generate and ingest")
	f.Uint64Var(&cfg.Seed, "seed", 1, "generator seed")
	f.IntVar(&cfg.Days, "days", 30, "days the events span (fewer days: larger days, larger whole-day merges)")
	f.IntVar(&cfg.Users, "users", 0, "users signing in (default: events/200, between 50 and 200,000)")
	f.IntVar(&cfg.Threads, "threads", 0, "ingest threads (default: number of CPUs)")
	f.IntVar(&cfg.BlockRows, "block-rows", 0, fmt.Sprintf("rows per segment block (default %d; what it trades: docs/format/segment.md)", columnar.DefaultBlockRows))
	f.DurationVar(&cfg.Interval, "interval", 10*time.Second, "time between progress lines (and timeline samples)")
	f.BoolVar(&cfg.Queries, "queries", false, "run the query suite on the database at the end")
	f.IntVar(&cfg.Runs, "runs", 10, "warm runs per query (with --queries)")
	f.StringVar(&cfg.WorkDir, "work", "", "where the database is built (default: the user cache dir)")
	f.StringVar(&out, "out", "", "write results JSON here")
	return cmd
}

func benchGrowthCmd() *cobra.Command {
	var svg, markdown string
	cmd := &cobra.Command{
		Use:   "growth RESULTS.json...",
		Short: "Show how each measure grows with data size, from several side-by-side runs",
		Long: `growth reads results files of runs made with --peer duckdb at different sizes and prints one
line per measure with a column per size ("authlake vs DuckDB = ratio"); --svg draws a log–log
panel per query, ingest rate and bytes per event.`,
		Example: `  authlake bench growth bench/results/{1m,10m,100m}.json --svg bench/results/growth.svg`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := bench.LoadGrowth(args)
			if err != nil {
				return err
			}
			md := g.Markdown()
			fmt.Fprint(cmd.OutOrStdout(), md)
			if markdown != "" {
				if err := os.WriteFile(markdown, []byte(md), 0o644); err != nil {
					return err
				}
			}
			if svg != "" {
				return os.WriteFile(svg, []byte(g.SVG()), 0o644)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&svg, "svg", "", "write the growth chart (SVG) here")
	cmd.Flags().StringVar(&markdown, "markdown", "", "write the growth table (Markdown) here")
	return cmd
}

// rendering is one more form of a run's results (Markdown, SVG) and the file it goes to ("":
// not asked for).
// defaultWorkDir sets an empty --work to name under the user cache dir's bench-work.
func defaultWorkDir(dir *string, name string) error {
	if *dir != "" {
		return nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	*dir = filepath.Join(d, "authlake", "bench-work", name)
	return nil
}

type rendering struct {
	path   string
	render func() string
}

// writeResults writes a run's results as JSON to jsonPath and each rendering to its file,
// skipping those without a path.
func writeResults(jsonPath string, res any, renderings ...rendering) error {
	if jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	for _, r := range renderings {
		if r.path == "" {
			continue
		}
		if err := os.WriteFile(r.path, []byte(r.render()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
