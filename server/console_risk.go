package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	ip "github.com/authlake/authlake/identityprotection"
)

// Identity Protection's three reports (risky users, risky sign-ins, risk detections) with their
// filters, a risky user's details and history, the admin actions behind a confirmation step,
// and the reports' downloads with the admin center's caps. Everything goes through the store's
// own report functions, so the page lists what the Graph identityProtection routes list.

// riskReport describes one report page.
type riskReport struct {
	Key, Title string
	Columns    [][2]string // title, property
	Cap        int
	CanRead    func(p *Principal) bool
	Need       string
	List       func(s *Server, r *http.Request, tenant string, req ip.ListRequest) (ip.ListResult, error)
	TimeField  string
}

var riskReports = map[string]*riskReport{
	"users": {
		Key: "users", Title: "Risky users", Cap: ip.ExportUsersCap, Need: ip.PermRiskyUserRead, TimeField: "riskLastUpdatedDateTime",
		Columns: [][2]string{{"User", "userDisplayName"}, {"Username", "userPrincipalName"}, {"Risk state", "riskState"},
			{"Risk level", "riskLevel"}, {"Risk detail", "riskDetail"}, {"Risk last updated (UTC)", "riskLastUpdatedDateTime"}},
		CanRead: func(p *Principal) bool { return rightsOf(p).RiskRead },
		List: func(s *Server, r *http.Request, tenant string, req ip.ListRequest) (ip.ListResult, error) {
			return s.risk.ListRiskyUsers(tenant, req)
		},
	},
	"signins": {
		Key: "signins", Title: "Risky sign-ins", Cap: ip.ExportSigninsCap, Need: ip.PermRiskyUserRead + " and " + RoleReadAuditLog, TimeField: "createdDateTime",
		Columns: [][2]string{{"Date (UTC)", "createdDateTime"}, {"User", "userDisplayName"}, {"Username", "userPrincipalName"},
			{"Application", "appDisplayName"}, {"IP address", "ipAddress"}, {"Risk state", "riskState"},
			{"Risk level (aggregated)", "riskLevelAggregated"}, {"Risk detail", "riskDetail"}},
		CanRead: func(p *Principal) bool { return rightsOf(p).RiskRead && p.canRead() },
		List: func(s *Server, r *http.Request, tenant string, req ip.ListRequest) (ip.ListResult, error) {
			return s.risk.ListRiskySignins(r.Context(), s.db, tenant, req)
		},
	},
	"detections": {
		Key: "detections", Title: "Risk detections", Cap: ip.ExportDetectionsCap, Need: ip.PermRiskEventRead, TimeField: "activityDateTime",
		Columns: [][2]string{{"Detection time (UTC)", "activityDateTime"}, {"User", "userDisplayName"}, {"Username", "userPrincipalName"},
			{"Detection type", "riskEventType"}, {"Risk state", "riskState"}, {"Risk level", "riskLevel"},
			{"Timing", "detectionTimingType"}, {"IP address", "ipAddress"}, {"Request ID", "requestId"}},
		CanRead: func(p *Principal) bool { return rightsOf(p).DetectionsRead },
		List: func(s *Server, r *http.Request, tenant string, req ip.ListRequest) (ip.ListResult, error) {
			return s.risk.ListDetections(tenant, req)
		},
	},
}

// riskFilterForm is a report's filter form.
type riskFilterForm struct {
	Level, State, User, Since, Advanced string
}

func (f riskFilterForm) filter(timeField string, now time.Time) (string, error) {
	var terms []string
	levelField := "riskLevel"
	if timeField == "createdDateTime" {
		levelField = "riskLevelAggregated"
	}
	if f.Level != "" {
		terms = append(terms, levelField+" eq "+odataString(f.Level))
	}
	if f.State != "" {
		terms = append(terms, "riskState eq "+odataString(f.State))
	}
	if f.User != "" {
		terms = append(terms, "(startswith(userPrincipalName, "+odataString(f.User)+") or startswith(userDisplayName, "+odataString(f.User)+"))")
	}
	switch f.Since {
	case "", "all":
	case "1d", "7d", "30d", "90d":
		days := map[string]int{"1d": 1, "7d": 7, "30d": 30, "90d": 90}[f.Since]
		terms = append(terms, timeField+" ge "+now.Add(-time.Duration(days)*24*time.Hour).UTC().Format(time.RFC3339))
	default:
		return "", errors.New("unknown period " + f.Since)
	}
	if f.Advanced != "" {
		terms = append(terms, "("+f.Advanced+")")
	}
	return strings.Join(terms, " and "), nil
}

type riskListView struct {
	Report   *riskReport
	Form     riskFilterForm
	Filter   string
	Heads    []string
	Rows     []riskRow
	Next     string
	First    string
	Paged    bool
	Download string
	Levels   []string
	States   []string
}

type riskRow struct {
	Cells     []string
	Link      string // the user's page
	SignIn    string // the sign-in's details, shown on the SignInCol cell
	SignInCol int
}

func (s *Server) consoleRiskyUsers(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	s.consoleRiskList(w, r, sess, riskReports["users"])
}

func (s *Server) consoleRiskySignIns(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	s.consoleRiskList(w, r, sess, riskReports["signins"])
}

func (s *Server) consoleDetections(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	s.consoleRiskList(w, r, sess, riskReports["detections"])
}

func readRiskForm(q url.Values) riskFilterForm {
	return riskFilterForm{Level: q.Get("level"), State: q.Get("state"), User: strings.TrimSpace(q.Get("user")),
		Since: q.Get("since"), Advanced: strings.TrimSpace(q.Get("filter"))}
}

// mayRead answers for a report the session may not see (or a server without Identity
// Protection) and reports whether it may.
func (s *Server) mayRead(w http.ResponseWriter, r *http.Request, sess *consoleSession, rep *riskReport) bool {
	switch {
	case rep == nil || s.risk == nil:
		s.consoleError(w, r, sess, http.StatusNotFound, "There is no such report: Identity Protection is not enabled on this server, or the report does not exist.")
		return false
	case !rep.CanRead(sess.p):
		s.consoleError(w, r, sess, http.StatusForbidden, rep.Title+" needs the "+rep.Need+" role.")
		return false
	}
	return true
}

func (s *Server) consoleRiskList(w http.ResponseWriter, r *http.Request, sess *consoleSession, rep *riskReport) {
	if !s.mayRead(w, r, sess, rep) {
		return
	}
	q := r.URL.Query()
	v := &riskListView{Report: rep, Form: readRiskForm(q), First: withParams("/console/risk/"+rep.Key, q, "skiptoken", ""),
		Levels: []string{"high", "medium", "low", "none"}, States: ip.UserStates}
	for _, c := range rep.Columns {
		v.Heads = append(v.Heads, c[0])
	}
	view := consoleView{Title: rep.Title, Nav: "risk-" + rep.Key, Data: v}
	filter, err := v.Form.filter(rep.TimeField, s.now())
	if err != nil {
		view.Error = err.Error()
		s.renderPage(w, r, sess, http.StatusBadRequest, "risklist", view)
		return
	}
	v.Filter = filter
	v.Download = withParams("/console/risk/download/"+rep.Key, q, "skiptoken", "")
	tok := q.Get("skiptoken")
	v.Paged = tok != ""
	res, err := rep.List(s, r, sess.p.Tenant, ip.ListRequest{Filter: filter, Top: consolePageSize, SkipToken: tok})
	if err != nil {
		view.Error = riskListError(err)
		s.renderPage(w, r, sess, http.StatusBadRequest, "risklist", view)
		return
	}
	if res.SkipToken != "" {
		v.Next = withParams("/console/risk/"+rep.Key, q, "skiptoken", res.SkipToken)
	}
	for _, row := range res.Rows {
		rr := riskRow{}
		for _, c := range rep.Columns {
			rr.Cells = append(rr.Cells, riskCell(row, c[1]))
		}
		uid, _ := row["userId"].(string)
		if rep.Key == "users" {
			uid, _ = row["id"].(string)
		}
		if uid != "" {
			rr.Link = "/console/risk/users/" + url.PathEscape(uid)
		}
		// Risky sign-ins link their date, detections their request id, to the sign-in.
		switch rep.Key {
		case "signins":
			if id, _ := row["id"].(string); id != "" {
				rr.SignIn, rr.SignInCol = signInLink(id), 0
			}
		case "detections":
			if id := riskCell(row, "requestId"); id != "" {
				rr.SignIn, rr.SignInCol = signInLink(id), len(rep.Columns)-1
			}
		}
		v.Rows = append(v.Rows, rr)
	}
	s.renderPage(w, r, sess, http.StatusOK, "risklist", view)
}

func riskListError(err error) string {
	var fe *ip.FilterError
	if errors.As(err, &fe) {
		return "Filter: " + fe.Error()
	}
	if errors.Is(err, ip.ErrBadSkipToken) {
		return "This page link is not valid any more; start from the first page."
	}
	return err.Error()
}

// riskCell shows one report property; times without their fractional seconds.
func riskCell(row map[string]any, prop string) string {
	v := row[prop]
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05")
	case *string:
		if x == nil {
			return ""
		}
		return *x
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.HasSuffix(prop, "DateTime") {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
		return x
	}
	return scalarText(v)
}

func (s *Server) consoleRiskDownload(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	rep := riskReports[r.PathValue("report")]
	if !s.mayRead(w, r, sess, rep) {
		return
	}
	q := r.URL.Query()
	format, ok := s.downloadFormat(w, r, sess)
	if !ok {
		return
	}
	filter, err := readRiskForm(q).filter(rep.TimeField, s.now())
	if err != nil {
		s.consoleError(w, r, sess, http.StatusBadRequest, err.Error())
		return
	}
	rows, err := ip.ExportAll(func(req ip.ListRequest) (ip.ListResult, error) { return rep.List(s, r, sess.p.Tenant, req) },
		ip.ListRequest{Filter: filter}, rep.Cap)
	if err != nil {
		s.consoleError(w, r, sess, http.StatusBadRequest, riskListError(err))
		return
	}
	name := strings.ReplaceAll(rep.Title, " ", "") + "_" + s.now().UTC().Format("2006-01-02_15-04-05") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	if _, err := ip.Export(w, format, rows, nil, rep.Cap); err != nil {
		s.log.Warn("console risk download", "err", err)
	}
}

// riskyUserView is one user's page: state, history, actions.
type riskyUserView struct {
	User    ip.RiskyUser
	Known   bool
	Blocked bool
	History []ip.HistoryItem
	Signins string
	Confirm *riskAction
	Actions []riskAction
}

type riskAction struct {
	Key, Title, Explain string
	Danger              bool
}

// userActions are the admin actions on a risky user, with what each does.
var userActions = []riskAction{
	{Key: ip.EvConfirmCompromised, Title: "Confirm user compromised", Danger: true,
		Explain: "Sets the user's risk to high (confirmed compromised); risk-based policies then apply to every sign-in."},
	{Key: ip.EvConfirmSafe, Title: "Confirm user safe", Explain: "Closes the user's risk as safe; their detections are closed."},
	{Key: ip.EvDismiss, Title: "Dismiss user risk", Explain: "Dismisses the user's risk without a verdict; their detections are closed."},
	{Key: ip.EvTempPassword, Title: "Reset password", Danger: true, Explain: "Generates a temporary password; the risk is remediated."},
	{Key: ip.EvRequireReset, Title: "Require password reset", Explain: "The user must change their password at the next sign-in."},
	{Key: ip.EvBlock, Title: "Block user", Danger: true, Explain: "Blocks the user's sign-ins until they are unblocked."},
	{Key: ip.EvUnblock, Title: "Unblock user", Explain: "Lets the user sign in again."},
}

func (s *Server) consoleRiskyUser(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	q := r.URL.Query()
	notice := ""
	for _, a := range userActions {
		if a.Key == q.Get("done") {
			notice = a.Title + ": done."
		}
	}
	s.renderRiskyUser(w, r, sess, http.StatusOK, q.Get("confirm"), notice, "")
}

func (s *Server) renderRiskyUser(w http.ResponseWriter, r *http.Request, sess *consoleSession, status int, confirm, notice, errMsg string) {
	if s.risk == nil {
		s.consoleError(w, r, sess, http.StatusNotFound, "Identity Protection is not enabled on this server.")
		return
	}
	if !rightsOf(sess.p).RiskRead {
		s.consoleError(w, r, sess, http.StatusForbidden, "Risky users need the "+ip.PermRiskyUserRead+" role.")
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	u, known := s.risk.RiskyUser(sess.p.Tenant, id)
	if !known {
		refs, unknown, err := ip.ResolveUsers(r.Context(), s.risk, s.db, sess.p.Tenant, []string{id})
		if err != nil || len(unknown) > 0 || len(refs) == 0 {
			s.consoleError(w, r, sess, http.StatusNotFound, "There is no user "+id+" in this tenant.")
			return
		}
		u = ip.RiskyUser{ID: id, UserPrincipalName: refs[0].UPN, UserDisplayName: refs[0].DisplayName, RiskState: "none", RiskLevel: "none", RiskDetail: "none"}
	}
	v := &riskyUserView{User: u, Known: known, Blocked: s.risk.Blocked(sess.p.Tenant, id),
		Signins: "/console/signins?range=30d&user=" + url.QueryEscape(id)}
	if h, ok := s.risk.History(sess.p.Tenant, id); ok {
		for i := len(h) - 1; i >= 0; i-- {
			v.History = append(v.History, h[i])
		}
	}
	if rightsOf(sess.p).RiskWrite {
		v.Actions = userActions
		for i := range userActions {
			if userActions[i].Key == confirm {
				v.Confirm = &userActions[i]
			}
		}
	}
	title := u.UserDisplayName
	if title == "" {
		title = u.UserPrincipalName
	}
	s.renderPage(w, r, sess, status, "riskyuser", consoleView{Title: "Risky user: " + title, Nav: "risk-users", Data: v, Notice: notice, Error: errMsg})
}

func (s *Server) consoleRiskyUserAction(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	if s.risk == nil || !rightsOf(sess.p).RiskWrite {
		s.consoleError(w, r, sess, http.StatusForbidden, "Acting on risky users needs the "+ip.PermRiskyUserReadWrite+" role.")
		return
	}
	action := r.PostFormValue("action")
	var act *riskAction
	for i := range userActions {
		if userActions[i].Key == action {
			act = &userActions[i]
		}
	}
	if act == nil {
		s.consoleError(w, r, sess, http.StatusBadRequest, "Unknown action "+action+".")
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	refs, unknown, err := ip.ResolveUsers(r.Context(), s.risk, s.db, sess.p.Tenant, []string{id})
	if err != nil || len(unknown) > 0 || len(refs) == 0 {
		s.consoleError(w, r, sess, http.StatusNotFound, "There is no user "+id+" in this tenant.")
		return
	}
	by := sess.p.OID
	if by == "" {
		by = sess.p.UPN
	}
	if err := s.risk.UserAction(sess.p.Tenant, action, by, refs); err != nil {
		s.renderRiskyUser(w, r, sess, http.StatusConflict, "", "", act.Title+" failed: "+err.Error())
		return
	}
	// Post/redirect/get: reloading the page does not repeat the action.
	http.Redirect(w, r, "/console/risk/users/"+url.PathEscape(id)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}
