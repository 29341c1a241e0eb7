package engine

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/clocktest"
	"github.com/authlake/authlake/internal/vfs"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	// Fuzz workers keep the fuzzing engine's goroutines alive at exit; leak checks belong to
	// ordinary test runs.
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

const (
	tenantA = "11111111-1111-4111-8111-111111111111"
	tenantB = "22222222-2222-4222-8222-222222222222"
)

var testNow = clocktest.Epoch()

var sample = func() map[string]any {
	raw, err := os.ReadFile("../columnar/testdata/graph_beta_sample.json")
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return m
}()

// eventDraw is what one generated sign-in varies in; the rest is the sample's.
type eventDraw struct {
	i                   int
	id, corr, at, upn   string
	guest, failed, vend bool
}

// drawEvent draws sign-in i of tenantA (sometimes a guest from tenantB) at the given time.
func drawEvent(i int, rng *rand.Rand, at time.Time) eventDraw {
	d := eventDraw{i: i, at: at.UTC().Format(time.RFC3339)}
	d.id = fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i)
	d.corr = fmt.Sprintf("%08x-1111-4000-8000-%012x", rng.Uint32(), i/3)
	u := rng.IntN(20)
	d.upn = fmt.Sprintf("user%02d@contoso.com", u)
	d.guest = u == 7 // a B2B guest: also in tenant B's log
	d.failed = rng.IntN(6) == 0
	d.vend = rng.IntN(40) == 0
	return d
}

var failedStatus = map[string]any{"errorCode": 50126, "failureReason": "Invalid username or password.", "additionalDetails": nil}

// event makes sign-in i as a map, for tests that change fields before encoding it.
func event(i int, rng *rand.Rand, at time.Time) map[string]any {
	return eventMap(drawEvent(i, rng, at))
}

// eventMap is the sign-in drawn as d, as a map.
func eventMap(d eventDraw) map[string]any {
	m := make(map[string]any, len(sample)+1)
	for k, v := range sample { // shallow: nested values are only read
		m[k] = v
	}
	m["id"], m["correlationId"], m["createdDateTime"], m["userPrincipalName"] = d.id, d.corr, d.at, d.upn
	m["resourceTenantId"], m["homeTenantId"] = tenantA, tenantA
	if d.guest {
		m["homeTenantId"] = tenantB
		m["userType"] = "guest"
	}
	if d.failed {
		m["status"] = failedStatus
	}
	if d.vend {
		m["x-vendor"] = map[string]any{"seq": d.i}
	}
	return m
}

// eventTail is the sample's JSON members that no draw changes, encoded once: encoding a map
// per event made generating the budget tests' 60-80K events most of their time under the race
// detector. TestEventLineIsTheEvent holds eventLine to event.
var eventTail, sampleUserType, sampleStatus, failedStatusJSON = func() (tail, userType, status, failed []byte) {
	m := make(map[string]any, len(sample))
	for k, v := range sample {
		m[k] = v
	}
	for _, k := range []string{"id", "correlationId", "createdDateTime", "userPrincipalName", "resourceTenantId", "homeTenantId", "userType", "status"} {
		delete(m, k)
	}
	tail, _ = json.Marshal(m)
	userType, _ = json.Marshal(sample["userType"])
	status, _ = json.Marshal(sample["status"])
	failed, _ = json.Marshal(failedStatus)
	return tail[1 : len(tail)-1], userType, status, failed
}()

// eventLine is event's JSON: the drawn members, then the sample's others.
func eventLine(d eventDraw) string {
	b := make([]byte, 0, len(eventTail)+512)
	str := func(key, v string) {
		b = append(b, `"`+key+`":"`...)
		b = append(b, v...)
		b = append(b, `",`...)
	}
	b = append(b, '{')
	str("id", d.id)
	str("correlationId", d.corr)
	str("createdDateTime", d.at)
	str("userPrincipalName", d.upn)
	str("resourceTenantId", tenantA)
	home, userType, status := tenantA, sampleUserType, sampleStatus
	if d.guest {
		home, userType = tenantB, []byte(`"guest"`)
	}
	if d.failed {
		status = failedStatusJSON
	}
	str("homeTenantId", home)
	b = append(b, `"userType":`...)
	b = append(b, userType...)
	b = append(b, `,"status":`...)
	b = append(b, status...)
	if d.vend {
		b = fmt.Appendf(b, `,"x-vendor":{"seq":%d}`, d.i)
	}
	b = append(b, ',')
	b = append(b, eventTail...)
	b = append(b, '}')
	return string(b)
}

// drawEvents draws n sign-ins spread over the days before testNow.
func drawEvents(n int, seed uint64, days int) []eventDraw {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]eventDraw, n)
	start := testNow.Add(-time.Duration(days) * 24 * time.Hour)
	for i := range out {
		at := start.Add(time.Duration(rng.Int64N(int64(days) * int64(24*time.Hour))))
		out[i] = drawEvent(i, rng, at)
	}
	return out
}

// makeEvents makes n sign-ins spread over the days before testNow, as JSON lines.
func makeEvents(n int, seed uint64, days int) []string {
	out := make([]string, n)
	for i, d := range drawEvents(n, seed, days) {
		out[i] = eventLine(d)
	}
	return out
}

// TestEventLineIsTheEvent: each drawn sign-in's line decodes to what encoding its map gives.
func TestEventLineIsTheEvent(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		for i, d := range drawEvents(400, seed, 3) {
			line := eventLine(d)
			want, _ := json.Marshal(eventMap(d))
			var got, w any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("line %d: %v: %s", i, err, line)
			}
			json.Unmarshal(want, &w)
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("line %d:\n got %s\nwant %s", i, line, want)
			}
		}
	}
}

func records(lines []string) []Record {
	recs := make([]Record, len(lines))
	for i, l := range lines {
		recs[i] = Record{Raw: []byte(l)}
	}
	return recs
}

func testOptions() Options {
	return Options{DisableBackground: true, Now: func() time.Time { return testNow }, NoSync: true, BlockRows: 256}
}

func mustOpen(t *testing.T, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func ingestAll(t *testing.T, db *DB, lines []string, batch int) IngestResult {
	t.Helper()
	var total IngestResult
	for i := 0; i < len(lines); i += batch {
		res, err := db.Ingest(records(lines[i:min(i+batch, len(lines))]), IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
		total.Rejected = append(total.Rejected, res.Rejected...)
	}
	return total
}

// ingestSegments ingests lines in n equal parts and flushes after each: n segments a day.
func ingestSegments(t *testing.T, db *DB, lines []string, n int) {
	t.Helper()
	per := len(lines) / n
	for i := 0; i < n; i++ {
		ingestAll(t, db, lines[i*per:(i+1)*per], 300)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

func exportSet(t *testing.T, db *DB, tenant string) []string {
	t.Helper()
	var out []string
	_, err := db.Export(tenant, func(line []byte) error {
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return fmt.Errorf("export produced invalid JSON: %v", err)
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func canonical(lines []string, keep func(map[string]any) bool) []string {
	var out []string
	for _, l := range lines {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		if keep != nil && !keep(m) {
			continue
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

func sameSet(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	if !reflect.DeepEqual(want, got) {
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%s: event differs\nwant %s\ngot  %s", what, want[i], got[i])
			}
		}
	}
}

func isGuest(m map[string]any) bool { return m["homeTenantId"] == tenantB }

// guestCopies is what tenant B, trusting A's reports, holds of its guests' sign-ins into A: the
// events as A received them, marked as reported by A.
func guestCopies(lines []string) []string {
	var out []string
	for _, l := range canonical(lines, isGuest) {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		m["@authlake.reportedBy"] = tenantA
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// trustingB is testOptions with tenant B accepting A's reports of B's users' sign-ins.
func trustingB() Options {
	o := testOptions()
	o.Trust = map[string][]string{tenantB: {tenantA}}
	return o
}

func TestIngestFlushExportRestart(t *testing.T) {
	dir := t.TempDir()
	lines := makeEvents(3000, 1, 3)
	db := mustOpen(t, dir, trustingB())
	res := ingestAll(t, db, lines[:2000], 500)
	if res.Accepted != 2000 || res.Duplicates != 0 || len(res.Rejected) != 0 {
		t.Fatalf("first ingest: %+v", res)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	// The rest stays in the memtable (and WAL) only.
	res = ingestAll(t, db, lines[2000:], 400)
	if res.Accepted != 1000 {
		t.Fatalf("second ingest: %+v", res)
	}
	wantA := canonical(lines, nil)
	wantB := guestCopies(lines)
	if len(wantB) == 0 {
		t.Fatal("test data has no cross-tenant events")
	}
	sameSet(t, "tenant A before restart", wantA, exportSet(t, db, tenantA))
	sameSet(t, "tenant B (home tenant of guests, trusting A)", wantB, exportSet(t, db, tenantB))

	// Re-ingesting the same export is harmless.
	res = ingestAll(t, db, lines, 700)
	if res.Accepted != 0 || res.Duplicates != 3000 {
		t.Fatalf("re-ingest: %+v", res)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: segments from the manifest, memtable rows from WAL replay.
	db = mustOpen(t, dir, trustingB())
	sameSet(t, "tenant A after restart", wantA, exportSet(t, db, tenantA))
	sameSet(t, "tenant B after restart", wantB, exportSet(t, db, tenantB))
	res = ingestAll(t, db, lines[2500:], 100)
	if res.Accepted != 0 || res.Duplicates != 500 {
		t.Fatalf("re-ingest after replay: %+v", res)
	}
	st := db.Stats()
	if st.Events != int64(len(wantA)+len(wantB)) || len(st.Tenants) != 2 {
		t.Fatalf("stats: %+v", st)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.MemtableRows != 0 || st.Segments == 0 {
		t.Fatalf("after flush: %+v", st)
	}
	db.Close()
}

func TestTenantIsolationAndExplicitTenant(t *testing.T) {
	opts := testOptions()
	opts.Trust = map[string][]string{tenantB: {"contoso"}}
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	lines := makeEvents(300, 2, 2)
	res, err := db.Ingest(records(lines), IngestOptions{Tenant: "contoso"})
	if err != nil || res.Accepted != 300 {
		t.Fatalf("%+v %v", res, err)
	}
	sameSet(t, "explicit tenant", canonical(lines, nil), exportSet(t, db, "contoso"))
	if got := exportSet(t, db, tenantA); len(got) != 0 {
		t.Fatalf("resource tenant got %d events although --tenant was given", len(got))
	}
	// The guests' home tenant holds no copies although it trusts contoso: contoso's log holds
	// sign-ins into tenant A, which are not contoso's to report.
	if got := exportSet(t, db, tenantB); len(got) != 0 {
		t.Fatalf("guests' home tenant got %d events it did not ask for", len(got))
	}
	if got := exportSet(t, db, "fabrikam"); len(got) != 0 {
		t.Fatalf("unrelated tenant sees %d events", len(got))
	}
	if _, err := db.Ingest(records(lines[:1]), IngestOptions{Tenant: "../etc"}); err == nil {
		t.Fatal("a path-like tenant was accepted")
	}
}

func TestIngestRejectsBadRecordsKeepsGoodOnes(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	good := makeEvents(5, 3, 1)
	recs := []Record{
		{Raw: []byte(good[0])},
		{Raw: []byte(`{"id": "x"`)},
		{Raw: []byte(good[1])},
		{Raw: []byte(`{"createdDateTime":"2026-11-22T00:00:00Z"}`)},
		{Raw: []byte(good[2]), Category: "AuditLogs"},
		{Raw: []byte(good[3]), Category: "NonInteractiveUserSignInLogs"},
		{Raw: []byte(strings.Replace(good[4], `"resourceTenantId":"`+tenantA+`"`, `"resourceTenantId":""`, 1))},
	}
	res, err := db.Ingest(recs, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || len(res.Rejected) != 4 {
		t.Fatalf("want 3 accepted and 4 rejected, got %+v", res)
	}
	want := map[int]string{1: "not valid JSON", 3: "id: missing", 4: "unsupported diagnostic category", 6: "no tenant"}
	for _, r := range res.Rejected {
		if !strings.Contains(r.Reason, want[r.Index]) || want[r.Index] == "" {
			t.Fatalf("record %d rejected with %q, want %q", r.Index, r.Reason, want[r.Index])
		}
	}
	// Retention: a record older than 30 days is refused with a reason.
	var m map[string]any
	json.Unmarshal([]byte(good[0]), &m)
	m["id"] = "99999999-0000-4000-8000-000000000000"
	m["createdDateTime"] = testNow.AddDate(0, 0, -45).Format(time.RFC3339)
	b, _ := json.Marshal(m)
	res, _ = db.Ingest([]Record{{Raw: b}}, IngestOptions{})
	if len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, "retention") {
		t.Fatalf("old event: %+v", res)
	}
}

func TestCompactionKeepsSnapshotsAndData(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.CompactMinSegments = 3
	db := mustOpen(t, dir, opts)
	lines := makeEvents(2400, 4, 2)
	ingestSegments(t, db, lines, 4)
	before := db.Stats().Segments
	snap, err := db.Snapshot(tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	after := db.Stats().Segments
	if after >= before {
		t.Fatalf("compaction did not reduce segments: %d → %d", before, after)
	}
	// The old snapshot still reads its (now deleted) segments.
	if n := snap.Rows(); n != len(canonical(lines, nil)) {
		t.Fatalf("old snapshot sees %d rows", n)
	}
	count := 0
	if err := snap.Scan(func(*columnar.Batch, int) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 2400 {
		t.Fatalf("old snapshot scanned %d rows", count)
	}
	snap.Release()
	sameSet(t, "after compaction", canonical(lines, nil), exportSet(t, db, tenantA))
	db.Close()
	db = mustOpen(t, dir, opts)
	defer db.Close()
	sameSet(t, "after compaction and restart", canonical(lines, nil), exportSet(t, db, tenantA))
	if res := ingestAll(t, db, lines, 1000); res.Duplicates != 2400 {
		t.Fatalf("dedup after compaction: %+v", res)
	}
}

func TestRetentionDropsWholeDays(t *testing.T) {
	dir := t.TempDir()
	now := testNow
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	opts.Retention = 5
	db := mustOpen(t, dir, opts)
	defer db.Close()
	lines := makeEvents(1000, 5, 4)
	ingestAll(t, db, lines, 500)
	db.Flush()
	days := db.Stats().Tenants[0].Days
	now = now.AddDate(0, 0, 3) // two of the days fall out of a 5-day window
	if err := db.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	st := db.Stats().Tenants[0]
	// The day holding now-5d is kept (part of it is younger than the retention); older ones go.
	if st.Days >= days || st.FirstDay != DayTime(dayOf(now.AddDate(0, 0, -5).UnixNano())).Format("2006-01-02") {
		t.Fatalf("retention kept days %s..%s (%d of %d)", st.FirstDay, st.LastDay, st.Days, days)
	}
}

func TestOpenLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, testOptions())
	defer db.Close()
	if _, err := Open(dir, testOptions()); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second open: %v", err)
	}
}

// idCounts exports tenant's sign-ins and counts each id.
func idCounts(db *DB, tenant string) (map[string]int, error) {
	seen := map[string]int{}
	_, err := db.Export(tenant, func(line []byte) error {
		var m struct{ ID string }
		if err := json.Unmarshal(line, &m); err != nil {
			return err
		}
		seen[m.ID]++
		return nil
	})
	return seen, err
}

// memOptions are the test options on a new crashable in-memory file system, quiet.
func memOptions() (*vfs.MemFS, Options) {
	mem := vfs.NewCrashableMem()
	opts := testOptions()
	opts.FS = mem
	opts.Logger = slog.New(slog.DiscardHandler)
	return mem, opts
}

// idsAndDays reads each generated line's id and UTC day.
func idsAndDays(lines []string) (ids []string, days []int32) {
	for _, l := range lines {
		var m struct {
			ID              string
			CreatedDateTime time.Time
		}
		json.Unmarshal([]byte(l), &m)
		ids, days = append(ids, m.ID), append(days, dayOf(m.CreatedDateTime.UnixNano()))
	}
	return ids, days
}
