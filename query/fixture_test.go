package query_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

const tenant = "11111111-1111-4111-8111-111111111111"

var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	apps     = []string{"Microsoft Teams", "Microsoft Office", "Azure Portal", "Outlook Mobile", "Graph Explorer", "Microsoft Authenticator App", "Contoso HR", "o'brien tool"}
	cities   = []string{"Redmond", "Seattle", "London", "Paris", "Zürich", ""}
	countrys = []string{"US", "US", "GB", "FR", "CH", ""}
	browsers = []string{"Edge 122.0.0", "Chrome 120.0", "Firefox 118", "Safari 17", "Rich Client 4.5"}
	risks    = []string{"none", "low", "medium", "high", "hidden"}
	states   = []string{"none", "atRisk", "dismissed", "remediated", "confirmedSafe"}
	caStatus = []string{"success", "failure", "notApplied"}
	codes    = []int{0, 0, 0, 0, 50126, 50074, 53003, 500121, 70043, 50140}
	evTypes  = [][]string{{"interactiveUser"}, {"interactiveUser"}, {"nonInteractiveUser"}, {"servicePrincipal"}, {"managedIdentity"}, {"interactiveUser", "nonInteractiveUser"}, {}}
	results  = []string{"success", "failure", "notApplied", "reportOnlySuccess"}
)

func guid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
}

// makeEvent builds one varied sign-in: nulls, absent properties, odd GUID text, mixed
// case, unknown properties, null objects.
func makeEvent(i int, r *rand.Rand, start time.Time, span time.Duration) map[string]any {
	return makeEventOf(i, r, start, span, 30)
}

// makeEventOf is makeEvent with users users (their UPNs, ids and names are dictionaries of that
// many values).
func makeEventOf(i int, r *rand.Rand, start time.Time, span time.Duration, users int) map[string]any {
	at := start.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond)
	u := r.IntN(users)
	m := map[string]any{
		"id":                           guid(r),
		"createdDateTime":              at.Format(time.RFC3339Nano),
		"userDisplayName":              fmt.Sprintf("User %02d", u),
		"userPrincipalName":            fmt.Sprintf("user%02d@contoso.com", u),
		"userId":                       fmt.Sprintf("00000000-0000-4000-8000-%012d", u),
		"appId":                        fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i%len(apps)),
		"appDisplayName":               apps[r.IntN(len(apps))],
		"ipAddress":                    fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(8)),
		"correlationId":                guid(r),
		"conditionalAccessStatus":      caStatus[r.IntN(3)],
		"originalRequestId":            guid(r),
		"isInteractive":                r.IntN(2) == 0,
		"riskLevelDuringSignIn":        risks[r.IntN(len(risks))],
		"riskState":                    states[r.IntN(len(states))],
		"processingTimeInMilliseconds": r.IntN(2000),
		"flaggedForReview":             r.IntN(8) == 0,
		"autonomousSystemNumber":       8000 + r.IntN(5),
		"resourceTenantId":             tenant,
		"homeTenantId":                 tenant,
		"signInEventTypes":             evTypes[r.IntN(len(evTypes))],
		"status":                       map[string]any{"errorCode": codes[r.IntN(len(codes))], "failureReason": "Other.", "additionalDetails": nil},
		"deviceDetail":                 map[string]any{"deviceId": "", "operatingSystem": []string{"Windows 10", "iOS", "Android", "MacOs"}[r.IntN(4)], "browser": browsers[r.IntN(len(browsers))], "isCompliant": r.IntN(2) == 0, "isManaged": false},
		"location": map[string]any{"city": cities[u%len(cities)], "state": nil, "countryOrRegion": countrys[u%len(countrys)],
			"geoCoordinates": map[string]any{"altitude": nil, "latitude": 40 + float64(r.IntN(2000))/100, "longitude": -122.5 + float64(r.IntN(100))/10}},
	}
	// Conditional Access policies, a few shapes.
	var pols []any
	for k := range r.IntN(3) {
		pols = append(pols, map[string]any{"id": fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", k), "displayName": fmt.Sprintf("Policy %d", k),
			"enforcedGrantControls": []string{"Mfa"}, "result": results[r.IntN(len(results))]})
	}
	if pols != nil {
		m["appliedConditionalAccessPolicies"] = pols
	} else {
		m["appliedConditionalAccessPolicies"] = []any{}
	}
	if i%5 != 0 { // by position, not r, so that the other properties draw as before
		m["riskEventTypes_v2"] = [][]string{{"unfamiliarFeatures"}, {"anonymizedIPAddress", "unlikelyTravel"}, {}}[i%3]
	}
	switch r.IntN(12) {
	case 0:
		m["status"] = nil
	case 1:
		delete(m, "riskState")
	case 2:
		m["originalRequestId"] = ""
	case 3:
		m["userPrincipalName"] = strings.ToUpper(m["userPrincipalName"].(string))
	case 4:
		m["x-vendor"] = map[string]any{"seq": i}
	case 5:
		m["location"].(map[string]any)["geoCoordinates"] = map[string]any{"altitude": nil, "latitude": nil, "longitude": nil}
	case 6:
		m["correlationId"] = strings.ToUpper(m["correlationId"].(string))
	case 7:
		m["signInEventTypes"] = nil
	case 8:
		delete(m, "flaggedForReview")
	case 9:
		m["processingTimeInMilliseconds"] = nil
	}
	if r.IntN(20) == 0 {
		m["userPrincipalName"] = "user@contoso.com"
		m["flaggedForReview"] = true
	}
	return m
}

// fixture is a real engine DB: several flushed segments with small blocks plus
// unflushed memtable rows, and the events as decoded JSON for the reference.
type fixture struct {
	db     *engine.DB
	snap   *engine.Snapshot
	src    query.Source
	events []map[string]any
	lower  []map[string]any // events with lower-cased keys, for the reference
	dir    string
}

var (
	fixMu    sync.Mutex
	fixtures = map[string]*fixture{}
)

func closeFixtures() {
	fixMu.Lock()
	defer fixMu.Unlock()
	for k, f := range fixtures {
		f.snap.Release()
		f.db.Close()
		os.RemoveAll(f.dir)
		delete(fixtures, k)
	}
}

func sourceOf(s *engine.Snapshot) query.Source {
	var src query.Source
	for _, d := range s.Days {
		qd := query.Day{Day: d.Day, Mem: d.Mem}
		for _, sv := range d.Segments {
			qd.Segments = append(qd.Segments, query.Segment{ID: sv.ID, Seg: sv.Seg, Index: sv.Index})
		}
		src.Days = append(src.Days, qd)
	}
	return src
}

// getFixture builds (once per configuration) n events over 3 days: the first 45% and
// the next 35% flushed as separate segments, the rest left in the memtable.
func getFixture(t testing.TB, n, blockRows int, seed uint64) *fixture {
	return getFixtureOf(t, n, blockRows, seed, 30)
}

// getFixtureOf is getFixture with events from users users.
func getFixtureOf(t testing.TB, n, blockRows int, seed uint64, users int) *fixture {
	key := fmt.Sprint(n, blockRows, seed, users)
	fixMu.Lock()
	defer fixMu.Unlock()
	if f, ok := fixtures[key]; ok {
		return f
	}
	dir, err := os.MkdirTemp("", "querytest")
	if err != nil {
		t.Fatal(err)
	}
	db, err := engine.Open(dir, engine.Options{DisableBackground: true, NoSync: true, BlockRows: blockRows,
		Now: func() time.Time { return fixedNow }, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	events := make([]map[string]any, n)
	lines := make([]engine.Record, n)
	for i := range events {
		events[i] = makeEventOf(i, r, fixedNow.Add(-72*time.Hour), 72*time.Hour, users)
		b, _ := json.Marshal(events[i])
		lines[i] = engine.Record{Raw: b}
	}
	cut1, cut2 := n*45/100, n*80/100
	for _, part := range [][2]int{{0, cut1}, {cut1, cut2}, {cut2, n}} {
		res, err := db.Ingest(lines[part[0]:part[1]], engine.IngestOptions{})
		if err != nil || res.Accepted != part[1]-part[0] {
			t.Fatalf("ingest: %+v %v", res, err)
		}
		if part[1] != n {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap, err := db.Snapshot(tenant)
	if err != nil {
		t.Fatal(err)
	}
	// Re-decode through JSON so numbers look like what the reference sees from Graph.
	for i := range events {
		b, _ := json.Marshal(events[i])
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		var m map[string]any
		d.Decode(&m)
		events[i] = m
	}
	f := &fixture{db: db, snap: snap, src: sourceOf(snap), events: events, dir: dir}
	for _, ev := range events {
		f.lower = append(f.lower, lowerKeys(ev).(map[string]any))
	}
	fixtures[key] = f
	return f
}

func idsOf(rows [][]byte) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		var m struct {
			ID string `json:"id"`
		}
		json.Unmarshal(r, &m)
		out[i] = m.ID
	}
	return out
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

var _ = columnar.SignIns
