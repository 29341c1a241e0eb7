package flagging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/flagging"
	"github.com/authlake/authlake/engine/wal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a controlled clock shared by the manager and the engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const tenant = "11111111-2222-3333-4444-555555555555"

type ev struct {
	id, upn, uid, device, browser, os, ua string
	at                                    time.Time
}

func (e ev) json() []byte {
	m := map[string]any{
		"id": e.id, "createdDateTime": e.at.UTC().Format(time.RFC3339Nano),
		"userPrincipalName": e.upn, "userId": e.uid, "userAgent": e.ua,
		"resourceTenantId": tenant, "signInEventTypes": []string{"interactiveUser"},
		"status":       map[string]any{"errorCode": 50126, "failureReason": "Invalid username or password."},
		"deviceDetail": map[string]any{"deviceId": e.device, "browser": e.browser, "operatingSystem": e.os},
	}
	b, _ := json.Marshal(m)
	return b
}

func guid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func openDB(t *testing.T, dir string, c *clock) *engine.DB {
	t.Helper()
	db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, DisableBackground: true, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func ingest(t *testing.T, db *engine.DB, evs ...ev) {
	t.Helper()
	recs := make([]engine.Record, len(evs))
	for i, e := range evs {
		recs[i] = engine.Record{Raw: e.json()}
	}
	res, err := db.Ingest(recs, engine.IngestOptions{Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 || res.Accepted != len(evs) {
		t.Fatalf("ingest: %+v", res)
	}
}

// flagged returns the ids stored with flaggedForReview=true, sorted.
func flagged(t *testing.T, db *engine.DB) []string {
	t.Helper()
	var ids []string
	_, err := db.Export(tenant, func(line []byte) error {
		var r struct {
			ID      string `json:"id"`
			Flagged bool   `json:"flaggedForReview"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Flagged {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func TestWindowFlagsOnlySameUserClientAndTime(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	m, err := flagging.Open(filepath.Join(dir, flagging.Dir), flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	db := openDB(t, dir, c)
	defer db.Close()
	db.SetFlagger(m.Flag)

	start := c.Now()
	edge := flagging.Client{Browser: "Edge 122.0.0", OperatingSystem: "Windows 10", UserAgent: "UA-edge"}
	w, err := m.Start(tenant, flagging.StartRequest{UserPrincipalName: "Avery@Contoso.com", Client: edge})
	if err != nil {
		t.Fatal(err)
	}
	if w.End.Sub(w.Start) != 20*time.Minute {
		t.Fatalf("window length %v", w.End.Sub(w.Start))
	}
	wd, err := m.Start(tenant, flagging.StartRequest{UserID: "AAAAAAAA-0000-0000-0000-000000000001", Client: flagging.Client{DeviceID: "dev-1"}})
	if err != nil {
		t.Fatal(err)
	}
	avery := func(n int, at time.Duration, browser, os, ua string) ev {
		return ev{id: guid(n), upn: "avery@contoso.com", uid: "u-avery", browser: browser, os: os, ua: ua, at: start.Add(at)}
	}
	bo := func(n int, at time.Duration, device string) ev {
		return ev{id: guid(n), upn: "bo@contoso.com", uid: "aaaaaaaa-0000-0000-0000-000000000001", device: device, browser: "Chrome 120", os: "macOS", at: start.Add(at)}
	}
	c.Advance(5 * time.Minute)
	ingest(t, db,
		avery(1, 0, "Edge 122.0.0", "Windows 10", "UA-edge"),                             // first instant: flagged
		avery(2, 19*time.Minute+59*time.Second, "Edge 122.0.0", "Windows 10", "UA-edge"), // last second: flagged
		avery(3, 20*time.Minute, "Edge 122.0.0", "Windows 10", "UA-edge"),                // window end is exclusive
		avery(4, -time.Second, "Edge 122.0.0", "Windows 10", "UA-edge"),                  // before the window
		avery(5, time.Minute, "Firefox 120", "Windows 10", "UA-edge"),                    // other browser
		avery(6, time.Minute, "Edge 122.0.0", "Windows 11", "UA-edge"),                   // other OS
		avery(7, time.Minute, "Edge 122.0.0", "Windows 10", "UA-other"),                  // other user agent
		ev{id: guid(8), upn: "someone@contoso.com", browser: "Edge 122.0.0", os: "Windows 10", ua: "UA-edge", at: start.Add(time.Minute)},
		bo(9, 2*time.Minute, "dev-1"),  // device match (userId compared case-insensitively)
		bo(10, 2*time.Minute, "dev-2"), // other device of the same user
		bo(11, 2*time.Minute, ""),      // no device id: the window is keyed by device
	)
	want := []string{guid(1), guid(2), guid(9)}
	if got := flagged(t, db); !slices.Equal(got, want) {
		t.Fatalf("flagged %v, want %v", got, want)
	}
	if got := m.Active(tenant); len(got) != 2 || got[0].ID != w.ID || got[1].ID != wd.ID {
		t.Fatalf("active windows %+v", got)
	}
	if got := m.Active("other-tenant"); len(got) != 0 {
		t.Fatalf("other tenant sees windows: %+v", got)
	}

	// Stopping the device window: later sign-ins are not flagged, a late-arriving earlier one is.
	c.Advance(5 * time.Minute) // now = start+10m
	if _, err := m.Stop(tenant, wd.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stop(tenant, wd.ID); !errors.Is(err, flagging.ErrNotFound) {
		t.Fatalf("second stop: %v", err)
	}
	ingest(t, db, bo(12, 11*time.Minute, "dev-1"), bo(13, 9*time.Minute, "dev-1"))
	want = []string{guid(1), guid(2), guid(9), guid(13)}
	if got := flagged(t, db); !slices.Equal(got, want) {
		t.Fatalf("after stop flagged %v, want %v", got, want)
	}

	// After the window and its late-arrival allowance, nothing is flagged any more.
	c.Advance(20*time.Minute + flagging.DefaultLateArrival)
	ingest(t, db, avery(14, 10*time.Minute, "Edge 122.0.0", "Windows 10", "UA-edge"))
	if got := flagged(t, db); slices.Contains(got, guid(14)) {
		t.Fatalf("event ingested after the window expired was flagged: %v", got)
	}
	if got := m.Active(tenant); len(got) != 0 {
		t.Fatalf("expired windows still active: %+v", got)
	}
}

func TestWindowsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, flagging.Dir)
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	m, err := flagging.Open(path, flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Start(tenant, flagging.StartRequest{UserPrincipalName: "avery@contoso.com", Client: flagging.Client{DeviceID: "dev-9"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, err := flagging.Open(path, flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m2.Get(tenant, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Start.Equal(w.Start) || got.Client != w.Client || got.UserPrincipalName != w.UserPrincipalName {
		t.Fatalf("reloaded %+v, want %+v", got, w)
	}
	db := openDB(t, dir, c)
	defer db.Close()
	db.SetFlagger(m2.Flag)
	ingest(t, db, ev{id: guid(1), upn: "avery@contoso.com", device: "dev-9", at: w.Start.Add(30 * time.Second)})
	if got := flagged(t, db); !slices.Equal(got, []string{guid(1)}) {
		t.Fatalf("flagged after restart: %v", got)
	}
	// Long after expiry a reopen drops the window from the file.
	c.Advance(time.Hour)
	m2.Close()
	m3, err := flagging.Open(path, flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close()
	if _, err := m3.Get(tenant, w.ID); !errors.Is(err, flagging.ErrNotFound) {
		t.Fatalf("expired window after reopen: %v", err)
	}
}

func TestStartValidation(t *testing.T) {
	m, err := flagging.Open(filepath.Join(t.TempDir(), flagging.Dir), flagging.Options{MaxPerTenant: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bad := []flagging.StartRequest{
		{Client: flagging.Client{DeviceID: "d"}},                                 // no user
		{UserPrincipalName: "a@b.c"},                                             // no client
		{UserPrincipalName: "a@b.c", Client: flagging.Client{Browser: "Edge 1"}}, // browser without OS
		{UserPrincipalName: "a@b.c", Client: flagging.Client{DeviceID: "   "}},   // blank device
	}
	for i, r := range bad {
		if _, err := m.Start(tenant, r); !errors.Is(err, flagging.ErrInvalid) {
			t.Errorf("case %d: got %v, want ErrInvalid", i, err)
		}
	}
	ok := flagging.StartRequest{UserPrincipalName: "a@b.c", Client: flagging.Client{DeviceID: "d"}}
	for i := 0; i < 2; i++ {
		if _, err := m.Start(tenant, ok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Start(tenant, ok); !errors.Is(err, flagging.ErrTooMany) {
		t.Fatalf("third window: %v", err)
	}
}

// An earlier version's windows file is imported once into the log and removed; the windows
// flag as before and survive the next restart.
func TestLegacyWindowsFileImported(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	legacy := filepath.Join(dir, flagging.LegacyFile)
	start := c.Now().Add(-5 * time.Minute)
	doc := fmt.Sprintf(`{"version":1,"windows":[{"id":"w-1","tenant":%q,"userPrincipalName":"avery@contoso.com","client":{"deviceId":"dev-9"},"start":%q,"end":%q}]}`,
		tenant, start.Format(time.RFC3339), start.Add(flagging.WindowLength).Format(time.RFC3339))
	if err := os.WriteFile(legacy, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		m, err := flagging.Open(filepath.Join(dir, flagging.Dir), flagging.Options{Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(legacy); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: the legacy file is still there (%v)", round, err)
		}
		if w, err := m.Get(tenant, "w-1"); err != nil || w.UserPrincipalName != "avery@contoso.com" {
			t.Fatalf("round %d: imported window %+v, %v", round, w, err)
		}
		m.Close()
	}
}

// A flipped bit in a logged window is refused with the file and offset, never read as another
// window (the JSON file of earlier versions would have taken "avery" for "avesy").
func TestWindowsLogBitFlipRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), flagging.Dir)
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	m, err := flagging.Open(dir, flagging.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := m.Start(tenant, flagging.StartRequest{UserPrincipalName: fmt.Sprintf("avery%d@contoso.com", i), Client: flagging.Client{DeviceID: "dev-9"}}); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if len(files) == 0 {
		t.Fatal("no log file")
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("avery0"))
	if i < 0 {
		t.Fatal("the first window is not in the last log file")
	}
	b[i+3] ^= 0x04 // r → v
	if err := os.WriteFile(files[len(files)-1], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := flagging.Open(dir, flagging.Options{Now: c.Now}); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open over a flipped bit: %v, want ErrCorrupt", err)
	}
}
