package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/internal/clocktest"
)

// TestMain runs every command of this package's tests at the tests' clock (AUTHLAKE_NOW), never
// the calendar's.
func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		// A test started this binary as the CLI itself (os.Args are the command's), to kill it.
		main()
		os.Exit(0)
	}
	os.Setenv(clock.EnvNow, clocktest.Epoch().Format(time.RFC3339Nano))
	os.Exit(m.Run())
}

// run executes the CLI in-process with args, capturing stdout.
func run(t *testing.T, args ...string) (out string, err error) {
	t.Helper()
	out = capture(t, &os.Stdout, func() {
		root := newRoot()
		root.SetArgs(args)
		err = root.Execute()
	})
	return out, err
}

// withStderr runs fn with os.Stderr captured, and returns what it wrote there.
func withStderr(t *testing.T, fn func()) string {
	t.Helper()
	return capture(t, &os.Stderr, fn)
}

// capture runs fn with *f replaced by a pipe, and returns what fn wrote to it.
func capture(t *testing.T, f **os.File, fn func()) string {
	t.Helper()
	old := *f
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	*f = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		done <- b.String()
	}()
	defer func() { *f = old }()
	fn()
	w.Close()
	*f = old
	return <-done
}

func canonicalLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: invalid JSON line: %v", path, err)
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

func TestGenIngestExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ndjson")
	data := filepath.Join(dir, "data")
	tenant := "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"
	if _, err := run(t, "gen", "--events", strconv.Itoa(roundTripEvents), "--seed", "7", "--days", "3", "-o", in); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "ingest", "--data", data, "--tenant", tenant, in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, fmt.Sprintf("%d accepted, 0 updated, 0 duplicates, 0 rejected", roundTripEvents)) {
		t.Fatalf("ingest summary: %s", out)
	}
	exp := filepath.Join(dir, "out.ndjson")
	if _, err := run(t, "export", "--data", data, "--tenant", tenant, "-o", exp); err != nil {
		t.Fatal(err)
	}
	want, got := canonicalLines(t, in), canonicalLines(t, exp)
	if len(want) != len(got) {
		t.Fatalf("exported %d events, ingested %d", len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("export differs from input:\nwant %s\ngot  %s", want[i], got[i])
		}
	}
	// Re-ingesting the same file stores nothing twice.
	out, err = run(t, "ingest", "--data", data, "--tenant", tenant, in)
	if err != nil || !strings.Contains(out, fmt.Sprintf("0 accepted, 0 updated, %d duplicates", roundTripEvents)) {
		t.Fatalf("re-ingest: %v %s", err, out)
	}
	js, err := run(t, "stats", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Events  int64
		Tenants []struct {
			Tenant string
			Events int64
		}
	}
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ts := range st.Tenants {
		if ts.Tenant == tenant {
			found = ts.Events == roundTripEvents
		}
	}
	if !found {
		t.Fatalf("stats do not show %d events for %s: %s", roundTripEvents, tenant, js)
	}
}

func TestIngestQuarantinesBadLines(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ndjson")
	if _, err := run(t, "gen", "--events", "50", "--seed", "3", "-o", in); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(in)
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	bad := append([]string{}, lines[:10]...)
	bad = append(bad, `{"id": "truncated`, `not json at all`, `{"createdDateTime":"2026-11-10T00:00:00Z","userPrincipalName":"x"}`)
	bad = append(bad, lines[10:]...)
	mixed := filepath.Join(dir, "mixed.ndjson")
	os.WriteFile(mixed, []byte(strings.Join(bad, "\n")+"\n"), 0o644)
	rej := filepath.Join(dir, "rejects.ndjson")
	var out, errOut string
	var err error
	errOut = withStderr(t, func() {
		out, err = run(t, "ingest", "--data", filepath.Join(dir, "data"), "--tenant", "t1", "--rejects", rej, mixed)
	})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("want exit status 2 for rejected records, got %v", err)
	}
	if !strings.Contains(out, "50 accepted, 0 updated, 0 duplicates, 3 rejected") {
		t.Fatalf("summary: %s", out)
	}
	// The record without an id is framed by its line, refused by the one-pass decoder and
	// framed again by the scanner, which rejects it; the other two never were one line's object.
	if !strings.Contains(errOut, "1 line was not one compact sign-in object and framed again") || strings.Contains(out, "framed again") {
		t.Fatalf("stderr does not say a line was framed twice (or stdout does): %s\n%s", errOut, out)
	}
	errOut = withStderr(t, func() { _, err = run(t, "ingest", "--data", filepath.Join(dir, "good"), "--tenant", "t1", in) })
	if err != nil || strings.Contains(errOut, "framed again") {
		t.Fatalf("generated lines: %v, %s", err, errOut)
	}
	raw, _ := os.ReadFile(rej)
	if got := strings.Split(strings.TrimSpace(string(raw)), "\n"); len(got) != 3 || got[1] != "not json at all" {
		t.Fatalf("rejects file does not hold the records verbatim: %q", raw)
	}
	reasons, _ := os.ReadFile(rej + ".reasons")
	for _, want := range []string{"mixed.ndjson:11:", "mixed.ndjson:12:", "mixed.ndjson:13:", "id: missing"} {
		if !strings.Contains(string(reasons), want) {
			t.Fatalf("reasons file lacks %q:\n%s", want, reasons)
		}
	}
}

func TestReadCommandsNeedADatabase(t *testing.T) {
	_, err := run(t, "stats", "--data", filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "no authlake database") {
		t.Fatalf("stats on a missing directory: %v", err)
	}
}

// TestDuplicatesInOneFileCounted: `cat one.ndjson one.ndjson | authlake ingest` once reported
// "1 accepted, 0 duplicates": the repeat inside the call was dropped and counted nowhere. And
// two ingests started in the same second once shared (and overwrote) one rejects file.
func TestDuplicatesInOneFileCounted(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ndjson")
	if _, err := run(t, "gen", "--events", "5", "--seed", "2", "--days", "1", "-o", in); err != nil {
		t.Fatal(err)
	}
	one, _ := os.ReadFile(in)
	twice := filepath.Join(dir, "twice.ndjson")
	os.WriteFile(twice, append(append([]byte{}, one...), one...), 0o644)
	out, err := run(t, "ingest", "--data", filepath.Join(dir, "data"), "--tenant", "t1", twice)
	if err != nil || !strings.Contains(out, "5 accepted, 0 updated, 5 duplicates, 0 rejected") {
		t.Fatalf("a file holding each event twice: %v\n%s", err, out)
	}
	// Two ingests with rejects, into the same rejects path: both sets are kept.
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte("not json\n"), 0o644)
	rej := filepath.Join(dir, "rejects.ndjson")
	for range 2 {
		if _, err := run(t, "ingest", "--data", filepath.Join(dir, "data"), "--tenant", "t1", "--rejects", rej, bad); err == nil {
			t.Fatal("a rejected record did not make the ingest exit non-zero")
		}
	}
	for _, p := range []string{rej, rej + ".reasons", filepath.Join(dir, "rejects-2.ndjson"), filepath.Join(dir, "rejects-2.ndjson.reasons")} {
		if b, err := os.ReadFile(p); err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", p, err, len(b))
		}
	}
}

// TestQueryFormats: --apply honours --format (csv and a JSON array; it printed a table or NDJSON
// whatever was asked), an empty CSV result still has its header, and --select takes the nested
// columns the table view shows (status/errorCode).
func TestQueryFormats(t *testing.T) {
	dir := t.TempDir()
	in, data := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "data")
	if _, err := run(t, "gen", "--events", "2000", "--seed", "6", "--days", "2", "-o", in); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "ingest", "--data", data, in); err != nil {
		t.Fatal(err)
	}
	apply := "filter(status/errorCode ne 0)/groupby((appDisplayName),aggregate($count as n))"
	out, err := run(t, "query", "--data", data, "--apply", apply, "--format", "csv")
	if err != nil || !strings.HasPrefix(out, "appDisplayName,n\n") {
		t.Fatalf("--apply --format csv: %v %q", err, out)
	}
	out, err = run(t, "query", "--data", data, "--apply", apply, "--format", "json")
	var groups []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &groups) != nil || len(groups) == 0 || groups[0]["n"] == nil {
		t.Fatalf("--apply --format json: %v %q", err, out)
	}
	out, err = run(t, "query", "--data", data, "--filter", "status/errorCode eq 1", "--select", "id,status/errorCode", "--format", "csv")
	if err != nil || out != "id,status/errorCode\n" {
		t.Fatalf("empty csv: %v %q", err, out)
	}
	out, err = run(t, "query", "--data", data, "--filter", "status/errorCode eq 50126", "--top", "3", "--select", "createdDateTime,status/errorCode", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 4 || !strings.HasSuffix(lines[1], ",50126") {
		t.Fatalf("--select status/errorCode: %v %q", err, out)
	}
}

// TestIngestLogAnalyticsExports: Log Analytics / Sentinel exports load without conversion
// (CSV from the portal, JSON rows from the query API), are queryable by their Graph names, and
// keep their unmapped columns for export.
func TestIngestLogAnalyticsExports(t *testing.T) {
	t.Setenv(clock.EnvNow, "2026-11-20T00:00:00Z") // the fixtures' week
	data := filepath.Join(t.TempDir(), "data")
	const tenant = "11111111-aaaa-4bbb-8ccc-000000000001"
	for _, f := range []string{"la_signinlogs.csv", "la_rows.json"} {
		out, err := run(t, "ingest", "--data", data, "../../columnar/input/testdata/"+f)
		if err != nil || !strings.Contains(out, "2 accepted, 0 updated, 0 duplicates, 0 rejected") {
			t.Fatalf("ingest %s: %v\n%s", f, err, out)
		}
	}
	out, err := run(t, "query", "--data", data, "--tenant", tenant, "--filter", "status/errorCode eq 50126 and location/city eq 'Lagos'",
		"--select", "id,status/errorCode,location/city", "--format", "csv")
	if err != nil || !strings.Contains(out, "a0000000-0000-4000-8000-000000000001,50126,Lagos") {
		t.Fatalf("query: %v\n%s", err, out)
	}
	// The JSON rows are non-interactive sign-ins (their table says so).
	out, err = run(t, "query", "--data", data, "--tenant", tenant, "--count", "--filter", "signInEventTypes/any(t: t eq 'nonInteractiveUser')")
	if err != nil || strings.TrimSpace(out) != "2" {
		t.Fatalf("non-interactive count: %v %q", err, out)
	}
	exp := filepath.Join(t.TempDir(), "out.ndjson")
	if _, err := run(t, "export", "--data", data, "--tenant", tenant, "-o", exp); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(exp); !strings.Contains(string(b), `"logAnalytics":{`) || !strings.Contains(string(b), `"SourceSystem":"Azure AD"`) {
		t.Fatalf("export lost the unmapped columns:\n%.600s", b)
	}
}
