package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/flagging"
	"github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/identityprotection/attacks"
	"github.com/authlake/authlake/internal/clock"
	"github.com/authlake/authlake/internal/clocktest"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/server"
)

// The console, driven in a real browser (Debian's chromium, headless, through chromedp) against a
// real https server over generated sign-ins with injected attacks and a detection run: what the
// pages show is compared with what the engine answers for the filter the page says it ran.
// With AUTHLAKE_CONSOLE_SCREENSHOTS=DIR it also saves a screenshot of each page (docs/console/).

type consoleFixture struct {
	ts    *httptest.Server
	srv   *server.Server
	db    *engine.DB
	risk  *identityprotection.Store
	clock *clock.Manual
	end   time.Time
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	dir := t.TempDir()
	end := clocktest.Epoch().UTC().Truncate(time.Hour)
	clk := clock.NewManual(end.Add(time.Hour))
	quiet := slog.New(slog.DiscardHandler)
	db, err := engine.Open(dir, engine.Options{Retention: -1, NoSync: true, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 20000, Seed: 3, Days: 14, End: end, Tenant: tenantA}); err != nil {
		t.Fatal(err)
	}
	bg := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	att, err := attacks.Inject(bg, attacks.Config{Seed: 3, PerScenario: 2})
	if err != nil {
		t.Fatal(err)
	}
	ingestLines(t, db, tenantA, append(bg, att.Events...))
	// A second tenant with its own sign-ins: none may ever show in tenant A's session.
	buf.Reset()
	if _, _, err := gen.Write(&buf, gen.Config{Events: 500, Seed: 4, Days: 7, End: end, Tenant: tenantB}); err != nil {
		t.Fatal(err)
	}
	ingestLines(t, db, tenantB, bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	risk, err := identityprotection.Open(identityprotection.Dir(dir), identityprotection.Options{Now: clk.Now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for kind, ips := range map[string][]string{"anonymous": att.AnonymousIPs, "threat": att.ThreatIPs} {
		if _, err := risk.ImportIPList(kind, kind+".txt", []byte(strings.Join(ips, "\n"))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range []string{tenantA, tenantB} {
		if _, err := identityprotection.RunDetection(context.Background(), db, risk, tn, identityprotection.JobOptions{Now: clk.Now}); err != nil {
			t.Fatal(err)
		}
	}
	fm, err := flagging.Open(filepath.Join(dir, flagging.Dir), flagging.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fm.Close() })
	srv, err := server.New(server.Options{DB: db, Flagging: fm, Risk: risk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.StartTLS()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		risk.Close()
		db.Close()
	})
	return &consoleFixture{ts: ts, srv: srv, db: db, risk: risk, clock: clk, end: end}
}

func ingestLines(t *testing.T, db *engine.DB, tenant string, lines [][]byte) {
	t.Helper()
	recs := make([]engine.Record, len(lines))
	for i, l := range lines {
		recs[i] = engine.Record{Raw: l}
	}
	res, err := db.Ingest(recs, engine.IngestOptions{Tenant: tenant})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ingest %s: %+v %v", tenant, res, err)
	}
}

func (f *consoleFixture) link(t *testing.T, g server.ConsoleGrant) string {
	t.Helper()
	l, err := f.srv.ConsoleLoginLink(f.ts.URL, g)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// engineIDs pages through the engine's answer to filter and returns the ids in order.
func (f *consoleFixture) engineIDs(t *testing.T, tenant, filter string, limit int) ([]string, int64) {
	t.Helper()
	var ids []string
	var count int64 = -1
	tok := ""
	for {
		res, err := f.db.Query(context.Background(), tenant, query.Request{Filter: filter, Top: 50, SkipToken: tok, Count: count < 0, Select: []string{"id"}})
		if err != nil {
			t.Fatalf("engine query %q: %v", filter, err)
		}
		if count < 0 {
			count = res.Count
		}
		for _, r := range res.Rows {
			var row struct{ ID string }
			json.Unmarshal(r, &row)
			ids = append(ids, row.ID)
		}
		if res.SkipToken == "" || len(ids) >= limit {
			return ids, count
		}
		tok = res.SkipToken
	}
}

// browser starts headless chromium; its context ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the console tests drive Debian's chromium: install it (apt-get install -y chromium; .ci/run does): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(1440, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	// A bound on the whole browser session: a hung page fails the test, loudly, instead of CI.
	ctx, cancelC := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs browser steps; a failure names what was being done and where the browser was.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
	return v
}

// click clicks what sel selects and waits for the page it leads to, which must answer 200.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("click %s (at %s): %v", sel, loc, err)
	}
	if resp == nil || resp.Status != http.StatusOK {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("click %s: answered %v: %.300s", sel, resp, body)
	}
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "read the page", chromedp.Text(chromedp.CSS("main")))
}

// screenshot checks the page a user sees (every control labelled for keyboard and screen-reader
// users, nothing fetched from another origin) and, with AUTHLAKE_CONSOLE_SCREENSHOTS, saves it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	unlabelled := get(t, ctx, "labels", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('input:not([type=hidden]),select,textarea,button'))
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
		.map(e => e.outerHTML)`))
	if len(unlabelled) > 0 {
		t.Errorf("page %s: controls without a label: %v", name, unlabelled)
	}
	foreign := get(t, ctx, "resources", chromedp.Evaluate[[]string](`performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith(location.origin))`))
	if len(foreign) > 0 {
		t.Errorf("page %s fetched from elsewhere: %v", name, foreign)
	}
	dir := os.Getenv("AUTHLAKE_CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rowIDs(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return get(t, ctx, "read rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#signins tbody tr[data-id]')).map(r => r.dataset.id)`))
}

func pageFilter(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "read the $filter", chromedp.Value(chromedp.CSS("#odata")))
}

func sessionCookies(t *testing.T, ctx context.Context, base string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Cookies
}

// fetchWithCookies downloads a console URL with the browser's session cookie.
func fetchWithCookies(t *testing.T, ctx context.Context, f *consoleFixture, u string) ([]byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+u, nil)
	for _, c := range sessionCookies(t, ctx, f.ts.URL) {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", u, resp.StatusCode, b)
	}
	return b, resp.Header
}

func TestConsoleInBrowser(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := browser(t)
	base := f.ts.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Without a session every page is the sign-in notice; a made-up link is refused.
	do(t, ctx, "open without a session", chromedp.Navigate(base+"/console/signins"))
	if body := mainText(t, ctx); !strings.Contains(body, "not signed in") {
		t.Fatalf("no session: %q", body)
	}
	do(t, ctx, "forged link", chromedp.Navigate(base+"/console/login?token=0123"))
	if body := mainText(t, ctx); !strings.Contains(body, "not valid") {
		t.Fatalf("forged link: %q", body)
	}

	// Sign in as tenant A's admin; the link works once.
	link := f.link(t, server.ConsoleGrant{Tenant: tenantA, Roles: server.ConsoleAdminRoles, UPN: "admin@contoso.com"})
	do(t, ctx, "sign in", chromedp.Navigate(link), chromedp.WaitVisible(css("#signins")))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/console/signins") {
		t.Fatalf("after sign-in: %s", loc)
	}
	resp, err := f.ts.Client().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used link answered %d", resp.StatusCode)
	}

	// The default view (last 24 hours, interactive) lists what the engine answers for the
	// $filter it shows, newest first, with the engine's count.
	filter := pageFilter(t, ctx)
	if !strings.Contains(filter, "createdDateTime ge "+f.clock.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339)) {
		t.Fatalf("default filter: %s", filter)
	}
	want, count := f.engineIDs(t, tenantA, filter, 50)
	if got := rowIDs(t, ctx); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("default view: %d rows %v, engine %d %v", len(got), got, len(want), want)
	}
	if shown := get(t, ctx, "count", chromedp.Text(css("#count"))); shown != fmt.Sprint(count) {
		t.Fatalf("count shown %s, engine %d", shown, count)
	}
	screenshot(t, ctx, "signins")

	// Filters through the form: 7 days, failures; then page to the end.
	do(t, ctx, "set filters", chromedp.SetValue(css("#f-range"), "7d"), chromedp.SetValue(css("#f-status"), "failure"))
	click(t, ctx, "#apply")
	filter = pageFilter(t, ctx)
	if !strings.Contains(filter, "status/errorCode ne 0") || !strings.Contains(filter, "createdDateTime ge "+f.clock.Now().Add(-7*24*time.Hour).UTC().Format(time.RFC3339)) {
		t.Fatalf("form filters not applied: %s", filter)
	}
	want, count = f.engineIDs(t, tenantA, filter, 1<<20)
	if count < 120 {
		t.Fatalf("fixture: only %d failures in 7 days; paging needs several pages", count)
	}
	var got []string
	for pages := 0; ; pages++ {
		got = append(got, rowIDs(t, ctx)...)
		if pages == 0 {
			// Failures arrive while the admin pages: the next pages continue after the last row
			// shown, so the newcomers (newer than every row) neither shift nor repeat them.
			f.arrive(t, filter, 30)
		}
		next := get(t, ctx, "find next", chromedp.Evaluate[int](`document.querySelectorAll('#next').length`))
		if next == 0 {
			break
		}
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
		click(t, ctx, "#next")
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged to the end: %d ids, engine %d: pages must neither skip nor repeat", len(got), len(want))
	}
	click(t, ctx, "#first")
	if shown := get(t, ctx, "count after arrivals", chromedp.Text(css("#count"))); shown != fmt.Sprint(count+30) {
		t.Fatalf("after 30 arrivals the first page counts %s, want %d", shown, count+30)
	}

	// A user's failed sign-ins: the user filter by UPN.
	var one struct{ UserPrincipalName string }
	if err := json.Unmarshal(mustQuery(t, f, filter), &one); err != nil || one.UserPrincipalName == "" {
		t.Fatalf("a failed sign-in's user: %v", err)
	}
	upn := one.UserPrincipalName
	do(t, ctx, "filter a user", chromedp.Navigate(base+"/console/signins?range=7d&status=failure"), chromedp.SendKeys(css("#f-user"), upn))
	click(t, ctx, "#apply")
	filter = pageFilter(t, ctx)
	want, _ = f.engineIDs(t, tenantA, filter, 50)
	if got := rowIDs(t, ctx); !strings.Contains(filter, "userPrincipalName eq '"+upn+"'") || !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("user %s: filter %s; rows %v, engine %v", upn, filter, got, want)
	}

	// The details pane, and its authentication tab.
	first := want[0]
	click(t, ctx, `#signins tbody tr[data-id="`+first+`"] a.open`)
	if body := get(t, ctx, "details", chromedp.Text(css("#detail"))); !strings.Contains(body, first) || !strings.Contains(body, upn) {
		t.Fatalf("details of %s: %.300s", first, body)
	}
	screenshot(t, ctx, "details")
	click(t, ctx, `#detail nav a[href*="pane=auth"]`)
	do(t, ctx, "authentication tab", chromedp.WaitVisible(css("#pane-auth")))

	// Downloads of the current filter: JSON and CSV hold exactly the filter's sign-ins, in order.
	jsonHref := get(t, ctx, "JSON link", chromedp.AttributeValue(css("#dl-json"), "href")).Value
	csvHref := get(t, ctx, "CSV link", chromedp.AttributeValue(css("#dl-csv"), "href")).Value
	all, _ := f.engineIDs(t, tenantA, filter, 1<<20)
	b, hdr := fetchWithCookies(t, ctx, f, jsonHref)
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("JSON download: %v", err)
	}
	if !strings.Contains(hdr.Get("Content-Disposition"), "attachment") || len(rows) != len(all) {
		t.Fatalf("JSON download: %d rows, engine %d", len(rows), len(all))
	}
	for i, r := range rows {
		if r["id"] != all[i] {
			t.Fatalf("JSON download row %d: %v, engine %s", i, r["id"], all[i])
		}
	}
	b, _ = fetchWithCookies(t, ctx, f, csvHref)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != len(all)+1 || recs[0][1] != "Request ID" {
		t.Fatalf("CSV download: %d records (engine %d) %v", len(recs), len(all), err)
	}
	for i, r := range recs[1:] {
		if r[1] != all[i] {
			t.Fatalf("CSV row %d: %s, engine %s", i, r[1], all[i])
		}
	}

	// Troubleshoot from the sign-in's details.
	do(t, ctx, "back to details", chromedp.Navigate(base+"/console/signins?range=all&requestId="+first+"&sel="+first))
	click(t, ctx, "#troubleshoot")
	if body := mainText(t, ctx); !strings.Contains(body, "Diagnosis") || !strings.Contains(body, first) {
		t.Fatalf("troubleshoot page: %.500s", body)
	}
	screenshot(t, ctx, "troubleshoot")

	// Flagged for review: flag my own sign-ins for 20 minutes.
	do(t, ctx, "flagged page", chromedp.Navigate(base+"/console/flagged"))
	click(t, ctx, "#flag-start")
	if body := get(t, ctx, "windows", chromedp.Text(css("#windows"))); !strings.Contains(body, "admin@contoso.com") {
		t.Fatalf("flagging window not listed: %q", body)
	}
	if wins := f.srvFlags(t); len(wins) != 1 || wins[0] != "admin@contoso.com" {
		t.Fatalf("flagging windows stored: %v", wins)
	}
	screenshot(t, ctx, "flagged")

	// Remediate a risky user: confirm compromised, with the confirmation step.
	users := f.risk.RiskyUsers(tenantA)
	if len(users) == 0 {
		t.Fatal("fixture: no risky users after the detection run")
	}
	do(t, ctx, "risky users", chromedp.Navigate(base+"/console/risk/users"), chromedp.WaitVisible(css("#report")))
	screenshot(t, ctx, "risky-users")
	userLinks := get(t, ctx, "user links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#report tbody a')).map(a => a.getAttribute('href'))`))
	if len(userLinks) != min(len(users), 50) {
		t.Fatalf("risky users listed: %d links, store %d", len(userLinks), len(users))
	}
	victim := strings.TrimPrefix(userLinks[0], "/console/risk/users/")
	do(t, ctx, "open user", chromedp.Navigate(base+userLinks[0]))
	click(t, ctx, "#act-confirmCompromised")
	if u, _ := f.risk.RiskyUser(tenantA, victim); u.RiskState == "confirmedCompromised" {
		t.Fatal("the action ran before it was confirmed")
	}
	click(t, ctx, "#confirm-yes")
	state := get(t, ctx, "risk state", chromedp.Text(css("#risk-state")))
	if u, _ := f.risk.RiskyUser(tenantA, victim); state != "confirmedCompromised" || u.RiskState != "confirmedCompromised" {
		t.Fatalf("after confirming: page %q, store %q", state, u.RiskState)
	}
	screenshot(t, ctx, "risky-user")
	for _, p := range []string{"/console/risk/signins", "/console/risk/detections"} {
		do(t, ctx, p, chromedp.Navigate(base+p), chromedp.WaitVisible(css("#report")))
		screenshot(t, ctx, strings.ReplaceAll(strings.TrimPrefix(p, "/console/"), "/", "-"))
	}

	// Another tenant's sign-in and risky user do not exist for this session.
	bIDs, _ := f.engineIDs(t, tenantB, "", 1)
	do(t, ctx, "tenant B's sign-in", chromedp.Navigate(base+"/console/signins?range=all&requestId="+bIDs[0]+"&sel="+bIDs[0]))
	if body := mainText(t, ctx); !strings.Contains(body, "no sign-in "+bIDs[0]+" in this tenant") {
		t.Fatalf("tenant B's sign-in from tenant A's session: %.300s", body)
	}
	if bu := f.risk.RiskyUsers(tenantB); len(bu) > 0 {
		do(t, ctx, "tenant B's risky user", chromedp.Navigate(base+"/console/risk/users/"+bu[0].ID))
		if body := mainText(t, ctx); !strings.Contains(body, "no user") {
			t.Fatalf("tenant B's risky user from tenant A's session: %.300s", body)
		}
	}

	// The session cookie is HttpOnly, Secure and SameSite=Strict; a form posted without the
	// session's CSRF token is refused and changes nothing.
	cookies := sessionCookies(t, ctx, base)
	if len(cookies) != 1 || !cookies[0].HTTPOnly || !cookies[0].Secure || cookies[0].SameSite != network.CookieSameSiteStrict {
		t.Fatalf("session cookie: %+v", cookies)
	}
	form := url.Values{"action": {"confirmSafe"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/console/risk/users/"+victim, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value})
	resp, err = f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u, _ := f.risk.RiskyUser(tenantA, victim); resp.StatusCode != http.StatusForbidden || u.RiskState != "confirmedCompromised" {
		t.Fatalf("post without CSRF token: %d, state %s", resp.StatusCode, u.RiskState)
	}

	// An idle session ends (by the server's clock).
	f.clock.Advance(2 * time.Hour)
	do(t, ctx, "expired session", chromedp.Navigate(base+"/console/signins"))
	if body := mainText(t, ctx); !strings.Contains(body, "not signed in") {
		t.Fatalf("after two idle hours: %.200s", body)
	}
}

// arrive ingests n new sign-ins matching filter, copies of its newest ones with new ids,
// dated in the last minutes before now.
func (f *consoleFixture) arrive(t *testing.T, filter string, n int) {
	t.Helper()
	res, err := f.db.Query(context.Background(), tenantA, query.Request{Filter: filter, Top: n})
	if err != nil || len(res.Rows) < n {
		t.Fatalf("arrivals: %d rows to copy, %v", len(res.Rows), err)
	}
	var lines [][]byte
	for i, raw := range res.Rows {
		var row map[string]any
		json.Unmarshal(raw, &row)
		row["id"] = fmt.Sprintf("0a0a0a0a-0000-4000-8000-%012d", i)
		row["createdDateTime"] = f.clock.Now().Add(-time.Duration(i+1) * time.Second).UTC().Format(time.RFC3339)
		b, _ := json.Marshal(row)
		lines = append(lines, b)
	}
	ingestLines(t, f.db, tenantA, lines)
}

func mustQuery(t *testing.T, f *consoleFixture, filter string) []byte {
	t.Helper()
	res, err := f.db.Query(context.Background(), tenantA, query.Request{Filter: filter, Top: 1})
	if err != nil || len(res.Rows) == 0 {
		t.Fatalf("query %s: %v", filter, err)
	}
	return res.Rows[0]
}

func (f *consoleFixture) srvFlags(t *testing.T) []string {
	t.Helper()
	resp, err := f.ts.Client().Do(func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/authlake/v1/flagging", nil)
		r.Header.Set("Authorization", "Bearer "+mintFor(t, f.srv, f.clock.Now(), tenantA, server.RoleFlag))
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Value []struct{ UserPrincipalName string }
	}
	json.NewDecoder(resp.Body).Decode(&out)
	var upns []string
	for _, w := range out.Value {
		upns = append(upns, w.UserPrincipalName)
	}
	return upns
}

func mintFor(t *testing.T, srv *server.Server, now time.Time, tid string, roles ...string) string {
	t.Helper()
	c := server.TokenClaims{TID: tid, Roles: roles, AppID: "console-test"}
	c.Issuer, c.Audience, c.Subject = server.IssuerV2(tid), []string{graph}, "console-test"
	tok, err := srv.DevKey().Mint(c, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
