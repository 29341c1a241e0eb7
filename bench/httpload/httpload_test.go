package httpload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/tasktrace"
)

// clientsEnv makes this test binary the load clients' process (ServeClients) instead of
// running the tests: Config.ClientCommand starts it so.
const clientsEnv = "AUTHLAKE_TEST_LOAD_CLIENTS"

func TestMain(m *testing.M) {
	if os.Getenv(clientsEnv) == "1" {
		if err := ServeClients(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A small real run: every request answered, every posted event stored and queryable, every
// route in the report with figures from both phases. Bounded by counts, not time, so it asserts
// outcomes only. The clients run in a process of their own (what bench load does), and in the
// server's.
func TestRunSmall(t *testing.T) {
	t.Run("child", func(t *testing.T) {
		t.Setenv(clientsEnv, "1")
		runSmall(t, []string{os.Args[0]})
	})
	t.Run("server", func(t *testing.T) { runSmall(t, nil) })
}

func runSmall(t *testing.T, clients []string) {
	dir := t.TempDir()
	cfg := Config{Events: 2000, Seed: 5, Threads: 2, CacheDir: filepath.Join(dir, "cache"), WorkDir: filepath.Join(dir, "work"),
		Requests: 3, QueryClients: 2, IngestClients: 1, AloneClients: 1, Batch: 250, LoadedRequests: 12, IngestBatches: 2, Log: testLog{t},
		TracePath: filepath.Join(dir, "loaded.trace"), TraceFor: time.Hour, ClientCommand: clients}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: "child", false: "server"}[clients != nil]; res.ClientsProcess != want {
		t.Fatalf("clients ran in the %q process, want %q", res.ClientsProcess, want)
	}
	if res.ErrorCount != 0 || len(res.Errors) != 0 {
		t.Fatalf("%d errors: %v", res.ErrorCount, res.Errors)
	}
	// 1 ingest client × 2 batches in phase 2, 1 × 2 in phase 3, 250 events each.
	if res.LoadedIngest.Events != 500 || res.AloneIngest.Events != 500 || res.Verify.Posted != 1000 {
		t.Fatalf("posted %d + %d = %d events, want 500 + 500", res.LoadedIngest.Events, res.AloneIngest.Events, res.Verify.Posted)
	}
	if res.Verify.CountBefore != 2000 || res.Verify.CountAfter != 3000 {
		t.Fatalf("count over HTTP %d before, %d after; want 2000 and 3000", res.Verify.CountBefore, res.Verify.CountAfter)
	}
	if res.Verify.Gets != 4 {
		t.Fatalf("%d posted ids fetched, want one per batch (4)", res.Verify.Gets)
	}
	want := []string{"get", "user", "ca-failure", "flagged", "newest", "apply", "diagnostic", "riskyUsers", "riskDetections"}
	var got []string
	loaded := 0
	for _, r := range res.Routes {
		got = append(got, r.Name)
		if r.Unloaded.N != 3 || r.Unloaded.P99Ms <= 0 {
			t.Errorf("%s alone: %+v", r.Name, r.Unloaded)
		}
		// The server timed each of the same requests (server.Options.Observe), no other.
		if r.ServerUnloaded.N != r.Unloaded.N || r.ServerLoaded.N != r.Loaded.N || r.ServerUnloaded.P99Ms <= 0 {
			t.Errorf("%s: server timed %d alone and %d loaded, the client %d and %d", r.Name, r.ServerUnloaded.N, r.ServerLoaded.N, r.Unloaded.N, r.Loaded.N)
		}
		loaded += r.Loaded.N
	}
	if !slices.Equal(got, want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	// 2 clients × 12 requests, cycling through 9 routes from different starts.
	if loaded != 24 {
		t.Fatalf("%d loaded requests measured, want 24", loaded)
	}
	for _, name := range []string{"user", "flagged", "newest"} {
		if r := res.Routes[slices.Index(got, name)]; r.Rows == 0 {
			t.Errorf("%s returned empty pages: the route measures little", name)
		}
	}
	// The trace of phase 2 has each timed request as a task naming its route.
	if traced := tracedRoutes(t, cfg.TracePath); traced != loaded {
		t.Fatalf("the trace has %d timed requests' tasks, the client timed %d", traced, loaded)
	}
	if res.Goals[len(res.Goals)-1].Measure != "failed requests" || !res.Goals[len(res.Goals)-1].Met {
		t.Fatalf("goals end with %+v", res.Goals[len(res.Goals)-1])
	}

	// The database the run leaves holds the file's events and the posted ones.
	db, err := engine.Open(filepath.Join(cfg.WorkDir, "authlake-load"), engine.Options{ReadOnly: true, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events int64
	for _, ts := range db.Stats().Tenants {
		if ts.Tenant == gen.DefaultTenant {
			events = ts.Events
		}
	}
	if events != 3000 {
		t.Fatalf("the database holds %d events of the tenant, want 3000", events)
	}

	var table strings.Builder
	res.WriteTable(&table)
	t.Log("\n" + table.String())
	md := res.Markdown()
	for _, name := range want {
		if !strings.Contains(md, "| "+name+" |") {
			t.Errorf("the Markdown report has no line for %s", name)
		}
	}
}

// tracedRoutes counts the tasks of an execution trace that log a timed request's
// client-request-id and, as its route, the route the id names.
func tracedRoutes(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tasks, err := tasktrace.Analyze(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	routes := map[string]string{"get": "signIns.get", "diagnostic": "diagnostics", "riskyUsers": "identityProtection", "riskDetections": "identityProtection"}
	for _, tk := range tasks {
		name, ok := strings.CutPrefix(tk.Logs["client-request-id"], timedPrefix)
		if !ok {
			continue
		}
		want, ok := routes[name]
		if !ok {
			want = "signIns.list"
		}
		if tk.Logs["route"] != want {
			t.Errorf("the task of a timed %s request logged route %q, want %q", name, tk.Logs["route"], want)
		}
		n++
	}
	return n
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// A load run that failed a check says so above its table and its Markdown.
func TestFailedLoadRunSaysSo(t *testing.T) {
	r := &Results{Events: 10, Failed: "3 requests failed, the first: 500"}
	var b strings.Builder
	r.WriteTable(&b)
	for what, out := range map[string]string{"table": b.String(), "markdown": r.Markdown()} {
		if !strings.Contains(out, bench.FailedLine(r.Failed)) {
			t.Errorf("%s of a failed run:\n%s", what, out)
		}
	}
}
