package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/query"
)

// The tenant fence: what one tenant ingests never lands in, shadows or pre-empts another
// tenant's log. These tests use fixed times (testNow through Options.Now) only.

// crossTenant is a sign-in of a user of home into resource. A forged one is failed, flagged and
// carries a marker user agent, so a reader can tell which version it got.
func crossTenant(id string, at time.Time, resource, home string, forged bool) []byte {
	m := make(map[string]any, len(sample))
	for k, v := range sample {
		m[k] = v
	}
	m["id"] = id
	m["createdDateTime"] = at.UTC().Format(time.RFC3339)
	m["resourceTenantId"] = resource
	m["homeTenantId"] = home
	m["userAgent"] = "genuine"
	if forged {
		m["userAgent"] = "forged"
		m["flaggedForReview"] = true
		m["status"] = map[string]any{"errorCode": 50126, "failureReason": "Invalid username or password.", "additionalDetails": nil}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func fenceID(n int) string { return fmt.Sprintf("fe0ce000-0000-4000-8000-%012d", n) }

func ingestAs(t *testing.T, db *DB, tenant string, raws ...[]byte) IngestResult {
	t.Helper()
	recs := make([]Record, len(raws))
	for i, r := range raws {
		recs[i] = Record{Raw: r}
	}
	res, err := db.Ingest(recs, IngestOptions{Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected: %+v", res.Rejected)
	}
	return res
}

// readAll gives tenant's events by id as every read path sees them: export, and an OData
// query for each id (the Graph get path), and a count over all of them.
type tenantView struct {
	export map[string][]map[string]any // id → exported events with that id
	get    map[string][]map[string]any // id → rows of "id eq '…'"
	count  int64                       // $count over every event type
}

func readTenant(t *testing.T, db *DB, tenant string, ids []string) tenantView {
	t.Helper()
	v := tenantView{export: map[string][]map[string]any{}, get: map[string][]map[string]any{}}
	if _, err := db.Export(tenant, func(line []byte) error {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return err
		}
		id, _ := m["id"].(string)
		v.export[id] = append(v.export[id], m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		res, err := db.Query(context.Background(), tenant, query.Request{Filter: "id eq '" + id + "'", Top: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range res.Rows {
			var m map[string]any
			if err := json.Unmarshal(row, &m); err != nil {
				t.Fatal(err)
			}
			v.get[id] = append(v.get[id], m)
		}
	}
	res, err := db.Query(context.Background(), tenant, query.Request{
		Filter: "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser' or t eq 'servicePrincipal' or t eq 'managedIdentity')",
		Count:  true, Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	v.count = res.Count
	return v
}

// want checks that id reads as exactly one event with the given user agent on every path.
func (v tenantView) want(t *testing.T, what, id, userAgent string) {
	t.Helper()
	for path, got := range map[string][]map[string]any{"export": v.export[id], "get": v.get[id]} {
		if len(got) != 1 {
			t.Fatalf("%s: %s of %s gives %d events, want 1", what, path, id, len(got))
		}
		if got[0]["userAgent"] != userAgent {
			t.Fatalf("%s: %s of %s gives the %v version, want %s", what, path, id, got[0]["userAgent"], userAgent)
		}
	}
}

func (v tenantView) absent(t *testing.T, what, id string) {
	t.Helper()
	if len(v.export[id]) != 0 || len(v.get[id]) != 0 {
		t.Fatalf("%s: %s is visible (export %d, get %d), want absent", what, id, len(v.export[id]), len(v.get[id]))
	}
}

// Without any trust configured, a tenant's ingest (an HTTP token's tenant, or the CLI's
// --tenant) writes its own log only: a forged cross-tenant sign-in naming another tenant as the
// user's home never reaches that tenant, and cannot make the home tenant's genuine event with
// the same id a "duplicate". Checked with the forged copy in the memtable, in a segment, and
// after a restart.
func TestForgedHomeCopyNeverReachesAnotherTenant(t *testing.T) {
	for _, flushBetween := range []bool{false, true} {
		t.Run(fmt.Sprintf("flush=%v", flushBetween), func(t *testing.T) {
			dir := t.TempDir()
			db := mustOpen(t, dir, testOptions())
			defer func() { db.Close() }()
			at := testNow.Add(-2 * time.Hour)
			x := fenceID(1)

			// Tenant B's writer claims a failed, flagged sign-in of one of A's users.
			if res := ingestAs(t, db, tenantB, crossTenant(x, at, tenantB, tenantA, true)); res.Accepted != 1 {
				t.Fatalf("B's ingest: %+v", res)
			}
			// The same through the operator's default routing (by resourceTenantId).
			y := fenceID(2)
			if res := ingestAs(t, db, "", crossTenant(y, at, tenantB, tenantA, true)); res.Accepted != 1 {
				t.Fatalf("B's event by resourceTenantId: %+v", res)
			}
			if flushBetween {
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			a := readTenant(t, db, tenantA, []string{x, y})
			a.absent(t, "A after B's forgery", x)
			a.absent(t, "A after B's forgery", y)
			if a.count != 0 {
				t.Fatalf("A counts %d events, want 0", a.count)
			}
			if ts := db.Tenants(); len(ts) != 1 || ts[0] != tenantB {
				t.Fatalf("tenants %v, want only B", ts)
			}

			// A's own event with the same id is stored as sent, not answered as a duplicate.
			res := ingestAs(t, db, tenantA, crossTenant(x, at, tenantB, tenantA, false))
			if res.Accepted != 1 || res.Duplicates != 0 {
				t.Fatalf("A's genuine event after B's forgery: %+v, want accepted", res)
			}
			check := func(when string) {
				t.Helper()
				a := readTenant(t, db, tenantA, []string{x, y})
				a.want(t, "A "+when, x, "genuine")
				a.absent(t, "A "+when, y)
				if a.count != 1 {
					t.Fatalf("A %s counts %d events, want 1", when, a.count)
				}
				b := readTenant(t, db, tenantB, []string{x, y})
				b.want(t, "B "+when, x, "forged")
				b.want(t, "B "+when, y, "forged")
			}
			check("before restart")
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = mustOpen(t, dir, testOptions())
			check("after restart")
		})
	}
}

const tenantC = "33333333-3333-4333-8333-333333333333"

// reporter returns the "@authlake.reportedBy" of an event, "" for the tenant's own.
func reporter(m map[string]any) string {
	s, _ := m["@authlake.reportedBy"].(string)
	return s
}

// With trust configured (A accepts B's reports), B's reports of A's users' sign-ins into B
// appear in A's log marked as reported by B; they never shadow A's own event with the same id
// (whether the copy came first or second, on the same day or another), in the memtable, in
// segments, compacted and after restarts; removing the trust removes them from A's reads.
func TestTrustedHomeCopiesMarkedAndNeverShadowOwn(t *testing.T) {
	for _, mode := range []string{"memtable", "segments", "compacted"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.Trust = map[string][]string{tenantA: {tenantB}}
			db := mustOpen(t, dir, opts)
			defer func() { db.Close() }()
			stage := func() {
				t.Helper()
				if mode == "memtable" {
					return
				}
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
				if mode == "compacted" {
					if err := db.CompactAll(); err != nil {
						t.Fatal(err)
					}
				}
			}
			at := testNow.Add(-2 * time.Hour)
			x, y, z, v, u, w := fenceID(11), fenceID(12), fenceID(13), fenceID(14), fenceID(15), fenceID(16)
			ids := []string{x, y, z, v, u, w}

			res := ingestAs(t, db, tenantB,
				crossTenant(x, at, tenantB, tenantA, true),
				crossTenant(y, at, tenantB, tenantA, true),
				crossTenant(z, at.Add(-24*time.Hour), tenantB, tenantA, true), // dated a day before A's own z
				crossTenant(v, at, tenantC, tenantA, true),                    // a sign-in into C is not B's to report
				crossTenant(u, at, tenantB, tenantC, true))                    // C trusts nobody
			if res.Accepted != 5 || res.Duplicates != 0 {
				t.Fatalf("B's ingest: %+v", res)
			}
			stage()
			a := readTenant(t, db, tenantA, ids)
			for _, id := range []string{x, y, z} {
				a.want(t, "A with B's reports", id, "forged")
				if got := reporter(a.export[id][0]); got != tenantB {
					t.Fatalf("A's copy of %s reads reportedBy %q, want %s", id, got, tenantB)
				}
			}
			a.absent(t, "A", v)
			a.absent(t, "A", u)
			if c := readTenant(t, db, tenantC, ids); len(c.export) != 0 {
				t.Fatalf("untrusting C holds %d events", len(c.export))
			}
			if ts := db.Tenants(); len(ts) != 1 || ts[0] != tenantB {
				t.Fatalf("tenants %v: copies are not a tenant's own log", ts)
			}

			// A's own events with the ids of copies: stored as sent, served instead of them.
			res = ingestAs(t, db, tenantA, crossTenant(x, at, tenantB, tenantA, false), crossTenant(z, at, tenantB, tenantA, false))
			if res.Accepted != 2 || res.Duplicates != 0 {
				t.Fatalf("A's own events after B's copies: %+v", res)
			}
			stage()
			// A's own event first, then B's report of it: the copy never shows beside it.
			ingestAs(t, db, tenantA, crossTenant(w, at, tenantB, tenantA, false))
			if res := ingestAs(t, db, tenantB, crossTenant(w, at, tenantB, tenantA, true)); res.Accepted != 1 {
				t.Fatalf("B's report of w: %+v (B's own log stores it)", res)
			}
			if res := ingestAs(t, db, tenantB, crossTenant(x, at, tenantB, tenantA, true)); res.Duplicates != 1 {
				t.Fatalf("B re-sends x: %+v", res)
			}
			stage()

			check := func(when string, trusted bool) {
				t.Helper()
				a := readTenant(t, db, tenantA, ids)
				for _, id := range []string{x, z, w} {
					a.want(t, "A "+when, id, "genuine")
					if got := reporter(a.export[id][0]); got != "" {
						t.Fatalf("A %s: own %s reads reportedBy %q", when, id, got)
					}
				}
				want := int64(3)
				if trusted {
					a.want(t, "A "+when, y, "forged")
					if reporter(a.get[y][0]) != tenantB || reporter(a.export[y][0]) != tenantB {
						t.Fatalf("A %s: copy %s not marked", when, y)
					}
					want++
				} else {
					a.absent(t, "A "+when+" without trust", y)
				}
				if a.count != want {
					t.Fatalf("A %s counts %d events, want %d", when, a.count, want)
				}
				// Aggregates see the same events.
				res, err := db.Query(context.Background(), tenantA, query.Request{Apply: "groupby((userAgent),aggregate($count as n))"})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]int64{}
				for _, g := range res.Groups {
					ua, _ := g.Keys["userAgent"].(string)
					n, _ := g.Values["n"].(int64)
					got[ua] = n
				}
				if got["genuine"] != 3 || got["forged"] != want-3 {
					t.Fatalf("A %s: groups %v, want 3 genuine and %d forged", when, got, want-3)
				}
				// The mark survives $select: it says whose event the row is.
				sel, err := db.Query(context.Background(), tenantA, query.Request{Filter: "id eq '" + y + "' or id eq '" + x + "'", Select: []string{"id"}, Top: 10})
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range sel.Rows {
					s := string(row)
					if strings.Contains(s, x) == strings.Contains(s, "@authlake.reportedBy") {
						t.Fatalf("A %s: $select row %s", when, s)
					}
				}
				b := readTenant(t, db, tenantB, ids)
				for _, id := range ids {
					b.want(t, "B "+when, id, "forged")
					if got := reporter(b.export[id][0]); got != "" {
						t.Fatalf("B %s: its own %s reads reportedBy %q", when, id, got)
					}
				}
			}
			check("before restart", true)
			reopen := func(o Options) {
				t.Helper()
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				db = mustOpen(t, dir, o)
			}
			reopen(opts)
			check("after restart", true)
			reopen(testOptions())
			check("with the trust removed", false)
			reopen(opts)
			check("with the trust back", true)
			if st := db.Stats(); !slices.ContainsFunc(st.Tenants, func(ts TenantStats) bool { return ts.Tenant == tenantA && ts.ReportedBy == tenantB }) {
				t.Fatalf("stats do not show A's copies from B: %+v", st.Tenants)
			}
		})
	}
}

// A copy that arrived first and is shadowed later is hidden on every path, also when the own
// event and the copy are committed in one call and when retention later drops the own event's
// day (the copy, dated a later day, shows again: there is no own event left to win).
func TestShadowedCopyAcrossCallsAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := testNow
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	opts.Retention = 3
	opts.Trust = map[string][]string{tenantA: {tenantB}}
	db := mustOpen(t, dir, opts)
	defer func() { db.Close() }()
	old, recent := testNow.Add(-50*time.Hour), testNow.Add(-time.Hour)
	x, y := fenceID(21), fenceID(22)
	// One operator call routed by resourceTenantId: B's report of x before A's own x.
	res := ingestAs(t, db, "",
		crossTenant(x, recent, tenantB, tenantA, true),
		crossTenant(x, old, tenantA, tenantA, false),
		crossTenant(y, recent, tenantB, tenantA, true))
	if res.Accepted != 3 {
		t.Fatalf("ingest: %+v", res)
	}
	a := readTenant(t, db, tenantA, []string{x, y})
	a.want(t, "A", x, "genuine")
	a.want(t, "A", y, "forged")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	readTenant(t, db, tenantA, []string{x, y}).want(t, "A flushed", x, "genuine")

	// Two days later A's own x (50 hours old then 98) is past retention; B's copy is not.
	now = testNow.Add(48 * time.Hour)
	if err := db.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	a = readTenant(t, db, tenantA, []string{x, y})
	a.want(t, "A after retention", x, "forged")
	a.want(t, "A after retention", y, "forged")
}

// Names and marks no ingest may use.
func TestCopyNamespaceAndMarkAreReserved(t *testing.T) {
	opts := testOptions()
	opts.Trust = map[string][]string{tenantA: {tenantB}}
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	ingestAs(t, db, tenantB, crossTenant(fenceID(31), testNow.Add(-time.Hour), tenantB, tenantA, true))
	ns := tenantA + "~" + tenantB
	if _, err := db.Snapshot(ns); err == nil {
		t.Fatal("a snapshot of the copy namespace was taken")
	}
	if _, err := db.Ingest([]Record{{Raw: crossTenant(fenceID(32), testNow, tenantA, tenantA, false)}}, IngestOptions{Tenant: ns}); err == nil {
		t.Fatal("ingest into the copy namespace was accepted")
	}
	var m map[string]any
	json.Unmarshal(crossTenant(fenceID(33), testNow.Add(-time.Hour), tenantA, tenantA, true), &m)
	m["@authlake.reportedBy"] = tenantB
	raw, _ := json.Marshal(m)
	res, err := db.Ingest([]Record{{Raw: raw}}, IngestOptions{Tenant: tenantA})
	if err != nil || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, "reserved") {
		t.Fatalf("a record carrying the copy mark: %+v %v", res, err)
	}
	m["resourceTenantId"] = ns
	raw, _ = json.Marshal(m)
	res, err = db.Ingest([]Record{{Raw: raw}}, IngestOptions{})
	if err != nil || len(res.Rejected) != 1 {
		t.Fatalf("a resourceTenantId naming the copy namespace: %+v %v", res, err)
	}

	for _, bad := range []map[string][]string{{tenantA: {tenantA}}, {"../x": {tenantB}}, {tenantA: {"a~b"}}} {
		o := testOptions()
		o.Trust = bad
		if db, err := Open(t.TempDir(), o); err == nil {
			db.Close()
			t.Fatalf("trust %v accepted", bad)
		}
	}
}

// A copy segment's hidden rows are cached per shadow log prefix: a snapshot that saw a shorter
// prefix than a later one gets exactly the rows of its prefix, and bitmaps already handed out
// are never changed.
func TestHiddenRowsFollowTheSnapshotsPrefix(t *testing.T) {
	opts := testOptions()
	opts.Trust = map[string][]string{tenantA: {tenantB}}
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	at := testNow.Add(-time.Hour)
	x, y := fenceID(41), fenceID(42)
	ingestAs(t, db, tenantB, crossTenant(x, at, tenantB, tenantA, true), crossTenant(y, at, tenantB, tenantA, true))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	ingestAs(t, db, tenantA, crossTenant(x, at, tenantB, tenantA, false))
	ingestAs(t, db, tenantA, crossTenant(y, at, tenantB, tenantA, false))
	db.mu.RLock()
	h := db.homes[tenantA]
	seg := db.parts[partKey{copyNamespace(tenantA, tenantB), dayOf(at.UnixNano())}].segs[0]
	log := h.log
	db.mu.RUnlock()
	if len(log) != 2 {
		t.Fatalf("shadow log %d entries, want 2", len(log))
	}
	both, err := seg.hiddenFor(h.epoch, log)
	if err != nil || both.GetCardinality() != 2 {
		t.Fatalf("hidden by both: %v %v", both, err)
	}
	first, err := seg.hiddenFor(h.epoch, log[:1])
	if err != nil || first.GetCardinality() != 1 {
		t.Fatalf("hidden by the first: %v %v", first, err)
	}
	rows, _ := seg.idRows(nil, log[0][:])
	if !first.Contains(rows[0]) || both.GetCardinality() != 2 {
		t.Fatalf("prefix rows %v (want row %d), full rows %v", first, rows[0], both)
	}
	if none, err := seg.hiddenFor(h.epoch, nil); err != nil || none != nil && !none.IsEmpty() {
		t.Fatalf("hidden by nothing: %v %v", none, err)
	}
}

// Concurrent reports, own events, flushes and reads: no read ever shows an id twice, and in the
// end every id reads as the tenant's own event.
func TestConcurrentCopiesAndOwnEventsNeverBothVisible(t *testing.T) {
	opts := testOptions()
	opts.Trust = map[string][]string{tenantA: {tenantB}}
	db := mustOpen(t, t.TempDir(), opts)
	defer db.Close()
	const n = 120
	at := testNow.Add(-time.Hour)
	done := make(chan error, 4)
	go func() { // B reports, in order
		for i := range n {
			if _, err := db.Ingest([]Record{{Raw: crossTenant(fenceID(1000+i), at, tenantB, tenantA, true)}}, IngestOptions{Tenant: tenantB}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() { // A's own events, in reverse order
		for i := n - 1; i >= 0; i-- {
			if _, err := db.Ingest([]Record{{Raw: crossTenant(fenceID(1000+i), at, tenantB, tenantA, false)}}, IngestOptions{Tenant: tenantA}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for range 6 {
			if err := db.Flush(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for range 30 {
			seen := map[string]bool{}
			_, err := db.Export(tenantA, func(line []byte) error {
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					return err
				}
				id := m["id"].(string)
				if seen[id] {
					return fmt.Errorf("%s read twice", id)
				}
				seen[id] = true
				return nil
			})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := range n {
		ids = append(ids, fenceID(1000+i))
	}
	a := readTenant(t, db, tenantA, ids)
	for _, id := range ids {
		a.want(t, "A", id, "genuine")
	}
}
