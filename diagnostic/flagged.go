package diagnostic

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/authlake/authlake/query"
)

// review lists the tenant's flagged sign-ins grouped by user and client. Flagging is rare
// and flaggedForReview has bool postings, so the newest MaxEvents flagged events of the
// whole retention are read (or of the window, when a time is given).
func (d *Diagnoser) review(s *session, tenant string, in Input) (*Report, error) {
	w := window{}
	if !in.At.IsZero() {
		w = window{in.At.Add(-d.opts.Window), in.At.Add(d.opts.Window)}
	}
	where := query.And(query.Eq("flaggedForReview", true), w.pred())
	events, res, err := s.events("flagged sign-ins", query.Request{Where: where, Top: d.opts.MaxEvents, Count: true})
	if err != nil {
		return nil, err
	}
	rep := &Report{Tenant: tenant, Search: Search{Input: in, Filter: where.String(), From: w.from, To: w.to,
		Matched: res.Count, Diagnosed: len(events)}, Findings: []Finding{}}
	if len(events) == 0 {
		return nil, inputErr(ErrNotFound, where.String()+" in "+w.String(), "no flagged sign-ins in "+w.String(),
			"users flag sign-ins from the error page (Troubleshooting details → Enable flagging); flagged events appear within minutes",
			"search by user, application or correlation id instead")
	}
	if res.Count > int64(len(events)) {
		rep.Search.Notes = append(rep.Search.Notes, fmt.Sprintf("%d flagged events; the newest %d are grouped", res.Count, len(events)))
	}
	rep.Flagged = groupFlagged(events)
	rep.Plans = s.plans
	return rep, nil
}

// groupFlagged groups flagged events (newest first) by user and client: the unit that
// flagging marks. Groups come newest first.
func groupFlagged(events []Event) []FlaggedGroup {
	idx := map[string][]int{}
	var keys []string
	for i := range events {
		e := &events[i]
		k := strings.ToLower(e.UserID) + "|" + e.DeviceDetail.DeviceID + "|" + e.DeviceDetail.Browser
		if idx[k] == nil {
			keys = append(keys, k)
		}
		idx[k] = append(idx[k], i)
	}
	out := make([]FlaggedGroup, 0, len(keys))
	for _, k := range keys {
		members := idx[k]
		e0 := &events[members[0]]
		g := FlaggedGroup{UserID: strings.ToLower(e0.UserID), User: e0.UserPrincipalName, DisplayName: e0.UserDisplayName,
			DeviceID: e0.DeviceDetail.DeviceID, Client: e0.client(), Events: len(members),
			Last: e0.CreatedDateTime.UTC(), First: events[members[len(members)-1]].CreatedDateTime.UTC(), DiagnoseEvent: e0.ID}
		group := make([]Event, 0, len(members))
		failed := false
		for _, i := range members {
			e := &events[i]
			group = append(group, *e)
			if c := e.Status.ErrorCode; c != 0 {
				g.Failures++
				if !slices.Contains(g.Codes, c) {
					g.Codes = append(g.Codes, c)
				}
				if !failed {
					g.DiagnoseEvent, failed = e.ID, true
				}
			}
		}
		sort.Ints(g.Codes)
		// Which scenarios the group's own events show (no further queries): a hint of what
		// the full diagnosis of DiagnoseEvent will explain.
		fs, _ := evaluate(group)
		for _, f := range fs {
			g.Scenarios = append(g.Scenarios, f.Scenario)
		}
		if g.Scenarios == nil {
			g.Scenarios = []string{}
		}
		if g.Codes == nil {
			g.Codes = []int{}
		}
		out = append(out, g)
	}
	return out
}
