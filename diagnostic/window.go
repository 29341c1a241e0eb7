package diagnostic

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/query"
)

// expectedInterrupts are failure codes that are normal steps of a sign-in (keep me signed
// in, MFA prompt, no SSO session yet, SSPR and webview prompts): a user with many of them is
// not failing to sign in, so the failure-volume check leaves them out.
var expectedInterrupts = []int{50140, 50074, 50058, 50125, 50199}

// maxHistogramRows bounds the rows fetched to draw a histogram (the count stays exact).
const maxHistogramRows = 1000

func codeList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// userVolume is the "large number of failed sign-ins" check for user over w. The failures
// are counted with the user and status indexes, not only among the listed events.
func (s *session) userVolume(user *Identity, w window) (*Finding, error) {
	sc := scenario("many-failures-user")
	filter := and("userId eq "+quote(user.ID), "status/errorCode ne 0",
		"not (status/errorCode in ("+codeList(expectedInterrupts)+"))", w.filter())
	events, res, err := s.events("failures of the user", query.Request{Filter: filter, Top: maxHistogramRows, Count: true,
		Select: []string{"id", "createdDateTime", "userPrincipalName", "correlationId", "status", "ipAddress", "appDisplayName"}})
	if err != nil {
		return nil, err
	}
	if res.Count < int64(sc.MinFailures) {
		return nil, nil
	}
	var codes counter
	for i := range events {
		codes.add("AADSTS" + strconv.Itoa(events[i].Status.ErrorCode))
	}
	top := codes.sorted()
	parts := make([]string, 0, 3)
	for _, c := range top[:min(3, len(top))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", c, codes.n[c]))
	}
	data := FindingData{User: user.Name, Failures: res.Count, TopCodes: strings.Join(parts, ", ")}
	f := windowFinding(sc, events, w, data, []string{"status/errorCode", "appDisplayName", "ipAddress"})
	return &f, nil
}

// ipSpray checks the IP addresses of the diagnosed credential failures (the three busiest)
// for failures across users.
func (s *session) ipSpray(diagnosed []Event, w window) ([]Finding, error) {
	sc := scenario("password-spray-ip")
	var ips counter
	for i := range diagnosed {
		e := &diagnosed[i]
		for _, c := range sc.Codes {
			if e.Status.ErrorCode == c && e.IPAddress != "" {
				ips.add(e.IPAddress)
			}
		}
	}
	var out []Finding
	cands := ips.sorted()
	for _, ip := range cands[:min(3, len(cands))] {
		filter := and("ipAddress eq "+quote(ip), "status/errorCode in ("+codeList(sc.Codes)+")", w.filter())
		gs, err := s.aggregate("credential failures from "+ip, filter, []string{"userId"}, []query.Agg{{Op: query.AggCount, Alias: "n"}})
		if err != nil {
			return nil, err
		}
		var total int64
		for _, g := range gs {
			n, _ := g.Values["n"].(int64)
			total += n
		}
		if len(gs) < sc.MinUsers || total < int64(sc.MinFailures) {
			continue
		}
		all, err := s.run("all sign-ins from "+ip, query.Request{Filter: and("ipAddress eq "+quote(ip), w.filter()),
			Top: 1, Count: true, Select: []string{"id"}})
		if err != nil {
			return nil, err
		}
		share := float64(total) / float64(max(all.Count, 1))
		if share < sc.MinShare {
			continue
		}
		events, _, err := s.events("spray histogram "+ip, query.Request{Filter: filter, Top: maxHistogramRows,
			Select: []string{"id", "createdDateTime", "userPrincipalName", "correlationId", "status", "ipAddress"}})
		if err != nil {
			return nil, err
		}
		data := FindingData{IP: ip, Failures: total, DistinctUsers: len(gs), Share: fmt.Sprintf("%.0f%%", 100*share)}
		out = append(out, windowFinding(sc, events, w, data, []string{"status/errorCode", "ipAddress"}))
	}
	return out, nil
}

// windowFinding completes a window scenario's finding: histogram, peak hour, evidence.
func windowFinding(sc *Scenario, events []Event, w window, data FindingData, fields []string) Finding {
	hist := histogram(events)
	for _, h := range hist {
		if h.Count > data.PeakCount {
			data.PeakCount, data.PeakHour = h.Count, stamp(h.Hour)
		}
	}
	data.WindowStart, data.WindowEnd = stamp(w.from), stamp(w.to)
	what, action := render(sc, data)
	f := Finding{Scenario: sc.ID, Title: sc.Title, Severity: sc.Severity, What: what, Action: action, Links: sc.Links,
		Count: data.Failures, Histogram: hist}
	for i := range events[:min(len(events), maxEvidence)] {
		e := &events[i]
		ev := Evidence{EventID: e.ID, Time: e.CreatedDateTime.UTC()}
		ev.Fields = append(ev.Fields, Field{"userPrincipalName", e.user()}, Field{"correlationId", e.CorrelationID})
		for _, name := range fields {
			if v := e.fieldValue(name); v != "" {
				ev.Fields = append(ev.Fields, Field{name, v})
			}
		}
		f.Evidence = append(f.Evidence, ev)
	}
	return f
}

func (e *Event) fieldValue(name string) string {
	switch name {
	case "status/errorCode":
		return strconv.Itoa(e.Status.ErrorCode)
	case "appDisplayName":
		return e.AppDisplayName
	case "ipAddress":
		return e.IPAddress
	}
	panic("BUG: unknown field " + name)
}

// histogram counts events per UTC hour, hours in order.
func histogram(events []Event) []HourCount {
	by := map[time.Time]int{}
	for i := range events {
		by[events[i].CreatedDateTime.UTC().Truncate(time.Hour)]++
	}
	out := make([]HourCount, 0, len(by))
	for h, n := range by {
		out = append(out, HourCount{Hour: h, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out
}
