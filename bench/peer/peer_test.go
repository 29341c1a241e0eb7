package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
)

// graphSample is the illustrative beta signIn of reference/graph-signin-api.md §2.5, extended
// with the properties the generator never fills (agent, authenticationAppDeviceDetails, …) so
// that every column type of the schema is exercised by the fidelity check.
const graphSample = `{
  "id": "3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00",
  "createdDateTime": "2025-03-04T08:15:27Z",
  "userDisplayName": "Avery Chen",
  "userPrincipalName": "avery.chen@contoso.com",
  "userId": "8d1f0c52-7e3a-4b9d-a6c4-1f2e3d4c5b6a",
  "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
  "appDisplayName": "Azure Portal",
  "ipAddress": "203.0.113.24",
  "ipAddressFromResourceProvider": null,
  "clientAppUsed": "Browser",
  "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ... Edg/122.0",
  "correlationId": "0a9e6b3d-2f4c-4e1a-8d7b-6c5a4b3c2d1e",
  "conditionalAccessStatus": "success",
  "originalRequestId": "3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00",
  "isInteractive": true,
  "tokenIssuerName": "",
  "tokenIssuerType": "AzureAD",
  "clientCredentialType": "none",
  "processingTimeInMilliseconds": 412,
  "riskDetail": "none",
  "riskLevelAggregated": "none",
  "riskLevelDuringSignIn": "none",
  "riskState": "none",
  "riskEventTypes": ["unfamiliarFeatures"],
  "riskEventTypes_v2": ["unfamiliarFeatures"],
  "resourceDisplayName": "Windows Azure Service Management API",
  "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
  "resourceServicePrincipalId": "a6033f22-27f9-45cb-8f63-7dd8a0590e4e",
  "resourceTenantId": "99081087-73c4-48d1-a112-f60ff75114f7",
  "homeTenantId": "99081087-73c4-48d1-a112-f60ff75114f7",
  "homeTenantName": "",
  "appOwnerTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
  "resourceOwnerTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
  "authenticationMethodsUsed": ["Password", "Authenticator App"],
  "authenticationRequirement": "multiFactorAuthentication",
  "authenticationProtocol": "none",
  "incomingTokenType": "none",
  "signInIdentifier": "avery.chen@contoso.com",
  "signInIdentifierType": null,
  "signInEventTypes": ["interactiveUser"],
  "servicePrincipalId": "",
  "servicePrincipalName": "",
  "federatedCredentialId": "",
  "azureResourceId": "",
  "userType": "member",
  "flaggedForReview": false,
  "isTenantRestricted": false,
  "isThroughGlobalSecureAccess": false,
  "globalSecureAccessIpAddress": "",
  "autonomousSystemNumber": 8075,
  "crossTenantAccessType": "none",
  "servicePrincipalCredentialKeyId": "",
  "servicePrincipalCredentialThumbprint": "",
  "uniqueTokenIdentifier": "M2YyYjdhMTAtNWMxZS00ZDdhLTliOGUtMmE2YzFkMGU0YjAw",
  "sessionId": "5b7c9d1e-3f2a-4c6b-8e0d-1a2b3c4d5e6f",
  "clientSessionId": "",
  "appTokenProtectionStatus": "none",
  "signInTokenProtectionStatus": "bound",
  "tokenProtectionStatusDetails": { "signInSessionStatus": "bound", "signInSessionStatusCode": 0 },
  "originalTransferMethod": "none",
  "alternateSignInName": "avery@contoso.com",
  "mfaDetail": { "authMethod": "PhoneAppNotification", "authDetail": null },
  "agent": { "agentType": "notAgentic", "agentSubjectType": "notAgentic", "agentSubjectParentId": "", "parentAppId": "" },
  "authenticationAppDeviceDetails": { "appVersion": "6.2401.0119", "clientApp": "Microsoft Authenticator", "deviceId": "d-1", "operatingSystem": "iOS 17.3" },
  "authenticationAppPolicyEvaluationDetails": [ { "policyName": "numberMatch", "adminConfiguration": "enabled", "authenticationEvaluation": "success", "status": "appliedSuccessfully" } ],
  "appliedEventListeners": [ { "eventType": "tokenIssuanceStart", "executedListenerId": "e-1", "handlerResult": { "@odata.type": "#microsoft.graph.onTokenIssuanceStartCustomExtensionHandlerResult", "customExtensionId": "x", "latency": 12 } } ],
  "managedServiceIdentity": { "msiType": "none", "associatedResourceId": "", "federatedTokenId": null, "federatedTokenIssuer": null },
  "conditionalAccessAudiences": ["797f4846-ba00-4fd7-ba43-dac1f8f63013"],
  "status": { "errorCode": 0, "failureReason": "Other.", "additionalDetails": "MFA requirement satisfied by strong authentication" },
  "deviceDetail": { "deviceId": "", "displayName": "", "operatingSystem": "Windows 10", "browser": "Edge 122.0.0", "browserId": "b-1", "isCompliant": false, "isManaged": false, "trustType": "" },
  "location": { "city": "Redmond", "state": "Washington", "countryOrRegion": "US",
                "geoCoordinates": { "altitude": null, "latitude": 47.6805, "longitude": -122.1209 } },
  "appliedConditionalAccessPolicies": [
    { "id": "6701123a-b4c6-48af-8565-565c8bf7cabc", "displayName": "Require MFA for admins",
      "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "success",
      "conditionsSatisfied": "application,users", "conditionsNotSatisfied": "none",
      "includeRulesSatisfied": [ { "conditionalAccessCondition": "application", "ruleSatisfied": "allApps" } ],
      "excludeRulesSatisfied": [],
      "authenticationStrength": { "authenticationStrengthId": "00000000-0000-0000-0000-000000000002", "displayName": "Multifactor authentication", "authenticationStrengthResult": "satisfied" },
      "sessionControlsNotSatisfied": [] }
  ],
  "authenticationContextClassReferences": [ { "id": "C1", "detail": "required" } ],
  "authenticationProcessingDetails": [ { "key": "Login Hint Present", "value": "True" },
                                       { "key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False" } ],
  "networkLocationDetails": [ { "networkType": "namedNetwork", "networkNames": ["North America"] } ],
  "authenticationDetails": [
    { "authenticationStepDateTime": "2025-03-04T08:15:27Z", "authenticationMethod": "Password",
      "authenticationMethodDetail": "Password in the cloud", "succeeded": true,
      "authenticationStepResultDetail": "Correct password", "authenticationStepRequirement": "Primary authentication" },
    { "authenticationStepDateTime": "2025-03-04T08:15:41.1234567Z", "authenticationMethod": "Mobile app notification",
      "authenticationMethodDetail": null, "succeeded": true,
      "authenticationStepResultDetail": "MFA successfully completed", "authenticationStepRequirement": "Multifactor authentication" }
  ],
  "authenticationRequirementPolicies": [ { "requirementProvider": "multiConditionalAccess", "detail": "Conditional Access" } ],
  "sessionLifetimePolicies": [ { "expirationRequirement": "signInFrequencyPeriodicReauthentication", "detail": "Sign-in frequency periodic reauthentication" } ],
  "privateLinkDetails": { "policyId": "", "policyName": "", "resourceId": "", "policyTenantId": "" }
}`

// edgeEvents derives hand-made events from graphSample around the generated stream's last
// timestamp: mixed-case UPNs (Graph matches UPNs case-insensitively), 7-digit fractions, a UTC
// offset, same-second ties broken by id, a 50126 failure from RU, mixed-case "Microsoft"
// prefixes, a failure without appDisplayName and a row holding little more than its key.
// The hand-made user gets more flagged sign-ins than anyone generated, so `params` picks it.
func edgeEvents(t *testing.T, last time.Time) [][]byte {
	t.Helper()
	var base map[string]any
	if err := json.Unmarshal([]byte(graphSample), &base); err != nil {
		t.Fatal(err)
	}
	clone := func(mut func(m map[string]any)) []byte {
		b, _ := json.Marshal(base)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mut(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var out [][]byte
	ts := func(d time.Duration, frac string) string {
		return last.Add(-d).UTC().Format("2006-01-02T15:04:05") + frac + "Z"
	}
	upns := []string{"Avery.Chen@Contoso.com", "AVERY.CHEN@CONTOSO.COM", "avery.chen@contoso.com"}
	for i := range 30 {
		out = append(out, clone(func(m map[string]any) {
			m["id"] = fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i)
			m["userPrincipalName"] = upns[i%len(upns)]
			m["flaggedForReview"] = true
			// Pairs share a second (id breaks the tie); some carry 7-digit fractions; spread over 10 days.
			frac := ""
			if i%4 == 1 {
				frac = ".1234567"
			}
			m["createdDateTime"] = ts(time.Duration(i/2)*8*time.Hour, frac)
			m["correlationId"] = "edge-flow-" + fmt.Sprint(i%3)
			if i%5 == 0 {
				m["status"] = map[string]any{"errorCode": 50126, "failureReason": "Error validating credentials due to invalid username or password.", "additionalDetails": "The user didn't enter the right credentials.\u00a0"}
				m["location"].(map[string]any)["countryOrRegion"] = "RU"
			}
			switch i % 6 {
			case 1:
				m["appDisplayName"] = "microsoft Authenticator App"
			case 2:
				m["appDisplayName"] = "MICROSOFT Edge"
			case 3:
				m["riskLevelDuringSignIn"] = "high"
			case 4:
				m["signInEventTypes"] = []string{"nonInteractiveUser"}
				m["status"] = map[string]any{"errorCode": 70044, "failureReason": "The session has expired or is invalid due to sign-in frequency checks by conditional access."}
			}
		}))
	}
	// Offset instead of Z: 2 h ahead, so the instant is 1 h before last.
	out = append(out, clone(func(m map[string]any) {
		m["id"] = "bbbbbbbb-0000-4000-8000-000000000001"
		m["createdDateTime"] = last.Add(-time.Hour).In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05-07:00")
		m["status"] = map[string]any{"errorCode": 50126}
		m["appDisplayName"] = nil
	}))
	out = append(out, []byte(fmt.Sprintf(`{"id":"cccccccc-0000-4000-8000-000000000001","createdDateTime":%q,"status":{"errorCode":50053}}`, ts(30*time.Minute, ""))))
	return out
}

// event is the independent Go model of the fields the queries read.
type event struct {
	ID        string
	Created   time.Time
	UPN       *string
	App       *string
	CID       *string
	Flagged   *bool
	ErrorCode *int
	Country   *string
	Types     []string
	Risk      *string
}

func decodeEvent(line []byte) (event, map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return event{}, nil, err
	}
	str := func(v any) *string {
		if s, ok := v.(string); ok {
			return &s
		}
		return nil
	}
	id, _ := m["id"].(string)
	created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["createdDateTime"]))
	if err != nil {
		return event{}, nil, err
	}
	e := event{ID: strings.ToLower(id), Created: created.UTC().Truncate(time.Microsecond),
		UPN: str(m["userPrincipalName"]), App: str(m["appDisplayName"]), CID: str(m["correlationId"]),
		Risk: str(m["riskLevelDuringSignIn"])}
	if b, ok := m["flaggedForReview"].(bool); ok {
		e.Flagged = &b
	}
	if ts, ok := m["signInEventTypes"].([]any); ok {
		for _, x := range ts {
			if s, ok := x.(string); ok {
				e.Types = append(e.Types, s)
			}
		}
	}
	if st, ok := m["status"].(map[string]any); ok {
		if c, ok := st["errorCode"].(float64); ok {
			code := int(c)
			e.ErrorCode = &code
		}
	}
	if loc, ok := m["location"].(map[string]any); ok {
		e.Country = str(loc["countryOrRegion"])
	}
	return e, m, nil
}

func readEvents(t *testing.T, files ...string) ([]event, map[string]map[string]any) {
	t.Helper()
	var evs []event
	full := map[string]map[string]any{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 1<<20), 16<<20)
		for s.Scan() {
			e, m, err := decodeEvent(s.Bytes())
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			evs = append(evs, e)
			full[e.ID] = m
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return evs, full
}

// expected computes every query over the decoded events, independently of DuckDB.
func expected(evs []event, p params) map[string]*outcome {
	is := func(b *bool) bool { return b != nil && *b }
	eqFold := func(s *string, v string) bool { return s != nil && strings.EqualFold(*s, v) }
	// The engines compare Unicode lower case; EqualFold is close enough for ASCII UPNs.
	since7, since48, since30 := p.since(7*24*time.Hour), p.since(48*time.Hour), p.since(30*24*time.Hour)
	failed := func(e event) bool { return e.ErrorCode != nil && *e.ErrorCode != 0 }
	page := func(limit int, keep func(e event) bool) *outcome {
		var sel []event
		for _, e := range evs {
			if keep(e) {
				sel = append(sel, e)
			}
		}
		slices.SortFunc(sel, func(a, b event) int {
			if c := b.Created.Compare(a.Created); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		if limit > 0 && len(sel) > limit {
			sel = sel[:limit]
		}
		o := &outcome{count: int64(len(sel))}
		for _, e := range sel {
			o.ids = append(o.ids, e.ID)
		}
		return o
	}
	count := func(keep func(e event) bool) *outcome {
		o := &outcome{}
		for _, e := range evs {
			if keep(e) {
				o.count++
			}
		}
		return o
	}
	top := func() *outcome {
		byApp := map[string]int64{}
		var nullApp int64
		for _, e := range evs {
			if failed(e) && !e.Created.Before(since48) {
				if e.App == nil {
					nullApp++
				} else {
					byApp[*e.App]++
				}
			}
		}
		var rows []appCount
		for app, n := range byApp {
			rows = append(rows, appCount{App: &app, Failures: n})
		}
		if nullApp > 0 {
			rows = append(rows, appCount{Failures: nullApp})
		}
		slices.SortFunc(rows, func(a, b appCount) int {
			if c := cmp.Compare(b.Failures, a.Failures); c != 0 {
				return c
			}
			switch { // names ascending, NULL last
			case a.App == nil:
				return 1
			case b.App == nil:
				return -1
			}
			return strings.Compare(*a.App, *b.App)
		})
		if len(rows) > 10 {
			rows = rows[:10]
		}
		return &outcome{count: int64(len(rows)), top: rows}
	}
	out := map[string]*outcome{
		"Q1": page(1000, func(e event) bool { return is(e.Flagged) }),
		"Q2": page(1000, func(e event) bool { return is(e.Flagged) && eqFold(e.UPN, p.UPN) }),
		"Q3": page(1000, func(e event) bool { return is(e.Flagged) && eqFold(e.UPN, p.UPN) && !e.Created.Before(since7) }),
		"Q4": page(1000, func(e event) bool { return eqFold(e.UPN, p.UPN) && !e.Created.Before(since7) }),
		"Q5": page(0, func(e event) bool { return e.CID != nil && *e.CID == p.CorrelationID }),
		"Q6": count(func(e event) bool {
			return e.ErrorCode != nil && *e.ErrorCode == 50126 && e.Country != nil && *e.Country == "RU"
		}),
		"Q7":  count(func(e event) bool { return e.App != nil && strings.HasPrefix(strings.ToLower(*e.App), "microsoft") }),
		"Q8":  top(),
		"Q9":  count(func(e event) bool { return slices.Contains(e.Types, "nonInteractiveUser") && failed(e) }),
		"Q10": page(1000, func(event) bool { return true }),
		"Q11": count(func(e event) bool { return e.Risk != nil && *e.Risk == "high" && !e.Created.Before(since30) }),
	}
	// The two-column variants select the same rows.
	for _, q := range bench.Suite {
		if base, ok := strings.CutSuffix(q.ID, bench.TwoCols); ok {
			out[q.ID] = out[base]
		}
	}
	return out
}

// expectedParams mirrors pickUPNSQL, pickCIDSQL and pickNowSQL.
func expectedParams(evs []event) params {
	type score struct{ recent, all int }
	flagged, flows := map[string]score{}, map[string]int{}
	var p params
	for _, e := range evs {
		if e.Created.After(p.Now) {
			p.Now = e.Created
		}
	}
	since := p.since(7 * 24 * time.Hour)
	for _, e := range evs {
		if e.Flagged != nil && *e.Flagged && e.UPN != nil {
			s := flagged[strings.ToLower(*e.UPN)]
			s.all++
			if !e.Created.Before(since) {
				s.recent++
			}
			flagged[strings.ToLower(*e.UPN)] = s
		}
		if e.CID != nil && *e.CID != "" {
			flows[*e.CID]++
		}
	}
	var best score
	for u, s := range flagged {
		if p.UPN == "" || cmp.Or(cmp.Compare(s.recent, best.recent), cmp.Compare(s.all, best.all), cmp.Compare(p.UPN, u)) > 0 {
			p.UPN, best = u, s
		}
	}
	n := 1
	for c, k := range flows {
		if k > n || k == n && c < p.CorrelationID {
			p.CorrelationID, n = c, k
		}
	}
	return p
}

func TestLoadQueryMatchesGo(t *testing.T) {
	dir := t.TempDir()
	phase := time.Now()
	logPhase := func(name string) {
		t.Logf("%-8s %v", name, time.Since(phase).Round(time.Millisecond))
		phase = time.Now()
	}
	genPath := filepath.Join(dir, "gen.ndjson")
	f, err := os.Create(genPath)
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := gen.Write(f, gen.Config{Events: 10000, Seed: 7, Days: 30, End: gen.BenchEnd})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	genEvents, _ := readEvents(t, genPath)
	if int64(len(genEvents)) != n {
		t.Fatalf("generator wrote %d events, file holds %d", n, len(genEvents))
	}
	last := genEvents[0].Created
	for _, e := range genEvents {
		if e.Created.After(last) {
			last = e.Created
		}
	}
	edgePath := filepath.Join(dir, "edge.ndjson")
	edge := edgeEvents(t, last)
	if err := os.WriteFile(edgePath, append(slices.Concat(joinLines(edge)...), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, full := readEvents(t, genPath, edgePath)
	logPhase("generate")

	ctx := context.Background()
	o := openOptions{Path: filepath.Join(dir, "peer.duckdb"), Threads: 2}
	lr, err := load(ctx, o, []string{genPath, edgePath})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Events != int64(len(evs)) || lr.TableEvents != int64(len(evs)) {
		t.Fatalf("loaded %d events (table %d), want %d", lr.Events, lr.TableEvents, len(evs))
	}
	if lr.DBBytes <= 0 || lr.PeakRSSBytes <= 0 || lr.Version == "" {
		t.Fatalf("load report incomplete: %+v", lr)
	}
	if _, err := os.Stat(o.Path + ".wal"); err == nil {
		st, _ := os.Stat(o.Path + ".wal")
		if st.Size() > 0 {
			t.Fatalf("WAL left behind after CHECKPOINT: %d bytes", st.Size())
		}
	}

	logPhase("load")
	t.Run("fidelity", func(t *testing.T) { checkFidelity(t, o, full) })
	logPhase("fidelity")

	p, err := pickParams(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedParams(evs)
	if p.UPN != want.UPN || p.CorrelationID != want.CorrelationID || !p.Now.Equal(want.Now) {
		t.Fatalf("params = %+v, want %+v", p, want)
	}
	if p.UPN != "avery.chen@contoso.com" {
		t.Fatalf("expected the hand-made user to be picked, got %q", p.UPN)
	}

	// Round-trip the params through a file, as the CLI does.
	pf := filepath.Join(dir, "params.json")
	b, _ := json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err = readParams(pf); err != nil {
		t.Fatal(err)
	}

	rep, got, err := runSuite(ctx, o, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	logPhase("queries")
	exp := expected(evs, p)
	if len(rep.Queries) != len(bench.Suite) {
		t.Fatalf("%d query results, want %d", len(rep.Queries), len(bench.Suite))
	}
	if rep.Cold != bench.ColdMethod {
		t.Errorf("report says cold is %q", rep.Cold)
	}
	fullRows := 0
	for _, qr := range rep.Queries {
		g, w := got[qr.ID], exp[qr.ID]
		if g.count != w.count || qr.Count != w.count {
			t.Errorf("%s: count %d (report %d), want %d", qr.ID, g.count, qr.Count, w.count)
		}
		if !slices.Equal(g.ids, w.ids) {
			t.Errorf("%s: page ids differ (got %d, want %d)", qr.ID, len(g.ids), len(w.ids))
		}
		if qr.Kind == bench.KindPage && qr.IDsHash != idsHash(w.ids) {
			t.Errorf("%s: ids hash %s, want %s", qr.ID, qr.IDsHash, idsHash(w.ids))
		}
		if qr.Kind == bench.KindPage {
			if checkPageValues(t, qr, g, full) {
				fullRows++
			}
		}
		if !slices.EqualFunc(g.top, w.top, sameAppCount) {
			t.Errorf("%s: rows\n got %s\nwant %s", qr.ID, fmtTop(g.top), fmtTop(w.top))
		}
		// Every query must select something on this data, or it proves nothing.
		if w.count == 0 {
			t.Errorf("%s: fixture selects no rows", qr.ID)
		}
		if qr.ColdMs <= 0 || qr.WarmMedianMs <= 0 || qr.WarmP99Ms < qr.WarmMedianMs || qr.WarmMinMs > qr.WarmMedianMs {
			t.Errorf("%s: implausible timings %+v", qr.ID, qr)
		}
		if len(qr.ColdRunsMs) != bench.ColdRuns || qr.ColdMs != bench.Percentile(slices.Sorted(slices.Values(qr.ColdRunsMs)), 0.5) {
			t.Errorf("%s: cold %v ms from the runs %v, want the median of %d", qr.ID, qr.ColdMs, qr.ColdRunsMs, bench.ColdRuns)
		}
		if strings.Contains(qr.Graph, "{") {
			t.Errorf("%s: unresolved placeholder in %q", qr.ID, qr.Graph)
		}
	}
	if fullRows != 3 {
		t.Errorf("%d full-row pages, want 3 (Q1, Q4, Q10)", fullRows)
	}
	if rep.Events != int64(len(evs)) {
		t.Errorf("report events %d, want %d", rep.Events, len(evs))
	}
	// The report must be valid JSON.
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// checkPageValues checks what a page's rows hold: a full-row page every column of the schema,
// each row's values read into Go and equal to the source event's; a two-column page id and
// createdDateTime only. It reports whether the page was a full-row one.
func checkPageValues(t *testing.T, qr queryResult, g *outcome, full map[string]map[string]any) bool {
	t.Helper()
	var want []string
	if qr.Columns == "all" {
		for _, c := range signInColumns {
			want = append(want, c.Name)
		}
	} else {
		want = strings.Split(qr.Columns, ",")
	}
	if !slices.Equal(g.cols, want) {
		t.Errorf("%s: columns %v, want %v", qr.ID, g.cols, want)
		return false
	}
	if len(g.rows) != len(g.ids) {
		t.Errorf("%s: %d rows of values for %d ids", qr.ID, len(g.rows), len(g.ids))
		return false
	}
	if qr.Columns != "all" {
		return false
	}
	col := func(name string) int { return slices.Index(g.cols, name) }
	for i, vals := range g.rows {
		src := full[g.ids[i]]
		if len(vals) != len(signInColumns) {
			t.Fatalf("%s row %d: %d values, want %d", qr.ID, i, len(vals), len(signInColumns))
		}
		for _, name := range []string{"userPrincipalName", "appDisplayName", "correlationId", "userAgent"} {
			if v, s := vals[col(name)], src[name]; v != s && !(v == nil && s == nil) {
				t.Fatalf("%s row %d (%s): %s = %v, source %v", qr.ID, i, g.ids[i], name, v, s)
			}
		}
		// Nested values are read too: status is a STRUCT read as a map.
		st, _ := vals[col("status")].(map[string]any)
		srcSt, _ := src["status"].(map[string]any)
		if code, ok := srcSt["errorCode"].(float64); ok && fmt.Sprint(st["errorCode"]) != fmt.Sprint(int(code)) {
			t.Fatalf("%s row %d: status %v, source %v", qr.ID, i, st, srcSt)
		}
		if pols, ok := src["appliedConditionalAccessPolicies"].([]any); ok {
			got, _ := vals[col("appliedConditionalAccessPolicies")].([]any)
			if len(got) != len(pols) {
				t.Fatalf("%s row %d: %d policies read, source %d", qr.ID, i, len(got), len(pols))
			}
		}
	}
	return true
}

func joinLines(lines [][]byte) [][]byte {
	out := make([][]byte, 0, 2*len(lines))
	for i, l := range lines {
		if i > 0 {
			out = append(out, []byte{'\n'})
		}
		out = append(out, l)
	}
	return out
}

func fmtTop(rows []appCount) string {
	var b strings.Builder
	for _, r := range rows {
		app := "<null>"
		if r.App != nil {
			app = *r.App
		}
		fmt.Fprintf(&b, "[%s %d] ", app, r.Failures)
	}
	return b.String()
}

// checkFidelity reads every row back as JSON and compares it with the source event: a typo in a
// STRUCT member name or a wrong type would silently load NULLs, and a property missing from the
// schema would be dropped.
func checkFidelity(t *testing.T, o openOptions, full map[string]map[string]any) {
	o.ReadOnly = true
	db, err := open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT CAST(id AS VARCHAR), CAST(to_json(s) AS VARCHAR) FROM signins s")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen, bad := 0, 0
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			t.Fatal(err)
		}
		var loaded map[string]any
		if err := json.Unmarshal([]byte(js), &loaded); err != nil {
			t.Fatal(err)
		}
		src, ok := full[id]
		if !ok {
			t.Fatalf("row %s not in the source", id)
		}
		seen++
		if err := sameJSON(src, loaded, ""); err != nil {
			if bad++; bad <= 5 {
				t.Errorf("row %s: %v", id, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(full) {
		t.Fatalf("read back %d rows, want %d", seen, len(full))
	}
}

// sameJSON compares a source value with its loaded form: an absent key equals null, timestamps
// compare as instants truncated to microseconds, numbers as float64.
func sameJSON(src, got any, path string) error {
	switch s := src.(type) {
	case nil:
		if got != nil {
			return fmt.Errorf("%s: source null, loaded %v", path, got)
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: source object, loaded %T", path, got)
		}
		for k, v := range s {
			gv, present := g[k]
			if !present && v != nil {
				return fmt.Errorf("%s/%s: dropped (not in the schema)", path, k)
			}
			if err := sameJSON(v, gv, path+"/"+k); err != nil {
				return err
			}
		}
		for k, gv := range g {
			if _, ok := s[k]; !ok && gv != nil {
				return fmt.Errorf("%s/%s: loaded %v from nothing", path, k, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(s) {
			return fmt.Errorf("%s: source %v, loaded %v", path, s, got)
		}
		for i := range s {
			if err := sameJSON(s[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case string:
		g, ok := got.(string)
		if !ok {
			return fmt.Errorf("%s: source %q, loaded %v", path, s, got)
		}
		if g == s {
			return nil
		}
		ts, err1 := time.Parse(time.RFC3339Nano, s)
		tg, err2 := time.Parse("2006-01-02 15:04:05.999999-07", g)
		if err1 != nil || err2 != nil || !ts.Truncate(time.Microsecond).Equal(tg) {
			return fmt.Errorf("%s: source %q, loaded %q", path, s, g)
		}
	default: // float64, bool
		if src != got {
			return fmt.Errorf("%s: source %v, loaded %v", path, src, got)
		}
	}
	return nil
}
