package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/server"
)

// pageFixture is a loopback server over 20,000 generated events (a fixed start, so the data
// set is the same on every run), for measuring what one full page costs end to end.
type pageFixture struct {
	url, token string
	client     *http.Client
	close      func()
}

func newPageFixture(b *testing.B) *pageFixture {
	var pageFix *pageFixture
	var pageErr error
	func() {
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		srv, _, done, err := generatedServer(b, gen.Config{Events: 20_000, Seed: 11, Start: start, Days: 3})
		if err != nil {
			pageErr = err
			return
		}
		ts := httptest.NewServer(srv.Handler())
		c := server.TokenClaims{TID: gen.DefaultTenant, Roles: []string{"AuditLog.Read.All"}}
		c.Issuer, c.Audience = server.IssuerV2(gen.DefaultTenant), []string{graph}
		tok, _ := srv.DevKey().Mint(c, 24*time.Hour, time.Now())
		pageFix = &pageFixture{url: ts.URL, token: tok, client: ts.Client(),
			close: func() { ts.Close(); done() }}
	}()
	if pageErr != nil {
		b.Fatal(pageErr)
	}
	return pageFix
}

// BenchmarkFullPage lists one full page (1,000 rows, every property) over HTTP on loopback, in
// v1.0 and beta, with and without the Prefer header that keeps evolvable enum members: the cost
// of writing a page, which is most of what a list costs once its rows are found.
func BenchmarkFullPage(b *testing.B) {
	f := newPageFixture(b)
	defer f.close()
	for _, tc := range []struct{ name, path, prefer string }{
		{"v1.0", "/v1.0/auditLogs/signIns", ""},
		{"beta", "/beta/auditLogs/signIns", ""},
		{"beta-prefer", "/beta/auditLogs/signIns", "include-unknown-enum-members"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, f.url+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			if tc.prefer != "" {
				req.Header.Set("Prefer", tc.prefer)
			}
			var n int64
			for b.Loop() {
				resp, err := f.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(n), "bytes/page")
			if n < 1_000_000 {
				b.Fatalf("a page of %d bytes is not a full page", n)
			}
		})
	}
}
