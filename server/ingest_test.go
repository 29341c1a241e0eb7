package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/internal/vfs"
	"github.com/authlake/authlake/server"
)

func TestIngestGzipWithBadLines(t *testing.T) {
	e := newEnv(t)
	tok := e.token(tenantA, "AuthLake.Ingest")
	var nd bytes.Buffer
	nd.Write(event{id: guid(1), at: t0}.json())
	nd.WriteString("\n{\"id\": broken\n")
	nd.Write(event{id: guid(2), at: t0}.json())
	nd.WriteString("\n{\"createdDateTime\":\"2021-10-05T09:00:00Z\"}\n")
	nd.Write(event{id: guid(3), at: t0}.json())
	nd.WriteString("\n")
	for _, hdr := range [][]string{
		{"Content-Type", "application/x-ndjson", "Content-Encoding", "gzip"},
		{"Content-Type", "application/x-ndjson; charset=utf-8"}, // compression detected from the bytes
	} {
		r := e.do(http.MethodPost, "/authlake/v1/ingest", tok, bytes.NewReader(gzipped(nd.Bytes())), hdr...)
		if r.status != 200 {
			t.Fatalf("%v: %d %s", hdr, r.status, r.body)
		}
		var res ingestResult
		json.Unmarshal(r.body, &res)
		first := hdr[len(hdr)-1] == "gzip"
		wantAcc, wantDup := int64(3), int64(0)
		if !first {
			wantAcc, wantDup = 0, 3
		}
		if res.Records != 5 || res.Accepted != wantAcc || res.Duplicates != wantDup || res.Rejected != 2 || len(res.Rejects) != 2 {
			t.Fatalf("%v: %s", hdr, r.body)
		}
		if res.Rejects[0].Line != 2 || res.Rejects[1].Line != 4 || !strings.Contains(res.Rejects[1].Reason, "id") {
			t.Errorf("rejects %+v", res.Rejects)
		}
	}
	got := ids(t, e.get("/beta/auditLogs/signIns", e.token(tenantA, "AuditLog.Read.All")))
	if len(got) != 3 {
		t.Errorf("stored %v", got)
	}
}

func TestIngestZstdGraphPageAndDiagnosticRecords(t *testing.T) {
	e := newEnv(t)
	tok := e.token(tenantA, "AuditLog.ReadWrite.All")
	page := `{"@odata.context":"x","value":[` + string(event{id: guid(1), at: t0}.json()) + `,` + string(event{id: guid(2), at: t0}.json()) + `]}`
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write([]byte(page))
	zw.Close()
	r := e.do(http.MethodPost, "/authlake/v1/ingest", tok, &zb, "Content-Type", "application/json", "Content-Encoding", "zstd")
	if r.status != 200 || !strings.Contains(string(r.body), `"accepted":2`) {
		t.Fatalf("zstd page: %d %s", r.status, r.body)
	}
	var props map[string]any
	json.Unmarshal(event{id: guid(3), at: t0}.json(), &props)
	delete(props, "signInEventTypes")
	diag, _ := json.Marshal(map[string]any{"records": []any{map[string]any{"category": "NonInteractiveUserSignInLogs", "properties": props}}})
	r = e.do(http.MethodPost, "/authlake/v1/ingest", tok, bytes.NewReader(diag), "Content-Type", "application/json")
	if r.status != 200 || !strings.Contains(string(r.body), `"accepted":1`) {
		t.Fatalf("diagnostic records: %d %s", r.status, r.body)
	}
	m := e.get("/beta/auditLogs/signIns/"+guid(3), tok).json(t)
	if types, _ := m["signInEventTypes"].([]any); len(types) != 1 || types[0] != "nonInteractiveUser" {
		t.Errorf("category did not set the event type: %v", m["signInEventTypes"])
	}
}

// TestGracefulShutdown cancels Serve while an ingest body is still arriving: the request
// completes and is acknowledged, Serve returns, and only then is the database closed.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0)
	db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(server.Options{DB: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	c := server.TokenClaims{TID: tenantA, Roles: []string{"AuthLake.Ingest"}}
	c.Issuer, c.Audience = server.IssuerV2(tenantA), []string{graph}
	tok, _ := srv.DevKey().Mint(c, time.Hour, clk.Now())

	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/authlake/v1/ingest", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+tok)
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	pw.Write(append(event{id: guid(1), at: t0}.json(), '\n'))
	// Wait until the server has the request (the connection is active), then shut down.
	waitFor(t, "the server to receive the ingest request", func() bool { return srv.InFlight() > 0 })
	cancel()
	pw.Write(append(event{id: guid(2), at: t0}.json(), '\n'))
	pw.Close()
	res := <-done
	if res.err != nil || res.status != 200 || !strings.Contains(res.body, `"accepted":2`) {
		t.Fatalf("in-flight ingest: %+v", res)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	srv.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := engine.Open(dir, engine.Options{Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if n := db2.Stats().Events; n != 2 {
		t.Errorf("after restart %d events, want 2", n)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestStalledBodyAnswered408: a body that stops arriving is answered 408 once nothing has come
// for limits.bodyIdleTimeout, instead of holding the handler until the read timeout (minutes).
// The wait is the server's own timeout; the test only waits for its answer, bounded.
func TestStalledBodyAnswered408(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *engine.Options) { c.Limits.BodyIdleTimeout = 300 * time.Millisecond })
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/authlake/v1/ingest", pr)
	req.Header.Set("Authorization", "Bearer "+e.token(tenantA, "AuthLake.Ingest"))
	req.Header.Set("Content-Type", "application/x-ndjson")
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	pw.Write(append(event{id: guid(1), at: t0}.json(), '\n')) // then nothing more
	select {
	case res := <-done:
		if res.err != nil || res.status != http.StatusRequestTimeout || !strings.Contains(res.body, "stalled") {
			t.Fatalf("stalled body: %+v", res)
		}
	case <-time.After(time.Minute):
		t.Fatal("no answer to a stalled body within a minute")
	}
}

// TestDiskFullAnswered507: while the WAL cannot sync (ENOSPC injected), ingest is answered 507
// with Retry-After (it was 500 without one), /readyz reports not ready (it stayed 200), reads
// keep working, and everything resumes without a restart once the disk has room.
func TestDiskFullAnswered507(t *testing.T) {
	full := &vfs.Switch{Errno: syscall.ENOSPC, Kinds: []vfs.OpKind{vfs.OpWrite, vfs.OpSync, vfs.OpCreate}, Path: "/wal/"}
	e := newEnv(t, func(_ *server.Config, o *engine.Options) {
		o.NoSync = false
		o.FS = vfs.Inject(vfs.Default, full.Inject)
	})
	e.ingest(tenantA, event{id: guid(1), at: t0})
	full.On()
	r := e.do(http.MethodPost, "/authlake/v1/ingest", e.token(tenantA, "AuthLake.Ingest"), bytes.NewReader(event{id: guid(2), at: t0}.json()), "Content-Type", "application/json")
	if r.status != http.StatusInsufficientStorage || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "wal") {
		t.Fatalf("ingest on a full disk: %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := e.get("/readyz", ""); r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "durable") {
		t.Fatalf("readyz on a full disk: %d %s", r.status, r.body)
	}
	if got := ids(t, e.get("/beta/auditLogs/signIns", e.token(tenantA, "AuditLog.Read.All"))); len(got) != 1 {
		t.Fatalf("reads on a full disk: %v", got)
	}
	full.Off()
	// The engine retries the log at most once a second of wall time: a bounded wait for it.
	waitFor(t, "ingest to resume after the disk has room", func() bool {
		_, err := e.ingestResult(tenantA, event{id: guid(2), at: t0})
		return err == nil
	})
	if r := e.get("/readyz", ""); r.status != http.StatusOK {
		t.Fatalf("readyz after recovery: %d %s", r.status, r.body)
	}
}
