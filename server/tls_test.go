package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/server"
)

// TestHTTPSSelfSigned serves over TLS with the development certificate on a real loopback
// listener: a client that trusts that one certificate gets HTTP/2, the sign-ins and an https
// nextLink (Microsoft's SDKs send the token and follow nextLinks only over https); the
// certificate is kept for the next start; a client that does not trust it is refused.
func TestHTTPSSelfSigned(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Addr: ln.Addr().String(), TLS: server.TLSConfig{SelfSigned: true}}
	srv, err := server.New(server.Options{Config: cfg, DB: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	certPath, _ := server.DevCertPaths(dir)
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the development certificate is not PEM")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	for i := 1; i <= 3; i++ {
		body := strings.NewReader(string(event{id: guid(i), at: t0}.json()))
		req, _ := http.NewRequest(http.MethodPost, "https://"+cfg.Addr+"/authlake/v1/ingest", body)
		req.Header.Set("Authorization", "Bearer "+mintToken(t, srv, clk, tenantA, "AuthLake.Ingest"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingest over https: %d", resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+cfg.Addr+"/beta/auditLogs/signIns?$top=2", nil)
	req.Header.Set("Authorization", "Bearer "+mintToken(t, srv, clk, tenantA, "AuditLog.Read.All"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value    []map[string]any `json:"value"`
		NextLink string           `json:"@odata.nextLink"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || len(page.Value) != 2 || !strings.HasPrefix(page.NextLink, "https://"+cfg.Addr+"/beta/") {
		t.Fatalf("list over https: %d %s, %d rows, nextLink %q", resp.StatusCode, resp.Proto, len(page.Value), page.NextLink)
	}
	// A client without the certificate is refused by its own TLS check.
	if _, err := http.Get("https://" + cfg.Addr + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusting client: %v", err)
	}
	// The next start presents the same certificate (after this server released its stores).
	srv.Close()
	srv2, err := server.New(server.Options{Config: cfg, DB: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if a, b := server.Fingerprint(*srv.TLSCertificate()), server.Fingerprint(*srv2.TLSCertificate()); a != b || a == "" {
		t.Fatalf("certificate changed across starts: %s vs %s", a, b)
	}
}

func TestTLSConfigValidation(t *testing.T) {
	db, err := engine.Open(t.TempDir(), engine.Options{Retention: -1, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []server.TLSConfig{
		{CertFile: "c.pem"},
		{CertFile: "c.pem", KeyFile: "k.pem", SelfSigned: true},
		{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"},
	} {
		if _, err := server.New(server.Options{Config: server.Config{TLS: c}, DB: db}); err == nil {
			t.Errorf("TLS config %+v accepted", c)
		}
	}
}

func mintToken(t *testing.T, srv *server.Server, clk *clock.Manual, tid string, roles ...string) string {
	t.Helper()
	c := server.TokenClaims{TID: tid, Roles: roles}
	c.Issuer, c.Audience = server.IssuerV2(tid), []string{graph}
	tok, err := srv.DevKey().Mint(c, 3600e9, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
