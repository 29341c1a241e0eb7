package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

func init() { extraCommands = append(extraCommands, serveCmd) }

// serveFlags are the serve options shared with demo. Precedence: flag, then AUTHLAKE_*
// environment variable, then the config file, then defaults.
type serveFlags struct {
	dataDir, addr, configPath, publicURL, jwksFile, jwksURL, logLevel, logFormat string
	rate                                                                         float64
	burst                                                                        int
	trust                                                                        trustFlag
	retention                                                                    retentionFlag // serve only
	tlsCert, tlsKey                                                              string
	tlsSelfSigned, plainHTTP                                                     bool
	console                                                                      consoleFlags
}

func (sf *serveFlags) register(f *pflag.FlagSet, withData bool) {
	if withData {
		f.StringVar(&sf.dataDir, "data", "", "database directory (env AUTHLAKE_DATA)")
	}
	f.StringVar(&sf.addr, "addr", "127.0.0.1:8080", "listen address (env AUTHLAKE_ADDR)")
	f.StringVar(&sf.configPath, "config", "", "YAML configuration file (env AUTHLAKE_CONFIG); see docs/server.md")
	f.StringVar(&sf.publicURL, "public-url", "", "base URL for absolute links, e.g. https://authlake.example.com (env AUTHLAKE_PUBLIC_URL)")
	f.StringVar(&sf.jwksFile, "jwks-file", "", "extra trusted signing keys, a JWKS file (env AUTHLAKE_JWKS_FILE)")
	f.StringVar(&sf.jwksURL, "jwks-url", "", "extra trusted signing keys, a JWKS URL: https, or http on loopback (env AUTHLAKE_JWKS_URL)")
	f.Float64Var(&sf.rate, "rate-limit", 0, "requests per second per tenant, 0 = unlimited (env AUTHLAKE_RATE_LIMIT)")
	f.IntVar(&sf.burst, "burst", 0, "token bucket size per tenant (default 2× rate; env AUTHLAKE_BURST)")
	f.StringVar(&sf.logLevel, "log-level", "info", "debug, info, warn or error (env AUTHLAKE_LOG_LEVEL)")
	f.StringVar(&sf.logFormat, "log-format", "text", "text or json (env AUTHLAKE_LOG_FORMAT)")
	f.StringVar(&sf.tlsCert, "tls-cert", "", "TLS certificate (PEM) to serve https with (env AUTHLAKE_TLS_CERT)")
	f.StringVar(&sf.tlsKey, "tls-key", "", "its private key (PEM) (env AUTHLAKE_TLS_KEY)")
	f.BoolVar(&sf.tlsSelfSigned, "tls-self-signed", false, "serve https with a development certificate made in DIR/tls/ (the default without --tls-cert)")
	f.BoolVar(&sf.plainHTTP, "http", false, "serve plain http instead of https (bearer tokens then cross the network in clear: loopback only)")
	sf.trust.register(f)
	sf.console.register(f)
	if withData { // serve; the demo keeps the default
		sf.retention.register(f)
	}
}

// resolve applies environment variables to flags the user did not set, then builds the
// configuration from the file and the flags.
func (sf *serveFlags) resolve(f *pflag.FlagSet) (server.Config, error) {
	env := func(flag, name string, dst *string) {
		if v, ok := os.LookupEnv(name); ok && !f.Changed(flag) {
			*dst = v
		}
	}
	env("data", "AUTHLAKE_DATA", &sf.dataDir)
	env("addr", "AUTHLAKE_ADDR", &sf.addr)
	env("config", "AUTHLAKE_CONFIG", &sf.configPath)
	env("public-url", "AUTHLAKE_PUBLIC_URL", &sf.publicURL)
	env("jwks-file", "AUTHLAKE_JWKS_FILE", &sf.jwksFile)
	env("jwks-url", "AUTHLAKE_JWKS_URL", &sf.jwksURL)
	env("log-level", "AUTHLAKE_LOG_LEVEL", &sf.logLevel)
	env("log-format", "AUTHLAKE_LOG_FORMAT", &sf.logFormat)
	var rate, burst string
	env("rate-limit", "AUTHLAKE_RATE_LIMIT", &rate)
	env("burst", "AUTHLAKE_BURST", &burst)
	if rate != "" {
		v, err := strconv.ParseFloat(rate, 64)
		if err != nil {
			return server.Config{}, fmt.Errorf("AUTHLAKE_RATE_LIMIT=%q: %w", rate, err)
		}
		sf.rate = v
	}
	if burst != "" {
		v, err := strconv.Atoi(burst)
		if err != nil {
			return server.Config{}, fmt.Errorf("AUTHLAKE_BURST=%q: %w", burst, err)
		}
		sf.burst = v
	}
	var cfg server.Config
	if sf.configPath != "" {
		c, err := server.LoadConfig(sf.configPath)
		if err != nil {
			return cfg, err
		}
		cfg = c
	}
	set := func(flag, env string) bool {
		_, inEnv := os.LookupEnv(env)
		return f.Changed(flag) || inEnv
	}
	if set("addr", "AUTHLAKE_ADDR") || cfg.Addr == "" {
		cfg.Addr = sf.addr
	}
	if set("public-url", "AUTHLAKE_PUBLIC_URL") {
		cfg.PublicURL = sf.publicURL
	}
	if set("jwks-file", "AUTHLAKE_JWKS_FILE") {
		cfg.Auth.JWKSFile = sf.jwksFile
	}
	if set("jwks-url", "AUTHLAKE_JWKS_URL") {
		cfg.Auth.JWKSURL = sf.jwksURL
	}
	if set("rate-limit", "AUTHLAKE_RATE_LIMIT") {
		cfg.Limits.RequestsPerSecond = sf.rate
	}
	if set("burst", "AUTHLAKE_BURST") {
		cfg.Limits.Burst = sf.burst
	}
	env("tls-cert", "AUTHLAKE_TLS_CERT", &sf.tlsCert)
	env("tls-key", "AUTHLAKE_TLS_KEY", &sf.tlsKey)
	// https unless asked otherwise: the certificate given (flag, environment or config file),
	// else a development certificate.
	if sf.tlsCert != "" || sf.tlsKey != "" {
		cfg.TLS = server.TLSConfig{CertFile: sf.tlsCert, KeyFile: sf.tlsKey}
	}
	switch {
	case sf.plainHTTP && (sf.tlsCert != "" || sf.tlsSelfSigned):
		return cfg, errors.New("--http serves plain http: drop --tls-cert/--tls-self-signed, or --http")
	case sf.plainHTTP:
		cfg.TLS = server.TLSConfig{}
	case !cfg.TLS.Enabled():
		cfg.TLS.SelfSigned = true
	}
	if sf.trust.given(f) {
		trust, err := sf.trust.resolve(f)
		if err != nil {
			return cfg, err
		}
		cfg.Trust = trust
	}
	return cfg, nil
}

func (sf *serveFlags) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(sf.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", sf.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch sf.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", sf.logFormat)
}

func serveCmd() *cobra.Command {
	var sf serveFlags
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--addr 127.0.0.1:8080] [--config FILE]",
		Short: "Serve the Microsoft Graph sign-in API (v1.0 and beta) over a database",
		Long: `serve answers GET /{v1.0|beta}/auditLogs/signIns[/{id}] like Microsoft Graph, for bearer
tokens whose tid claim selects the tenant, plus HTTP ingest, flagged sign-ins, client-credentials
token endpoints, /metrics, /healthz and /readyz. SIGTERM or Ctrl-C stops accepting requests, lets
in-flight ones finish, then closes the database. See docs/server.md.`,
		Example: `  authlake serve --data ./data
  AUTHLAKE_DATA=./data AUTHLAKE_RATE_LIMIT=20 authlake serve --config authlake.yaml
  curl -H "Authorization: Bearer $(authlake token --data ./data --tenant T --roles AuditLog.Read.All)" \
    'http://127.0.0.1:8080/beta/auditLogs/signIns?$filter=flaggedForReview%20eq%20true'`,
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
			db, err := openDB(sf.dataDir, openOrCreate, engine.Options{Logger: log, Trust: cfg.Trust, CPU: cfg.Limits.CPUPool()})
			if err != nil {
				return err
			}
			// The config file's retention first, so that --retention wins.
			var fromConfig retentionFlag
			for _, t := range slices.Sorted(maps.Keys(cfg.Retention)) {
				if t == "*" {
					fromConfig.values = append(fromConfig.values, cfg.Retention[t])
				} else {
					fromConfig.values = append(fromConfig.values, t+"="+cfg.Retention[t])
				}
			}
			for _, r := range []retentionFlag{fromConfig, sf.retention} {
				if err := r.apply(db, ""); err != nil {
					db.Close()
					return err
				}
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				db.Close()
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			return runServer(db, cfg, log, ln, &sf.console, nil)
		},
	}
	sf.register(cmd.Flags(), true)
	return cmd
}

// runServer serves until SIGINT or SIGTERM, then shuts down gracefully and closes db.
func runServer(db *engine.DB, cfg server.Config, log *slog.Logger, ln net.Listener, console *consoleFlags, ready func(*server.Server, string)) error {
	srv, err := server.New(server.Options{Config: cfg, DB: db, Logger: log})
	if err != nil {
		ln.Close()
		db.Close()
		return err
	}
	// After server.New: its query admission is sized by the cores, not by the extra P.
	if cfg.Limits.ReservesNetworkP() {
		defer server.ReserveNetworkP(db.CPUPool())()
	}
	// GOMAXPROCS is one above the tokens unless limits.networkP is false or GOMAXPROCS is set.
	log.Info("CPU: heavy work takes the pool's tokens; GOMAXPROCS beyond them is left to requests",
		"cpu_tokens", db.CPUPool().Size(), "gomaxprocs", runtime.GOMAXPROCS(0))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url := srv.Scheme() + "://" + ln.Addr().String()
	if cfg.PublicURL != "" {
		url = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	log.Info("serving the Graph sign-in API", "url", url, "data", db.Dir())
	if cert := srv.TLSCertificate(); cert != nil && cfg.TLS.SelfSigned {
		certPath, _ := server.DevCertPaths(db.Dir())
		log.Info("https with the development certificate: clients must trust it (curl --cacert FILE)",
			"certificate", certPath, "sha256", server.Fingerprint(*cert))
	}
	if trust := db.Trust(); len(trust) > 0 {
		log.Info("cross-tenant trust: each home tenant reads the marked reports of the tenants listed", "trust", trust)
	}
	if err := console.printLink(srv, db, url); err != nil {
		log.Warn("no console link", "err", err)
	}
	if ready != nil {
		ready(srv, url)
	}
	serveErr := srv.Serve(ctx, ln)
	if serveErr == nil {
		log.Info("shut down: in-flight requests finished; closing the database")
	}
	began := time.Now()
	if err := srv.Close(); err != nil {
		log.Error("closing the identity protection store", "err", err)
	}
	if err := db.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
		return errors.Join(serveErr, err)
	}
	log.Debug("database closed", "took", time.Since(began))
	return serveErr
}
