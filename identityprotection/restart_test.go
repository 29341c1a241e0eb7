package identityprotection

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func ids(dets []Detection) []string {
	var out []string
	for _, d := range dets {
		out = append(out, d.ID)
	}
	sort.Strings(out)
	return out
}

// TestInterruptedJobResumes: a job killed after two chunks (detections stored, cursor not
// saved) and restarted, with the store reopened from its log, ends with exactly the
// detections of an uninterrupted run.
func TestInterruptedJobResumes(t *testing.T) {
	l := newLabelled(t, 30000, 5, 3)
	opts := JobOptions{Chunk: 24 * time.Hour}

	full, err := Open(t.TempDir(), Options{NoSync: true, Now: func() time.Time { return l.now }})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	anon, threat := l.store.Lists()
	for _, s := range []*Store{full} {
		s.anon, s.threat = anon, threat
	}
	ref, err := RunDetection(t.Context(), l.db, full, l.tenant, JobOptions{Chunk: 24 * time.Hour, Now: func() time.Time { return l.now }})
	if err != nil || ref.Detections == 0 {
		t.Fatal(err, ref)
	}

	opts.StopAfterChunks = 20
	r1 := l.run(t, opts)
	if r1.Detections == 0 || r1.Detections >= ref.Detections {
		t.Fatalf("interrupted run stored %d of %d", r1.Detections, ref.Detections)
	}
	dir := l.store.dir
	l.store.Close()
	st, err := Open(dir, Options{NoSync: true, Now: func() time.Time { return l.now }})
	if err != nil {
		t.Fatal(err)
	}
	l.store = st
	defer st.Close()
	opts.StopAfterChunks = 0
	r2 := l.run(t, opts)
	if r2.Resumed.IsZero() {
		t.Error("second run did not resume from a cursor")
	}
	got, want := ids(st.Detections(l.tenant)), ids(full.Detections(l.tenant))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after resume %d detections, uninterrupted %d", len(got), len(want))
	}
	// A third run finds nothing new.
	if r3 := l.run(t, opts); r3.Detections != 0 || r3.Observations != 0 {
		t.Errorf("re-run added %d detections", r3.Detections)
	}
}

// TestOverlayReplay: actions and detections survive a restart, a torn last log line is
// dropped, and Compact keeps the same state.
func TestOverlayReplay(t *testing.T) {
	dir := t.TempDir()
	st, _ := Open(dir, Options{NoSync: true, Now: fixedNow})
	e := craftEvent("req-9", "u9", fixedNow().Add(-time.Hour))
	st.AddDetections("t", []Detection{signinDetection("t", TypeAnonymizedIP, LevelMedium, TimingRealtime, e, fixedNow())})
	st.SigninAction("t", ActSigninConfirmCompromised, "admin", []SigninRef{{RequestID: "req-9", User: UserRef{ID: "u9"}, At: e.Time}})
	st.UserAction("t", EvConfirmCompromised, "admin", []UserRef{{ID: "u9", UPN: "u9@contoso.com"}})
	row := []byte(`{"id":"req-9","riskState":"none","riskLevelAggregated":"none"}`)
	before := string(st.MergeSignIn("t", row))
	hBefore, _ := st.History("t", "u9")
	st.Close()
	// a crash in the middle of an append: half a frame after the last record
	f, _ := os.OpenFile(lastLogFile(t, dir), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\x2a\x00\x00\x00half a frame")
	f.Close()
	for round := 0; round < 2; round++ {
		st, err := Open(dir, Options{NoSync: true, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(st.MergeSignIn("t", row)); got != before || !strings.Contains(got, `"riskState":"confirmedCompromised"`) {
			t.Errorf("round %d overlay: %s", round, got)
		}
		h, _ := st.History("t", "u9")
		if len(h) != len(hBefore) || h[len(h)-1].RiskState != StateConfirmedCompromised {
			t.Errorf("round %d history: %+v", round, h)
		}
		if len(st.Detections("t")) != 2 { // anonymized + adminConfirmedUserCompromised
			t.Errorf("round %d detections: %d", round, len(st.Detections("t")))
		}
		if round == 0 {
			if err := st.Compact(); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
	}
}

func TestRetentionAndExportCaps(t *testing.T) {
	now := fixedNow()
	st, _ := Open(t.TempDir(), Options{NoSync: true, Now: func() time.Time { return now }})
	defer st.Close()
	var dets []Detection
	for i := 0; i < 5200; i++ {
		e := craftEvent("r"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+time.Duration(i).String(), "u"+time.Duration(i%3000).String(), now.Add(-time.Duration(i)*time.Minute))
		dets = append(dets, signinDetection("t", TypeUnfamiliarFeatures, LevelMedium, TimingRealtime, e, now))
	}
	old := craftEvent("old-low", "old-user", now.Add(-200*24*time.Hour))
	dets = append(dets, signinDetection("t", TypeNewCountry, LevelLow, TimingOffline, old, old.Time))
	mid := craftEvent("mid-med", "mid-user", now.Add(-100*24*time.Hour))
	dets = append(dets, signinDetection("t", TypeUnlikelyTravel, LevelMedium, TimingOffline, mid, mid.Time))
	if _, err := st.AddDetections("t", dets); err != nil {
		t.Fatal(err)
	}
	// reports: detections 90 days, export caps
	all, err := ExportAll(func(r ListRequest) (ListResult, error) { return st.ListDetections("t", r) }, ListRequest{}, ExportDetectionsCap)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != ExportDetectionsCap {
		t.Errorf("detections export: %d rows, want the cap %d", len(all), ExportDetectionsCap)
	}
	if all[0]["activityDateTime"].(string) < all[len(all)-1]["activityDateTime"].(string) {
		t.Error("export is not newest first")
	}
	users, _ := ExportAll(func(r ListRequest) (ListResult, error) { return st.ListRiskyUsers("t", r) }, ListRequest{}, ExportUsersCap)
	if len(users) != ExportUsersCap {
		t.Errorf("users export: %d", len(users))
	}
	var buf bytes.Buffer
	n, err := Export(&buf, "csv", users, []string{"id", "riskLevel", "riskState"}, ExportUsersCap)
	if err != nil || n != ExportUsersCap || strings.Count(buf.String(), "\n") != ExportUsersCap+1 || !strings.HasPrefix(buf.String(), "id,riskLevel,riskState\n") {
		t.Errorf("csv export: %d %v %q", n, err, buf.String()[:40])
	}
	for _, r := range all {
		if r["requestId"] == "mid-med" || r["requestId"] == "old-low" {
			t.Errorf("detection older than 90 days in the report: %v", r["requestId"])
		}
	}
	// retention: the 200-day-old low detection and its user age out; the medium one stays
	if err := st.Expire(); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Detection("t", detectionID("t", TypeNewCountry, "old-low")); ok {
		t.Error("low detection older than six months kept")
	}
	if _, ok := st.Detection("t", detectionID("t", TypeUnlikelyTravel, "mid-med")); !ok {
		t.Error("medium detection aged out")
	}
	if _, ok := st.RiskyUser("t", "old-user"); ok {
		t.Error("low-risk user older than six months kept")
	}
	if _, ok := st.RiskyUser("t", "mid-user"); !ok {
		t.Error("medium-risk user aged out")
	}
}

// lastLogFile is the newest file of the store's risk log.
func lastLogFile(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, logDir, "*.wal"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no risk log files in %s: %v", dir, err)
	}
	return files[len(files)-1]
}
