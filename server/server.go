package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/flagging"
	"github.com/authlake/authlake/identityprotection"
)

// Options are what a Server is built from.
type Options struct {
	Config Config
	DB     *engine.DB
	// Flagging is the flagging window store; nil opens DIR/flagging (and closes it with the
	// server). Either way the server installs it as the engine's flagger.
	Flagging *flagging.Manager
	// Risk is the Identity Protection store; nil opens DIR/identityprotection.
	Risk   *identityprotection.Store
	Logger *slog.Logger
	// Now is the server's clock (tokens, rate limits, flagging windows, Identity Protection,
	// the diagnostic's default time, error dates). Default: the database's clock.
	Now func() time.Time
	// Registry receives the metrics (default a new registry, exposed at /metrics).
	Registry *prometheus.Registry
	// Observe, when set, is told of every request once it has been answered: an embedder's
	// access log, or a benchmark's server-side time beside what its client measured. It runs
	// on the request's goroutine and must be quick and safe for concurrent use.
	Observe func(RequestRecord)
}

// RequestRecord is one answered request, as Options.Observe sees it.
type RequestRecord struct {
	Route  string // the metrics' route label ("signIns.get", "signIns.list", ...)
	Method string
	Status int
	// Duration is the server's time: from the request's headers read to the handler's return
	// (the answer written to the connection, its last bytes perhaps still buffered).
	Duration time.Duration
	// ClientRequestID is the client-request-id header echoed (the request id when absent).
	ClientRequestID string
}

// Server is the HTTP API over one database.
type Server struct {
	cfg   Config
	db    *engine.DB
	flags *flagging.Manager
	risk  *identityprotection.Store
	// ownsRisk: the server opened the store and closes it.
	ownsRisk bool
	// ownsFlags: the server opened the flagging windows' log and closes it.
	ownsFlags bool
	auth      *Authenticator
	dev       *SigningKey
	limiter   *tenantLimiter
	metrics   *metrics
	admission *admission // list queries' concurrency (limits.maxConcurrentQueries)
	reg       *prometheus.Registry
	log       *slog.Logger
	now       func() time.Time
	clients   map[string]ClientConfig
	skipKey   []byte
	handler   http.Handler
	tlsCert   *tls.Certificate // nil: plain http
	ready     atomic.Bool
	console   *consoleSessions
	flight    atomic.Int64
	onAnswer  func(RequestRecord) // Options.Observe
}

// InFlight is the number of requests being handled.
func (s *Server) InFlight() int64 { return s.flight.Load() }

// New builds a server. It loads (or creates) the development signing key in the data
// directory and fetches the JWKS URL once, so a misconfiguration fails at start, not at the
// first request.
func New(opts Options) (*Server, error) {
	if opts.DB == nil {
		return nil, errors.New("server: no database")
	}
	cfg := opts.Config
	cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(cfg.Trust) > 0 && !sameTrust(cfg.Trust, opts.DB.Trust()) {
		// Trust decides what the engine writes and reads; the server cannot change it.
		return nil, fmt.Errorf("server: the configured trust %v is not the database's %v: open it with engine.Options{Trust: cfg.Trust}", cfg.Trust, opts.DB.Trust())
	}
	now := opts.Now
	if now == nil {
		now = opts.DB.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	dev, err := LoadOrCreateDevKey(opts.DB.Dir())
	if err != nil {
		return nil, fmt.Errorf("development signing key: %w", err)
	}
	auth, err := NewAuthenticator(cfg.Auth, dev, log, now)
	if err != nil {
		return nil, err
	}
	fm, ownsFlags := opts.Flagging, false
	if fm == nil {
		if fm, err = flagging.Open(filepath.Join(opts.DB.Dir(), flagging.Dir), flagging.Options{Now: now}); err != nil {
			return nil, err
		}
		ownsFlags = true
		defer func() {
			if err != nil {
				fm.Close()
			}
		}()
	}
	opts.DB.SetFlagger(fm.Flag)
	risk, ownsRisk := opts.Risk, opts.Risk == nil
	if risk == nil {
		if risk, err = identityprotection.Open(identityprotection.Dir(opts.DB.Dir()), identityprotection.Options{Now: now}); err != nil {
			return nil, fmt.Errorf("identity protection store: %w", err)
		}
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{
		cfg: cfg, db: opts.DB, flags: fm, risk: risk, ownsRisk: ownsRisk, ownsFlags: ownsFlags, auth: auth, dev: dev, log: log, reg: reg,
		limiter: newTenantLimiter(cfg.Limits.RequestsPerSecond, cfg.Limits.Burst, now), now: now,
		clients: map[string]ClientConfig{}, skipKey: skipTokenKey(dev), console: newConsoleSessions(now),
		onAnswer: opts.Observe,
	}
	for _, c := range cfg.Clients {
		s.clients[strings.ToLower(c.ClientID)] = c
	}
	if cfg.TLS.Enabled() {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		cert, err := loadTLS(cfg.TLS, opts.DB.Dir(), host)
		if err != nil {
			s.Close() // the Identity Protection store it opened
			return nil, err
		}
		s.tlsCert = &cert
	}
	s.metrics = newMetrics(reg, opts.DB)
	s.admission = newAdmission(cfg.Limits.MaxConcurrentQueries, reg)
	registerCPUMetrics(reg, opts.DB.CPUPool())
	s.handler = s.routes()
	s.ready.Store(true)
	return s, nil
}

// TLSCertificate is the certificate the server presents, nil when it speaks plain http.
func (s *Server) TLSCertificate() *tls.Certificate { return s.tlsCert }

// Scheme is "https" or "http".
func (s *Server) Scheme() string {
	if s.tlsCert != nil {
		return "https"
	}
	return "http"
}

// Handler is the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// DevKey is the local development signing key.
func (s *Server) DevKey() *SigningKey { return s.dev }

// Config is the effective configuration (defaults filled).
func (s *Server) Config() Config { return s.cfg }

// HTTPServer returns an http.Server with the configured timeouts and header limit.
func (s *Server) HTTPServer() *http.Server {
	l := s.cfg.Limits
	return &http.Server{
		Handler: s.handler, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve answers requests on ln until ctx is cancelled, then stops accepting, reports not ready,
// and lets in-flight requests finish (up to the shutdown timeout). The caller closes the
// database afterwards, once no handler can touch it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer()
	errc := make(chan error, 1)
	if s.tlsCert != nil {
		// ServeTLS offers HTTP/2 (h2) and HTTP/1.1 by ALPN.
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.tlsCert}, MinVersion: tls.VersionTLS12}
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Limits.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// handlerFunc is a handler that runs after authentication.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *Principal)

// methods maps an HTTP method to its handler for one route.
type methods map[string]http.HandlerFunc

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(route, pattern string, ms methods) {
		allow := make([]string, 0, len(ms))
		for m := range ms {
			allow = append(allow, m)
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*statusRecorder); ok {
				rec.route = route
			}
			h, ok := ms[r.Method]
			if !ok && r.Method == http.MethodHead {
				h, ok = ms[http.MethodGet]
			}
			if !ok {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, r, http.StatusMethodNotAllowed, codeNotAllowed,
					fmt.Sprintf("The HTTP method '%s' is not allowed on this resource; use %s.", r.Method, strings.Join(allow, " or ")))
				return
			}
			h(w, r)
		})
	}
	for _, name := range []string{"signIns", "signins"} {
		handle("signIns.list", "/{ver}/auditLogs/"+name, methods{http.MethodGet: s.authed(s.listSignIns)})
		handle("signIns.get", "/{ver}/auditLogs/"+name+"/{id}", methods{http.MethodGet: s.authed(s.getSignIn)})
	}
	handle("ingest", "/authlake/v1/ingest", methods{http.MethodPost: s.authed(s.ingest)})
	handle("flagging", "/authlake/v1/flagging", methods{http.MethodGet: s.authed(s.listFlagging), http.MethodPost: s.authed(s.startFlagging)})
	handle("flagging.item", "/authlake/v1/flagging/{id}", methods{http.MethodDelete: s.authed(s.stopFlagging)})
	handle("console.links", "/authlake/v1/console/links", methods{http.MethodPost: s.authed(s.consoleLinkForToken)})
	handle("retention", "/authlake/v1/retention", methods{http.MethodGet: s.authed(s.getRetention), http.MethodPut: s.authed(s.putRetention)})
	handle("token.v2", "/{tenant}/oauth2/v2.0/token", methods{http.MethodPost: s.tokenV2})
	handle("token.v1", "/{tenant}/oauth2/token", methods{http.MethodPost: s.tokenV1})
	handle("keys", "/{tenant}/discovery/v2.0/keys", methods{http.MethodGet: s.keys})
	handle("keys.v1", "/{tenant}/discovery/keys", methods{http.MethodGet: s.keys})
	handle("openid", "/{tenant}/v2.0/.well-known/openid-configuration", methods{http.MethodGet: s.openIDConfig})
	handle("openid", "/.well-known/openid-configuration", methods{http.MethodGet: s.openIDConfig})
	handle("diagnostics", "/authlake/v1/diagnostics", methods{http.MethodGet: s.diagnosticsHandler()})
	s.mountIdentityProtection(mux)
	s.mountConsole(mux)
	handle("metrics", "/metrics", methods{http.MethodGet: s.metrics.handler(s.reg).ServeHTTP})
	handle("healthz", "/healthz", methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}})
	handle("readyz", "/readyz", methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, "The server is shutting down.")
			return
		}
		// Not ready while ingest cannot be made durable (a full disk): a load balancer should
		// send writes elsewhere; reads still work.
		if err := s.db.Writable(); err != nil {
			writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, "Writes cannot be made durable: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*statusRecorder); ok {
			rec.route = "unmatched"
		}
		if strings.HasPrefix(r.URL.Path, "/console/") {
			s.consoleNotFound(w, r)
			return
		}
		writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf("Resource not found for the segment '%s'.", firstSegment(r.URL.Path)))
	})
	return withRequestIDs(s.now, s.observe(s.interactive(s.decodeBodies(mux))))
}

func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	if len(p) > 64 {
		p = p[:64]
	}
	return p
}

// authed requires a valid bearer token and applies the caller's tenant rate limit.
func (s *Server) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(hdr, " ")
		if hdr == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="authlake", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`)
			writeError(w, r, http.StatusUnauthorized, codeInvalidToken, "Access token is empty.")
			return
		}
		p, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="authlake", error="invalid_token"`)
			writeError(w, r, http.StatusUnauthorized, codeInvalidToken, err.Error())
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.tenant = p.Tenant
		}
		if ok, wait := s.limiter.allow(p.Tenant); !ok {
			writeRetryAfter(w, r, wait, "Too many requests for this tenant; retry after the time given in Retry-After.")
			return
		}
		h(w, r, p)
	}
}

// observe records metrics and a log line for every request, and turns a handler panic into a
// 500 (a bug, logged with its stack) instead of a dropped connection.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r, endTask := traceRequest(r)
		s.flight.Add(1)
		s.metrics.inFlight.Inc()
		defer func() {
			s.flight.Add(-1)
			s.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					endTask(rec.route, requestIDs(r).client)
					panic(v)
				}
				s.log.Error("BUG: handler panic", "panic", v, "stack", string(debug.Stack()), "request-id", requestIDs(r).request)
				if !rec.wrote {
					writeError(rec, r, http.StatusInternalServerError, codeInternal, "Internal server error.")
				}
			}
			el := time.Since(start)
			endTask(rec.route, requestIDs(r).client)
			s.metrics.observe(rec.route, r.Method, rec.status, el)
			if s.onAnswer != nil {
				s.onAnswer(RequestRecord{Route: rec.route, Method: r.Method, Status: rec.status, Duration: el, ClientRequestID: requestIDs(r).client})
			}
			lvl := slog.LevelInfo
			if rec.status >= 500 {
				lvl = slog.LevelError
			}
			s.log.Log(r.Context(), lvl, "request", "method", r.Method, "route", rec.route, "path", r.URL.Path,
				"status", rec.status, "code", rec.errCode, "duration", el, "tenant", rec.tenant,
				"request-id", requestIDs(r).request, "client-request-id", requestIDs(r).client)
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers what was written for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	route   string
	tenant  string
	errCode string
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
