package server_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2021, 10, 5, 9, 0, 0, 0, time.UTC)

// shape describes a JSON value's structure without its values: objects by sorted keys,
// arrays by their first element, scalars by type.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			out[k] = shape(v)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, _ := json.MarshalIndent(shape(v), "", "  ")
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run Golden -update to create it)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("%s: response shape changed:\n got %s\nwant %s", name, got, want)
	}
}

func sampleEvents() []event {
	return []event{
		{id: guid(1), at: t0, browser: "Edge 122.0.0", os: "Windows 10", extra: map[string]any{
			"crossTenantAccessType": "passthrough", "incomingTokenType": "refreshToken", "tokenIssuerType": "AzureADBackupAuth",
			"authenticationProtocol": "nativeAuth", "riskDetail": "m365DAdminDismissedDetection",
			"appliedConditionalAccessPolicies": []any{map[string]any{"id": "p1", "displayName": "MFA", "enforcedGrantControls": []string{"Mfa"},
				"enforcedSessionControls": []string{}, "result": "reportOnlySuccess", "conditionsSatisfied": "application,users,insiderRisk", "conditionsNotSatisfied": "none"}},
		}},
		{id: guid(2), at: t0.Add(time.Minute), browser: "Chrome 120", os: "macOS", errorCode: 50126, extra: map[string]any{
			"crossTenantAccessType": "b2bCollaboration", "incomingTokenType": "primaryRefreshToken", "tokenIssuerType": "AzureAD",
			"authenticationProtocol": "oAuth2", "appliedConditionalAccessPolicies": []any{},
		}},
		{id: guid(3), at: t0.Add(2 * time.Minute), eventType: "nonInteractiveUser"},
	}
}

func TestGoldenShapesV1AndBeta(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	for _, ver := range []string{"beta", "v1.0"} {
		r := e.get("/"+ver+"/auditLogs/signIns?$top=1", tok)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", ver, r.status, r.body)
		}
		m := r.json(t)
		if want := e.ts.URL + "/" + ver + "/$metadata#auditLogs/signIns"; m["@odata.context"] != want {
			t.Errorf("%s context %v, want %s", ver, m["@odata.context"], want)
		}
		next, _ := m["@odata.nextLink"].(string)
		if !strings.HasPrefix(next, e.ts.URL+"/"+ver+"/auditLogs/signIns?$top=1&$skiptoken=") {
			t.Errorf("%s nextLink %q", ver, next)
		}
		checkGolden(t, "list-"+ver, r.body)
		g := e.get("/"+ver+"/auditLogs/signIns/"+guid(1), tok)
		if g.status != http.StatusOK {
			t.Fatalf("get %s: %d %s", ver, g.status, g.body)
		}
		checkGolden(t, "get-"+ver, g.body)
	}
	// v1.0 rows carry no beta-only property, beta rows do.
	v1 := e.get("/v1.0/auditLogs/signIns/"+guid(2), tok).json(t)
	beta := e.get("/beta/auditLogs/signins/"+guid(2), tok).json(t)
	for _, k := range []string{"flaggedForReview", "signInEventTypes", "crossTenantAccessType", "tokenIssuerType"} {
		if _, ok := v1[k]; ok {
			t.Errorf("v1.0 row has beta-only %s", k)
		}
		if _, ok := beta[k]; !ok {
			t.Errorf("beta row lacks %s", k)
		}
	}
}

func TestEvolvableEnumMembers(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	r := e.get("/beta/auditLogs/signIns/"+guid(1), tok)
	if r.header.Get("Preference-Applied") != "" {
		t.Errorf("Preference-Applied without Prefer")
	}
	m := r.json(t)
	want := map[string]string{"crossTenantAccessType": "unknownFutureValue", "incomingTokenType": "unknownFutureValue",
		"tokenIssuerType": "UnknownFutureValue", "authenticationProtocol": "unknownFutureValue", "riskDetail": "unknownFutureValue"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %s", k, m[k], v)
		}
	}
	ca := m["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
	if ca["result"] != "unknownFutureValue" || ca["conditionsSatisfied"] != "application,users,unknownFutureValue" {
		t.Errorf("CA policy %v", ca)
	}
	// Older members pass unchanged.
	m2 := e.get("/beta/auditLogs/signIns/"+guid(2), tok).json(t)
	if m2["crossTenantAccessType"] != "b2bCollaboration" || m2["incomingTokenType"] != "primaryRefreshToken" || m2["tokenIssuerType"] != "AzureAD" {
		t.Errorf("known members changed: %v %v %v", m2["crossTenantAccessType"], m2["incomingTokenType"], m2["tokenIssuerType"])
	}
	r = e.get("/beta/auditLogs/signIns?$filter="+url.QueryEscape("id eq '"+guid(1)+"'"), tok, "Prefer", "odata.maxpagesize=10, include-unknown-enum-members")
	if r.header.Get("Preference-Applied") != "include-unknown-enum-members" {
		t.Errorf("Preference-Applied = %q", r.header.Get("Preference-Applied"))
	}
	var page struct{ Value []map[string]any }
	json.Unmarshal(r.body, &page)
	if len(page.Value) != 1 {
		t.Fatalf("got %d rows: %s", len(page.Value), r.body)
	}
	orig := map[string]string{"crossTenantAccessType": "passthrough", "incomingTokenType": "refreshToken",
		"tokenIssuerType": "AzureADBackupAuth", "authenticationProtocol": "nativeAuth", "riskDetail": "m365DAdminDismissedDetection"}
	for k, v := range orig {
		if page.Value[0][k] != v {
			t.Errorf("with Prefer: %s = %v, want %s", k, page.Value[0][k], v)
		}
	}
}

func TestInteractiveOnlyByDefault(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	if got := ids(t, e.get("/beta/auditLogs/signIns", tok)); !slices.Equal(got, []string{guid(2), guid(1)}) {
		t.Errorf("default list %v, want interactive only, newest first", got)
	}
	q := url.QueryEscape("signInEventTypes/any(t: t eq 'nonInteractiveUser')")
	if got := ids(t, e.get("/beta/auditLogs/signIns?$filter="+q, tok)); !slices.Equal(got, []string{guid(3)}) {
		t.Errorf("non-interactive list %v", got)
	}
	// Get by id finds any event type.
	if r := e.get("/v1.0/auditLogs/signIns/"+guid(3), tok); r.status != http.StatusOK {
		t.Errorf("get non-interactive: %d", r.status)
	}
	// signInEventTypes is beta-only: a v1.0 filter on it is a 400.
	if r := e.get("/v1.0/auditLogs/signIns?$filter="+q, tok); r.status != http.StatusBadRequest {
		t.Errorf("v1.0 filter on beta property: %d %s", r.status, r.body)
	}
}

func TestSelectCountAndOrder(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, sampleEvents()...)
	tok := e.token(tenantA, "AuditLog.Read.All")
	r := e.get("/beta/auditLogs/signIns?$select=id,createdDateTime,status&$count=true&$orderby=createdDateTime+asc", tok)
	m := r.json(t)
	if m["@odata.count"] != float64(2) {
		t.Errorf("@odata.count = %v", m["@odata.count"])
	}
	rows := m["value"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["id"] != guid(1) {
		t.Fatalf("ascending order: %s", r.body)
	}
	var keys []string
	for k := range rows[0].(map[string]any) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"createdDateTime", "id", "status"}) {
		t.Errorf("$select keys %v", keys)
	}
	if got := m["@odata.context"]; got != e.ts.URL+"/beta/$metadata#auditLogs/signIns(id,createdDateTime,status)" {
		t.Errorf("context with $select: %v", got)
	}
	g := e.get("/v1.0/auditLogs/signIns/"+guid(1)+"?$select=ID,userPrincipalName", tok).json(t)
	if len(g) != 3 || g["id"] != guid(1) || g["userPrincipalName"] != "avery@contoso.com" ||
		g["@odata.context"] != e.ts.URL+"/v1.0/$metadata#auditLogs/signIns(id,userPrincipalName)/$entity" {
		t.Errorf("get with $select: %v", g)
	}
	if r := e.get("/v1.0/auditLogs/signIns?$select=id,flaggedForReview", tok); r.status != http.StatusBadRequest {
		t.Errorf("v1.0 $select of beta property: %d", r.status)
	}
}

// TestPagingUnderConcurrentIngest follows nextLinks to the end while another client ingests
// newer and older events and the engine flushes: every event present at the start is seen
// exactly once, and nothing else but the concurrently ingested events appears.
func TestPagingUnderConcurrentIngest(t *testing.T) {
	e := newEnv(t, func(_ *server.Config, eo *engine.Options) { eo.MemtableRows = 300; eo.CompactMinSegments = 3 })
	const initial = 2000
	var evs []event
	want := map[string]bool{}
	for i := 0; i < initial; i++ {
		ev := event{id: guid(i + 1), at: t0.Add(time.Duration(i/3) * time.Second), upn: fmt.Sprintf("u%d@contoso.com", i%7)}
		evs = append(evs, ev)
		want[ev.id] = true
	}
	for i := 0; i < initial; i += 500 {
		e.ingest(tenantA, evs[i:i+500]...)
	}
	tok := e.token(tenantA, "AuditLog.Read.All")

	concurrent := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := initial
		for batch := 0; batch < 20; batch++ {
			select {
			case <-stop:
				return
			default:
			}
			var b []event
			for j := 0; j < 50; j++ {
				n++
				at := t0.Add(time.Duration(initial/3+n) * time.Second) // newer than everything
				if j%2 == 0 {
					at = t0.Add(time.Duration(n%(initial/3)) * time.Second) // inside the listed range
				}
				b = append(b, event{id: guid(n), at: at})
			}
			if err := e.tryIngest(tenantA, b...); err != nil {
				t.Error(err) // not Fatal: this is not the test goroutine
				return
			}
			for _, ev := range b {
				concurrent[ev.id] = true
			}
		}
	}()

	seen := map[string]bool{}
	next := "/beta/auditLogs/signIns?$top=97&$filter=" + url.QueryEscape("status/errorCode eq 0")
	pages := 0
	for next != "" {
		r := e.get(next, tok)
		if r.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		var page struct {
			Next  string `json:"@odata.nextLink"`
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			if seen[v.ID] {
				t.Fatalf("duplicate %s on page %d", v.ID, pages)
			}
			seen[v.ID] = true
		}
		if page.Next != "" && !strings.Contains(page.Next, "status%2FerrorCode+eq+0") {
			t.Fatalf("nextLink lost the filter: %s", page.Next)
		}
		next = page.Next
		pages++
		if pages > 200 {
			t.Fatal("paging does not end")
		}
	}
	close(stop)
	wg.Wait()
	for id := range want {
		if !seen[id] {
			t.Errorf("gap: %s never listed", id)
		}
	}
	for id := range seen {
		if !want[id] && !concurrent[id] {
			t.Errorf("unexpected id %s", id)
		}
	}
	if pages < initial/97 {
		t.Errorf("only %d pages", pages)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA, event{id: guid(1), at: t0}, event{id: guid(2), at: t0.Add(time.Second)})
	e.ingest(tenantB, event{id: guid(3), at: t0})
	a, b := e.token(tenantA, "AuditLog.Read.All"), e.token(tenantB, "AuditLog.Read.All")
	if got := ids(t, e.get("/beta/auditLogs/signIns", a)); !slices.Equal(got, []string{guid(2), guid(1)}) {
		t.Errorf("tenant A sees %v", got)
	}
	if got := ids(t, e.get("/beta/auditLogs/signIns", b)); !slices.Equal(got, []string{guid(3)}) {
		t.Errorf("tenant B sees %v", got)
	}
	if r := e.get("/beta/auditLogs/signIns/"+guid(1), b); r.status != http.StatusNotFound {
		t.Errorf("B gets A's id: %d %s", r.status, r.body)
	}
	if r := e.get("/beta/auditLogs/signIns/"+guid(1), a); r.status != http.StatusOK {
		t.Errorf("A gets own id: %d", r.status)
	}
	// A's nextLink is useless to B.
	next := e.get("/beta/auditLogs/signIns?$top=1", a).json(t)["@odata.nextLink"].(string)
	if r := e.get(next, b); r.status != http.StatusBadRequest {
		t.Errorf("B follows A's nextLink: %d %s", r.status, r.body)
	}
	if got := ids(t, e.get(next, a)); !slices.Equal(got, []string{guid(1)}) {
		t.Errorf("A's second page %v", got)
	}
}

func TestApplyGroups(t *testing.T) {
	e := newEnv(t)
	e.ingest(tenantA,
		event{id: guid(1), at: t0, app: "A", errorCode: 50126},
		event{id: guid(2), at: t0, app: "A", errorCode: 50053},
		event{id: guid(3), at: t0, app: "B", errorCode: 50126},
		event{id: guid(4), at: t0, app: "B"},
		event{id: guid(5), at: t0, app: "C", errorCode: 50126, eventType: "nonInteractiveUser"},
	)
	tok := e.token(tenantA, "AuditLog.Read.All")
	apply := url.QueryEscape("filter(status/errorCode ne 0)/groupby((appDisplayName),aggregate($count as failures))/orderby(failures desc)")
	r := e.get("/beta/auditLogs/signIns?$apply="+apply, tok)
	var page struct{ Value []map[string]any }
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// Interactive only by default, like the list: C's non-interactive failure is not counted.
	if len(page.Value) != 2 || page.Value[0]["appDisplayName"] != "A" || page.Value[0]["failures"] != float64(2) ||
		page.Value[1]["appDisplayName"] != "B" || page.Value[1]["failures"] != float64(1) {
		t.Errorf("groups %s", r.body)
	}
	r = e.get("/beta/auditLogs/signIns?$filter="+url.QueryEscape("signInEventTypes/any(t: t eq 'nonInteractiveUser')")+"&$apply="+apply, tok)
	if !strings.Contains(string(r.body), `"appDisplayName":"C","failures":1`) {
		t.Errorf("non-interactive groups %s", r.body)
	}
	checkGraphError(t, "apply with $top", e.get("/beta/auditLogs/signIns?$top=5&$apply="+apply, tok), 400, "BadRequest")
	checkGraphError(t, "bad apply", e.get("/beta/auditLogs/signIns?$apply=groupby(", tok), 400, "BadRequest")
}

// TestApplyGroupLimit: an $apply that would make more groups than limits.maxGroups is answered
// 400 with the limit named, not with an unbounded body (grouping by id made 481K groups).
func TestApplyGroupLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *engine.Options) { c.Limits.MaxGroups = 3 })
	for i := 1; i <= 5; i++ {
		e.ingest(tenantA, event{id: guid(i), at: t0})
	}
	tok := e.token(tenantA, "AuditLog.Read.All")
	r := e.get("/beta/auditLogs/signIns?$apply="+url.QueryEscape("groupby((id),aggregate($count as n))"), tok)
	checkGraphError(t, "groupby id", r, 400, "BadRequest")
	if !strings.Contains(string(r.body), "more than 3 groups") {
		t.Errorf("the error does not name the limit: %s", r.body)
	}
	if r := e.get("/beta/auditLogs/signIns?$apply="+url.QueryEscape("groupby((appDisplayName),aggregate($count as n))"), tok); r.status != 200 {
		t.Errorf("a groupby under the limit: %d %s", r.status, r.body)
	}
}
