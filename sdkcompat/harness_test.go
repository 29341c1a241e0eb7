package sdkcompat

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/identityprotection/attacks"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/server"
)

// tenant is the generator's demo tenant, whose sign-ins the harness loads.
const tenant = gen.DefaultTenant

// end is the data set's "now" and the server's clock: fixed, so the test never reads the date.
var end = time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)

// harness is a real authlake server over https on a loopback port, with a generated tenant's
// sign-ins and the Identity Protection state its detection job derives from them.
type harness struct {
	base   string // https://127.0.0.1:port
	caFile string // the server's self-signed certificate, PEM
	pool   *x509.CertPool
	srv    *server.Server
	db     *engine.DB
	risk   *identityprotection.Store
	clk    *clock.Manual
}

func start(t *testing.T, events int) *harness {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewManual(end.Add(24 * time.Hour)) // a day after the last event, as the detection job expects
	quiet := slog.New(slog.DiscardHandler)
	db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: events, Seed: 5, Days: 30, End: end}); err != nil {
		t.Fatal(err)
	}
	bg := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	// Attack scenarios over the background, so that Identity Protection has detections,
	// risky users and history to serve.
	att, err := attacks.Inject(bg, attacks.Config{Seed: 5, PerScenario: 2})
	if err != nil {
		t.Fatal(err)
	}
	var recs []engine.Record
	for _, line := range append(bg, att.Events...) {
		recs = append(recs, engine.Record{Raw: line})
	}
	res, err := db.Ingest(recs, engine.IngestOptions{Tenant: tenant})
	if err != nil || res.Accepted != len(recs) {
		t.Fatalf("ingest: %d accepted of %d, %+v", res.Accepted, len(recs), err)
	}
	risk, err := identityprotection.Open(identityprotection.Dir(dir), identityprotection.Options{Now: clk.Now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { risk.Close() })
	for kind, ips := range map[string][]string{"anonymous": att.AnonymousIPs, "threat": att.ThreatIPs} {
		if _, err := risk.ImportIPList(kind, kind+".txt", []byte(strings.Join(ips, "\n"))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := identityprotection.RunDetection(context.Background(), db, risk, tenant, identityprotection.JobOptions{Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Addr: ln.Addr().String(), TLS: server.TLSConfig{SelfSigned: true}}
	cfg.Limits.RequestsPerSecond = 0 // the SDKs page as fast as they can; throttling is tested elsewhere
	srv, err := server.New(server.Options{Config: cfg, DB: db, Risk: risk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-served:
		case <-time.After(time.Minute):
			t.Error("the server did not stop within a minute")
		}
		srv.Close()
	})
	caFile, _ := server.DevCertPaths(dir)
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the development certificate is not PEM")
	}
	return &harness{base: "https://" + cfg.Addr, caFile: caFile, pool: pool, srv: srv, db: db, risk: risk, clk: clk}
}

// token mints an access token of tenant with roles, as Entra's would be.
func (h *harness) token(t *testing.T, roles ...string) string {
	t.Helper()
	c := server.TokenClaims{TID: tenant, Roles: roles}
	c.Issuer, c.Audience = server.IssuerV2(tenant), []string{"https://graph.microsoft.com"}
	tok, err := h.srv.DevKey().Mint(c, time.Hour, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// transport trusts the server's certificate only.
func (h *harness) transport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.pool}, ForceAttemptHTTP2: true}
}

// engineIDs is the truth a client's answer is held against: the ids the engine returns for a
// filter, all pages.
func (h *harness) engineIDs(t *testing.T, filter string) []string {
	t.Helper()
	var ids []string
	req := query.Request{Filter: filter, Select: []string{"id"}, Top: 1000, Version: columnar.V1, DefaultInteractiveOnly: true}
	for {
		res, err := h.db.Query(context.Background(), tenant, req)
		if err != nil {
			t.Fatalf("engine %q: %v", filter, err)
		}
		for _, r := range res.Rows {
			var row struct{ ID string }
			if err := json.Unmarshal(r, &row); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, row.ID)
		}
		if res.SkipToken == "" {
			return ids
		}
		req.SkipToken = res.SkipToken
	}
}
