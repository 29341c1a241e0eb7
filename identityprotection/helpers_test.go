package identityprotection

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	l := buildLabelled(t, t.TempDir(), events, seed, per)
	t.Cleanup(l.close)
	return l
}

// buildLabelled is newLabelled in dir, open until the caller closes it.
func buildLabelled(t testing.TB, dir string, events int, seed uint64, per int) *labelled {
	t.Helper()
	bg := genLines(t, events, seed)
	out, err := attacks.Inject(bg, attacks.Config{Seed: seed, PerScenario: per})
	if err != nil {
		t.Fatal(err)
	}
	l := &labelled{tenant: gen.DefaultTenant, out: out, now: backgroundEnd().Add(24 * time.Hour), users: map[string]UserRef{}}
	l.open(t, dir)
	ingest(t, l.db, bg)
	ingest(t, l.db, out.Events)
	if err := l.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.store.ImportIPList("anonymous", "tor.txt", []byte(strings.Join(out.AnonymousIPs, "\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := l.store.ImportIPList("threat", "threat.txt", []byte(strings.Join(out.ThreatIPs, "\n"))); err != nil {
		t.Fatal(err)
	}
	for _, line := range bg {
		e, err := ParseEvent(line)
		if err == nil && e.UserID != "" {
			l.users[e.UserID] = UserRef{ID: e.UserID, UPN: e.UPN, DisplayName: e.UserDisplayName}
		}
	}
	return l
}

// open opens the database and the store in dir.
func (l *labelled) open(t testing.TB, dir string) {
	t.Helper()
	l.db = openDB(t, dir, l.now)
	st, err := Open(Dir(dir), Options{Now: func() time.Time { return l.now }, NoSync: true})
	if err != nil {
		l.db.Close()
		t.Fatal(err)
	}
	l.store = st
}

func (l *labelled) close() {
	l.store.Close()
	l.db.Close()
}

// sharedLabelled is a labelled database and store, with detection run, built once per test
// binary and copied into each test's own directory: two tests of the Graph API start from the
// same state, and building it (40,000 events ingested, detection run) was about 25 s of each
// under the race detector.
var sharedLabelled struct {
	once sync.Once
	dir  string
	l    *labelled // closed; its files are in dir
	err  error
}

// TestMain removes the shared fixture's directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedLabelled.dir != "" {
		os.RemoveAll(sharedLabelled.dir)
	}
	os.Exit(code)
}

// copyOfRunLabelled returns a copy, in its own directory, of newLabelled(t, 40000, 11, 4)
// after its detection run.
func copyOfRunLabelled(t *testing.T) *labelled {
	t.Helper()
	sharedLabelled.once.Do(func() {
		dir, err := os.MkdirTemp("", "identityprotection-fixture-")
		if err != nil {
			sharedLabelled.err = err
			return
		}
		sharedLabelled.dir = dir
		l := buildLabelled(t, dir, 40000, 11, 4)
		l.run(t, JobOptions{})
		l.close()
		sharedLabelled.l = l
	})
	if sharedLabelled.l == nil {
		t.Fatalf("shared fixture: %v", sharedLabelled.err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dir, os.DirFS(sharedLabelled.dir)); err != nil {
		t.Fatal(err)
	}
	l := *sharedLabelled.l
	l.open(t, dir)
	t.Cleanup(l.close)
	return &l
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
