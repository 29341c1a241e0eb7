package identityprotection

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/engine/wal"
)

// riskyStore is a store in dir with one detection and one admin action of user u9.
func riskyStore(t *testing.T, dir string) (before string) {
	t.Helper()
	st, err := Open(dir, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := craftEvent("req-9", "u9", fixedNow().Add(-time.Hour))
	if _, err := st.AddDetections("t", []Detection{signinDetection("t", TypeAnonymizedIP, LevelMedium, TimingRealtime, e, fixedNow())}); err != nil {
		t.Fatal(err)
	}
	if err := st.UserAction("t", EvConfirmCompromised, "admin", []UserRef{{ID: "u9", UPN: "u9@contoso.com"}}); err != nil {
		t.Fatal(err)
	}
	u, _ := st.RiskyUser("t", "u9")
	return u.RiskState
}

// TestRiskLogBitFlipRefused: the risk log is checksummed, so a flipped bit inside a record
// that later records follow is corruption that Open reports (with the file), not a changed
// risk state served as true. (A damaged last record cannot be told from a torn append; the
// log drops it, as the engine's WAL does: docs/format/wal.md.)
func TestRiskLogBitFlipRefused(t *testing.T) {
	dir := t.TempDir()
	riskyStore(t, dir)
	path := lastLogFile(t, dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"op":"detect"`)
	if i < 0 || !strings.Contains(string(b[i:]), `"op":"action"`) {
		t.Fatal("the detection is not followed by the action in the log")
	}
	b[i+7] ^= 0x01 // "detect" → "eetect": still valid JSON
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Now: fixedNow})
	if !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(path)) {
		t.Fatalf("a flipped bit in the risk log: %v", err)
	}
}

// TestRiskLogLegacyImported: a store written by an earlier version (risk.log, JSON lines) opens
// with the same state, carried into the checksummed log, and the old file is gone.
func TestRiskLogLegacyImported(t *testing.T) {
	dir := t.TempDir()
	want := riskyStore(t, dir)
	// Recreate the old layout: the same records as JSON lines, with a torn last line.
	var lines []string
	l, err := wal.Open(filepath.Join(dir, logDir), wal.Options{ReadOnly: true, NoLock: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(func(_ wal.Pos, p []byte) error { lines = append(lines, string(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	legacy := strings.Join(lines, "\n") + "\n" + `{"op":"action","tenant":"t","act":{"kind":"dism`
	if err := os.RemoveAll(filepath.Join(dir, logDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, legacyLog), []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		st, err := Open(dir, Options{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := st.RiskyUser("t", "u9")
		h, _ := st.History("t", "u9")
		st.Close()
		if u.RiskState != want || len(h) != 2 {
			t.Fatalf("round %d: state %q (want %q), history %d", round, u.RiskState, want, len(h))
		}
		if _, err := os.Stat(filepath.Join(dir, legacyLog)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("round %d: risk.log still there (%v)", round, err)
		}
	}
}

// TestRiskStoreReadOnly: a read-only store reads the state beside a writer that holds the log,
// changes nothing on disk and refuses changes.
func TestRiskStoreReadOnly(t *testing.T) {
	dir := t.TempDir()
	want := riskyStore(t, dir)
	writer, err := Open(dir, Options{Now: fixedNow}) // holds the log's lock
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	before := listing(t, dir)
	ro, err := Open(dir, Options{Now: fixedNow, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only beside a writer: %v", err)
	}
	if u, _ := ro.RiskyUser("t", "u9"); u.RiskState != want {
		t.Fatalf("read-only state %q, want %q", u.RiskState, want)
	}
	if err := ro.UserAction("t", EvDismiss, "admin", []UserRef{{ID: "u9"}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a change through a read-only store: %v", err)
	}
	if err := ro.SetTenantConfig("t", TenantConfig{}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a config change through a read-only store: %v", err)
	}
	ro.Close()
	if after := listing(t, dir); after != before {
		t.Fatalf("a read-only open changed the directory:\n%s\n---\n%s", before, after)
	}
	// And on a directory with no store at all it creates nothing.
	empty := t.TempDir()
	if st, err := Open(empty, Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	} else {
		st.Close()
	}
	if l := listing(t, empty); l != "" {
		t.Fatalf("a read-only open of nothing created:\n%s", l)
	}
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, _ := d.Info()
		b.WriteString(p + " " + info.ModTime().String())
		if !d.IsDir() {
			b.WriteString(" " + string(rune(info.Size())))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}
