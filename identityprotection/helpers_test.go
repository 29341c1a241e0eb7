package identityprotection

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/identityprotection/attacks"
	"github.com/authlake/authlake/internal/clocktest"
)

// labelled is a database holding generated background traffic plus injected attacks,
// with a store that has the attack lists imported.
type labelled struct {
	db     *engine.DB
	store  *Store
	tenant string
	out    *attacks.Output
	now    time.Time
	users  map[string]UserRef
}

// backgroundEnd is where generated background sign-ins end: a day before the tests' clock.
func backgroundEnd() time.Time { return clocktest.Epoch().Add(-24 * time.Hour) }

func genLines(t testing.TB, events int, seed uint64) [][]byte {
	t.Helper()
	g := gen.New(gen.Config{Events: events, Seed: seed, Days: 30, End: backgroundEnd()})
	var out [][]byte
	for {
		l, ok := g.Next(nil)
		if !ok {
			break
		}
		out = append(out, bytes.TrimRight(l, "\n"))
	}
	return out
}

func openDB(t testing.TB, dir string, now time.Time) *engine.DB {
	t.Helper()
	db, err := engine.Open(dir, engine.Options{DisableBackground: true, NoSync: true, Retention: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func ingest(t testing.TB, db *engine.DB, lines [][]byte) {
	t.Helper()
	recs := make([]engine.Record, len(lines))
	for i, l := range lines {
		recs[i] = engine.Record{Raw: l}
	}
	for len(recs) > 0 {
		n := min(len(recs), 5000)
		res, err := db.Ingest(recs[:n], engine.IngestOptions{Tenant: gen.DefaultTenant})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("rejected: %+v", res.Rejected[0])
		}
		recs = recs[n:]
	}
}

func newLabelled(t testing.TB, events int, seed uint64, per int) *labelled {
	t.Helper()
	bg := genLines(t, events, seed)
	out, err := attacks.Inject(bg, attacks.Config{Seed: seed, PerScenario: per})
	if err != nil {
		t.Fatal(err)
	}
	now := backgroundEnd().Add(24 * time.Hour)
	dir := t.TempDir()
	db := openDB(t, dir, now)
	t.Cleanup(func() { db.Close() })
	ingest(t, db, bg)
	ingest(t, db, out.Events)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := Open(Dir(dir), Options{Now: func() time.Time { return now }, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.ImportIPList("anonymous", "tor.txt", []byte(strings.Join(out.AnonymousIPs, "\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportIPList("threat", "threat.txt", []byte(strings.Join(out.ThreatIPs, "\n"))); err != nil {
		t.Fatal(err)
	}
	users := map[string]UserRef{}
	for _, l := range bg {
		e, err := ParseEvent(l)
		if err == nil && e.UserID != "" {
			users[e.UserID] = UserRef{ID: e.UserID, UPN: e.UPN, DisplayName: e.UserDisplayName}
		}
	}
	return &labelled{db: db, store: st, tenant: gen.DefaultTenant, out: out, now: now, users: users}
}

func (l *labelled) run(t testing.TB, opts JobOptions) JobResult {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return l.now }
	}
	res, err := RunDetection(context.Background(), l.db, l.store, l.tenant, opts)
	if err != nil && err != ErrInterrupted {
		t.Fatal(err)
	}
	return res
}

func (l *labelled) importLeaks(t testing.TB) {
	t.Helper()
	_, unknown, err := l.store.ImportLeaks(l.tenant, "leaks.csv", []byte(strings.Join(l.out.LeakedUsers, "\n")),
		func(id string) (UserRef, bool) { u, ok := l.users[id]; return u, ok })
	if err != nil || len(unknown) > 0 {
		t.Fatal(err, unknown)
	}
}

var _ = context.Background
