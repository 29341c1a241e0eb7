package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// oauthError is the body Entra's token endpoints return on failure.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

func writeOAuthError(w http.ResponseWriter, r *http.Request, status int, errCode string, aadsts int, msg string) {
	ids := requestIDs(r)
	now := ids.at.UTC()
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, msg, ids.request, ids.client, now.Format("2006-01-02 15:04:05Z"))
	if rec, ok := w.(*statusRecorder); ok {
		rec.errCode = errCode
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, oauthError{
		Error: errCode, ErrorDescription: desc, ErrorCodes: []int{aadsts}, Timestamp: now.Format("2006-01-02 15:04:05Z"),
		TraceID: ids.request, CorrelationID: ids.client, ErrorURI: "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
}

// clientCredentials validates the common part of both token endpoints: form body, grant type,
// client authentication (client_secret_post or client_secret_basic) and the path's tenant.
func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request) (ClientConfig, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/x-www-form-urlencoded" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'. Send it as application/x-www-form-urlencoded.")
		return ClientConfig{}, false
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body is not a valid form: "+err.Error())
		return ClientConfig{}, false
	}
	if r.Form.Get("grant_type") == "" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return ClientConfig{}, false
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'; this endpoint supports client_credentials.", truncate(gt, 64)))
		return ClientConfig{}, false
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	if id == "" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return ClientConfig{}, false
	}
	tenant := r.PathValue("tenant")
	c, ok := s.clients[strings.ToLower(id)]
	if !ok || !strings.EqualFold(c.Tenant, tenant) {
		writeOAuthError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", truncate(id, 64), truncate(tenant, 64)))
		return ClientConfig{}, false
	}
	if secret == "" {
		writeOAuthError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return ClientConfig{}, false
	}
	if !secretMatches(c, secret) {
		writeOAuthError(w, r, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return ClientConfig{}, false
	}
	if ok, wait := s.limiter.allow(c.Tenant); !ok {
		setRetryAfter(w, wait)
		writeOAuthError(w, r, http.StatusTooManyRequests, "temporarily_unavailable", 50196, "Too many token requests for this tenant; retry later.")
		return ClientConfig{}, false
	}
	return c, true
}

func secretMatches(c ClientConfig, secret string) bool {
	if c.Secret != "" {
		a, b := sha256.Sum256([]byte(c.Secret)), sha256.Sum256([]byte(secret))
		return subtle.ConstantTimeCompare(a[:], b[:]) == 1
	}
	want, err := hex.DecodeString(strings.TrimPrefix(c.SecretHash, "sha256:"))
	got := sha256.Sum256([]byte(secret))
	return err == nil && subtle.ConstantTimeCompare(want, got[:]) == 1
}

// HashSecret is the secretHash form of a client secret for the config file.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(h[:])
}

func (s *Server) audienceOK(aud string) bool {
	for _, a := range s.cfg.Auth.Audiences {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(aud, "/")) {
			return true
		}
	}
	return false
}

// tokenV2 is POST /{tenant}/oauth2/v2.0/token with scope=<resource>/.default.
func (s *Server) tokenV2(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clientCredentials(w, r)
	if !ok {
		return
	}
	scope := r.PostForm.Get("scope")
	if scope == "" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	}
	res, found := strings.CutSuffix(scope, "/.default")
	if !found || strings.Contains(scope, " ") || !s.audienceOK(res) {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", truncate(scope, 128)))
		return
	}
	tok, exp, err := s.mintFor(c, res, IssuerV2(c.Tenant), "2.0")
	if err != nil {
		writeOAuthError(w, r, http.StatusInternalServerError, "server_error", 90025, "Could not sign the token.")
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	secs := int(exp.Sub(s.now()).Seconds())
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
}

// tokenV1 is POST /{tenant}/oauth2/token with resource=<resource>; its numbers are strings, as
// Entra's v1 endpoint writes them.
func (s *Server) tokenV1(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clientCredentials(w, r)
	if !ok {
		return
	}
	res := r.PostForm.Get("resource")
	if res == "" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'.")
		return
	}
	if !s.audienceOK(res) {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", truncate(res, 128), c.Tenant))
		return
	}
	now := s.now()
	tok, exp, err := s.mintFor(c, res, IssuerV1(c.Tenant), "1.0")
	if err != nil {
		writeOAuthError(w, r, http.StatusInternalServerError, "server_error", 90025, "Could not sign the token.")
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	secs := strconv.Itoa(int(exp.Sub(now).Seconds()))
	writeJSON(w, http.StatusOK, map[string]string{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs,
		"expires_on": strconv.FormatInt(exp.Unix(), 10), "not_before": strconv.FormatInt(now.Unix(), 10),
		"resource": res, "access_token": tok,
	})
}

func (s *Server) mintFor(c ClientConfig, resource, issuer, ver string) (string, time.Time, error) {
	now := s.now()
	tc := TokenClaims{TID: c.Tenant, Roles: c.Roles, AppID: c.ClientID, AzP: c.ClientID, Ver: ver}
	tc.Issuer = issuer
	tc.Subject = c.ClientID
	tc.Audience = []string{resource}
	tok, err := s.dev.Mint(tc, s.cfg.Auth.TokenTTL, now)
	return tok, now.Add(s.cfg.Auth.TokenTTL), err
}

// keys serves the development key's public JWK, as Entra serves its signing keys.
func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, JWKS{Keys: []JWK{s.dev.JWK()}})
}

// openIDConfig is a minimal OpenID Provider Metadata document for the local issuer.
func (s *Server) openIDConfig(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if tenant == "" {
		tenant = "common"
	}
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                IssuerV2(tenant),
		"token_endpoint":                        base + "/" + tenant + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/" + tenant + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{"token"},
		"id_token_signing_alg_values_supported": []string{s.dev.Alg},
		"subject_types_supported":               []string{"pairwise"},
		"tenant_region_scope":                   "local",
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
