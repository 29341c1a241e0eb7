package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/columnar/input"
	"github.com/authlake/authlake/diagnostic"
	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/query"
)

// The sign-in logs page: the blade's tabs, its filters (each one a term of an OData $filter the
// page shows, so what the page lists is exactly what `authlake query` or the Graph API answer for
// that filter), a column chooser, keyset paging newest first (a page's next link continues
// after its last row, so events arriving meanwhile do not shift it), a details pane with the
// portal's tabs, and downloads of the whole filter.

const (
	consolePageSize = 50
	// consoleDownloadCap is the most rows one download holds, as the admin center's.
	consoleDownloadCap = 100_000
)

// signInTabs are the blade's tabs: the event type each lists.
var signInTabs = []struct{ Key, Title, EventType string }{
	{"interactive", "User sign-ins (interactive)", "interactiveUser"},
	{"nonInteractive", "User sign-ins (non-interactive)", "nonInteractiveUser"},
	{"servicePrincipal", "Service principal sign-ins", "servicePrincipal"},
	{"managedIdentity", "Managed identity sign-ins", "managedIdentity"},
}

// consoleColumn is one column the list can show: its parameter key, title and property path.
type consoleColumn struct{ Key, Title, Path string }

var consoleColumns = []consoleColumn{
	{"date", "Date (UTC)", "createdDateTime"},
	{"requestId", "Request ID", "id"},
	{"user", "User", "userDisplayName"},
	{"username", "Username", "userPrincipalName"},
	{"app", "Application", "appDisplayName"},
	{"status", "Status", "status"},
	{"ip", "IP address", "ipAddress"},
	{"location", "Location", "location"},
	{"ca", "Conditional Access", "conditionalAccessStatus"},
	{"clientApp", "Client app", "clientAppUsed"},
	{"correlationId", "Correlation ID", "correlationId"},
	{"authRequirement", "Authentication requirement", "authenticationRequirement"},
	{"resource", "Resource", "resourceDisplayName"},
	{"os", "Operating system", "deviceDetail/operatingSystem"},
	{"browser", "Browser", "deviceDetail/browser"},
	{"flagged", "Flagged for review", "flaggedForReview"},
	{"risk", "Risk state", "riskState"},
}

var defaultConsoleColumns = []string{"date", "user", "app", "status", "ip", "location", "ca"}

// signInForm is the filter form, as the query string carries it.
type signInForm struct {
	Tab, Range, From, To                string
	RequestID, CorrelationID, User, App string
	Status, IP, Location, CA, ClientApp string
	Flagged                             bool
	Advanced                            string
	Columns                             []string
}

func readSignInForm(q url.Values) signInForm {
	f := signInForm{
		Tab: q.Get("tab"), Range: q.Get("range"), From: q.Get("from"), To: q.Get("to"),
		RequestID: strings.TrimSpace(q.Get("requestId")), CorrelationID: strings.TrimSpace(q.Get("correlationId")),
		User: strings.TrimSpace(q.Get("user")), App: strings.TrimSpace(q.Get("app")), Status: q.Get("status"),
		IP: strings.TrimSpace(q.Get("ip")), Location: strings.TrimSpace(q.Get("location")), CA: q.Get("ca"),
		ClientApp: strings.TrimSpace(q.Get("clientApp")), Flagged: q.Get("flagged") == "true", Advanced: strings.TrimSpace(q.Get("filter")),
		Columns: q["col"],
	}
	if f.Tab == "" {
		f.Tab = "interactive"
	}
	if f.Range == "" {
		f.Range = "24h"
	}
	if len(f.Columns) == 0 {
		f.Columns = defaultConsoleColumns
	}
	return f
}

// odataString quotes s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// consoleTime reads the custom range's datetime-local inputs (UTC) or RFC 3339.
func consoleTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (use 2026-11-20T14:30)", s)
}

// filter is the OData $filter the form stands for, at now.
func (f signInForm) filter(now time.Time) (string, error) {
	var terms []string
	add := func(t string) { terms = append(terms, t) }
	tab := -1
	for i, t := range signInTabs {
		if t.Key == f.Tab {
			tab = i
		}
	}
	if tab < 0 {
		return "", fmt.Errorf("unknown sign-in type %q", f.Tab)
	}
	if f.RequestID == "" {
		// A request id names one sign-in, whatever tab it is found from.
		add("signInEventTypes/any(t: t eq '" + signInTabs[tab].EventType + "')")
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch f.Range {
	case "24h":
		add("createdDateTime ge " + ts(now.Add(-24*time.Hour)))
	case "7d":
		add("createdDateTime ge " + ts(now.Add(-7*24*time.Hour)))
	case "30d":
		add("createdDateTime ge " + ts(now.Add(-30*24*time.Hour)))
	case "custom":
		if f.From != "" {
			t, err := consoleTime(f.From)
			if err != nil {
				return "", fmt.Errorf("from: %v", err)
			}
			add("createdDateTime ge " + ts(t))
		}
		if f.To != "" {
			t, err := consoleTime(f.To)
			if err != nil {
				return "", fmt.Errorf("to: %v", err)
			}
			add("createdDateTime le " + ts(t))
		}
	case "all":
	default:
		return "", fmt.Errorf("unknown date range %q", f.Range)
	}
	if f.RequestID != "" {
		add("id eq " + odataString(strings.ToLower(f.RequestID)))
	}
	if f.CorrelationID != "" {
		add("correlationId eq " + odataString(f.CorrelationID))
	}
	switch {
	case f.User == "":
	case isGUID(f.User):
		add("userId eq " + odataString(strings.ToLower(f.User)))
	case strings.Contains(f.User, "@"):
		add("userPrincipalName eq " + odataString(f.User))
	default:
		add("(startswith(userDisplayName, " + odataString(f.User) + ") or startswith(userPrincipalName, " + odataString(f.User) + "))")
	}
	switch {
	case f.App == "":
	case isGUID(f.App):
		add("appId eq " + odataString(strings.ToLower(f.App)))
	default:
		add("startswith(appDisplayName, " + odataString(f.App) + ")")
	}
	codes := make([]string, len(diagnostic.InterruptCodes))
	for i, c := range diagnostic.InterruptCodes {
		codes[i] = strconv.Itoa(c)
	}
	switch f.Status {
	case "":
	case "success":
		add("status/errorCode eq 0")
	case "failure":
		add("status/errorCode ne 0 and not (status/errorCode in (" + strings.Join(codes, ",") + "))")
	case "interrupted":
		add("status/errorCode in (" + strings.Join(codes, ",") + ")")
	default:
		return "", fmt.Errorf("unknown status %q (success, failure or interrupted)", f.Status)
	}
	if f.IP != "" {
		add("ipAddress eq " + odataString(f.IP))
	}
	if f.Location != "" {
		if len(f.Location) == 2 {
			add("location/countryOrRegion eq " + odataString(strings.ToUpper(f.Location)))
		} else {
			add("startswith(location/city, " + odataString(f.Location) + ")")
		}
	}
	switch f.CA {
	case "":
	case "success", "failure", "notApplied":
		add("conditionalAccessStatus eq '" + f.CA + "'")
	default:
		return "", fmt.Errorf("unknown conditional access result %q", f.CA)
	}
	if f.ClientApp != "" {
		add("clientAppUsed eq " + odataString(f.ClientApp))
	}
	if f.Flagged {
		add("flaggedForReview eq true")
	}
	if f.Advanced != "" {
		add("(" + f.Advanced + ")")
	}
	return strings.Join(terms, " and "), nil
}

// downloadFormat is a download's format=csv|json (an error page otherwise).
func (s *Server) downloadFormat(w http.ResponseWriter, r *http.Request, sess *consoleSession) (string, bool) {
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		s.consoleError(w, r, sess, http.StatusBadRequest, "Download as format=csv or format=json.")
		return "", false
	}
	return format, true
}

// bufferedResponse sends a download's body through a large buffer (few, big writes).
type bufferedResponse struct {
	http.ResponseWriter
	bw *bufio.Writer
}

func (b bufferedResponse) Write(p []byte) (int, error) { return b.bw.Write(p) }

func isGUID(s string) bool { _, ok := canonicalGUID(s); return ok }

// signInsView is the sign-in page's data.
type signInsView struct {
	Form      signInForm
	Filter    string
	Tabs      []consoleLink
	Columns   []consoleColumn // shown
	Choices   []columnChoice
	Rows      []signInRow
	Count     int64
	Next      string
	First     string
	Paged     bool
	Download  string // the download URL without format
	Detail    *signInDetail
	Newest    string // when nothing matches: the newest sign-in of the tab
	Widen     string
	CloseLink string
}

type consoleLink struct {
	Title, URL string
	Current    bool
}

type columnChoice struct {
	Key, Title string
	On         bool
}

type signInRow struct {
	ID       string
	Cells    []string
	Link     string
	Selected bool
}

func (s *Server) consoleSignIns(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	if !sess.p.canRead() {
		s.consoleError(w, r, sess, http.StatusForbidden, "Reading sign-ins needs the "+RoleReadAuditLog+" role.")
		return
	}
	q := r.URL.Query()
	f := readSignInForm(q)
	v := signInsView{Form: f, First: withParams("/console/signins", q, "skiptoken", "", "sel", "")}
	for _, t := range signInTabs {
		v.Tabs = append(v.Tabs, consoleLink{Title: t.Title, URL: withParams("/console/signins", q, "tab", t.Key, "skiptoken", "", "sel", ""), Current: t.Key == f.Tab})
	}
	for _, c := range consoleColumns {
		on := slices.Contains(f.Columns, c.Key)
		v.Choices = append(v.Choices, columnChoice{Key: c.Key, Title: c.Title, On: on})
		if on {
			v.Columns = append(v.Columns, c)
		}
	}
	view := consoleView{Title: "Sign-in logs", Nav: "signins", Data: &v}
	filter, err := f.filter(s.now())
	if err != nil {
		view.Error = err.Error()
		s.renderPage(w, r, sess, http.StatusBadRequest, "signins", view)
		return
	}
	v.Filter = filter
	v.Download = withParams("/console/signins/download", q, "skiptoken", "", "sel", "", "tab", f.Tab, "range", f.Range)
	scope := "console\x00" + sess.p.Tenant + "\x00" + filter
	tok := q.Get("skiptoken")
	if tok != "" {
		inner, err := openSkipToken(s.skipKey, scope, tok)
		if err != nil {
			view.Error = "This page link belongs to another filter or has been altered; start from the first page."
			s.renderPage(w, r, sess, http.StatusBadRequest, "signins", view)
			return
		}
		tok = inner
		v.Paged = true
	}
	req := query.Request{Filter: filter, Top: consolePageSize, SkipToken: tok, Count: true, Risk: s.riskLookup(sess.p.Tenant)}
	ctx, release, err := s.admission.acquire(r.Context(), queryClass(sess.p.Tenant, "console", req))
	if err != nil {
		s.consoleError(w, r, sess, http.StatusServiceUnavailable, "The request ended while it waited for a query slot; try again.")
		return
	}
	cpu.EndInteractive(ctx) // admitted: heavy work from here on
	res, err := s.query(ctx, sess.p.Tenant, req)
	release()
	if err != nil {
		status, _, msg := queryErrorStatus(err)
		if status == http.StatusInternalServerError {
			s.log.Error("console sign-ins", "err", err, "request-id", requestIDs(r).request)
		}
		view.Error = msg
		s.renderPage(w, r, sess, status, "signins", view)
		return
	}
	v.Count = res.Count
	if res.Count == 0 && f.Range != "all" && f.RequestID == "" {
		// An empty default view usually means the log stopped arriving (or is an old export):
		// say when the newest sign-in of this type is from, with a wider view one click away.
		probe := signInForm{Tab: f.Tab, Range: "all"}
		if pf, err := probe.filter(s.now()); err == nil {
			if nr, err := s.query(r.Context(), sess.p.Tenant, query.Request{Filter: pf, Top: 1, Select: []string{"createdDateTime"}}); err == nil && len(nr.Rows) == 1 {
				row := map[string]any{}
				if json.Unmarshal(nr.Rows[0], &row) == nil {
					v.Newest = cellText(row, "createdDateTime")
					v.Widen = withParams("/console/signins", q, "range", "all", "skiptoken", "", "sel", "")
				}
			}
		}
	}
	if res.SkipToken != "" {
		v.Next = withParams("/console/signins", q, "skiptoken", sealSkipToken(s.skipKey, scope, res.SkipToken), "sel", "")
	}
	sel := q.Get("sel")
	for _, raw := range res.Rows {
		row := map[string]any{}
		if err := json.Unmarshal(raw, &row); err != nil {
			s.consoleError(w, r, sess, http.StatusInternalServerError, "A stored sign-in could not be read; see the server log.")
			s.log.Error("console: stored row is not JSON", "err", err)
			return
		}
		id, _ := row["id"].(string)
		sr := signInRow{ID: id, Link: withParams("/console/signins", q, "sel", id), Selected: id == sel}
		for _, c := range v.Columns {
			sr.Cells = append(sr.Cells, cellText(row, c.Path))
		}
		v.Rows = append(v.Rows, sr)
	}
	if sel != "" {
		d, status, msg := s.signInDetail(r, sess, sel, q.Get("pane"))
		if d == nil {
			view.Error = msg
			s.renderPage(w, r, sess, status, "signins", view)
			return
		}
		for i := range d.Tabs {
			d.Tabs[i].URL = withParams("/console/signins", q, "pane", d.Tabs[i].Key)
		}
		v.Detail = d
		v.CloseLink = withParams("/console/signins", q, "sel", "", "pane", "")
	}
	s.renderPage(w, r, sess, http.StatusOK, "signins", view)
}

// cellText is a property's value as the list shows it.
func cellText(row map[string]any, path string) string {
	var v any = row
	for _, k := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch path {
	case "createdDateTime":
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC().Format("2006-01-02 15:04:05")
			}
		}
	case "status":
		return statusText(v)
	case "conditionalAccessStatus":
		if s, ok := v.(string); ok {
			return input.PortalCAStatus(s)
		}
	case "location":
		m, _ := v.(map[string]any)
		var parts []string
		for _, k := range []string{"city", "state", "countryOrRegion"} {
			if s, _ := m[k].(string); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	return scalarText(v)
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// statusText is the blade's Status column: Success, Interrupted or Failure with the code.
func statusText(v any) string {
	m, _ := v.(map[string]any)
	code, ok := m["errorCode"].(float64)
	if !ok {
		return ""
	}
	switch {
	case code == 0:
		return "Success"
	case slices.Contains(diagnostic.InterruptCodes, int(code)):
		return fmt.Sprintf("Interrupted (%d)", int(code))
	}
	return fmt.Sprintf("Failure (%d)", int(code))
}

// signInDetail is the details pane.
type signInDetail struct {
	ID           string
	Tabs         []detailTab
	Current      detailTab
	Troubleshoot string
	Flagged      bool
}

type detailTab struct {
	Key, Title, URL string
	Current         bool
	Fields          [][2]string
	Head            []string
	Table           [][]string
	Empty           string
}

func (s *Server) signInDetail(r *http.Request, sess *consoleSession, id, pane string) (*signInDetail, int, string) {
	gid, ok := canonicalGUID(id)
	if !ok {
		return nil, http.StatusBadRequest, "A sign-in id is a GUID."
	}
	res, err := s.query(r.Context(), sess.p.Tenant, query.Request{Where: query.Eq("id", gid), Top: 1, Risk: s.riskLookup(sess.p.Tenant)})
	if err != nil {
		status, _, msg := queryErrorStatus(err)
		return nil, status, msg
	}
	if len(res.Rows) == 0 {
		return nil, http.StatusNotFound, "There is no sign-in " + gid + " in this tenant."
	}
	row := map[string]any{}
	if err := json.Unmarshal(res.Rows[0], &row); err != nil {
		return nil, http.StatusInternalServerError, "The sign-in could not be read."
	}
	d := &signInDetail{ID: gid, Troubleshoot: "/console/troubleshoot?eventId=" + url.QueryEscape(gid)}
	d.Flagged, _ = row["flaggedForReview"].(bool)
	shown := map[string]bool{}
	field := func(t *detailTab, title, path string) {
		shown[strings.Split(path, "/")[0]] = true
		t.Fields = append(t.Fields, [2]string{title, cellText(row, path)})
	}
	basic := detailTab{Key: "basic", Title: "Basic info"}
	for _, f := range [][2]string{
		{"Date (UTC)", "createdDateTime"}, {"Request ID", "id"}, {"Correlation ID", "correlationId"},
		{"Authentication requirement", "authenticationRequirement"}, {"Status", "status"},
		{"Sign-in error code", "status/errorCode"}, {"Failure reason", "status/failureReason"},
		{"Additional details", "status/additionalDetails"}, {"User", "userDisplayName"}, {"Username", "userPrincipalName"},
		{"User ID", "userId"}, {"User type", "userType"}, {"Application", "appDisplayName"}, {"Application ID", "appId"},
		{"Resource", "resourceDisplayName"}, {"Resource ID", "resourceId"}, {"Resource tenant ID", "resourceTenantId"},
		{"Home tenant ID", "homeTenantId"}, {"Client app", "clientAppUsed"}, {"Token issuer type", "tokenIssuerType"},
		{"Incoming token type", "incomingTokenType"}, {"Cross tenant access type", "crossTenantAccessType"},
		{"Latency (ms)", "processingTimeInMilliseconds"}, {"Flagged for review", "flaggedForReview"},
		{"User agent", "userAgent"}, {"Risk state", "riskState"}, {"Risk level (aggregated)", "riskLevelAggregated"},
		{"Risk level (during sign-in)", "riskLevelDuringSignIn"}, {"Risk detail", "riskDetail"},
	} {
		field(&basic, f[0], f[1])
	}
	loc := detailTab{Key: "location", Title: "Location"}
	for _, f := range [][2]string{{"IP address", "ipAddress"}, {"Location", "location"}, {"City", "location/city"},
		{"State", "location/state"}, {"Country or region", "location/countryOrRegion"},
		{"Latitude", "location/geoCoordinates/latitude"}, {"Longitude", "location/geoCoordinates/longitude"},
		{"Autonomous system number", "autonomousSystemNumber"}, {"Network location details", "networkLocationDetails"}} {
		field(&loc, f[0], f[1])
	}
	dev := detailTab{Key: "device", Title: "Device info"}
	for _, f := range [][2]string{{"Device ID", "deviceDetail/deviceId"}, {"Device name", "deviceDetail/displayName"},
		{"Operating system", "deviceDetail/operatingSystem"}, {"Browser", "deviceDetail/browser"},
		{"Compliant", "deviceDetail/isCompliant"}, {"Managed", "deviceDetail/isManaged"}, {"Join type", "deviceDetail/trustType"}} {
		field(&dev, f[0], f[1])
	}
	auth := detailTab{Key: "auth", Title: "Authentication details", Empty: "No authentication steps were recorded.",
		Head: []string{"Date (UTC)", "Authentication method", "Method detail", "Succeeded", "Result detail", "Requirement"}}
	field(&auth, "Authentication requirement", "authenticationRequirement")
	field(&auth, "MFA method", "mfaDetail/authMethod")
	shown["authenticationDetails"] = true
	for _, st := range objects(row["authenticationDetails"]) {
		auth.Table = append(auth.Table, []string{cellText(st, "authenticationStepDateTime"), cellText(st, "authenticationMethod"),
			cellText(st, "authenticationMethodDetail"), cellText(st, "succeeded"), cellText(st, "authenticationStepResultDetail"),
			cellText(st, "authenticationStepRequirement")})
	}
	ca := detailTab{Key: "ca", Title: "Conditional Access", Empty: "No Conditional Access policy applied.",
		Head: []string{"Policy", "Policy ID", "Result", "Grant controls", "Session controls"}}
	ro := detailTab{Key: "reportOnly", Title: "Report-only", Empty: "No report-only policy was evaluated.", Head: ca.Head}
	field(&ca, "Conditional Access", "conditionalAccessStatus")
	shown["appliedConditionalAccessPolicies"] = true
	for _, p := range objects(row["appliedConditionalAccessPolicies"]) {
		line := []string{cellText(p, "displayName"), cellText(p, "id"), cellText(p, "result"),
			listText(p["enforcedGrantControls"]), listText(p["enforcedSessionControls"])}
		if strings.HasPrefix(cellText(p, "result"), "reportOnly") {
			ro.Table = append(ro.Table, line)
		} else {
			ca.Table = append(ca.Table, line)
		}
	}
	more := detailTab{Key: "additional", Title: "Additional details"}
	keys := make([]string, 0, len(row))
	for k := range row {
		if !shown[k] && !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t := scalarText(row[k]); t != "" && t != "[]" && t != "{}" {
			more.Fields = append(more.Fields, [2]string{k, t})
		}
	}
	d.Tabs = []detailTab{basic, loc, dev, auth, ca, ro, more}
	d.Current = d.Tabs[0]
	for i := range d.Tabs {
		if d.Tabs[i].Key == pane {
			d.Current = d.Tabs[i]
			d.Tabs[i].Current = true
		}
	}
	if pane == "" || !slices.ContainsFunc(d.Tabs, func(t detailTab) bool { return t.Key == pane }) {
		d.Tabs[0].Current = true
	}
	return d, http.StatusOK, ""
}

func objects(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func listText(v any) string {
	list, _ := v.([]any)
	parts := make([]string, 0, len(list))
	for _, x := range list {
		parts = append(parts, scalarText(x))
	}
	return strings.Join(parts, ", ")
}

// downloadPage is the rows a download reads per query: large, since each query continues the
// scan from the previous page's last row.
const downloadPage = 5000

// consoleSignInsDownload streams the whole filter (up to the cap) as the admin center's CSV or
// as a JSON array of Graph sign-ins, from one snapshot, a thousand rows per query.
func (s *Server) consoleSignInsDownload(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	if !sess.p.canRead() {
		s.consoleError(w, r, sess, http.StatusForbidden, "Reading sign-ins needs the "+RoleReadAuditLog+" role.")
		return
	}
	q := r.URL.Query()
	format, ok := s.downloadFormat(w, r, sess)
	if !ok {
		return
	}
	filter, err := readSignInForm(q).filter(s.now())
	if err != nil {
		s.consoleError(w, r, sess, http.StatusBadRequest, err.Error())
		return
	}
	req := query.Request{Filter: filter, Top: downloadPage, Now: s.now, Risk: s.riskLookup(sess.p.Tenant)}
	if format == "csv" {
		// The CSV's columns read a third of a sign-in's properties: decoding and encoding
		// only those is most of the download's cost saved.
		req.Select = input.PortalProperties()
	}
	snap, err := s.snapshot(sess.p.Tenant, req)
	if err != nil {
		_, _, msg := queryErrorStatus(err)
		s.consoleError(w, r, sess, http.StatusServiceUnavailable, msg)
		return
	}
	defer snap.Release()
	// A download reads up to consoleDownloadCap rows: heavy work, through the CPU pool.
	cpu.EndInteractive(r.Context())
	// The first page is run before the headers go out, so a bad filter is an error page.
	res, err := query.Run(r.Context(), columnar.SignIns, snap.Source(), req)
	if err != nil {
		status, _, msg := queryErrorStatus(err)
		s.consoleError(w, r, sess, status, msg)
		return
	}
	name := "SignIns_" + s.now().UTC().Format("2006-01-02_15-04-05") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	bw := bufio.NewWriterSize(w, 256<<10)
	defer bw.Flush()
	w = bufferedResponse{w, bw}
	var write func([]byte) error
	var finish func() error
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw, err := input.NewPortalCSVWriter(w)
		if err != nil {
			return
		}
		write, finish = cw.Write, cw.Flush
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		first := true
		w.Write([]byte("["))
		write = func(row []byte) error {
			if !first {
				w.Write([]byte(",\n"))
			}
			first = false
			_, err := w.Write(row)
			return err
		}
		finish = func() error { _, err := w.Write([]byte("]\n")); return err }
	}
	// The next page is read while this one is written: the query and the encoding each take
	// about half of a download's CPU, and a server has more than one core.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	pages := make(chan [][]byte, 1)
	var readErr error
	rows, tok, total := res.Rows, res.SkipToken, len(res.Rows)
	go func() {
		defer close(pages)
		for tok != "" && total < consoleDownloadCap {
			req.SkipToken = tok
			next, err := query.Run(ctx, columnar.SignIns, snap.Source(), req)
			if err != nil {
				readErr = err
				return
			}
			tok = next.SkipToken
			total += len(next.Rows)
			select {
			case pages <- next.Rows:
			case <-ctx.Done():
				return
			}
		}
	}()
	n := 0
	for {
		for _, raw := range rows {
			if n == consoleDownloadCap {
				break
			}
			if err := write(raw); err != nil {
				return // the client went away (the deferred cancel stops the reader)
			}
			n++
		}
		var ok bool
		if rows, ok = <-pages; !ok {
			break
		}
	}
	if readErr != nil {
		if !errors.Is(readErr, context.Canceled) {
			s.log.Error("console download", "err", readErr, "rows", n)
		}
		return // the body is cut short: the client sees a truncated file, not a complete one
	}
	finish()
}
