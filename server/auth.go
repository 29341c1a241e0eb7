package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Rights granted by token roles (application permissions) or scp (delegated scopes).
const (
	RoleReadAuditLog      = "AuditLog.Read.All"
	RoleReadWriteAuditLog = "AuditLog.ReadWrite.All"
	RoleIngest            = "AuthLake.Ingest"
	RoleFlag              = "AuthLake.Flag"
)

// Principal is the authenticated caller.
type Principal struct {
	Tenant  string // tid: the only tenant whose data the caller can see
	Subject string
	UPN     string // upn or preferred_username, lower-case
	OID     string // user object id (delegated tokens)
	AppID   string
	rights  map[string]bool
}

// Has reports whether the caller holds a role or scope.
func (p *Principal) Has(right string) bool { return p.rights[strings.ToLower(right)] }

// Roles lists the roles and scopes the caller holds, lower-case and sorted.
func (p *Principal) Roles() []string { return slices.Sorted(maps.Keys(p.rights)) }

// grant gives the caller roles or scopes; like Has, it ignores case.
func (p *Principal) grant(rights ...string) {
	if p.rights == nil {
		p.rights = map[string]bool{}
	}
	for _, r := range rights {
		p.rights[strings.ToLower(r)] = true
	}
}

func (p *Principal) canRead() bool   { return p.Has(RoleReadAuditLog) || p.Has(RoleReadWriteAuditLog) }
func (p *Principal) canIngest() bool { return p.Has(RoleIngest) || p.Has(RoleReadWriteAuditLog) }

// TokenClaims are the claims this server reads from (and writes into) access tokens.
type TokenClaims struct {
	jwt.RegisteredClaims
	TID               string   `json:"tid,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	Scp               string   `json:"scp,omitempty"`
	UPN               string   `json:"upn,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	OID               string   `json:"oid,omitempty"`
	AppID             string   `json:"appid,omitempty"`
	AzP               string   `json:"azp,omitempty"`
	Ver               string   `json:"ver,omitempty"`
}

// Authenticator validates bearer tokens.
type Authenticator struct {
	cfg    AuthConfig
	static []verificationKey // dev key + JWKS file
	remote atomic.Pointer[[]verificationKey]
	now    func() time.Time
	log    *slog.Logger

	fetchMu   sync.Mutex
	lastFetch atomic.Int64 // unix nanoseconds of the last fetch attempt
	client    *http.Client
}

// NewAuthenticator trusts the development key and the configured JWKS file and URL. now is the
// clock for exp, nbf and JWKS refreshes (nil: time.Now).
func NewAuthenticator(cfg AuthConfig, dev *SigningKey, log *slog.Logger, now func() time.Time) (*Authenticator, error) {
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{cfg: cfg, now: now, log: log, client: &http.Client{Timeout: 10 * time.Second}}
	if dev != nil {
		a.static = append(a.static, verificationKey{kid: dev.KID, key: dev.Key.Public()})
	}
	if cfg.JWKSFile != "" {
		b, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth.jwksFile: %w", err)
		}
		ks, err := parseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("auth.jwksFile %s: %w", cfg.JWKSFile, err)
		}
		a.static = append(a.static, ks...)
	}
	empty := []verificationKey{}
	a.remote.Store(&empty)
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		if err := a.fetch(context.Background()); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// checkJWKSURL allows https anywhere and plain http only to loopback, where nobody can tamper
// with the keys in transit.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth.jwksURL: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("auth.jwksURL %q: use https, or http on a loopback address", raw)
}

func (a *Authenticator) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.JWKSURL, nil)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", a.cfg.JWKSURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS %s: HTTP %s", a.cfg.JWKSURL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", a.cfg.JWKSURL, err)
	}
	ks, err := parseJWKS(b)
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", a.cfg.JWKSURL, err)
	}
	a.remote.Store(&ks)
	a.lastFetch.Store(a.now().UnixNano())
	return nil
}

// refreshFor fetches the JWKS URL again when a token names an unknown key id (the issuer
// rotated keys) or the set is stale, at most once a minute so bad tokens cannot make us
// hammer the key server. Only one request fetches; the others carry on with the current keys
// rather than queueing behind a slow key server.
func (a *Authenticator) refreshFor(ctx context.Context, unknownKid bool) {
	if a.cfg.JWKSURL == "" {
		return
	}
	since := a.now().Sub(time.Unix(0, a.lastFetch.Load()))
	if !(unknownKid && since > time.Minute) && since <= a.cfg.JWKSRefresh {
		return
	}
	if !a.fetchMu.TryLock() {
		return
	}
	defer a.fetchMu.Unlock()
	if err := a.fetch(ctx); err != nil {
		a.log.Warn("refreshing signing keys failed; keeping the previous set", "err", err)
		a.lastFetch.Store(a.now().UnixNano())
	}
}

func (a *Authenticator) keysFor(kid string) []verificationKey {
	all := append(slices.Clip(a.static), *a.remote.Load()...)
	if kid == "" {
		return all
	}
	var out []verificationKey
	for _, k := range all {
		if k.kid == kid {
			out = append(out, k)
		}
	}
	return out
}

// errAuth is an authentication failure whose message is safe to show the caller.
type errAuth struct{ msg string }

func (e *errAuth) Error() string { return e.msg }

// Authenticate validates a bearer token: signature (RS256 or ES256 only; alg none and HMAC are
// refused, so a public RSA key can never double as an HMAC secret), exp/nbf with leeway, aud,
// iss against the tid claim, and returns the caller.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	a.refreshFor(ctx, false)
	var tc TokenClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256", "ES256"}),
		jwt.WithLeeway(a.cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(a.cfg.Audiences...),
		jwt.WithTimeFunc(a.now),
	)
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		ks := a.keysFor(kid)
		if len(ks) == 0 {
			a.refreshFor(ctx, true)
			ks = a.keysFor(kid)
		}
		if len(ks) == 0 {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		set := jwt.VerificationKeySet{}
		for _, k := range ks {
			set.Keys = append(set.Keys, k.key)
		}
		return set, nil
	}
	if _, err := parser.ParseWithClaims(raw, &tc, keyfunc); err != nil {
		return nil, &errAuth{describeJWTError(err)}
	}
	if !validTenantID(tc.TID) {
		return nil, &errAuth{"Access token has no valid tid (tenant) claim."}
	}
	if !a.issuerOK(tc.Issuer, tc.TID) {
		return nil, &errAuth{fmt.Sprintf("Access token issuer %q is not trusted for tenant %s.", tc.Issuer, tc.TID)}
	}
	p := &Principal{Tenant: tc.TID, Subject: tc.Subject, OID: strings.ToLower(tc.OID), AppID: cmp(tc.AppID, tc.AzP)}
	p.UPN = strings.ToLower(cmp(tc.UPN, tc.PreferredUsername))
	p.grant(tc.Roles...)
	p.grant(strings.Fields(tc.Scp)...)
	return p, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (a *Authenticator) issuerOK(iss, tid string) bool {
	for _, tmpl := range a.cfg.Issuers {
		if strings.ReplaceAll(tmpl, "{tid}", tid) == iss {
			return true
		}
	}
	return false
}

// describeJWTError turns library errors into the short reasons Graph clients see.
func describeJWTError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "Lifetime validation failed, the token is expired."
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "Lifetime validation failed, the token is not yet valid."
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "Access token is missing a required claim: " + err.Error()
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "Invalid audience."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "Access token signature is invalid."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "Access token is malformed (not a JWS compact serialization)."
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "Access token cannot be verified: " + err.Error()
	}
	return "Access token validation failed: " + err.Error()
}

// validTenantID mirrors the engine's rule for tenant names (they become directory names).
func validTenantID(t string) bool {
	if t == "" || len(t) > 128 || t == "." || t == ".." {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Mint signs an access token for tenant with roles, valid for ttl from now. v1 selects the
// sts.windows.net issuer form (the v1 token endpoint), otherwise the v2.0 issuer.
func (k *SigningKey) Mint(tc TokenClaims, ttl time.Duration, now time.Time) (string, error) {
	tc.IssuedAt = jwt.NewNumericDate(now)
	tc.NotBefore = jwt.NewNumericDate(now)
	tc.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	if tc.ID == "" {
		tc.ID = newGUID()
	}
	var m jwt.SigningMethod = jwt.SigningMethodRS256
	if k.Alg == "ES256" {
		m = jwt.SigningMethodES256
	}
	t := jwt.NewWithClaims(m, tc)
	t.Header["kid"] = k.KID
	return t.SignedString(k.Key)
}

// IssuerV2 and IssuerV1 are Entra's issuer forms for a tenant.
func IssuerV2(tid string) string { return "https://login.microsoftonline.com/" + tid + "/v2.0" }
func IssuerV1(tid string) string { return "https://sts.windows.net/" + tid + "/" }
