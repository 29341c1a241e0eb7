package gen

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/internal/clocktest"
)

// event is the subset of a signIn the tests inspect, decoded with
// encoding/json independently of the generator's writer.
type event struct {
	ID                string   `json:"id"`
	CreatedDateTime   string   `json:"createdDateTime"`
	UserID            string   `json:"userId"`
	UserPrincipalName string   `json:"userPrincipalName"`
	AppID             string   `json:"appId"`
	CorrelationID     string   `json:"correlationId"`
	OriginalRequestID string   `json:"originalRequestId"`
	IsInteractive     bool     `json:"isInteractive"`
	SignInEventTypes  []string `json:"signInEventTypes"`
	ClientAppUsed     string   `json:"clientAppUsed"`
	Status            struct {
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
	DeviceDetail struct {
		DeviceID string `json:"deviceId"`
		Browser  string `json:"browser"`
	} `json:"deviceDetail"`
	FlaggedForReview          bool             `json:"flaggedForReview"`
	HomeTenantID              string           `json:"homeTenantId"`
	ResourceTenantID          string           `json:"resourceTenantId"`
	UserType                  *string          `json:"userType"`
	CrossTenantAccessType     string           `json:"crossTenantAccessType"`
	UniqueTokenIdentifier     string           `json:"uniqueTokenIdentifier"`
	SessionID                 string           `json:"sessionId"`
	ConditionalAccessStatus   string           `json:"conditionalAccessStatus"`
	Policies                  []policyJSON     `json:"appliedConditionalAccessPolicies"`
	RiskLevelDuringSignIn     string           `json:"riskLevelDuringSignIn"`
	RiskState                 string           `json:"riskState"`
	RiskEventTypesV2          []string         `json:"riskEventTypes_v2"`
	AuthenticationRequirement string           `json:"authenticationRequirement"`
	AuthenticationMethodsUsed []string         `json:"authenticationMethodsUsed"`
	ServicePrincipalID        string           `json:"servicePrincipalId"`
	ManagedServiceIdentity    *msiJSON         `json:"managedServiceIdentity"`
	AuthenticationDetails     []authDetailJSON `json:"authenticationDetails"`

	t time.Time
}

type policyJSON struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName"`
	Result                string   `json:"result"`
	EnforcedGrantControls []string `json:"enforcedGrantControls"`
}

type msiJSON struct {
	MsiType string `json:"msiType"`
}

type authDetailJSON struct {
	Succeeded bool `json:"succeeded"`
}

func (e *event) kind() string { return e.SignInEventTypes[0] }

// clientKey identifies "the same browser and client device" for flagging.
func (e *event) clientKey() string {
	return e.UserID + "|" + e.DeviceDetail.DeviceID + "|" + e.DeviceDetail.Browser
}

const fixtureEvents = 50_000

var fixture struct {
	once   sync.Once
	cfg    Config
	raw    []byte
	lines  [][]byte
	events []event
	stats  Stats
	wins   []FlagWindow
	err    error
}

// loadFixture generates and decodes one 50K-event stream shared by the
// distribution, flow and flagging tests.
func loadFixture(t *testing.T) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.cfg = Config{Events: fixtureEvents, Seed: 7, End: clocktest.Epoch()}
		g := New(fixture.cfg)
		buf := make([]byte, 0, fixtureEvents*6<<10) // avoid regrowing a 250 MB slice
		for {
			var ok bool
			if buf, ok = g.Next(buf); !ok {
				break
			}
		}
		fixture.raw = buf
		fixture.stats = g.Stats()
		fixture.wins = g.Windows()
		fixture.lines = bytes.SplitAfter(buf, []byte("\n"))
		if n := len(fixture.lines); n > 0 && len(fixture.lines[n-1]) == 0 {
			fixture.lines = fixture.lines[:n-1]
		}
		fixture.events = make([]event, len(fixture.lines))
		// fastjson keeps the 250 MB decode within the package's test
		// budget; TestEveryLineHasBetaShape decodes a sample with
		// encoding/json into map[string]any as well.
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var p fastjson.Parser
				for i := w; i < len(fixture.lines); i += 2 {
					if err := decodeEvent(&p, fixture.lines[i], &fixture.events[i]); err != nil {
						errs[w] = fmt.Errorf("line %d: %w", i, err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		fixture.err = errors.Join(errs...)
	})
	if fixture.err != nil {
		t.Fatalf("decode fixture: %v", fixture.err)
	}
}

func strs(v *fastjson.Value, key string) []string {
	var out []string
	for _, x := range v.GetArray(key) {
		out = append(out, string(x.GetStringBytes()))
	}
	return out
}

func decodeEvent(p *fastjson.Parser, line []byte, e *event) error {
	v, err := p.ParseBytes(line)
	if err != nil {
		return err
	}
	s := func(keys ...string) string { return string(v.GetStringBytes(keys...)) }
	e.ID, e.CreatedDateTime, e.UserID, e.UserPrincipalName = s("id"), s("createdDateTime"), s("userId"), s("userPrincipalName")
	e.AppID, e.CorrelationID, e.OriginalRequestID = s("appId"), s("correlationId"), s("originalRequestId")
	e.IsInteractive = v.GetBool("isInteractive")
	e.SignInEventTypes = strs(v, "signInEventTypes")
	e.ClientAppUsed = s("clientAppUsed")
	e.Status.ErrorCode = v.GetInt("status", "errorCode")
	e.Status.FailureReason = s("status", "failureReason")
	e.DeviceDetail.DeviceID, e.DeviceDetail.Browser = s("deviceDetail", "deviceId"), s("deviceDetail", "browser")
	e.FlaggedForReview = v.GetBool("flaggedForReview")
	e.HomeTenantID, e.ResourceTenantID = s("homeTenantId"), s("resourceTenantId")
	if ut := v.Get("userType"); ut != nil && ut.Type() == fastjson.TypeString {
		x := string(ut.GetStringBytes())
		e.UserType = &x
	}
	e.CrossTenantAccessType, e.UniqueTokenIdentifier, e.SessionID = s("crossTenantAccessType"), s("uniqueTokenIdentifier"), s("sessionId")
	e.ConditionalAccessStatus = s("conditionalAccessStatus")
	for _, pv := range v.GetArray("appliedConditionalAccessPolicies") {
		e.Policies = append(e.Policies, policyJSON{
			ID: string(pv.GetStringBytes("id")), DisplayName: string(pv.GetStringBytes("displayName")),
			Result: string(pv.GetStringBytes("result")), EnforcedGrantControls: strs(pv, "enforcedGrantControls"),
		})
	}
	e.RiskLevelDuringSignIn, e.RiskState = s("riskLevelDuringSignIn"), s("riskState")
	e.RiskEventTypesV2 = strs(v, "riskEventTypes_v2")
	e.AuthenticationRequirement = s("authenticationRequirement")
	e.AuthenticationMethodsUsed = strs(v, "authenticationMethodsUsed")
	e.ServicePrincipalID = s("servicePrincipalId")
	if m := v.Get("managedServiceIdentity"); m != nil && m.Type() == fastjson.TypeObject {
		e.ManagedServiceIdentity = &msiJSON{MsiType: string(m.GetStringBytes("msiType"))}
	}
	for _, d := range v.GetArray("authenticationDetails") {
		e.AuthenticationDetails = append(e.AuthenticationDetails, authDetailJSON{Succeeded: d.GetBool("succeeded")})
	}
	ts, err := time.Parse(time.RFC3339, e.CreatedDateTime)
	e.t = ts
	return err
}
