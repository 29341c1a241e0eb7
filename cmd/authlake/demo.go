package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/server"
)

func init() { extraCommands = append(extraCommands, demoCmd) }

// demoMarker records that the demo data was ingested, so later runs start at once.
type demoMarker struct {
	Events     int       `json:"events"`
	Accepted   int64     `json:"accepted"`
	Start      time.Time `json:"start"`
	IngestedAt time.Time `json:"ingestedAt"`
}

const demoMarkerFile = "demo.json"

func demoCmd() *cobra.Command {
	var (
		sf      serveFlags
		dataDir string
		events  int
		noServe bool
	)
	cmd := &cobra.Command{
		Use:   "demo [--data DIR] [--events N] [--addr 127.0.0.1:8080] [--no-serve]",
		Short: "Generate a demo tenant's sign-ins once, serve the Graph API over them, print a token and curl commands",
		Long: `demo creates a database in your cache directory (or --data), generates about a million
realistic sign-in events for a demo tenant over the last 29 days and ingests them (once: later runs
reuse them), starts the Graph-compatible server on loopback, and prints a development token and
ready-to-paste curl commands. Delete the directory to start over.`,
		Example: `  go run ./cmd/authlake demo
  authlake demo --events 100000 --addr 127.0.0.1:9000
  authlake demo --no-serve && authlake serve --data ~/.cache/authlake/demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			log, err := sf.logger()
			if err != nil {
				return err
			}
			if dataDir == "" {
				cache, err := os.UserCacheDir()
				if err != nil {
					return fmt.Errorf("no cache directory (%v): pass --data DIR", err)
				}
				dataDir = filepath.Join(cache, "authlake", "demo")
			}
			if v := os.Getenv(envDemoEvents); v != "" && !cmd.Flags().Changed("events") {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("$%s=%q: want a number of events", envDemoEvents, v)
				}
				events = n
			}
			if events <= 0 {
				return fmt.Errorf("--events %d: must be positive", events)
			}
			quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			db, err := openDB(dataDir, openOrCreate, engine.Options{Logger: quiet, Trust: cfg.Trust})
			if err != nil {
				return err
			}
			tenant := gen.DefaultTenant
			mk, err := ensureDemoData(db, tenant, events)
			if err != nil {
				db.Close()
				return err
			}
			key, err := server.LoadOrCreateDevKey(dataDir)
			if err != nil {
				db.Close()
				return err
			}
			tc := server.TokenClaims{TID: tenant, Roles: []string{server.RoleReadAuditLog, server.RoleIngest, server.RoleFlag}, AppID: "authlake-demo"}
			tc.Issuer, tc.Audience, tc.Subject = server.IssuerV2(tenant), []string{"https://graph.microsoft.com"}, "authlake-demo"
			token, err := key.Mint(tc, 24*time.Hour, now())
			if err != nil {
				db.Close()
				return err
			}
			upn := sampleFlaggedUser(db, tenant)
			fmt.Printf("demo data: %d events of tenant %s since %s in %s\n", mk.Accepted, tenant, mk.Start.Format("2006-01-02"), dataDir)
			if noServe {
				db.Close()
				printDemo(scheme(cfg)+"://"+cfg.Addr, token, upn, caFlag(cfg, dataDir))
				fmt.Printf("\nstart the server with:\n  authlake serve --data %s --addr %s\n", shellQuote(dataDir), cfg.Addr)
				return nil
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				// The default port is often taken: a free loopback port is as good for a demo.
				fmt.Fprintf(os.Stderr, "%s is not available (%v); using a free port\n", cfg.Addr, err)
				if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					db.Close()
					return err
				}
			}
			return runServer(db, cfg, log, ln, &sf.console, func(_ *server.Server, base string) {
				printDemo(base, token, upn, caFlag(cfg, dataDir))
				fmt.Println("\nPress Ctrl-C to stop.")
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "database directory (default <user cache dir>/authlake/demo)")
	f.IntVar(&events, "events", 1_000_000, "events to generate on the first run (default $"+envDemoEvents+" when set)")
	f.BoolVar(&noServe, "no-serve", false, "prepare the data and print the commands, but do not start the server")
	sf.register(f, false)
	return cmd
}

// envDemoEvents sizes the demo when --events is not given: the README test runs the README's
// demo command verbatim, on a small database.
const envDemoEvents = "AUTHLAKE_DEMO_EVENTS"

// ensureDemoData generates and ingests the demo events unless an earlier run did.
func ensureDemoData(db *engine.DB, tenant string, events int) (demoMarker, error) {
	path := filepath.Join(db.Dir(), demoMarkerFile)
	var mk demoMarker
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &mk) == nil {
		for _, ts := range db.Stats().Tenants {
			if ts.Tenant == tenant && ts.Events > 0 {
				return mk, nil
			}
		}
	}
	// The 29 days up to now, so the default 30-day retention keeps every event.
	end := now().UTC()
	start := end.AddDate(0, 0, -29)
	fmt.Fprintf(os.Stderr, "generating and ingesting %d demo events (once; later runs reuse them)\n", events)
	pr, pw := io.Pipe()
	go func() {
		_, _, err := gen.Write(pw, gen.Config{Events: events, Seed: 1, Tenant: tenant, End: end, Days: 29})
		pw.CloseWithError(err)
	}()
	out := io.Discard // a progress bar only makes sense on a terminal
	if term.IsTerminal(int(os.Stderr.Fd())) {
		out = os.Stderr
	}
	bar := progressbar.NewOptions64(int64(events), progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("ingesting"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := load.Load(ctx, db, []load.Source{{Name: "demo", R: pr}}, load.Options{
		Tenant: tenant, Progress: func(n int64) { bar.Set64(min(n, int64(events))) },
	})
	pr.CloseWithError(errors.New("ingest stopped")) // unblocks the generator if Load gave up early
	bar.Finish()
	if err != nil {
		return mk, fmt.Errorf("ingest demo events: %w", err)
	}
	fmt.Fprintf(os.Stderr, "ingested %d events in %s (%.0f events/s); flushing to indexed segments\n", sum.Accepted, sum.Elapsed.Round(time.Second), sum.EventsPerSecond())
	if err := db.Flush(); err != nil {
		return mk, err
	}
	if err := seedDemoRisk(ctx, db, tenant, end); err != nil {
		return mk, fmt.Errorf("demo identity protection data: %w", err)
	}
	if err := db.Flush(); err != nil {
		return mk, err
	}
	if err := db.Compact(); err != nil {
		return mk, err
	}
	mk = demoMarker{Events: events, Accepted: sum.Accepted, Start: start, IngestedAt: now().UTC()}
	b, _ := json.MarshalIndent(mk, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return mk, err
	}
	return mk, nil
}

// sampleFlaggedUser picks the user of the newest flagged sign-in for the example commands.
func sampleFlaggedUser(db *engine.DB, tenant string) string {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return "someone@contoso.com"
	}
	defer snap.Release()
	src := snap.Source()
	for _, filter := range []string{"flaggedForReview eq true", "status/errorCode ne 0", ""} {
		res, err := query.Run(context.Background(), columnar.SignIns, src, query.Request{Filter: filter, Top: 1, Select: []string{"userPrincipalName"}, DefaultInteractiveOnly: true})
		if err != nil || len(res.Rows) == 0 {
			continue
		}
		var row struct {
			UPN string `json:"userPrincipalName"`
		}
		if json.Unmarshal(res.Rows[0], &row) == nil && row.UPN != "" {
			return row.UPN
		}
	}
	return "someone@contoso.com"
}

// scheme is the one the server will speak.
func scheme(cfg server.Config) string {
	if cfg.TLS.Enabled() {
		return "https"
	}
	return "http"
}

// caFlag is what curl needs to trust the server's development certificate ("" otherwise).
func caFlag(cfg server.Config, dataDir string) string {
	if !cfg.TLS.SelfSigned {
		return ""
	}
	cert, _ := server.DevCertPaths(dataDir)
	return "--cacert " + shellQuote(cert) + " "
}

func printDemo(base, token, upn, ca string) {
	q := url.QueryEscape
	fmt.Printf("\nGraph sign-in API: %s/beta/auditLogs/signIns (and /v1.0)\n\n", base)
	fmt.Printf("export TOKEN=%s\n\n", token)
	fmt.Println("# 1. flagged sign-ins (users asked for help with these errors)")
	fmt.Printf("curl -s %s-H \"Authorization: Bearer $TOKEN\" '%s/beta/auditLogs/signIns?$filter=%s&$top=5'\n\n", ca, base, q("flaggedForReview eq true"))
	fmt.Printf("# 2. failed sign-ins of %s\n", upn)
	fmt.Printf("curl -s %s-H \"Authorization: Bearer $TOKEN\" '%s/beta/auditLogs/signIns?$filter=%s&$top=5&$select=%s'\n\n", ca, base,
		q("userPrincipalName eq '"+strings.ReplaceAll(upn, "'", "''")+"' and status/errorCode ne 0"), q("id,createdDateTime,appDisplayName,status,deviceDetail"))
	fmt.Println("# 3. the applications with the most failed sign-ins")
	fmt.Printf("curl -s %s-H \"Authorization: Bearer $TOKEN\" '%s/beta/auditLogs/signIns?$apply=%s'\n", ca, base,
		q("filter(status/errorCode ne 0)/groupby((appDisplayName),aggregate($count as failures))/orderby(failures desc)/top(10)"))
}
