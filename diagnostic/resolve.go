package diagnostic

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authlake/authlake/query"
)

// maxCandidates bounds the candidate list of an ambiguous name.
const maxCandidates = 10

// resolveUser turns what the caller typed (object id, UPN, part of a name) into one user
// with events in w. Exact identifiers use the user indexes; partial names run a dictionary
// predicate (once per distinct name) over the window only.
func (s *session) resolveUser(text string, w window) (*Identity, error) {
	lower := strings.ToLower(text)
	upnStarts := query.StartsWith(query.ToLower(query.Prop("userPrincipalName")), lower)
	var filters []query.Pred
	switch {
	case isGUID(text):
		filters = []query.Pred{query.Eq("userId", lower)}
	case strings.Contains(text, "@"):
		filters = []query.Pred{query.Eq("userPrincipalName", text), upnStarts}
	default:
		filters = []query.Pred{query.Or(upnStarts, query.Contains(query.ToLower(query.Prop("userDisplayName")), lower))}
	}
	searched := fmt.Sprintf("users matching %s (%s) in %s", quote(text), predList(filters), w)
	for _, f := range filters {
		gs, err := s.aggregate("resolve user "+quote(text), query.And(f, w.pred()),
			[]string{"userId", "userPrincipalName", "userDisplayName"}, []query.Agg{{Op: query.AggCount, Alias: "n"}})
		if err != nil {
			return nil, err
		}
		cands := candidates(gs, "userId", "userPrincipalName", "userDisplayName")
		switch len(cands) {
		case 0:
			continue
		case 1:
			c := cands[0]
			return &Identity{ID: c.ID, Name: c.Name, DisplayName: c.DisplayName}, nil
		}
		if c, ok := exactCandidate(cands, lower); ok {
			return &Identity{ID: c.ID, Name: c.Name, DisplayName: c.DisplayName}, nil
		}
		e := inputErr(ErrAmbiguous, searched, fmt.Sprintf("%q matches %d users in %s", text, len(cands), w),
			"give the user's full userPrincipalName or object id")
		e.Candidates = cands[:min(len(cands), maxCandidates)]
		return nil, e
	}
	e := inputErr(ErrNotFound, searched, fmt.Sprintf("no user matching %q has sign-ins in %s", text, w))
	// An exact identifier may still exist outside the window: say when it was last seen (an
	// index probe over the whole retention, one row).
	if isGUID(text) || strings.Contains(text, "@") {
		f := query.Eq("userId", lower)
		if !isGUID(text) {
			f = query.Eq("userPrincipalName", text)
		}
		evs, _, err := s.events("user outside the window", query.Request{Where: f, Top: 1, Select: []string{"createdDateTime"}})
		if err != nil {
			return nil, err
		}
		if len(evs) == 1 {
			ev := evs[0]
			e.Try = append(e.Try, fmt.Sprintf("the user's latest sign-in is at %s: search around it (--at %s)",
				ev.CreatedDateTime.UTC().Format(time.RFC3339), ev.CreatedDateTime.UTC().Format(time.RFC3339)))
		}
	}
	e.Try = append(e.Try, "check the spelling, or give part of the display name or the start of the userPrincipalName",
		"move the window with --at (events within ±48 hours of it are searched)")
	return nil, e
}

// resolveApp turns an application id or (part of) a display name into one application with
// events in w (and of user, when given).
func (s *session) resolveApp(text string, w window, user *Identity) (*Identity, error) {
	lower := strings.ToLower(text)
	var filters []query.Pred
	if isGUID(text) {
		filters = []query.Pred{query.Eq("appId", lower)}
	} else {
		filters = []query.Pred{query.Eq("appDisplayName", text), query.Contains(query.ToLower(query.Prop("appDisplayName")), lower)}
	}
	scope := w.pred()
	who := ""
	if user != nil {
		scope = query.And(query.Eq("userId", user.ID), scope)
		who = " used by " + user.Name
	}
	searched := fmt.Sprintf("applications matching %s%s (%s) in %s", quote(text), who, predList(filters), w)
	for _, f := range filters {
		gs, err := s.aggregate("resolve app "+quote(text), query.And(f, scope), []string{"appId", "appDisplayName"},
			[]query.Agg{{Op: query.AggCount, Alias: "n"}})
		if err != nil {
			return nil, err
		}
		cands := candidates(gs, "appId", "appDisplayName", "")
		switch len(cands) {
		case 0:
			continue
		case 1:
			return &Identity{ID: cands[0].ID, Name: cands[0].Name}, nil
		}
		if c, ok := exactCandidate(cands, lower); ok {
			return &Identity{ID: c.ID, Name: c.Name}, nil
		}
		e := inputErr(ErrAmbiguous, searched, fmt.Sprintf("%q matches %d applications%s in %s", text, len(cands), who, w),
			"give the full application name or its application id")
		e.Candidates = cands[:min(len(cands), maxCandidates)]
		return nil, e
	}
	e := inputErr(ErrNotFound, searched, fmt.Sprintf("no application matching %q has sign-ins%s in %s", text, who, w),
		"check the application name or id (Enterprise applications list it)",
		"leave out the application to diagnose every sign-in of the user")
	return nil, e
}

// predList shows the conditions tried in turn, for the "searched" line of a report.
func predList(ps []query.Pred) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; then ")
}

// candidates merges aggregation groups by id (a user renamed inside the window appears
// under several names; the most frequent one wins), most events first.
func candidates(gs []query.Group, idKey, nameKey, displayKey string) []Candidate {
	type acc struct {
		c    Candidate
		best int64
	}
	byID := map[string]*acc{}
	var order []string
	for _, g := range gs {
		id, _ := g.Keys[idKey].(string)
		n, _ := g.Values["n"].(int64)
		name, _ := g.Keys[nameKey].(string)
		disp := ""
		if displayKey != "" {
			disp, _ = g.Keys[displayKey].(string)
		}
		a := byID[id]
		if a == nil {
			a = &acc{c: Candidate{ID: id}}
			byID[id] = a
			order = append(order, id)
		}
		a.c.Events += n
		if n > a.best {
			a.best, a.c.Name, a.c.DisplayName = n, name, disp
		}
	}
	out := make([]Candidate, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id].c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Events != out[j].Events {
			return out[i].Events > out[j].Events
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// exactCandidate picks the one candidate whose name, display name or UPN local part equals
// what was typed: "Avery Smith" is not ambiguous because "Avery Smithson" exists.
func exactCandidate(cs []Candidate, lower string) (Candidate, bool) {
	var hit []Candidate
	for _, c := range cs {
		local, _, _ := strings.Cut(strings.ToLower(c.Name), "@")
		if strings.EqualFold(c.Name, lower) || strings.EqualFold(c.DisplayName, lower) || local == lower {
			hit = append(hit, c)
		}
	}
	if len(hit) == 1 {
		return hit[0], true
	}
	return Candidate{}, false
}

// matchesUser reports whether e is a sign-in of what the caller typed as the user, with the
// same rules as resolveUser (for checking inputs against a known correlation or event).
func matchesUser(e *Event, text string) bool {
	lower := strings.ToLower(text)
	if isGUID(text) {
		return strings.EqualFold(e.UserID, text)
	}
	return strings.HasPrefix(strings.ToLower(e.UserPrincipalName), lower) ||
		(!strings.Contains(text, "@") && strings.Contains(strings.ToLower(e.UserDisplayName), lower))
}

func matchesApp(e *Event, text string) bool {
	if isGUID(text) {
		return strings.EqualFold(e.AppID, text)
	}
	return strings.Contains(strings.ToLower(e.AppDisplayName), strings.ToLower(text))
}
