package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// TestConsoleLinkFromToken: an admin with a token gets a one-time console link for the token's
// own tenant and roles from a running server; it signs in once, and shows only that tenant.
func TestConsoleLinkFromToken(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, event{id: guid(1), at: t0.Add(-time.Hour)})
	e.ingest(tenantB, event{id: guid(2), at: t0.Add(-time.Hour)})

	if r := e.do(http.MethodPost, "/authlake/v1/console/links", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", r.status)
	}
	r := e.do(http.MethodPost, "/authlake/v1/console/links", e.token(tenantA, "AuditLog.Read.All"), nil)
	var out struct{ Link string }
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != http.StatusCreated || !strings.Contains(out.Link, "/console/login?token=") {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(path string) (int, string) {
		resp, err := c.Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := page(strings.TrimPrefix(out.Link, e.ts.URL))
	if status != http.StatusOK || !strings.Contains(body, guid(1)) || strings.Contains(body, guid(2)) {
		t.Fatalf("signed in with the link: %d, tenant A's sign-in shown %v, tenant B's %v", status, strings.Contains(body, guid(1)), strings.Contains(body, guid(2)))
	}
	// The roles are the token's: no Identity Protection pages for a reader.
	if status, _ := page("/console/risk/users"); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Fatalf("risky users with a reader's link: %d", status)
	}
	// Once only.
	c2 := &http.Client{}
	resp, err := c2.Get(out.Link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used link: %d", resp.StatusCode)
	}
}
