package diagnostic

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// Options configure a Diagnoser. The zero value is usable.
type Options struct {
	// Now is the default search time (default time.Now).
	Now func() time.Time
	// Window is the half-width of the search window around the search time (default 48h,
	// as in Entra).
	Window time.Duration
	// MaxEvents bounds the events the scenarios look at, newest first (default and maximum
	// 1,000, Graph's page limit).
	MaxEvents int
	// PageSize is the authentication summary's default page size (default 50).
	PageSize int
}

// Diagnoser runs sign-in diagnoses over a database. It is safe for concurrent use.
type Diagnoser struct {
	db   *engine.DB
	opts Options
}

// New returns a Diagnoser over db.
func New(db *engine.DB, opts Options) *Diagnoser {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Window <= 0 {
		opts.Window = 48 * time.Hour
	}
	if opts.MaxEvents <= 0 || opts.MaxEvents > query.DefaultTop {
		opts.MaxEvents = query.DefaultTop
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	return &Diagnoser{db: db, opts: opts}
}

// flowSelect is what a correlated flow shows of each event.
var flowSelect = []string{"id", "createdDateTime", "correlationId", "originalRequestId", "appDisplayName",
	"resourceDisplayName", "status", "isInteractive"}

// Diagnose finds the sign-ins in tenant that in describes and explains them. Problems with
// the input are *InputError; a report is returned only when events were found.
func (d *Diagnoser) Diagnose(ctx context.Context, tenant string, in Input) (*Report, error) {
	if ierr := in.normalize(); ierr != nil {
		return nil, ierr
	}
	s, err := d.open(ctx, tenant, in.Explain)
	if err != nil {
		return nil, err
	}
	defer s.close()
	first, last, ok := s.span()
	if !ok {
		return nil, inputErr(ErrNotFound, "tenant "+tenant, "tenant "+tenant+" has no sign-in events",
			"check the tenant id, or ingest events first")
	}
	if in.Flagged && in.User == "" && in.App == "" && in.CorrelationID == "" && in.RequestID == "" && in.EventID == "" {
		return d.review(s, tenant, in)
	}
	rep := &Report{Tenant: tenant, Search: Search{Input: in}}
	at := in.At
	if at.IsZero() {
		// Whole seconds: the search window is shown to people, and filters are second-precise.
		at = d.opts.Now().UTC().Truncate(time.Second)
	}
	win := window{at.Add(-d.opts.Window), at.Add(d.opts.Window)}
	span := fmt.Sprintf("the tenant holds events from %s to %s", stamp(first), stamp(last))
	outOfRange := func(w window) error {
		if w.to.Before(first) || !w.from.Before(last) {
			return inputErr(ErrOutOfRange, "sign-ins in "+w.String(), "no events are stored around "+stamp(at)+": "+span,
				"give a time inside that range with --at (events within ±48 hours of it are searched)")
		}
		return nil
	}

	// Launch from one event (or a request id): it fixes the time, and the user, application
	// and correlation the other inputs must agree with.
	var anchor *Event
	if id := firstNonEmpty(in.EventID, in.RequestID); id != "" {
		if in.EventID != "" && in.RequestID != "" && !strings.EqualFold(in.EventID, in.RequestID) {
			return nil, inputErr(ErrConflict, "", "the event id and the request id name different sign-ins", "give only one of them")
		}
		evs, _, err := s.events("the event", query.Request{Where: query.Eq("id", strings.ToLower(id)), Top: 1})
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return nil, inputErr(ErrNotFound, "sign-in id "+quote(id)+" in the whole retention ("+span+")",
				"no sign-in with id "+id+" in tenant "+tenant,
				"check the id (the request id of the sign-in), the tenant, and that the event is still within retention")
		}
		anchor = &evs[0]
		if in.CorrelationID != "" && !strings.EqualFold(in.CorrelationID, anchor.CorrelationID) {
			return nil, inputErr(ErrConflict, "sign-in "+id, fmt.Sprintf("sign-in %s belongs to correlation %s, not %s", id, anchor.CorrelationID, in.CorrelationID),
				"give only the event (or request) id, or only the correlation id")
		}
		if err := agree(anchor, in, "sign-in "+id); err != nil {
			return nil, err
		}
		rep.Search.Event = anchor.ID
		if in.At.IsZero() {
			at = anchor.CreatedDateTime
			win = window{at.Add(-d.opts.Window), at.Add(d.opts.Window)}
		}
	}
	if !in.At.IsZero() {
		if err := outOfRange(win); err != nil {
			return nil, err
		}
	}

	// The correlation of the request (or the one given): searched over the whole retention
	// (a key index probe) unless a time was given.
	corr := in.CorrelationID
	if in.RequestID != "" {
		corr = anchor.CorrelationID
	}
	var terms []query.Pred
	var user, app *Identity
	windowed := true // the search has the window's createdDateTime terms
	if corr != "" {
		cw := window{}
		if !in.At.IsZero() {
			cw = win
		}
		windowed = cw.bounded()
		corrTerm := query.Eq("correlationId", strings.ToLower(corr))
		evs, _, err := s.events("the correlation", query.Request{Where: query.And(corrTerm, cw.pred()), Top: d.opts.MaxEvents})
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return nil, inputErr(ErrNotFound, "correlationId "+quote(corr)+" in "+cw.String(), "no sign-in has correlation id "+corr,
				"check the id (it is shown in the error page's Troubleshooting details)",
				"search by user and time instead")
		}
		if anchor == nil {
			var kept []Event
			for i := range evs {
				if (in.User == "" || matchesUser(&evs[i], in.User)) && (in.App == "" || matchesApp(&evs[i], in.App)) {
					kept = append(kept, evs[i])
				}
			}
			if len(kept) == 0 {
				var users, apps counter
				for i := range evs {
					users.add(evs[i].user())
					apps.add(evs[i].app())
				}
				return nil, inputErr(ErrConflict, "correlationId "+quote(corr),
					fmt.Sprintf("the sign-ins of correlation %s belong to %s in %s, not to the user or application given", corr, users.text(), apps.text()),
					"leave out --user/--app, or check the correlation id")
			}
			anchor = &kept[0]
			if in.At.IsZero() {
				at = anchor.CreatedDateTime
				win = window{at.Add(-d.opts.Window), at.Add(d.opts.Window)}
			}
		}
		terms = append(terms, corrTerm, cw.pred())
		if in.User != "" {
			user = identityOf(anchor)
			terms = append(terms, query.Eq("userId", user.ID))
		}
		if in.App != "" {
			app = &Identity{ID: anchor.AppID, Name: anchor.AppDisplayName}
			terms = append(terms, query.Eq("appId", anchor.AppID))
		}
	} else if in.EventID != "" {
		user = identityOf(anchor)
		app = &Identity{ID: anchor.AppID, Name: anchor.AppDisplayName}
		terms = append(terms, userTerm(anchor), query.Eq("appId", anchor.AppID), win.pred())
	} else {
		if err := outOfRange(win); err != nil {
			return nil, err
		}
		if in.User != "" {
			if user, err = s.resolveUser(in.User, win); err != nil {
				return nil, err
			}
			terms = append(terms, query.Eq("userId", user.ID))
		}
		if in.App != "" {
			if app, err = s.resolveApp(in.App, win, user); err != nil {
				return nil, err
			}
			terms = append(terms, query.Eq("appId", app.ID))
		}
		terms = append(terms, win.pred())
	}
	if in.Flagged {
		terms = append(terms, query.Eq("flaggedForReview", true))
	}
	where := query.And(terms...)
	rep.Search.User, rep.Search.App, rep.Search.Filter = user, app, where.String()
	if windowed {
		rep.Search.From, rep.Search.To = win.from.UTC(), win.to.UTC()
	}

	cols := in.Columns
	if len(cols) == 0 {
		cols = DefaultColumns
	}
	events, res, err := s.events("diagnosed events", query.Request{Where: where, Top: d.opts.MaxEvents, Count: true})
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		what := describe(user, app, in.Flagged)
		return nil, inputErr(ErrNotFound, where.String(), fmt.Sprintf("no %s in %s", what, win),
			"leave out the application or --flagged to widen the search",
			"move the window with --at (events within ±48 hours of it are searched)")
	}
	rep.Search.Matched, rep.Search.Diagnosed = res.Count, len(events)
	if res.Count > int64(len(events)) {
		rep.Search.Notes = append(rep.Search.Notes, fmt.Sprintf("%d events match; the diagnosis looked at the newest %d", res.Count, len(events)))
	}

	if rep.Summary, err = d.summary(s, in, cols, where, windowed, win); err != nil {
		return nil, err
	}

	findings, unexplained := evaluate(events)
	// Window checks: the failures of the user and of the IP addresses involved.
	volUser := user
	if volUser == nil {
		volUser = soleUser(events)
	}
	if volUser != nil {
		// When the diagnosed events are all of this user's events in the window, their
		// failures are the volume; otherwise the status index counts them.
		var all []Event
		if res.Count == int64(len(events)) && user != nil && where.String() == query.And(query.Eq("userId", user.ID), win.pred()).String() {
			all = events
		}
		f, err := s.userVolume(volUser, win, all)
		if err != nil {
			return nil, err
		}
		if f != nil {
			findings = append(findings, *f)
		}
	}
	spray, err := s.ipSpray(events, win)
	if err != nil {
		return nil, err
	}
	findings = append(findings, spray...)
	if len(unexplained) > 0 || !hasProblem(findings) {
		findings = append(findings, unexplainedFinding(unexplained, len(events)))
	}
	sortFindings(findings)
	rep.Findings = findings
	rep.Plans = s.plans
	return rep, nil
}

// summary is the authentication summary page and the correlated flow of each of its events.
// The page is read as Graph JSON with only the caller's columns (and the id and correlation
// the flows need): its values are shown as a reader of that JSON sees them.
func (d *Diagnoser) summary(s *session, in Input, cols []string, where query.Pred, windowed bool, win window) (*Summary, error) {
	top := in.Top
	if top == 0 {
		top = d.opts.PageSize
	}
	sel := withColumns([]string{"id", "correlationId"}, cols)
	page, res, err := s.eventsJSON("summary page", query.Request{Where: where, Top: top, SkipToken: in.SkipToken, Select: sel})
	if err != nil {
		if errors.Is(err, query.ErrBadSkipToken) {
			return nil, inputErr(ErrInvalid, "", "the skip token does not belong to this search", "start again from the first page")
		}
		return nil, err
	}
	sum := &Summary{Columns: cols, SkipToken: res.SkipToken, Flows: map[string][]FlowStep{}}
	var corrs []string
	for i := range page {
		e := &page[i]
		row := SummaryRow{ID: e.ID, CorrelationID: e.CorrelationID, Values: make([]string, len(cols))}
		m := e.object()
		for j, c := range cols {
			row.Values[j] = columnValue(m, c)
		}
		sum.Rows = append(sum.Rows, row)
		if e.CorrelationID != "" && sum.Flows[e.CorrelationID] == nil {
			sum.Flows[e.CorrelationID] = []FlowStep{}
			corrs = append(corrs, strings.ToLower(e.CorrelationID))
		}
	}
	if len(corrs) == 0 {
		return sum, nil
	}
	// One query for every flow of the page; flows last minutes, so an hour beyond the
	// window is enough and keeps the probe inside the window's days.
	fw := window{}
	if windowed {
		fw = window{win.from.Add(-time.Hour), win.to.Add(time.Hour)}
	}
	flows, _, err := s.events("correlated flows", query.Request{Where: query.And(query.In("correlationId", query.Strings(corrs...)...), fw.pred()),
		OrderBy: "createdDateTime asc", Top: query.DefaultTop, Select: flowSelect})
	if err != nil {
		return nil, err
	}
	for i := range flows {
		e := &flows[i]
		sum.Flows[e.CorrelationID] = append(sum.Flows[e.CorrelationID], FlowStep{ID: e.ID, OriginalRequestID: e.OriginalRequestID,
			Time: e.CreatedDateTime.UTC(), App: e.AppDisplayName, Resource: e.ResourceDisplayName, ErrorCode: e.Status.ErrorCode, Interactive: e.IsInteractive})
	}
	return sum, nil
}

// agree checks that the user and application given match the event the search starts from.
func agree(e *Event, in Input, what string) error {
	if in.User != "" && !matchesUser(e, in.User) {
		return inputErr(ErrConflict, what, fmt.Sprintf("%s is a sign-in of %s, not of %q", what, e.user(), in.User),
			"leave out --user, or check the id")
	}
	if in.App != "" && !matchesApp(e, in.App) {
		return inputErr(ErrConflict, what, fmt.Sprintf("%s is a sign-in to %s, not to %q", what, e.app(), in.App),
			"leave out --app, or check the id")
	}
	return nil
}

func identityOf(e *Event) *Identity {
	return &Identity{ID: strings.ToLower(e.UserID), Name: e.UserPrincipalName, DisplayName: e.UserDisplayName}
}

// userTerm selects the user of e: by object id, unless it is the all-zero id of a partial
// sign-in (50058), which would select every such user.
func userTerm(e *Event) query.Pred {
	if e.UserID == "" || e.UserID == "00000000-0000-0000-0000-000000000000" {
		return query.Eq("userPrincipalName", e.UserPrincipalName)
	}
	return query.Eq("userId", strings.ToLower(e.UserID))
}

// soleUser is the one user of events, if there is exactly one.
func soleUser(events []Event) *Identity {
	var id *Identity
	for i := range events {
		e := &events[i]
		if e.UserID == "" || e.UserID == "00000000-0000-0000-0000-000000000000" {
			continue
		}
		if id == nil {
			id = identityOf(e)
		} else if !strings.EqualFold(id.ID, e.UserID) {
			return nil
		}
	}
	return id
}

func describe(user, app *Identity, flagged bool) string {
	s := "sign-ins"
	if flagged {
		s = "flagged sign-ins"
	}
	if user != nil {
		s += " of " + user.Name
	}
	if app != nil {
		s += " to " + app.Name
	}
	return s
}

// hasProblem reports whether a finding other than informational ones was made.
func hasProblem(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity != SevInfo {
			return true
		}
	}
	return false
}

func unexplainedFinding(events []*Event, total int) Finding {
	sc := scenario("unexplained")
	if len(events) == 0 {
		what, action := render(sc, FindingData{Total: total})
		return Finding{Scenario: sc.ID, Title: sc.Title, Severity: SevInfo, What: what, Action: action, Links: sc.Links}
	}
	evs := make([]Event, len(events))
	idx := make([]int, len(events))
	for i, e := range events {
		evs[i], idx[i] = *e, i
	}
	f := eventFinding(sc, evs, idx, FindingData{Total: total})
	return f
}

var sevOrder = map[Severity]int{SevError: 0, SevWarning: 1, SevInfo: 2}

func sortFindings(fs []Finding) {
	order := map[string]int{}
	for i, sc := range Scenarios {
		order[sc.ID] = i
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if sevOrder[fs[i].Severity] != sevOrder[fs[j].Severity] {
			return sevOrder[fs[i].Severity] < sevOrder[fs[j].Severity]
		}
		return order[fs[i].Scenario] < order[fs[j].Scenario]
	})
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
