package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/server"
)

// BenchmarkConsole measures what a console user waits for, on the server's side of a loopback
// connection: the sign-in list's first page (the default 24-hour view and single-filter views),
// a details pane, and a 100,000-row CSV download (rows/s). Goals (issue 16, at 10M events): a
// first page ≤ 300 ms, a details pane ≤ 50 ms, downloads ≥ 50,000 rows/s.
//
// AUTHLAKE_CONSOLE_BENCH_DATA=DIR runs it over an existing database, e.g. one made with
// `authlake demo --events 10000000 --no-serve --data DIR` (the tenant is the generator's);
// otherwise over 200,000 generated events. The server's clock is the newest sign-in's time.
func BenchmarkConsole(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	dir := os.Getenv("AUTHLAKE_CONSOLE_BENCH_DATA")
	if dir == "" {
		dir = b.TempDir()
		db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() {
			_, _, err := gen.Write(pw, gen.Config{Events: 200_000, Seed: 11, Days: 30, End: gen.BenchEnd})
			pw.CloseWithError(err)
		}()
		if _, err := load.Load(context.Background(), db, []load.Source{{Name: "gen", R: pr}}, load.Options{Tenant: gen.DefaultTenant}); err != nil {
			b.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			b.Fatal(err)
		}
		db.Compact()
		db.Close()
	}
	clk := clock.NewManual(time.Unix(0, 0))
	db, err := engine.Open(dir, engine.Options{Retention: -1, Logger: quiet, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tenant := gen.DefaultTenant
	newest, err := db.Query(context.Background(), tenant, query.Request{Top: 1, DefaultInteractiveOnly: true})
	if err != nil || len(newest.Rows) == 0 {
		b.Fatalf("no sign-ins of %s in %s: %v", tenant, dir, err)
	}
	var row struct {
		ID, CreatedDateTime, UserPrincipalName, AppID, IPAddress, CorrelationID, ClientAppUsed string
		Location                                                                               struct{ City string }
	}
	json.Unmarshal(newest.Rows[0], &row)
	t, _ := time.Parse(time.RFC3339Nano, row.CreatedDateTime)
	clk.Set(t.Add(time.Minute))
	srv, err := server.New(server.Options{DB: db, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	link, err := srv.ConsoleLoginLink(ts.URL, server.ConsoleGrant{Tenant: tenant, Roles: server.ConsoleAdminRoles})
	if err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(b *testing.B, path string) int {
		resp, err := client.Get(ts.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return int(n)
	}
	get(b, link[len(ts.URL):])

	views := []struct{ name, query string }{
		{"default-24h", ""},
		{"user", "user=" + url.QueryEscape(row.UserPrincipalName)},
		{"app", "app=" + row.AppID},
		{"status-failure", "status=failure"},
		{"ip", "ip=" + row.IPAddress},
		{"correlation", "correlationId=" + row.CorrelationID},
		{"request", "requestId=" + row.ID},
		{"location", "location=" + url.QueryEscape(row.Location.City)},
		{"ca-failure", "ca=failure"},
		{"client-app", "clientApp=" + url.QueryEscape(row.ClientAppUsed)},
		{"flagged", "flagged=true"},
	}
	for _, v := range views {
		b.Run("first-page/"+v.name, func(b *testing.B) {
			for b.Loop() {
				get(b, "/console/signins?"+v.query)
			}
		})
	}
	b.Run("details", func(b *testing.B) {
		for b.Loop() {
			get(b, "/console/signins?range=all&requestId="+row.ID+"&sel="+row.ID)
		}
	})
	b.Run("download-csv", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			resp, err := client.Get(ts.URL + "/console/signins/download?format=csv&range=all")
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			rows = bytes.Count(body, []byte("\n")) - 1
		}
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
