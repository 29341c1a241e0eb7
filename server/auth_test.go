package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

func TestTokenValidation(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, event{id: guid(1), at: t0})
	list := func(tok string) response { return e.get("/beta/auditLogs/signIns", tok) }
	base := func(c *server.TokenClaims) {
		c.TID, c.Issuer, c.Roles = tenantA, server.IssuerV2(tenantA), []string{"AuditLog.Read.All"}
	}
	if r := list(e.tokenWith(base)); r.status != 200 {
		t.Fatalf("valid token refused: %d %s", r.status, r.body)
	}

	bad := untrustedKey(t)
	mint := func(k *server.SigningKey, edit func(*server.TokenClaims), ttl time.Duration, now time.Time) string {
		c := server.TokenClaims{}
		c.Audience = jwt.ClaimStrings{graph}
		base(&c)
		if edit != nil {
			edit(&c)
		}
		tok, err := k.Mint(c, ttl, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// A token signed by another key but claiming the development key's id.
	forged := *bad
	forged.KID = e.srv.DevKey().KID
	// alg none and HS256 keyed with the public key's bytes (the classic confusion attack).
	claims := server.TokenClaims{}
	base(&claims)
	claims.Audience = jwt.ClaimStrings{graph}
	claims.ExpiresAt = jwt.NewNumericDate(e.clock.Now().Add(time.Hour))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	pubDER, _ := x509.MarshalPKIXPublicKey(e.srv.DevKey().Key.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hsTok.Header["kid"] = e.srv.DevKey().KID
	hs, _ := hsTok.SignedString(pubPEM)
	// A valid signature with the payload swapped for another tenant's.
	good := e.tokenWith(base)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.ReplaceAll(string(payload), tenantA, tenantB))) + "." + parts[2]

	cases := map[string]string{
		"unknown key":         mint(bad, nil, time.Hour, e.clock.Now()),
		"wrong signature":     mint(&forged, nil, time.Hour, e.clock.Now()),
		"tampered payload":    swapped,
		"wrong audience":      mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Audience = jwt.ClaimStrings{"api://other"} }, time.Hour, e.clock.Now()),
		"no audience":         mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Audience = nil }, time.Hour, e.clock.Now()),
		"expired":             mint(e.srv.DevKey(), nil, time.Hour, e.clock.Now().Add(-2*time.Hour)),
		"not yet valid":       mint(e.srv.DevKey(), nil, time.Hour, e.clock.Now().Add(10*time.Minute)),
		"alg none":            none,
		"HS256 with RSA key":  hs,
		"issuer other tenant": mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Issuer = server.IssuerV2(tenantB) }, time.Hour, e.clock.Now()),
		"untrusted issuer":    mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Issuer = "https://evil.example/" + tenantA + "/v2.0" }, time.Hour, e.clock.Now()),
		"no tid":              mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.TID = ""; c.Issuer = server.IssuerV2("") }, time.Hour, e.clock.Now()),
		"tid with path chars": mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.TID = "../x"; c.Issuer = server.IssuerV2("../x") }, time.Hour, e.clock.Now()),
		"two segments":        parts[0] + "." + parts[1],
	}
	for name, tok := range cases {
		checkGraphError(t, name, list(tok), 401, "InvalidAuthenticationToken")
	}
	// Within the leeway an expired token still passes; the v1 issuer form is accepted.
	if r := list(mint(e.srv.DevKey(), nil, time.Hour, e.clock.Now().Add(-time.Hour-20*time.Second))); r.status != 200 {
		t.Errorf("token expired 20s ago (inside leeway): %d", r.status)
	}
	if r := list(mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Issuer = server.IssuerV1(tenantA) }, time.Hour, e.clock.Now())); r.status != 200 {
		t.Errorf("sts.windows.net issuer: %d %s", r.status, r.body)
	}
	if r := list(mint(e.srv.DevKey(), func(c *server.TokenClaims) { c.Audience = jwt.ClaimStrings{"00000003-0000-0000-c000-000000000000"} }, time.Hour, e.clock.Now())); r.status != 200 {
		t.Errorf("Graph app id audience: %d", r.status)
	}
	// A delegated scope grants reading like an application role.
	if r := list(e.userToken(tenantA, "admin@contoso.com", "oid-admin", "User.Read AuditLog.Read.All")); r.status != 200 {
		t.Errorf("delegated scp: %d %s", r.status, r.body)
	}
}

func writeJWKS(t *testing.T, path string, keys ...server.JWK) {
	t.Helper()
	b, _ := json.Marshal(server.JWKS{Keys: keys})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ecKey(t *testing.T, kid string) *server.SigningKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &server.SigningKey{Key: k, KID: kid, Alg: "ES256"}
}

// TestJWKSFileAndURL accepts ES256 tokens from a JWKS file and RS256 tokens from a JWKS URL on
// loopback, and refuses a key the URL stops serving... only after a refresh, which an
// unknown kid triggers.
func TestJWKSFileAndURL(t *testing.T) {
	fileKey := ecKey(t, "file-key")
	path := filepath.Join(t.TempDir(), "jwks.json")
	writeJWKS(t, path, fileKey.JWK())
	urlKey := untrustedKey(t)
	urlKey.KID = "url-key"
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(server.JWKS{Keys: []server.JWK{urlKey.JWK()}})
	}))
	defer jwks.Close()
	e := newEnv(t, func(c *server.Config, _ *engine.Options) { c.Auth.JWKSFile = path; c.Auth.JWKSURL = jwks.URL })
	for _, k := range []*server.SigningKey{fileKey, urlKey} {
		c := server.TokenClaims{TID: tenantA, Roles: []string{"AuditLog.Read.All"}}
		c.Issuer, c.Audience = server.IssuerV2(tenantA), jwt.ClaimStrings{graph}
		tok, err := k.Mint(c, time.Hour, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r := e.get("/beta/auditLogs/signIns", tok); r.status != 200 {
			t.Errorf("%s token: %d %s", k.KID, r.status, r.body)
		}
		// Same token header with alg switched to the other family is refused.
	}
	// The development key is still trusted alongside.
	if r := e.get("/beta/auditLogs/signIns", e.token(tenantA, "AuditLog.Read.All")); r.status != 200 {
		t.Errorf("dev key: %d", r.status)
	}
	// A plain-http JWKS URL off loopback is refused at start.
	_, err := server.NewAuthenticator(server.AuthConfig{JWKSURL: "http://keys.example.com/jwks"}, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("non-loopback http JWKS URL: %v", err)
	}
}

func TestDiscoveryServesDevKey(t *testing.T) {
	e := newEnv(t)
	r := e.get("/"+tenantA+"/discovery/v2.0/keys", "")
	var set server.JWKS
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("keys: %d %s", r.status, r.body)
	}
	if k := set.Keys[0]; k.Kid != e.srv.DevKey().KID || k.Kty != "RSA" || k.N == "" || k.Alg != "RS256" {
		t.Errorf("JWK %+v", k)
	}
	m := e.get("/"+tenantA+"/v2.0/.well-known/openid-configuration", "").json(t)
	if m["issuer"] != server.IssuerV2(tenantA) || m["jwks_uri"] != e.ts.URL+"/"+tenantA+"/discovery/v2.0/keys" ||
		m["token_endpoint"] != e.ts.URL+"/"+tenantA+"/oauth2/v2.0/token" {
		t.Errorf("openid configuration %v", m)
	}
	// The key is stored once and reused.
	k2, err := server.LoadOrCreateDevKey(e.dir)
	if err != nil || k2.KID != e.srv.DevKey().KID {
		t.Errorf("reloaded dev key %v %v", k2, err)
	}
	if st, err := os.Stat(filepath.Join(e.dir, server.DevKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("dev key file mode: %v %v", st, err)
	}
}

// A server and `authlake token` started together both make the development signing key: every
// one of them gets the same key, never a half-written file (README's server block once failed
// with "no PEM block" when the token command read the key while the server was writing it).
func TestDevKeyMadeOnceUnderRace(t *testing.T) {
	dir := t.TempDir()
	const procs = 6
	kids := make([]string, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := server.LoadOrCreateDevKey(dir)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = k.KID
		}()
	}
	wg.Wait()
	for i, kid := range kids {
		if kid == "" || kid != kids[0] {
			t.Fatalf("key ids %v: caller %d got another key", kids, i)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("entries left: %v", ents)
	}
}

func TestClientCredentialsFlow(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *engine.Options) {
		c.Clients = []server.ClientConfig{
			{ClientID: "reader-app", Secret: "s3cret-reader", Tenant: tenantA, Roles: []string{"AuditLog.Read.All"}},
			{ClientID: "ingest-app", SecretHash: server.HashSecret("s3cret-ingest"), Tenant: tenantA, Roles: []string{"AuthLake.Ingest"}},
		}
	})
	e.ingest(tenantA, event{id: guid(1), at: t0})
	post := func(path string, form url.Values, hdr ...string) response {
		return e.do(http.MethodPost, path, "", strings.NewReader(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
	}
	v2 := "/" + tenantA + "/oauth2/v2.0/token"
	r := post(v2, url.Values{"grant_type": {"client_credentials"}, "client_id": {"reader-app"}, "client_secret": {"s3cret-reader"}, "scope": {"https://graph.microsoft.com/.default"}})
	if r.status != 200 {
		t.Fatalf("v2 token: %d %s", r.status, r.body)
	}
	var tr struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(r.body, &tr)
	if tr.TokenType != "Bearer" || tr.ExpiresIn < 3500 || tr.AccessToken == "" || r.header.Get("Cache-Control") == "" {
		t.Fatalf("token response %s", r.body)
	}
	if got := ids(t, e.get("/v1.0/auditLogs/signIns", tr.AccessToken)); len(got) != 1 || got[0] != guid(1) {
		t.Errorf("list with issued token: %v", got)
	}
	// The reader cannot ingest.
	checkGraphError(t, "reader ingests", e.do(http.MethodPost, "/authlake/v1/ingest", tr.AccessToken, strings.NewReader("{}"), "Content-Type", "application/json"), 403, "Authorization_RequestDenied")

	// v1 endpoint, hashed secret, HTTP Basic client authentication.
	r = post("/"+tenantA+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "resource": {"https://graph.microsoft.com"}},
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ingest-app:s3cret-ingest")))
	var v1 map[string]string
	if err := json.Unmarshal(r.body, &v1); err != nil || r.status != 200 || v1["resource"] != graph || v1["expires_on"] == "" {
		t.Fatalf("v1 token: %d %s", r.status, r.body)
	}
	ev := event{id: guid(2), at: t0}
	ir := e.do(http.MethodPost, "/authlake/v1/ingest", v1["access_token"], strings.NewReader(string(ev.json())), "Content-Type", "application/json")
	if ir.status != 200 {
		t.Errorf("ingest with v1 token: %d %s", ir.status, ir.body)
	}

	oauthErr := func(name string, r response, status int, code string, aadsts float64) {
		t.Helper()
		if r.status != status {
			t.Errorf("%s: status %d, want %d: %s", name, r.status, status, r.body)
			return
		}
		m := r.json(t)
		codes, _ := m["error_codes"].([]any)
		if m["error"] != code || len(codes) != 1 || codes[0] != aadsts || !strings.HasPrefix(m["error_description"].(string), "AADSTS") ||
			m["trace_id"] != r.header.Get("request-id") {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	ok := url.Values{"grant_type": {"client_credentials"}, "client_id": {"reader-app"}, "client_secret": {"s3cret-reader"}, "scope": {"https://graph.microsoft.com/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	oauthErr("wrong secret", post(v2, with("client_secret", "nope")), 401, "invalid_client", 7000215)
	oauthErr("no secret", post(v2, with("client_secret", "")), 401, "invalid_client", 7000218)
	oauthErr("unknown client", post(v2, with("client_id", "ghost")), 400, "unauthorized_client", 700016)
	oauthErr("other tenant", post("/"+tenantB+"/oauth2/v2.0/token", ok), 400, "unauthorized_client", 700016)
	oauthErr("bad scope", post(v2, with("scope", "https://graph.microsoft.com/User.Read")), 400, "invalid_scope", 1002012)
	oauthErr("foreign resource", post(v2, with("scope", "https://management.azure.com/.default")), 400, "invalid_scope", 1002012)
	oauthErr("password grant", post(v2, with("grant_type", "password")), 400, "unsupported_grant_type", 70003)
	oauthErr("no grant", post(v2, with("grant_type", "")), 400, "invalid_request", 900144)
	oauthErr("json body", e.do(http.MethodPost, v2, "", strings.NewReader("{}"), "Content-Type", "application/json"), 400, "invalid_request", 900144)
	oauthErr("v1 foreign resource", post("/"+tenantA+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"reader-app"}, "client_secret": {"s3cret-reader"}, "resource": {"https://vault.azure.net"}}), 400, "invalid_resource", 500011)
	checkGraphError(t, "GET token", e.get(v2, ""), 405, "MethodNotAllowed")
}
