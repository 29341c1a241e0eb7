package server

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// Config is the server configuration. The zero value plus a data directory is usable: defaults
// are filled by Defaults. It is read from YAML (authlake serve --config) and overridden by
// AUTHLAKE_* environment variables and flags in cmd/authlake.
type Config struct {
	Addr string `yaml:"addr"`
	// PublicURL is the base of absolute links (@odata.context, @odata.nextLink, issuer metadata).
	// Empty means "http://" + the request's Host.
	PublicURL string `yaml:"publicURL"`

	Auth   AuthConfig   `yaml:"auth"`
	Limits LimitsConfig `yaml:"limits"`
	// Clients may obtain tokens from the built-in client-credentials endpoints.
	Clients []ClientConfig `yaml:"clients"`
	// Trust is the cross-tenant trust of the database (engine.Options.Trust): Trust[A] lists
	// the tenants whose reports of A's users' sign-ins into them A's log accepts, marked and
	// never in place of A's own events. Without it a token writes its own tenant's log only.
	// `authlake serve` opens the database with it; when it is set, New refuses a database opened
	// with another (the engine, not the server, applies it).
	Trust map[string][]string `yaml:"trust"`
	// TLS makes the server speak https (see tls.go).
	TLS TLSConfig `yaml:"tls"`
	// Retention sets how long events are kept, per tenant id, and under "*" for every tenant
	// without its own: "400d", "8w", "2y", or "0" for ever. `authlake serve` has the database
	// remember it, as `--retention` (which wins) and PUT /authlake/v1/retention do.
	Retention map[string]string `yaml:"retention"`
}

// AuthConfig says which tokens are accepted.
type AuthConfig struct {
	// Audiences a token's aud must contain one of.
	Audiences []string `yaml:"audiences"`
	// Issuers are templates of accepted iss values; {tid} stands for the token's tid claim.
	Issuers []string `yaml:"issuers"`
	// JWKSFile and JWKSURL name extra signing keys (e.g. Entra's). The local development key in
	// DIR/dev-signing-key.pem is always trusted: the token endpoints sign with it.
	JWKSFile string `yaml:"jwksFile"`
	JWKSURL  string `yaml:"jwksURL"`
	// JWKSRefresh is how often JWKSURL is fetched again (default 1h).
	JWKSRefresh time.Duration `yaml:"jwksRefresh"`
	// Leeway tolerates clock skew on exp and nbf (default 60s, at most 5m).
	Leeway time.Duration `yaml:"leeway"`
	// TokenTTL is the lifetime of tokens issued by the token endpoints (default 1h).
	TokenTTL time.Duration `yaml:"tokenTTL"`
}

// LimitsConfig bounds what a client can make the server do.
type LimitsConfig struct {
	// RequestsPerSecond and Burst size each tenant's token bucket. 0 requests per second turns
	// rate limiting off.
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	Burst             int     `yaml:"burst"`
	// MaxBodyBytes bounds a request body as sent; MaxDecompressedBytes bounds it after gzip or
	// zstd decoding (so a small compressed body cannot expand without limit).
	MaxBodyBytes         int64 `yaml:"maxBodyBytes"`
	MaxDecompressedBytes int64 `yaml:"maxDecompressedBytes"`
	// MaxRejectsReported is how many rejected records an ingest response lists (default 20).
	MaxRejectsReported int `yaml:"maxRejectsReported"`
	// BodyIdleTimeout is how long a request body may stall (no byte arriving) before the
	// request is answered 408 (default 10s): a client that trickles or stops its body no longer
	// holds a handler until the read timeout, minutes later.
	BodyIdleTimeout time.Duration `yaml:"bodyIdleTimeout"`
	// MaxGroups bounds the groups of one $apply (default query.DefaultMaxGroups); past it the
	// request is answered 400 with the limit named, in bounded memory.
	MaxGroups int `yaml:"maxGroups"`
	// MaxConcurrentQueries bounds the list and aggregation queries running at once (default
	// the number of CPUs; negative: no bound). Others wait, earliest due first (each is due at
	// its arrival plus twice what queries of its kind cost), as long as their client
	// does; a sign-in fetched by id, ingest and the console's pages other than its list never
	// wait (server/admission.go says why).
	MaxConcurrentQueries int `yaml:"maxConcurrentQueries"`
	// CPUTokens sizes the CPU pool that heavy work (query scans, ingest decoding) passes
	// through, one core kept free for interactive requests while any runs (internal/cpu):
	// 0 is the process-wide pool of GOMAXPROCS tokens, negative disables it.
	CPUTokens int `yaml:"cpuTokens"`
	// NetworkP (default true) has authlake serve run with GOMAXPROCS one above the pool's
	// tokens, a P for requests to arrive on (ReserveNetworkP). Off, heavy work and requests
	// share GOMAXPROCS Ps, and on a saturated 2-core machine a short request waits 2-7x longer
	// at p50 (docs/server.md, "One P for the network").
	NetworkP *bool `yaml:"networkP"`
	// Timeouts and header limits of the HTTP server.
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	ReadTimeout       time.Duration `yaml:"readTimeout"`
	WriteTimeout      time.Duration `yaml:"writeTimeout"`
	IdleTimeout       time.Duration `yaml:"idleTimeout"`
	MaxHeaderBytes    int           `yaml:"maxHeaderBytes"`
	// ShutdownTimeout is how long in-flight requests may take to finish on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
}

// ClientConfig is an application allowed to use the client-credentials grant.
type ClientConfig struct {
	ClientID string `yaml:"clientId"`
	// Secret is the client secret in clear, or SecretHash "sha256:<hex>" of it. Client secrets
	// are random strings, so an unsalted hash is enough to keep the file from disclosing them.
	Secret     string   `yaml:"secret"`
	SecretHash string   `yaml:"secretHash"`
	Tenant     string   `yaml:"tenant"`
	Roles      []string `yaml:"roles"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	a := &c.Auth
	if len(a.Audiences) == 0 {
		a.Audiences = []string{"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"}
	}
	if len(a.Issuers) == 0 {
		a.Issuers = []string{"https://login.microsoftonline.com/{tid}/v2.0", "https://sts.windows.net/{tid}/"}
	}
	if a.JWKSRefresh <= 0 {
		a.JWKSRefresh = time.Hour
	}
	if a.Leeway <= 0 {
		a.Leeway = time.Minute
	}
	a.Leeway = min(a.Leeway, 5*time.Minute)
	if a.TokenTTL <= 0 {
		a.TokenTTL = time.Hour
	}
	l := &c.Limits
	if l.Burst <= 0 {
		l.Burst = max(1, int(2*l.RequestsPerSecond))
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 64 << 20
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = 512 << 20
	}
	if l.BodyIdleTimeout <= 0 {
		l.BodyIdleTimeout = 10 * time.Second
	}
	if l.MaxGroups <= 0 {
		l.MaxGroups = query.DefaultMaxGroups
	}
	if l.MaxConcurrentQueries == 0 {
		l.MaxConcurrentQueries = runtime.GOMAXPROCS(0)
	}
	if l.MaxRejectsReported <= 0 {
		l.MaxRejectsReported = 20
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 5 * time.Minute // large ingest bodies
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 5 * time.Minute
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if l.ShutdownTimeout <= 0 {
		l.ShutdownTimeout = 30 * time.Second
	}
}

// LoadConfig reads a YAML file. Unknown keys are errors, so a typo does not silently leave a
// limit at its default.
func LoadConfig(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	if err := c.TLS.validate(); err != nil {
		return err
	}
	for i, cl := range c.Clients {
		switch {
		case cl.ClientID == "":
			return fmt.Errorf("clients[%d]: clientId is required", i)
		case cl.Tenant == "":
			return fmt.Errorf("clients[%d] (%s): tenant is required", i, cl.ClientID)
		case (cl.Secret == "") == (cl.SecretHash == ""):
			return fmt.Errorf("clients[%d] (%s): set exactly one of secret or secretHash", i, cl.ClientID)
		case cl.SecretHash != "" && !strings.HasPrefix(cl.SecretHash, "sha256:"):
			return fmt.Errorf("clients[%d] (%s): secretHash must look like sha256:<64 hex digits>", i, cl.ClientID)
		}
	}
	if c.Limits.RequestsPerSecond < 0 {
		return fmt.Errorf("limits.requestsPerSecond must not be negative")
	}
	for t, spec := range c.Retention {
		if t != "*" && !validTenantID(t) {
			return fmt.Errorf("retention: invalid tenant %q (use a tenant id, or * for every tenant without its own)", t)
		}
		if _, err := engine.ParseRetention(spec); err != nil {
			return fmt.Errorf("retention[%s]: %w", t, err)
		}
	}
	for home, srcs := range c.Trust {
		if !validTenantID(home) {
			return fmt.Errorf("trust: invalid tenant %q", home)
		}
		for _, src := range srcs {
			if !validTenantID(src) || src == home {
				return fmt.Errorf("trust: tenant %s: invalid reporting tenant %q", home, src)
			}
		}
	}
	return nil
}

// sameTrust compares trust maps as sets.
func sameTrust(a, b map[string][]string) bool {
	norm := func(m map[string][]string) map[string]string {
		out := map[string]string{}
		for home, srcs := range m {
			s := slices.Clone(srcs)
			slices.Sort(s)
			if s = slices.Compact(s); len(s) > 0 {
				out[home] = strings.Join(s, ",")
			}
		}
		return out
	}
	return maps.Equal(norm(a), norm(b))
}

// ReservesNetworkP reports whether limits.networkP asks for a P for requests (the default).
func (l LimitsConfig) ReservesNetworkP() bool { return l.NetworkP == nil || *l.NetworkP }

// CPUPool is the pool limits.cpuTokens asks for, for engine.Options.CPU: nil (the
// process-wide pool) for 0, a disabled pool for a negative number.
func (l LimitsConfig) CPUPool() *engine.CPUPool {
	switch {
	case l.CPUTokens == 0:
		return nil
	case l.CPUTokens < 0:
		return engine.NewCPUPool(0)
	}
	return engine.NewCPUPool(l.CPUTokens)
}
