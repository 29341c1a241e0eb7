package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/authlake/authlake/engine"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/query"
)

// A reused database answers the suite exactly as the run that built it did, without ingesting.
func TestRunReusesTheDatabaseOfAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Events: 3000, Seed: 3, Threads: 2, Runs: 1, CacheDir: filepath.Join(dir, "cache"),
		WorkDir: filepath.Join(dir, "work"), NoSingleThread: true}
	first, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Revision == "" {
		t.Fatal("results name no revision")
	}
	if len(first.Ingest) != 1 || first.Ingest[0].EventsPerSec <= 0 {
		t.Fatalf("first run measured no ingest: %+v", first.Ingest)
	}
	if len(first.Queries) != len(Suite) {
		t.Fatalf("%d queries measured, the suite has %d", len(first.Queries), len(Suite))
	}
	checkFullRowPages(t, first, filepath.Join(cfg.WorkDir, "authlake"))
	for _, q := range first.Queries {
		if len(q.ColdRunsMs) != ColdRuns || q.ColdMs != Percentile(slices.Sorted(slices.Values(q.ColdRunsMs)), 0.5) {
			t.Errorf("%s: cold %v ms from the runs %v, want the median of %d", q.ID, q.ColdMs, q.ColdRunsMs, ColdRuns)
		}
	}
	if !strings.Contains(ColdMethod, fmt.Sprintf("median of %d runs", ColdRuns)) {
		t.Errorf("ColdMethod does not say how many cold runs make the figure: %q", ColdMethod)
	}
	cfg.Reuse = true
	// A reused database needs no input: none is generated (at 10M events it was 58 GB).
	if err := os.RemoveAll(cfg.CacheDir); err != nil {
		t.Fatal(err)
	}
	again, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.CacheDir); !os.IsNotExist(err) {
		t.Fatalf("the reused run generated input into %s (%v)", cfg.CacheDir, err)
	}
	if len(again.Ingest) != 0 {
		t.Fatalf("a reused database reported ingest figures: %+v", again.Ingest)
	}
	if again.DiskBytes != first.DiskBytes || again.Params != first.Params {
		t.Fatalf("reused database differs: %d bytes vs %d, params %+v vs %+v", again.DiskBytes, first.DiskBytes, again.Params, first.Params)
	}
	matched := 0
	for i, q := range first.Queries {
		r := again.Queries[i]
		if q.Count != r.Count || q.IDsHash != r.IDsHash {
			t.Errorf("%s: first run %d (%s), reused %d (%s)", q.ID, q.Count, q.IDsHash, r.Count, r.IDsHash)
		}
		if q.Count > 0 {
			matched++
		}
	}
	if matched < 5 {
		t.Fatalf("only %d queries matched anything: the comparison checks little", matched)
	}

	// Given inputs replace the picked ones.
	cfg.Params = &Params{UPN: "nobody@example.com", CorrelationID: first.Params.CorrelationID, Now: first.Params.Now}
	given, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	q2, q5, firstQ5 := statOf(given, "Q2"), statOf(given, "Q5"), statOf(first, "Q5")
	if given.Params != *cfg.Params || q2.Count != 0 || q5.Count != firstQ5.Count {
		t.Fatalf("given params not used: %+v, Q2 %d, Q5 %d vs %d", given.Params, q2.Count, q5.Count, firstQ5.Count)
	}
	for _, bad := range []Params{{CorrelationID: "c", Now: first.Params.Now}, {UPN: "u", CorrelationID: "c"}} {
		cfg.Params = &bad
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("incomplete params %+v: %v", bad, err)
		}
	}
	cfg.Params = nil

	cfg.WorkDir = filepath.Join(dir, "empty")
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no database from an earlier run") {
		t.Fatalf("reuse of an empty work dir: %v", err)
	}
	cfg.Peer = "duckdb"
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "without --peer") {
		t.Fatalf("reuse with the peer: %v", err)
	}
}

// checkFullRowPages: Q1, Q4 and Q10 return full rows, every property of the Graph signIn the
// events carry, as Graph's list does without $select; their "(2 cols)" twins return id and createdDateTime of
// the same rows.
func checkFullRowPages(t *testing.T, res *Results, dataDir string) {
	t.Helper()
	if res.Cold != ColdMethod {
		t.Fatalf("results say cold is %q", res.Cold)
	}
	stats := map[string]QueryStat{}
	for _, q := range res.Queries {
		stats[q.ID] = q
	}
	db, err := openBenchDB(dataDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	twins := 0
	for _, q := range Suite {
		base, ok := strings.CutSuffix(q.ID, TwoCols)
		if !ok {
			continue
		}
		twins++
		full, two := stats[base], stats[q.ID]
		if !suiteQuery(base).FullRows() || full.Properties != "all" || two.Properties != "id,createdDateTime" {
			t.Fatalf("%s: properties %q, %s: %q", base, full.Properties, q.ID, two.Properties)
		}
		if full.Count == 0 || full.Count != two.Count || full.IDsHash != two.IDsHash {
			t.Fatalf("%s and %s answer differently: %d %s vs %d %s", base, q.ID, full.Count, full.IDsHash, two.Count, two.IDsHash)
		}
		// Generated sign-ins are about 5.5 KB of JSON; id and createdDateTime under 120 bytes.
		if full.PageBytes < 2000*full.Count || two.PageBytes > 120*two.Count {
			t.Fatalf("%s: %d bytes for %d full rows, %s: %d bytes for 2 columns", base, full.PageBytes, full.Count, q.ID, two.PageBytes)
		}
		for _, id := range []string{base, q.ID} {
			a, err := runQuery(context.Background(), db, suiteQuery(id), res.Params)
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range a.page {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(row, &m); err != nil {
					t.Fatalf("%s row %d: %v", id, i, err)
				}
				if id == q.ID {
					if len(m) != 2 || m["id"] == nil || m["createdDateTime"] == nil {
						t.Fatalf("%s row %d holds %d properties: %s", id, i, len(m), row)
					}
					continue
				}
				// Every property the generator writes (it carries all of them, null, "" or [] when
				// they do not apply), nested ones whole.
				for _, k := range gen.BetaKeys {
					if _, ok := m[k]; !ok {
						t.Fatalf("%s row %d has no %s: %.300s", id, i, k, row)
					}
				}
				var st struct{ Status struct{ ErrorCode *int } }
				if err := json.Unmarshal(row, &st); err != nil || st.Status.ErrorCode == nil {
					t.Fatalf("%s row %d: no status/errorCode (%v): %s", id, i, err, m["status"])
				}
			}
		}
	}
	if twins != 3 {
		t.Fatalf("%d two-column variants, want Q1, Q4 and Q10's", twins)
	}
}

func statOf(r *Results, id string) QueryStat { return queryStat(r.Queries, id) }

func queryStat(qs []QueryStat, id string) QueryStat {
	for _, q := range qs {
		if q.ID == id {
			return q
		}
	}
	return QueryStat{}
}

// A warm run must give the cold run's answer: pages byte for byte, counts, aggregation rows.
func TestAnswersCompareWhole(t *testing.T) {
	app := func(s string) *string { return &s }
	page := answer{kind: KindPage, count: 2, page: [][]byte{[]byte(`{"id":"A"}`), []byte(`{"id":"b"}`)}}
	if !page.same(page) {
		t.Fatal("a page differs from itself")
	}
	other := answer{kind: KindPage, count: 2, page: [][]byte{[]byte(`{"id":"A"}`), []byte(`{"id":"c"}`)}}
	if page.same(other) {
		t.Fatal("pages with different rows compared equal")
	}
	top := answer{kind: KindTop, count: 1, top: []AppCount{{App: app("Teams"), Failures: 3}}}
	if top.same(answer{kind: KindTop, count: 1, top: []AppCount{{App: nil, Failures: 3}}}) {
		t.Fatal("aggregation rows with different keys compared equal")
	}
	n, hash, err := page.summary()
	if err != nil || n != 2 || hash != idsHashOf("a", "b") {
		t.Fatalf("summary %d %s %v, want 2 %s (ids lower-cased)", n, hash, err, idsHashOf("a", "b"))
	}
	if _, _, err := (answer{kind: KindPage, page: [][]byte{[]byte(`{"createdDateTime":"x"}`)}}).summary(); err == nil {
		t.Fatal("a row without an id was hashed")
	}
}

func idsHashOf(ids ...string) string {
	h := fnv.New64a()
	for _, id := range ids {
		h.Write([]byte(id + "\n"))
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func TestPercentileInterpolates(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		s    []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0}, {[]float64{7}, 0.99, 7}, {[]float64{1, 2, 3}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5}, {ten, 0.99, 9.91}, {ten, 1, 10}, {ten, 0, 1},
	} {
		if got := Percentile(c.s, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Percentile(%v, %g) = %g, want %g", c.s, c.q, got, c.want)
		}
	}
}

// TestIngestChargesTheFinalMerge: the ingest figure covers the whole-day merge, as the peer's
// covers its CHECKPOINT. A budget of 64 MiB flushes the 20,000 events several times, so each
// day is written as several segments; the database the timed ingest leaves has one a day.
func TestIngestChargesTheFinalMerge(t *testing.T) {
	db, st := ingestedDB(t, 20000, 5)
	if st.CompactSeconds <= 0 || st.CompactSeconds >= st.Seconds {
		t.Fatalf("final merge %.3f s of %.3f s", st.CompactSeconds, st.Seconds)
	}
	stats := db.Stats()
	days := 0
	for _, ts := range stats.Tenants {
		days += ts.Days
	}
	if stats.Events != 20000 || stats.Segments != days {
		t.Fatalf("after the timed ingest: %d events in %d segments over %d tenant-days, want 20000 in one a day", stats.Events, stats.Segments, days)
	}
}

// The correlationId pick counted from pages of typed rows is the one an unbounded $apply groupby
// of the same rows makes (ties to the smallest).
func TestCorrelationIDPickMatchesTheGroupBy(t *testing.T) {
	db, _ := ingestedDB(t, 3000, 9)
	tenant, err := onlyTenant(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"", "createdDateTime ge 2026-11-20T00:00:00Z"} {
		r, err := db.Query(context.Background(), tenant, query.Request{Filter: filter, Apply: "groupby((correlationId),aggregate($count as n))", MaxGroups: -1})
		if err != nil {
			t.Fatal(err)
		}
		want, wn := "", int64(0)
		for _, g := range r.Groups {
			k, _ := g.Keys["correlationId"].(string)
			if n := toInt(g.Values["n"]); k != "" && (n > wn || n == wn && k < want) {
				want, wn = k, n
			}
		}
		got, err := mostDayCorrelationID(context.Background(), db, tenant, filter, 400)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || wn < 2 {
			t.Fatalf("filter %q: picked %s, the groupby %s (%d rows)", filter, got, want, wn)
		}
	}
}

// ingestedDB ingests n generated events (seed) as the benchmark does, at the smallest budget,
// and returns the database opened read-only (closed by the test's cleanup) and the ingest's
// figures.
func ingestedDB(t *testing.T, n int, seed uint64) (*engine.DB, IngestStat) {
	t.Helper()
	dir := t.TempDir()
	input, size, err := EnsureEvents(filepath.Join(dir, "cache"), n, seed, false, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "db")
	st, err := ingest(context.Background(), input, data, 2, size, engine.MinMemoryLimit)
	if err != nil {
		t.Fatal(err)
	}
	db, err := engine.Open(data, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, st
}

// A run that failed a check says so above its table and its Markdown, where a reader of a
// results file cannot miss it.
func TestFailedRunSaysSo(t *testing.T) {
	r := &Results{Events: 10, Failed: "Q2 differs: 3 rows against 4"}
	var b strings.Builder
	r.WriteTable(&b)
	for what, out := range map[string]string{"table": b.String(), "markdown": r.Markdown()} {
		if first, _, _ := strings.Cut(out, "\n"); !strings.Contains(first, FailedLine(r.Failed)) {
			t.Errorf("%s of a failed run begins %q", what, first)
		}
	}
}
