package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/server"
)

// TestDemoNoServeThenCurlCommands prepares a small demo, then serves the same directory and
// runs the three printed requests with the printed token.
func TestDemoNoServeThenCurlCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, err := run(t, "demo", "--data", dir, "--events", strconv.Itoa(demoTestEvents), "--no-serve", "--addr", "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	var token string
	var urls []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "export TOKEN="); ok {
			token = v
		}
		if strings.HasPrefix(line, "curl ") {
			i := strings.Index(line, "'https://127.0.0.1:8080")
			urls = append(urls, strings.Trim(line[i:], "'"))
		}
	}
	if token == "" || len(urls) != 3 {
		t.Fatalf("demo output lacks the token or the three commands:\n%s", out)
	}
	mk, err := os.ReadFile(filepath.Join(dir, demoMarkerFile))
	if err != nil {
		t.Fatal(err)
	}
	// A second run reuses the data.
	if _, err := run(t, "demo", "--data", dir, "--events", strconv.Itoa(demoTestEvents), "--no-serve"); err != nil {
		t.Fatal(err)
	}
	if mk2, _ := os.ReadFile(filepath.Join(dir, demoMarkerFile)); string(mk2) != string(mk) {
		t.Errorf("second run regenerated the data")
	}

	ts := serveAtIssue(t, dir, token)
	for i, u := range urls {
		req, _ := http.NewRequest(http.MethodGet, strings.Replace(u, "https://127.0.0.1:8080", ts.URL, 1), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Value []map[string]any `json:"value"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(page.Value) == 0 {
			t.Fatalf("command %d: %d, %d rows, %v", i+1, resp.StatusCode, len(page.Value), err)
		}
		switch i {
		case 0:
			for _, r := range page.Value {
				if r["flaggedForReview"] != true {
					t.Errorf("flagged query returned %v", r["id"])
				}
			}
		case 1:
			for _, r := range page.Value {
				if st := r["status"].(map[string]any); st["errorCode"] == float64(0) {
					t.Errorf("failures query returned a success %v", r["id"])
				}
			}
		case 2:
			if _, ok := page.Value[0]["failures"]; !ok {
				t.Errorf("apply groups %v", page.Value[0])
			}
		}
	}
}

// serveAtIssue serves the database in dir on a test server whose clock is the moment token was
// issued (its iat), plus a second. Each command's clock starts again from $AUTHLAKE_NOW, so the
// test's own clock would be behind a token minted after a long run on a slow machine, and the
// token "not yet valid". The server and the database close when the test ends.
func serveAtIssue(t *testing.T, dir, token string) *httptest.Server {
	t.Helper()
	var claims struct{ Iat int64 }
	if parts := strings.Split(token, "."); len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(b, &claims)
	}
	if claims.Iat == 0 {
		t.Fatalf("the token has no iat: %s", token)
	}
	clk := clock.NewManual(time.Unix(claims.Iat, 0).Add(time.Second))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := engine.Open(dir, engine.Options{Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := server.New(server.Options{DB: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestTokenCommandMintsAcceptedTokens(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, "token", "--data", dir, "--tenant", gen.DefaultTenant, "--roles", "AuditLog.Read.All", "--ttl", "10m")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	ts := serveAtIssue(t, dir, token)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1.0/auditLogs/signIns", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token from the token command: %d", resp.StatusCode)
	}
	if _, err := run(t, "token", "--data", dir, "--roles", "x"); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("missing tenant: %v", err)
	}
}

func TestServeConfigPrecedence(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfgPath, []byte("addr: 127.0.0.1:7000\nlimits:\n  requestsPerSecond: 5\n  burst: 9\n"), 0o644)
	t.Setenv("AUTHLAKE_CONFIG", cfgPath)
	t.Setenv("AUTHLAKE_RATE_LIMIT", "7")
	c2 := serveCmd()
	var s2 serveFlags
	c2.ResetFlags()
	s2.register(c2.Flags(), true)
	if err := c2.ParseFlags([]string{"--burst", "3"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := s2.resolve(c2.Flags())
	if err != nil {
		t.Fatal(err)
	}
	// File gives addr, env overrides the rate, the flag overrides the burst.
	if cfg.Addr != "127.0.0.1:7000" || cfg.Limits.RequestsPerSecond != 7 || cfg.Limits.Burst != 3 {
		t.Errorf("resolved %+v", cfg)
	}
	t.Setenv("AUTHLAKE_ADDR", "127.0.0.1:7001")
	c3 := serveCmd()
	var s3 serveFlags
	c3.ResetFlags()
	s3.register(c3.Flags(), true)
	cfg, _ = s3.resolve(c3.Flags())
	if cfg.Addr != "127.0.0.1:7001" {
		t.Errorf("env addr: %q", cfg.Addr)
	}
}
