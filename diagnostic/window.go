package diagnostic

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/query"
)

// InterruptCodes are failure codes that are normal steps of a sign-in (keep me signed
// in, MFA prompt, no SSO session yet, SSPR and webview prompts): a user with many of them is
// not failing to sign in, so the failure-volume check leaves them out, and the console's
// status filter calls them "Interrupted" as the sign-in logs blade does.
var InterruptCodes = []int{50140, 50074, 50058, 50125, 50199}

// maxHistogramRows bounds the rows fetched to draw a histogram (the count stays exact).
const maxHistogramRows = 1000

// inCodes is `status/errorCode in (codes)`.
func inCodes(codes []int) query.Pred {
	return query.In("status/errorCode", query.Ints(codes...)...)
}

// userVolume is the "large number of failed sign-ins" check for user over w. The failures
// are counted with the user and status indexes, not only among the listed events.
// all, when not nil, is every event of the user in w (newest first): no query is needed.
func (s *session) userVolume(user *Identity, w window, all []Event) (*Finding, error) {
	sc := scenario("many-failures-user")
	var events []Event
	var count int64
	if all != nil {
		for i := range all {
			if c := all[i].Status.ErrorCode; c != 0 && !slices.Contains(InterruptCodes, c) {
				events = append(events, all[i])
			}
		}
		count = int64(len(events))
	} else {
		where := query.And(query.Eq("userId", user.ID), query.Ne("status/errorCode", 0), query.Not(inCodes(InterruptCodes)), w.pred())
		evs, res, err := s.events("failures of the user", query.Request{Where: where, Top: maxHistogramRows, Count: true,
			Select: []string{"id", "createdDateTime", "userPrincipalName", "correlationId", "status", "ipAddress", "appDisplayName"}})
		if err != nil {
			return nil, err
		}
		events, count = evs, res.Count
	}
	if count < int64(sc.MinFailures) {
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
	data := FindingData{User: user.Name, Failures: count, TopCodes: strings.Join(parts, ", ")}
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
	cands := ips.sorted()
	if len(cands) == 0 {
		return nil, nil
	}
	cands = cands[:min(3, len(cands))]
	// One aggregation for the failures of every candidate address by user, one for their
	// sign-in totals (only when some address passes the first thresholds).
	inIPs := query.In("ipAddress", query.Strings(cands...)...)
	codes := inCodes(sc.Codes)
	gs, err := s.aggregate("credential failures by address and user", query.And(inIPs, codes, w.pred()),
		[]string{"ipAddress", "userId"}, []query.Agg{{Op: query.AggCount, Alias: "n"}})
	if err != nil {
		return nil, err
	}
	users, fails := map[string]int{}, map[string]int64{}
	for _, g := range gs {
		ip, _ := g.Keys["ipAddress"].(string)
		n, _ := g.Values["n"].(int64)
		users[ip]++
		fails[ip] += n
	}
	var suspects []string
	for _, ip := range cands {
		if users[ip] >= sc.MinUsers && fails[ip] >= int64(sc.MinFailures) {
			suspects = append(suspects, ip)
		}
	}
	if len(suspects) == 0 {
		return nil, nil
	}
	totals, err := s.aggregate("sign-ins by address", query.And(inIPs, w.pred()), []string{"ipAddress"},
		[]query.Agg{{Op: query.AggCount, Alias: "n"}})
	if err != nil {
		return nil, err
	}
	all := map[string]int64{}
	for _, g := range totals {
		ip, _ := g.Keys["ipAddress"].(string)
		all[ip], _ = g.Values["n"].(int64)
	}
	var out []Finding
	for _, ip := range suspects {
		share := float64(fails[ip]) / float64(max(all[ip], 1))
		if share < sc.MinShare {
			continue
		}
		where := query.And(query.Eq("ipAddress", ip), codes, w.pred())
		events, _, err := s.events("spray histogram "+ip, query.Request{Where: where, Top: maxHistogramRows,
			Select: []string{"id", "createdDateTime", "userPrincipalName", "correlationId", "status", "ipAddress"}})
		if err != nil {
			return nil, err
		}
		data := FindingData{IP: ip, Failures: fails[ip], DistinctUsers: users[ip], Share: fmt.Sprintf("%.0f%%", 100*share)}
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
