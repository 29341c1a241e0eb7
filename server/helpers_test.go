package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/flagging"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/server"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture != nil { // the load benchmarks' shared server
		fixture.cleanup()
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	tenantA = "aaaaaaaa-1111-4111-8111-111111111111"
	tenantB = "bbbbbbbb-2222-4222-8222-222222222222"
	graph   = "https://graph.microsoft.com"
)

type env struct {
	t     *testing.T
	srv   *server.Server
	ts    *httptest.Server
	db    *engine.DB
	clock *clock.Manual // the one clock of the database, the server and its tokens
	dir   string
}

type envOption func(*server.Config, *engine.Options)

// newEnv starts a real server on a loopback listener over a fresh database.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{}
	// The fixtures' events are dated around t0; the server, the database and the tokens all
	// read this one clock, which moves only when a test says so.
	c := clock.NewManual(t0)
	eo := engine.Options{Retention: -1, NoSync: true, Now: c.Now}
	for _, o := range opts {
		o(&cfg, &eo)
	}
	eo.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := engine.Open(dir, eo)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := flagging.Open(filepath.Join(dir, flagging.Dir), flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fm.Close() })
	srv, err := server.New(server.Options{Config: cfg, DB: db, Flagging: fm, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		db.Close()
	})
	return &env{t: t, srv: srv, ts: ts, db: db, clock: c, dir: dir}
}

// waitFor polls cond until it holds, and fails the test loudly if it does not within a
// generous bound: a wait for another goroutine's progress, never a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after a minute waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// token mints a token with the server's development key.
func (e *env) token(tid string, roles ...string) string {
	return e.tokenWith(func(c *server.TokenClaims) { c.TID = tid; c.Roles = roles; c.Issuer = server.IssuerV2(tid) })
}

func (e *env) tokenWith(edit func(*server.TokenClaims)) string {
	e.t.Helper()
	c := server.TokenClaims{}
	c.Audience = jwt.ClaimStrings{graph}
	c.Subject = "test"
	edit(&c)
	tok, err := e.srv.DevKey().Mint(c, time.Hour, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// userToken is a delegated token of a user without application roles.
func (e *env) userToken(tid, upn, oid, scp string) string {
	return e.tokenWith(func(c *server.TokenClaims) {
		c.TID, c.Issuer, c.UPN, c.OID, c.Scp = tid, server.IssuerV2(tid), upn, oid, scp
	})
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (e *env) do(method, path, token string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.ts.URL + path
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (e *env) get(path, token string, hdr ...string) response {
	return e.do(http.MethodGet, path, token, nil, hdr...)
}

// ingest posts NDJSON events with an ingest token of tenant and requires success.
func (e *env) ingest(tenant string, events ...event) ingestResult {
	e.t.Helper()
	res, err := e.ingestResult(tenant, events...)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// tryIngest is ingest for goroutines other than the test's.
func (e *env) tryIngest(tenant string, events ...event) error {
	_, err := e.ingestResult(tenant, events...)
	return err
}

func (e *env) ingestResult(tenant string, events ...event) (ingestResult, error) {
	var buf bytes.Buffer
	for _, ev := range events {
		buf.Write(ev.json())
		buf.WriteByte('\n')
	}
	body := buf.Bytes()
	var r response
	// Backpressure (429) is expected when ingest outruns flushing; retrying is safe because
	// records already stored come back as duplicates.
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/authlake/v1/ingest", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token(tenant, "AuthLake.Ingest"))
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			return ingestResult{}, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return ingestResult{}, err
		}
		r = response{resp.StatusCode, resp.Header, b}
		if r.status != http.StatusTooManyRequests || attempt == 200 {
			break
		}
		if r.header.Get("Retry-After") == "" {
			return ingestResult{}, fmt.Errorf("429 without Retry-After: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		return ingestResult{}, fmt.Errorf("ingest: %d %s", r.status, r.body)
	}
	var res ingestResult
	err := json.Unmarshal(r.body, &res)
	return res, err
}

type ingestResult struct {
	Records, Accepted, Updated, Duplicates, Rejected int64
	Rejects                                          []struct {
		Line, Column int
		Reason       string
	}
}

// event is a sign-in with the properties the tests vary; the rest are fixed.
type event struct {
	id         string
	at         time.Time
	upn        string
	device     string
	browser    string
	os         string
	eventType  string // default interactiveUser
	errorCode  int
	app        string
	extra      map[string]any
	resourceTn string
}

func guid(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012d", n, n) }

func (e event) json() []byte {
	et := e.eventType
	if et == "" {
		et = "interactiveUser"
	}
	upn := e.upn
	if upn == "" {
		upn = "avery@contoso.com"
	}
	app := e.app
	if app == "" {
		app = "Azure Portal"
	}
	m := map[string]any{
		"id": e.id, "createdDateTime": e.at.UTC().Format(time.RFC3339Nano),
		"userDisplayName": "User " + upn, "userPrincipalName": upn, "userId": "uid-" + upn,
		"appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "appDisplayName": app, "ipAddress": "203.0.113.24",
		"clientAppUsed": "Browser", "userAgent": "Mozilla/5.0", "correlationId": "0a9e6b3d-2f4c-4e1a-8d7b-6c5a4b3c2d1e",
		"conditionalAccessStatus": "success", "isInteractive": et == "interactiveUser",
		"signInEventTypes": []string{et}, "flaggedForReview": false, "riskDetail": "none",
		"status":       map[string]any{"errorCode": e.errorCode, "failureReason": "Other.", "additionalDetails": nil},
		"deviceDetail": map[string]any{"deviceId": e.device, "displayName": "", "operatingSystem": e.os, "browser": e.browser, "isCompliant": false, "isManaged": false, "trustType": ""},
		"location":     map[string]any{"city": "Redmond", "state": "Washington", "countryOrRegion": "US"},
	}
	if e.resourceTn != "" {
		m["resourceTenantId"] = e.resourceTn
	}
	for k, v := range e.extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// untrustedKey signs tokens the server must refuse.
func untrustedKey(t *testing.T) *server.SigningKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &server.SigningKey{Key: k, KID: "untrusted", Alg: "RS256"}
}

// ids returns the ids of a list response's rows.
func ids(t *testing.T, r response) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, v := range page.Value {
		out = append(out, v.ID)
	}
	return out
}
