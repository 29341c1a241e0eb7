package server_test

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

var dateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)

// checkGraphError asserts a Graph-shaped error with the given status and code, and that the
// innerError ids match the response headers.
func checkGraphError(t *testing.T, name string, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", name, r.status, status, r.body)
		return nil
	}
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || len(m) != 1 {
		t.Errorf("%s: not a Graph error: %s", name, r.body)
		return nil
	}
	if e["code"] != code {
		t.Errorf("%s: code %v, want %s", name, e["code"], code)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("%s: empty message", name)
	}
	in, _ := e["innerError"].(map[string]any)
	if in == nil || !dateRE.MatchString(in["date"].(string)) {
		t.Errorf("%s: innerError.date %v", name, in)
		return e
	}
	if in["request-id"] != r.header.Get("request-id") || in["request-id"] == "" {
		t.Errorf("%s: request-id %v vs header %q", name, in["request-id"], r.header.Get("request-id"))
	}
	if in["client-request-id"] != r.header.Get("client-request-id") {
		t.Errorf("%s: client-request-id %v vs header %q", name, in["client-request-id"], r.header.Get("client-request-id"))
	}
	return e
}

func TestErrorStatuses(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *engine.Options) {
		c.Limits.MaxBodyBytes = 4096
		c.Limits.MaxDecompressedBytes = 64 << 10
	})
	e.ingest(tenantA, event{id: guid(1), at: t0})
	read := e.token(tenantA, "AuditLog.Read.All")
	ingestOnly := e.token(tenantA, "AuthLake.Ingest")
	q := url.QueryEscape
	cases := []struct {
		name, method, path, token string
		body                      []byte
		hdr                       []string
		status                    int
		code, msgPrefix           string
	}{
		{"bad filter", "GET", "/beta/auditLogs/signIns?$filter=" + q("userPrincipalName eq"), read, nil, nil, 400, "BadRequest", "Invalid filter clause: "},
		{"quoted date", "GET", "/beta/auditLogs/signIns?$filter=" + q("createdDateTime ge '2021-09-07T00:00:00Z'"), read, nil, nil, 400, "BadRequest", "Invalid filter clause: "},
		{"unknown property", "GET", "/beta/auditLogs/signIns?$filter=" + q("IsRisky eq true"), read, nil, nil, 400, "BadRequest", "Invalid filter clause: "},
		{"beta property on v1.0", "GET", "/v1.0/auditLogs/signIns?$filter=" + q("flaggedForReview eq true"), read, nil, nil, 400, "BadRequest", "Invalid filter clause: "},
		{"top 0", "GET", "/beta/auditLogs/signIns?$top=0", read, nil, nil, 400, "BadRequest", "Invalid page size"},
		{"top 1001", "GET", "/beta/auditLogs/signIns?$top=1001", read, nil, nil, 400, "BadRequest", "Invalid page size"},
		{"top text", "GET", "/beta/auditLogs/signIns?$top=ten", read, nil, nil, 400, "BadRequest", "Invalid page size"},
		{"unknown option", "GET", "/beta/auditLogs/signIns?$foo=1", read, nil, nil, 400, "BadRequest", "Query option '$foo' is not allowed"},
		{"search", "GET", "/beta/auditLogs/signIns?$search=x", read, nil, nil, 400, "BadRequest", "Query option '$search' is not supported"},
		{"repeated option", "GET", "/beta/auditLogs/signIns?$top=1&$top=2", read, nil, nil, 400, "BadRequest", "Query option '$top' was specified more than once"},
		{"bad count", "GET", "/beta/auditLogs/signIns?$count=yes", read, nil, nil, 400, "BadRequest", "Invalid value"},
		{"bad skiptoken", "GET", "/beta/auditLogs/signIns?$skiptoken=abc", read, nil, nil, 400, "BadRequest", "the $skiptoken is not valid"},
		{"bad orderby", "GET", "/beta/auditLogs/signIns?$orderby=nosuchProperty", read, nil, nil, 400, "BadRequest", "Invalid filter clause"},
		{"bad id", "GET", "/beta/auditLogs/signIns/not-a-guid", read, nil, nil, 400, "BadRequest", "Invalid object identifier"},
		{"get with options", "GET", "/beta/auditLogs/signIns/" + guid(1) + "?$top=1", read, nil, nil, 400, "BadRequest", "Query option"},
		{"no token", "GET", "/beta/auditLogs/signIns", "", nil, nil, 401, "InvalidAuthenticationToken", "Access token is empty"},
		{"basic auth", "GET", "/beta/auditLogs/signIns", "", nil, []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, "InvalidAuthenticationToken", ""},
		{"garbage token", "GET", "/beta/auditLogs/signIns", "abc.def.ghi", nil, nil, 401, "InvalidAuthenticationToken", ""},
		{"missing role", "GET", "/beta/auditLogs/signIns", ingestOnly, nil, nil, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"missing ingest role", "POST", "/authlake/v1/ingest", read, []byte("{}"), []string{"Content-Type", "application/json"}, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"absent id", "GET", "/beta/auditLogs/signIns/" + guid(99), read, nil, nil, 404, "Request_ResourceNotFound", "Resource '"},
		{"unknown version", "GET", "/v2.0/auditLogs/signIns", read, nil, nil, 404, "Request_ResourceNotFound", ""},
		{"unknown path", "GET", "/beta/auditLogs/directoryAudits", read, nil, nil, 404, "Request_ResourceNotFound", ""},
		{"post on list", "POST", "/beta/auditLogs/signIns", read, nil, nil, 405, "MethodNotAllowed", ""},
		{"delete on ingest", "DELETE", "/authlake/v1/ingest", ingestOnly, nil, nil, 405, "MethodNotAllowed", ""},
		{"oversized body", "POST", "/authlake/v1/ingest", ingestOnly, bytes.Repeat([]byte("{}\n"), 3000), []string{"Content-Type", "application/x-ndjson"}, 413, "RequestEntityTooLarge", ""},
		{"decompression bomb", "POST", "/authlake/v1/ingest", ingestOnly, gzipped(bytes.Repeat([]byte(" "), 1<<20)), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, 413, "RequestEntityTooLarge", ""},
		{"text/plain", "POST", "/authlake/v1/ingest", ingestOnly, []byte("{}"), []string{"Content-Type", "text/plain"}, 415, "UnsupportedMediaType", ""},
		{"no content type", "POST", "/authlake/v1/ingest", ingestOnly, []byte("{}"), nil, 415, "UnsupportedMediaType", ""},
		{"nearly all rejects", "POST", "/authlake/v1/ingest", ingestOnly, gzipped(bytes.Repeat([]byte("{}\n"), 30000)), []string{"Content-Type", "application/x-ndjson", "Content-Encoding", "gzip"}, 400, "BadRequest", "Ingest stopped: nearly every record was rejected"},
		{"brotli", "POST", "/authlake/v1/ingest", ingestOnly, []byte("{}"), []string{"Content-Type", "application/json", "Content-Encoding", "br"}, 415, "UnsupportedMediaType", ""},
		{"corrupt gzip", "POST", "/authlake/v1/ingest", ingestOnly, []byte{0x1f, 0x8b, 1, 2, 3}, []string{"Content-Type", "application/json"}, 400, "BadRequest", "Could not read the request body"},
		{"flagging form", "POST", "/authlake/v1/flagging", read, []byte("a=b"), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "UnsupportedMediaType", ""},
	}
	for _, c := range cases {
		var body *bytes.Reader
		if c.body != nil {
			body = bytes.NewReader(c.body)
		} else {
			body = bytes.NewReader(nil)
		}
		r := e.do(c.method, c.path, c.token, body, c.hdr...)
		if err := checkGraphError(t, c.name, r, c.status, c.code); err != nil {
			if msg := err["message"].(string); !strings.HasPrefix(msg, c.msgPrefix) {
				t.Errorf("%s: message %q, want prefix %q", c.name, msg, c.msgPrefix)
			}
		}
		if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, r.header.Get("WWW-Authenticate"))
		}
		if c.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", c.name)
		}
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestRequestIDHeaders(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/beta/auditLogs/signIns", "/nowhere", "/metrics"} {
		r := e.get(path, "", "client-request-id", "my-id-123")
		if r.header.Get("client-request-id") != "my-id-123" {
			t.Errorf("%s: client-request-id %q", path, r.header.Get("client-request-id"))
		}
		if len(r.header.Get("request-id")) != 36 {
			t.Errorf("%s: request-id %q", path, r.header.Get("request-id"))
		}
		r2 := e.get(path, "")
		if r2.header.Get("client-request-id") != r2.header.Get("request-id") || r2.header.Get("request-id") == r.header.Get("request-id") {
			t.Errorf("%s: without a client id: %q %q", path, r2.header.Get("client-request-id"), r2.header.Get("request-id"))
		}
	}
}

func TestRateLimitPerTenant(t *testing.T) {
	// A bucket of 3 that refills once in 1000 s: the fourth request is throttled whatever
	// the machine's speed.
	e := newEnv(t, func(c *server.Config, _ *engine.Options) { c.Limits.RequestsPerSecond = 0.001; c.Limits.Burst = 3 })
	a, b := e.token(tenantA, "AuditLog.Read.All"), e.token(tenantB, "AuditLog.Read.All")
	for i := 0; i < 3; i++ {
		if r := e.get("/beta/auditLogs/signIns", a); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.get("/beta/auditLogs/signIns", a)
	checkGraphError(t, "throttled", r, 429, "TooManyRequests")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// Another tenant is not affected.
	if r := e.get("/beta/auditLogs/signIns", b); r.status != 200 {
		t.Errorf("tenant B throttled by A: %d", r.status)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, event{id: guid(1), at: t0})
	e.get("/beta/auditLogs/signIns", e.token(tenantA, "AuditLog.Read.All"))
	if r := e.get("/healthz", ""); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	if r := e.get("/readyz", ""); r.status != 200 {
		t.Errorf("readyz %d", r.status)
	}
	r := e.get("/metrics", "")
	body := string(r.body)
	for _, want := range []string{
		`authlake_http_requests_total{code="200",method="GET",route="signIns.list"} 1`,
		`authlake_http_requests_total{code="200",method="POST",route="ingest"} 1`,
		`authlake_ingest_events_total 1`,
		`authlake_query_duration_seconds_count{op="list"} 1`,
		`authlake_wal_bytes `,
		`authlake_segment_bytes `,
		`authlake_http_request_duration_seconds_bucket{code="200",route="signIns.list"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
