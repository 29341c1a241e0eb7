package diagnostic

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// maxEvidence bounds the evidence events listed per finding (Count says how many matched).
const maxEvidence = 5

// FindingData is what the What and Action templates of the scenario table can use.
type FindingData struct {
	Count                                       int
	Total                                       int // events diagnosed
	Users, Apps, Codes, CodeMeaning, CodeAction string
	Policies, IPs, Clients, ClientApps          string
	Providers, RiskStates                       string
	First, Last                                 string
	// Window scenarios.
	User, IP               string
	Failures               int64
	DistinctUsers          int
	WindowStart, WindowEnd string
	PeakHour               string
	PeakCount              int
	TopCodes               string
	Share                  string // failures as a share of the IP address's sign-ins
}

type compiled struct{ what, action *template.Template }

// templates are parsed once; a template that does not parse or names an unknown field is a
// BUG in the table (TestScenarioTemplatesRender renders every one).
var templates = func() map[string]compiled {
	m := map[string]compiled{}
	for _, sc := range Scenarios {
		m[sc.ID] = compiled{
			what:   template.Must(template.New(sc.ID + ".what").Option("missingkey=error").Parse(sc.What)),
			action: template.Must(template.New(sc.ID + ".action").Option("missingkey=error").Parse(sc.Action)),
		}
	}
	return m
}()

func render(sc *Scenario, data FindingData) (what, action string) {
	t := templates[sc.ID]
	var w, a strings.Builder
	if err := t.what.Execute(&w, data); err != nil {
		panic("BUG: scenario " + sc.ID + ": " + err.Error())
	}
	if err := t.action.Execute(&a, data); err != nil {
		panic("BUG: scenario " + sc.ID + ": " + err.Error())
	}
	return w.String(), a.String()
}

// evaluate applies the per-event and fallback scenarios to events (newest first). It
// returns the findings and the failures nothing explains.
func evaluate(events []Event) (findings []Finding, unexplained []*Event) {
	explained := make([]bool, len(events))
	for si := range Scenarios {
		sc := &Scenarios[si]
		if sc.Kind != KindEvent {
			continue
		}
		var matched []int
		for i := range events {
			if sc.When.match(&events[i]) {
				matched = append(matched, i)
			}
		}
		for _, group := range groups(sc, events, matched) {
			for _, i := range group {
				explained[i] = true
			}
			findings = append(findings, eventFinding(sc, events, group, FindingData{}))
		}
	}
	// Error code insights: one finding per code of the failures still unexplained.
	byCode := map[int][]int{}
	var codes []int
	for i := range events {
		e := &events[i]
		if explained[i] || e.Status.ErrorCode == 0 {
			continue
		}
		if _, ok := errorCatalog[e.Status.ErrorCode]; !ok {
			unexplained = append(unexplained, e)
			continue
		}
		if byCode[e.Status.ErrorCode] == nil {
			codes = append(codes, e.Status.ErrorCode)
		}
		byCode[e.Status.ErrorCode] = append(byCode[e.Status.ErrorCode], i)
	}
	sort.SliceStable(codes, func(a, b int) bool { return len(byCode[codes[a]]) > len(byCode[codes[b]]) })
	fb := scenario("error-code-insights")
	for _, c := range codes {
		findings = append(findings, eventFinding(fb, events, byCode[c], FindingData{}))
	}
	return findings, unexplained
}

// groups splits matching event indexes by the scenario's GroupBy keys, keeping groups of at
// least MinGroup events; without GroupBy all matches are one group.
func groups(sc *Scenario, events []Event, matched []int) [][]int {
	if len(matched) == 0 {
		return nil
	}
	if len(sc.GroupBy) == 0 {
		return [][]int{matched}
	}
	by := map[string][]int{}
	var keys []string
	for _, i := range matched {
		var k strings.Builder
		for _, g := range sc.GroupBy {
			k.WriteString(groupKey(&events[i], g))
			k.WriteByte(0)
		}
		if by[k.String()] == nil {
			keys = append(keys, k.String())
		}
		by[k.String()] = append(by[k.String()], i)
	}
	var out [][]int
	for _, k := range keys {
		if len(by[k]) >= sc.MinGroup {
			out = append(out, by[k])
		}
	}
	return out
}

func groupKey(e *Event, key string) string {
	switch key {
	case "user":
		return strings.ToLower(e.UserID)
	case "app":
		return e.AppID
	case "client":
		return e.DeviceDetail.DeviceID + "|" + e.DeviceDetail.Browser + "|" + e.DeviceDetail.OperatingSystem
	case "ip":
		return e.IPAddress
	case "code":
		return strconv.Itoa(e.Status.ErrorCode)
	}
	panic("BUG: unknown group key " + key)
}

// eventFinding describes the events at idx (newest first) for scenario sc.
func eventFinding(sc *Scenario, events []Event, idx []int, data FindingData) Finding {
	var users, apps, codes, ips, clients, clientApps, providers, risks, policies counter
	for _, i := range idx {
		e := &events[i]
		users.add(e.user())
		apps.add(e.app())
		if e.Status.ErrorCode != 0 {
			codes.add(strconv.Itoa(e.Status.ErrorCode))
		}
		ips.add(e.IPAddress)
		clients.add(e.client())
		clientApps.add(e.ClientAppUsed)
		for _, p := range e.AuthenticationRequirementPolicies {
			providers.add(p.RequirementProvider)
		}
		if e.RiskState != "" && e.RiskState != "none" {
			risks.add("riskState " + e.RiskState + ", riskLevelDuringSignIn " + e.RiskLevelDuringSignIn)
		}
		for _, p := range sc.When.policies(e) {
			policies.add("'" + p.DisplayName + "'")
		}
	}
	data.Count = len(idx)
	data.Users, data.Apps, data.IPs = users.text(), apps.text(), ips.text()
	data.Clients, data.ClientApps, data.Providers = clients.text(), clientApps.text(), providers.text()
	data.RiskStates, data.Policies = risks.text(), policies.text()
	data.Codes = codes.join("/")
	newest, oldest := &events[idx[0]], &events[idx[len(idx)-1]]
	data.First, data.Last = stamp(oldest.CreatedDateTime), stamp(newest.CreatedDateTime)
	if top := codes.top(); top != "" {
		code, _ := strconv.Atoi(top)
		if info, ok := errorCatalog[code]; ok {
			data.CodeMeaning, data.CodeAction = info.Meaning, info.Action
		} else {
			data.CodeMeaning = events[idx[0]].Status.FailureReason
			data.CodeAction = "See the error code reference."
		}
	}
	what, action := render(sc, data)
	f := Finding{Scenario: sc.ID, Title: sc.Title, Severity: sc.Severity, What: what, Action: action,
		Links: sc.Links, Count: int64(len(idx))}
	if sc.ID == "error-code-insights" {
		f.Links = append([]Link{{Title: "AADSTS" + data.Codes, URL: "https://login.microsoftonline.com/error?code=" + data.Codes}}, f.Links...)
	}
	for _, i := range idx[:min(len(idx), maxEvidence)] {
		f.Evidence = append(f.Evidence, evidence(sc, &events[i]))
	}
	return f
}

func evidence(sc *Scenario, e *Event) Evidence {
	ev := Evidence{EventID: e.ID, Time: e.CreatedDateTime.UTC()}
	add := func(name, value string) {
		if value != "" {
			ev.Fields = append(ev.Fields, Field{name, value})
		}
	}
	add("userPrincipalName", e.user())
	add("correlationId", e.CorrelationID)
	for _, name := range sc.Evidence {
		switch name {
		case "code":
			add("status/errorCode", strconv.Itoa(e.Status.ErrorCode))
		case "reason":
			add("status/failureReason", e.Status.FailureReason)
		case "policy":
			var ps []string
			pols := sc.When.policies(e)
			if len(pols) == 0 { // the scenario names no policy: list those that were enforced
				for _, p := range e.AppliedConditionalAccessPolicies {
					if p.Result == "success" || p.Result == "failure" {
						pols = append(pols, p)
					}
				}
			}
			for _, p := range pols {
				ps = append(ps, fmt.Sprintf("%s (%s; grant %s)", p.DisplayName, p.Result, strings.Join(p.EnforcedGrantControls, ",")))
			}
			add("appliedConditionalAccessPolicies", strings.Join(ps, "; "))
			add("conditionalAccessStatus", e.ConditionalAccessStatus)
		case "app":
			add("appDisplayName", e.app())
		case "resource":
			add("resourceDisplayName", e.ResourceDisplayName)
		case "ip":
			add("ipAddress", e.IPAddress)
		case "location":
			if e.Location.CountryOrRegion != "" {
				add("location", strings.TrimPrefix(e.Location.City+", "+e.Location.CountryOrRegion, ", "))
			}
		case "clientApp":
			add("clientAppUsed", e.ClientAppUsed)
		case "device":
			add("deviceDetail", e.client())
		case "os":
			add("deviceDetail/operatingSystem", e.DeviceDetail.OperatingSystem)
		case "browser":
			add("deviceDetail/browser", e.DeviceDetail.Browser)
		case "provider":
			var ps []string
			for _, p := range e.AuthenticationRequirementPolicies {
				ps = append(ps, p.RequirementProvider)
			}
			add("authenticationRequirementPolicies", strings.Join(ps, ", "))
			add("authenticationRequirement", e.AuthenticationRequirement)
		case "requirement":
			add("authenticationRequirement", e.AuthenticationRequirement)
		case "userType":
			add("userType", e.UserType)
		case "crossTenant":
			add("crossTenantAccessType", e.CrossTenantAccessType)
			add("homeTenantId", e.HomeTenantID)
		case "risk":
			add("riskState", e.RiskState)
			add("riskLevelDuringSignIn", e.RiskLevelDuringSignIn)
		default:
			panic("BUG: unknown evidence field " + name)
		}
	}
	return ev
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// counter keeps distinct values in order of frequency (then first appearance).
type counter struct {
	vals []string
	n    map[string]int
}

func (c *counter) add(v string) {
	if v == "" {
		return
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[v] == 0 {
		c.vals = append(c.vals, v)
	}
	c.n[v]++
}

func (c *counter) sorted() []string {
	out := append([]string(nil), c.vals...)
	sort.SliceStable(out, func(i, j int) bool { return c.n[out[i]] > c.n[out[j]] })
	return out
}

func (c *counter) top() string {
	if s := c.sorted(); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (c *counter) join(sep string) string { return strings.Join(c.sorted(), sep) }

// text lists up to three values: "a, b and 4 more".
func (c *counter) text() string {
	s := c.sorted()
	switch {
	case len(s) == 0:
		return ""
	case len(s) <= 3:
		if len(s) == 1 {
			return s[0]
		}
		return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
	}
	return strings.Join(s[:3], ", ") + fmt.Sprintf(" and %d more", len(s)-3)
}
