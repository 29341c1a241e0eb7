package gen

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/clocktest"
)

func generate(t *testing.T, cfg Config) []byte {
	t.Helper()
	var b bytes.Buffer
	n, nb, err := Write(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(cfg.Events) || nb != int64(b.Len()) {
		t.Fatalf("Write reported %d events / %d bytes, want %d / %d", n, nb, cfg.Events, b.Len())
	}
	return b.Bytes()
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Events: 3000, Seed: 42, End: clocktest.Epoch()}
	a, b := generate(t, cfg), generate(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("same Config produced different output")
	}
	// Next and Write must agree byte for byte.
	g := New(cfg)
	var viaNext []byte
	for {
		var ok bool
		if viaNext, ok = g.Next(viaNext); !ok {
			break
		}
	}
	if !bytes.Equal(a, viaNext) {
		t.Fatal("Next and Write disagree")
	}
	cfg.Seed = 43
	if c := generate(t, cfg); bytes.Equal(a, c) {
		t.Fatal("different seeds produced identical output")
	}
	if n := bytes.Count(a, []byte("\n")); n != 3000 {
		t.Fatalf("got %d lines, want 3000", n)
	}
}

func TestEmptyAndExhausted(t *testing.T) {
	g := New(Config{Events: 0})
	if line, ok := g.Next(nil); ok || len(line) != 0 {
		t.Fatalf("Events=0 produced %q", line)
	}
	g = New(Config{Events: 2, Seed: 1, End: clocktest.Epoch()})
	for i := 0; i < 2; i++ {
		if _, ok := g.Next(nil); !ok {
			t.Fatalf("event %d missing", i)
		}
	}
	if _, ok := g.Next(nil); ok {
		t.Fatal("Next succeeded after Events")
	}
}

// kinds of JSON values per top-level key: s string, n number, b bool,
// a array, o object, z null. Several letters mean any of them.
var keyKinds = map[string]string{
	"ipAddressFromResourceProvider": "sz", "signInIdentifierType": "sz", "userType": "sz",
	"processingTimeInMilliseconds": "n", "autonomousSystemNumber": "n",
	"isInteractive": "b", "flaggedForReview": "b", "isTenantRestricted": "b", "isThroughGlobalSecureAccess": "b",
	"riskEventTypes_v2": "a", "authenticationMethodsUsed": "a", "signInEventTypes": "a",
	"appliedConditionalAccessPolicies": "a", "authenticationProcessingDetails": "a", "networkLocationDetails": "a",
	"authenticationDetails": "a", "authenticationRequirementPolicies": "a", "sessionLifetimePolicies": "a",
	"conditionalAccessAudiences": "a", "appliedEventListeners": "a", "authenticationAppPolicyEvaluationDetails": "a",
	"authenticationContextClassReferences": "a",
	"status":                               "o", "deviceDetail": "o", "location": "o", "privateLinkDetails": "o",
	"managedServiceIdentity": "oz", "tokenProtectionStatusDetails": "oz", "mfaDetail": "oz",
	"authenticationAppDeviceDetails": "oz", "agent": "oz",
}

func jsonKind(v any) byte {
	switch v.(type) {
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case []any:
		return 'a'
	case map[string]any:
		return 'o'
	case nil:
		return 'z'
	}
	return '?'
}

var (
	guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	tokRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
)

func TestEveryLineHasBetaShape(t *testing.T) {
	loadFixture(t)
	for i := 0; i < len(fixture.lines); i += 16 {
		l := fixture.lines[i]
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(m) != len(BetaKeys) {
			t.Fatalf("line %d has %d keys, want %d", i, len(m), len(BetaKeys))
		}
		for _, k := range BetaKeys {
			v, ok := m[k]
			if !ok {
				t.Fatalf("line %d lacks %q", i, k)
			}
			want, ok := keyKinds[k]
			if !ok {
				want = "s"
			}
			if !strings.ContainsRune(want, rune(jsonKind(v))) {
				t.Fatalf("line %d: %s is %T, want kind %q", i, k, v, want)
			}
		}
		for _, k := range []string{"id", "correlationId", "originalRequestId", "resourceTenantId", "resourceId"} {
			if s := m[k].(string); !guidRE.MatchString(s) {
				t.Fatalf("line %d: %s = %q is not a lower-case GUID", i, k, s)
			}
		}
		if s := m["createdDateTime"].(string); !timeRE.MatchString(s) {
			t.Fatalf("line %d: createdDateTime %q", i, s)
		}
		if s := m["uniqueTokenIdentifier"].(string); s != "" && !tokRE.MatchString(s) {
			t.Fatalf("line %d: uniqueTokenIdentifier %q", i, s)
		}
		geo := m["location"].(map[string]any)["geoCoordinates"].(map[string]any)
		if geo["altitude"] != nil || jsonKind(geo["latitude"]) != 'n' {
			t.Fatalf("line %d: geoCoordinates %v", i, geo)
		}
		for _, p := range m["appliedConditionalAccessPolicies"].([]any) {
			pm := p.(map[string]any)
			for _, k := range []string{"id", "displayName", "enforcedGrantControls", "enforcedSessionControls", "result",
				"conditionsSatisfied", "conditionsNotSatisfied", "includeRulesSatisfied", "excludeRulesSatisfied"} {
				if _, ok := pm[k]; !ok {
					t.Fatalf("line %d: CA policy lacks %s", i, k)
				}
			}
		}
	}
}

func TestTimesSortedAndInSpan(t *testing.T) {
	loadFixture(t)
	cfg := fixture.cfg.withDefaults()
	start, end := cfg.Start, cfg.End
	if !end.Equal(start.AddDate(0, 0, 30)) || !end.Equal(clocktest.Epoch().Truncate(time.Second)) {
		t.Fatalf("span %v..%v: want the 30 days before End", start, end)
	}
	var prev time.Time
	for i, e := range fixture.events {
		if e.t.Before(prev) {
			t.Fatalf("event %d at %v precedes %v", i, e.t, prev)
		}
		prev = e.t
		if e.t.Before(start) || e.t.After(end) {
			t.Fatalf("event %d at %v outside the span %v..%v (never after the generator's now)", i, e.t, start, end)
		}
	}
	// The span is used: the last event is in the final three days.
	if last := fixture.events[len(fixture.events)-1].t; last.Before(end.Add(-72 * time.Hour)) {
		t.Fatalf("last event %v, span ends %v", last, end)
	}
	// The diurnal curve shows: busiest UTC hour has > 3x the quietest.
	var perHour [24]int
	for _, e := range fixture.events {
		perHour[e.t.Hour()]++
	}
	lo, hi := perHour[0], perHour[0]
	for _, n := range perHour {
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi < 3*lo {
		t.Fatalf("hourly counts too flat: min %d max %d", lo, hi)
	}
}

// TestNeverInTheFuture: whatever the size and span, no event is dated after the generator's now,
// and the stream still reaches close to it (a dashboard's "last 24 hours" is not empty).
func TestNeverInTheFuture(t *testing.T) {
	end := clocktest.Epoch()
	for _, c := range []Config{
		{Events: 40, Seed: 3, Days: 1},
		{Events: 500, Seed: 4, Days: 2},
		{Events: 20000, Seed: 5, Days: 7},
	} {
		c.End = end
		g := New(c)
		var line []byte
		var last time.Time
		n := 0
		for {
			var ok bool
			if line, ok = g.Next(line[:0]); !ok {
				break
			}
			var ev struct{ CreatedDateTime time.Time }
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.CreatedDateTime.After(end) {
				t.Fatalf("%+v: event %d at %v, after the generator's now %v", c, n, ev.CreatedDateTime, end)
			}
			last = ev.CreatedDateTime
			n++
		}
		if n != c.Events {
			t.Fatalf("%+v: %d events", c, n)
		}
		if c.Events >= 20000 && end.Sub(last) > time.Duration(c.Days)*24*time.Hour/5 { // whatever weekday the span ends on
			t.Errorf("%+v: the last event is at %v, far from the end %v", c, last, end)
		}
	}
}

// TestRuleSatisfiedIsGraphEnum: every includeRulesSatisfied/excludeRulesSatisfied ruleSatisfied
// the generator writes is a member of Graph's conditionalAccessRule enum (the generator once
// wrote directoryRole and exchangeActiveSync, which Microsoft's SDK models drop silently).
func TestRuleSatisfiedIsGraphEnum(t *testing.T) {
	graphRules := map[string]bool{}
	for _, r := range strings.Fields(`allApps firstPartyApps office365 appId acr appFilter allUsers guest groupId
		roleId userId allDevicePlatforms devicePlatform allLocations insideCorpnet allTrustedLocations locationId
		allDevices deviceFilter deviceState unknownFutureValue deviceFilterIncludeRuleNotMatched allDeviceStates
		anonymizedIPAddress unfamiliarFeatures nationStateIPAddress realTimeThreatIntelligence internalGuest
		b2bCollaborationGuest b2bCollaborationMember b2bDirectConnectUser otherExternalUser serviceProvider
		microsoftAdminPortals`) {
		graphRules[r] = true
	}
	loadFixture(t)
	re := regexp.MustCompile(`"ruleSatisfied":"([^"]*)"`)
	seen := 0
	for _, line := range bytes.Split(fixture.raw, []byte("\n")) {
		for _, m := range re.FindAllSubmatch(line, -1) {
			seen++
			if !graphRules[string(m[1])] {
				t.Fatalf("ruleSatisfied %q is not a Graph conditionalAccessRule member", m[1])
			}
		}
	}
	if seen == 0 {
		t.Fatal("no ruleSatisfied in the fixture")
	}
}
