package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/authlake/authlake/query"
)

// A sign-in seen again: Log Analytics re-emits a sign-in as risk evaluation completes. These
// tests follow one sign-in through its versions on every read path, across flush, compaction,
// restart and WAL replay, and check that a tenant's versions never touch another tenant.

// signInVersion is one sign-in of tenant at at with the given risk state (the field a
// re-emission changes) and user agent.
func signInVersion(tenant, id string, at time.Time, riskState string, extra map[string]any) string {
	m := event(1, rand.New(rand.NewPCG(7, 7)), at)
	m["id"] = id
	m["resourceTenantId"], m["homeTenantId"] = tenant, tenant
	m["riskState"] = riskState
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type versionView struct {
	count    int64
	get      []map[string]any // query by id
	filtered map[string]int64 // riskState → count
	export   []map[string]any
	versions []map[string]any // export --versions, in its order
}

func readVersions(t *testing.T, db *DB, tenant, id string) versionView {
	t.Helper()
	v := versionView{filtered: map[string]int64{}}
	ctx := context.Background()
	res, err := db.Query(ctx, tenant, query.Request{Count: true, Top: 1, Filter: "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser' or t eq 'servicePrincipal' or t eq 'managedIdentity')"})
	if err != nil {
		t.Fatal(err)
	}
	v.count = res.Count
	res, err = db.Query(ctx, tenant, query.Request{Filter: "id eq '" + id + "'", Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Rows {
		var m map[string]any
		json.Unmarshal(row, &m)
		v.get = append(v.get, m)
	}
	for _, rs := range []string{"atRisk", "dismissed", "remediated", "confirmedSafe"} {
		res, err := db.Query(ctx, tenant, query.Request{Filter: "riskState eq '" + rs + "'", Count: true, Top: 1})
		if err != nil {
			t.Fatal(err)
		}
		v.filtered[rs] = res.Count
	}
	collect := func(export func(string, func([]byte) error) (int, error)) (out []map[string]any) {
		if _, err := export(tenant, func(line []byte) error {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return err
			}
			if m["id"] == id {
				out = append(out, m)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	v.export = collect(db.Export)
	v.versions = collect(db.ExportVersions)
	return v
}

// want checks that the sign-in reads as one event in riskState newest on every path, with
// history the risk states of its stored versions in order.
func (v versionView) want(t *testing.T, what string, total int64, newest string, history ...string) {
	t.Helper()
	if v.count != total {
		t.Fatalf("%s: count %d, want %d", what, v.count, total)
	}
	for path, got := range map[string][]map[string]any{"get": v.get, "export": v.export} {
		if len(got) != 1 || got[0]["riskState"] != newest {
			t.Fatalf("%s: %s gives %v, want one event in riskState %s", what, path, riskStates(got), newest)
		}
	}
	if v.filtered[newest] != 1 {
		t.Fatalf("%s: $filter riskState eq '%s' counts %d, want 1 (%v)", what, newest, v.filtered[newest], v.filtered)
	}
	for rs, n := range v.filtered {
		if rs != newest && n != 0 {
			t.Fatalf("%s: $filter riskState eq '%s' counts %d, a superseded version (%v)", what, rs, n, v.filtered)
		}
	}
	if got := riskStates(v.versions); !slices.Equal(got, history) {
		t.Fatalf("%s: export --versions gives %v, want %v", what, got, history)
	}
	for i, m := range v.versions {
		ann, has := m["@authlake.version"]
		if i == 0 && has || i > 0 && ann != float64(i+1) {
			t.Fatalf("%s: version %d carries @authlake.version %v", what, i+1, ann)
		}
	}
}

func riskStates(ms []map[string]any) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprint(m["riskState"]))
	}
	return out
}

func mustIngest(t *testing.T, db *DB, lines ...string) IngestResult {
	t.Helper()
	res, err := db.Ingest(records(lines), IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected: %+v", res.Rejected)
	}
	return res
}

func wantResult(t *testing.T, what string, res IngestResult, accepted, updated, dups int) {
	t.Helper()
	if res.Accepted != accepted || res.Updated != updated || res.Duplicates != dups {
		t.Fatalf("%s: accepted %d, updated %d, duplicates %d; want %d, %d, %d", what, res.Accepted, res.Updated, res.Duplicates, accepted, updated, dups)
	}
}

func TestSignInSeenAgainIsAVersion(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, testOptions())
	defer func() { db.Close() }()
	const id = "0f0f0f0f-0000-4000-8000-00000000abcd"
	at := testNow.Add(-50 * time.Hour).Truncate(time.Hour)
	others := makeEvents(200, 3, 5)
	wantResult(t, "background", ingestAll(t, db, others, 100), 200, 0, 0)

	v1 := signInVersion(tenantA, id, at, "confirmedSafe", nil)
	v2 := signInVersion(tenantA, id, at, "atRisk", nil)
	v3 := signInVersion(tenantA, id, at, "remediated", nil)
	wantResult(t, "first", mustIngest(t, db, v1), 1, 0, 0)
	readVersions(t, db, tenantA, id).want(t, "first", 201, "confirmedSafe", "confirmedSafe")

	wantResult(t, "re-emitted", mustIngest(t, db, v2), 0, 1, 0)
	readVersions(t, db, tenantA, id).want(t, "re-emitted", 201, "atRisk", "confirmedSafe", "atRisk")

	// Loading the same export again changes nothing: every version is a duplicate.
	wantResult(t, "again", mustIngest(t, db, v1, v2), 0, 0, 2)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	readVersions(t, db, tenantA, id).want(t, "flushed", 201, "atRisk", "confirmedSafe", "atRisk")

	// A third version, the second twice in one call, and the first once more.
	wantResult(t, "third", mustIngest(t, db, v3, v3, v1), 0, 1, 2)
	readVersions(t, db, tenantA, id).want(t, "third", 201, "remediated", "confirmedSafe", "atRisk", "remediated")

	// Restart without a flush: the third version comes back from the WAL.
	db.Close()
	db = mustOpen(t, dir, testOptions())
	readVersions(t, db, tenantA, id).want(t, "replayed", 201, "remediated", "confirmedSafe", "atRisk", "remediated")
	// After a restart the first version's content is read again from the own log.
	wantResult(t, "after restart", mustIngest(t, db, v1, v2, v3), 0, 0, 3)

	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.CompactAll(); err != nil {
		t.Fatal(err)
	}
	readVersions(t, db, tenantA, id).want(t, "compacted", 201, "remediated", "confirmedSafe", "atRisk", "remediated")

	// A fourth version whose createdDateTime moved across midnight is the same sign-in.
	moved := at.Truncate(24 * time.Hour).Add(24*time.Hour + time.Minute)
	v4 := signInVersion(tenantA, id, moved, "dismissed", nil)
	wantResult(t, "moved", mustIngest(t, db, v4), 0, 1, 0)
	readVersions(t, db, tenantA, id).want(t, "moved", 201, "dismissed", "confirmedSafe", "atRisk", "remediated", "dismissed")
	db.Close()
	db = mustOpen(t, dir, testOptions())
	readVersions(t, db, tenantA, id).want(t, "reopened", 201, "dismissed", "confirmedSafe", "atRisk", "remediated", "dismissed")

	// export --versions loads into an empty database as the same versions.
	var lines []string
	if _, err := db.ExportVersions(tenantA, func(line []byte) error {
		lines = append(lines, string(line))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpen(t, t.TempDir(), testOptions())
	defer db2.Close()
	wantResult(t, "export --versions loaded", mustIngest(t, db2, lines...), 201, 3, 0)
	readVersions(t, db2, tenantA, id).want(t, "export --versions loaded", 201, "dismissed", "confirmedSafe", "atRisk", "remediated", "dismissed")
}

// All versions in one call, as in a Log Analytics export that holds every emission.
func TestVersionsInOneCall(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	const id = "0f0f0f0f-0000-4000-8000-00000000abce"
	at := testNow.Add(-3 * time.Hour)
	res := mustIngest(t, db,
		signInVersion(tenantA, id, at, "confirmedSafe", nil),
		signInVersion(tenantA, id, at, "atRisk", nil),
		signInVersion(tenantA, id, at, "atRisk", nil),
		signInVersion(tenantA, id, at, "remediated", nil))
	wantResult(t, "one call", res, 1, 2, 1)
	readVersions(t, db, tenantA, id).want(t, "one call", 1, "remediated", "confirmedSafe", "atRisk", "remediated")
}

// A version keeps the flag of the one it follows: the admin's flagged list does not lose a
// sign-in because Entra emitted it again after the flagging window closed.
func TestVersionKeepsFlaggedForReview(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	const id = "0f0f0f0f-0000-4000-8000-00000000abcf"
	at := testNow.Add(-3 * time.Hour)
	mustIngest(t, db, signInVersion(tenantA, id, at, "confirmedSafe", map[string]any{"flaggedForReview": true}))
	wantResult(t, "re-emitted", mustIngest(t, db, signInVersion(tenantA, id, at, "atRisk", map[string]any{"flaggedForReview": false})), 0, 1, 0)
	res, err := db.Query(context.Background(), tenantA, query.Request{Filter: "flaggedForReview eq true", Count: true, Top: 5})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if res.Count != 1 || len(res.Rows) != 1 || json.Unmarshal(res.Rows[0], &m) != nil || m["riskState"] != "atRisk" {
		t.Fatalf("flagged: count %d rows %d (%v), want the newest version, flagged", res.Count, len(res.Rows), m["riskState"])
	}
}

// The same id in two tenants is two sign-ins: one tenant's versions never hide, number or
// dedupe the other's.
func TestVersionsAreKeyedByTenant(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	const id = "0f0f0f0f-0000-4000-8000-00000000abd0"
	at := testNow.Add(-3 * time.Hour)
	wantResult(t, "A", mustIngest(t, db, signInVersion(tenantA, id, at, "confirmedSafe", nil)), 1, 0, 0)
	wantResult(t, "B", mustIngest(t, db, signInVersion(tenantB, id, at, "atRisk", nil)), 1, 0, 0)
	wantResult(t, "A again", mustIngest(t, db, signInVersion(tenantA, id, at, "remediated", nil)), 0, 1, 0)
	readVersions(t, db, tenantA, id).want(t, "A", 1, "remediated", "confirmedSafe", "remediated")
	readVersions(t, db, tenantB, id).want(t, "B", 1, "atRisk", "atRisk")
	// B loading A's first content is B's own new version, not A's duplicate.
	wantResult(t, "B gets A's content", mustIngest(t, db, signInVersion(tenantB, id, at, "confirmedSafe", nil)), 0, 1, 0)
	readVersions(t, db, tenantB, id).want(t, "B", 1, "confirmedSafe", "atRisk", "confirmedSafe")
	readVersions(t, db, tenantA, id).want(t, "A after B", 1, "remediated", "confirmedSafe", "remediated")
	st := db.Stats()
	for _, ts := range st.Tenants {
		if ts.Versions != 1 || ts.Events != 1 {
			t.Fatalf("stats of %s: %d events, %d later versions; want 1 and 1", ts.Tenant, ts.Events, ts.Versions)
		}
	}
	if tenants := db.Tenants(); !slices.Equal(tenants, []string{tenantA, tenantB}) {
		t.Fatalf("tenants %v", tenants)
	}
}

// An ingested record's own @authlake.version is not trusted: versions are authlake's to number.
func TestIngestedVersionAnnotationIsIgnored(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	const id = "0f0f0f0f-0000-4000-8000-00000000abd1"
	at := testNow.Add(-3 * time.Hour)
	wantResult(t, "forged", mustIngest(t, db, signInVersion(tenantA, id, at, "confirmedSafe", map[string]any{"@authlake.version": 7})), 1, 0, 0)
	readVersions(t, db, tenantA, id).want(t, "forged", 1, "confirmedSafe", "confirmedSafe")
}

// Concurrent ingests of versions of the same sign-ins: every record is counted once, every
// sign-in reads once, and no version number is given twice.
func TestConcurrentVersions(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	at := testNow.Add(-3 * time.Hour)
	states := []string{"confirmedSafe", "atRisk", "remediated", "dismissed"}
	const ids = 50
	errs := make(chan error, len(states))
	results := make(chan IngestResult, len(states))
	for w, st := range states {
		go func() {
			var lines []string
			for i := range ids {
				lines = append(lines, signInVersion(tenantA, fmt.Sprintf("0f0f0f0f-0000-4000-8000-%012d", i), at, st, nil))
			}
			res, err := db.Ingest(records(lines), IngestOptions{})
			if w%2 == 1 {
				db.Flush() // flushes race the ingests too
			}
			results <- res
			errs <- err
		}()
	}
	var accepted, updated, dups int
	for range states {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		res := <-results
		accepted, updated, dups = accepted+res.Accepted, updated+res.Updated, dups+res.Duplicates
	}
	if accepted+updated+dups != ids*len(states) || accepted != ids {
		t.Fatalf("accepted %d updated %d duplicates %d of %d records of %d sign-ins", accepted, updated, dups, ids*len(states), ids)
	}
	var versions []map[string]any
	if _, err := db.ExportVersions(tenantA, func(line []byte) error {
		var m map[string]any
		json.Unmarshal(line, &m)
		versions = append(versions, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(versions) != accepted+updated {
		t.Fatalf("%d versions stored, %d counted", len(versions), accepted+updated)
	}
	seen := map[string]bool{}
	for _, m := range versions {
		key := fmt.Sprint(m["id"], m["@authlake.version"])
		if seen[key] {
			t.Fatalf("version %s stored twice", key)
		}
		seen[key] = true
	}
	if got := exportSet(t, db, tenantA); len(got) != ids {
		t.Fatalf("export shows %d events of %d sign-ins", len(got), ids)
	}
}
