package identityprotection

import (
	"slices"
	"time"
)

// RiskyUser is Graph's riskyUser.
type RiskyUser struct {
	ID                      string    `json:"id"`
	IsDeleted               bool      `json:"isDeleted"`
	IsProcessing            bool      `json:"isProcessing"`
	RiskLastUpdatedDateTime time.Time `json:"riskLastUpdatedDateTime"`
	RiskLevel               string    `json:"riskLevel"`
	RiskState               string    `json:"riskState"`
	RiskDetail              string    `json:"riskDetail"`
	UserDisplayName         string    `json:"userDisplayName"`
	UserPrincipalName       string    `json:"userPrincipalName"`
}

// UserActivity is riskUserActivity: why a history item happened.
type UserActivity struct {
	Detail         string   `json:"detail"`
	RiskEventTypes []string `json:"riskEventTypes"`
}

// HistoryItem is Graph's riskyUserHistoryItem: the user's state after a change, who made
// it (initiatedBy: the admin's id, or null for Identity Protection itself) and why.
type HistoryItem struct {
	RiskyUser
	UserID      string       `json:"userId"`
	InitiatedBy *string      `json:"initiatedBy"`
	Activity    UserActivity `json:"activity"`
}

// SigninRisk is the overlay for one sign-in: the risk fields that detections and admin
// actions changed since the immutable event was stored.
type SigninRisk struct {
	UserID            string    `json:"userId"`
	At                time.Time `json:"at"` // the sign-in's createdDateTime
	RiskState         string    `json:"riskState"`
	RiskDetail        string    `json:"riskDetail"`
	LevelAggregated   string    `json:"riskLevelAggregated"`
	LevelDuringSignIn string    `json:"riskLevelDuringSignIn"`
	EventTypes        []string  `json:"riskEventTypes_v2"`
	Updated           time.Time `json:"updated"`
}

// UserRef names a user an action applies to.
type UserRef struct {
	ID          string `json:"id"`
	UPN         string `json:"upn,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// SigninRef names a sign-in an action applies to (resolved from the database by the caller).
type SigninRef struct {
	RequestID string    `json:"requestId"`
	User      UserRef   `json:"user"`
	At        time.Time `json:"at"`
}

// Action is one admin action as logged.
type Action struct {
	Kind       string      `json:"kind"` // a user Ev* event, or Signin*/CloseDetection
	By         string      `json:"by"`
	Users      []UserRef   `json:"users,omitempty"`
	Signins    []SigninRef `json:"signins,omitempty"`
	Detections []string    `json:"detections,omitempty"`
	How        string      `json:"how,omitempty"` // CloseDetection: dismiss, confirmSafe, confirmCompromised
}

// Sign-in and detection action kinds.
const (
	ActSigninConfirmCompromised = "signinConfirmCompromised"
	ActSigninConfirmSafe        = "signinConfirmSafe"
	ActSigninDismiss            = "signinDismiss"
	ActCloseDetection           = "closeDetection"
)

type tenantState struct {
	Dets          map[string]*Detection    `json:"detections"`
	Users         map[string]*RiskyUser    `json:"users"`
	History       map[string][]HistoryItem `json:"history"`
	Signins       map[string]*SigninRisk   `json:"signins"`
	Obs           map[string]bool          `json:"observations"`
	Blocked       map[string]bool          `json:"blocked"`
	ResetRequired map[string]bool          `json:"resetRequired"`
}

func newTenantState() *tenantState { return (&tenantState{}).fix() }

// fix makes every map non-nil (JSON leaves empty ones out).
func (ts *tenantState) fix() *tenantState {
	if ts.Dets == nil {
		ts.Dets = map[string]*Detection{}
	}
	if ts.Users == nil {
		ts.Users = map[string]*RiskyUser{}
	}
	if ts.History == nil {
		ts.History = map[string][]HistoryItem{}
	}
	if ts.Signins == nil {
		ts.Signins = map[string]*SigninRisk{}
	}
	if ts.Obs == nil {
		ts.Obs = map[string]bool{}
	}
	if ts.Blocked == nil {
		ts.Blocked = map[string]bool{}
	}
	if ts.ResetRequired == nil {
		ts.ResetRequired = map[string]bool{}
	}
	return ts
}

func (ts *tenantState) user(ref UserRef) *RiskyUser {
	u := ts.Users[ref.ID]
	if u == nil {
		u = &RiskyUser{ID: ref.ID, RiskLevel: LevelNone, RiskState: StateNone, RiskDetail: DetailNone}
		ts.Users[ref.ID] = u
	}
	if ref.UPN != "" {
		u.UserPrincipalName = ref.UPN
	}
	if ref.DisplayName != "" {
		u.UserDisplayName = ref.DisplayName
	}
	return u
}

// activeLevel is the highest level among the user's active detections.
func (ts *tenantState) activeLevel(userID string) string {
	l := LevelNone
	for _, d := range ts.Dets {
		if d.UserID == userID && d.Active() {
			l = maxLevel(l, d.RiskLevel)
		}
	}
	return l
}

func (ts *tenantState) hasActive(userID string) bool {
	for _, d := range ts.Dets {
		if d.UserID == userID && d.Active() {
			return true
		}
	}
	return false
}

// step runs the state machine for one user and records history. by is "" for the system.
func (ts *tenantState) step(ref UserRef, ev, closeDetail, by string, types []string, at time.Time) {
	u := ts.user(ref)
	st := Transition(u.RiskState, ev, closeDetail)
	if st.Closes {
		ts.closeUserDetections(u.ID, st.Detail, at)
	}
	u.RiskState = st.To
	if st.Detail != "" {
		u.RiskDetail = st.Detail
	}
	switch {
	case st.To == StateConfirmedCompromised:
		u.RiskLevel = LevelHigh
	case st.To == StateAtRisk && ev == EvSigninCompromised:
		u.RiskLevel = LevelHigh
	case st.To == StateAtRisk:
		u.RiskLevel = ts.activeLevel(u.ID)
	default:
		u.RiskLevel = LevelNone
	}
	if !st.History {
		return
	}
	u.RiskLastUpdatedDateTime = at
	detail := st.Detail
	if detail == "" {
		detail = u.RiskDetail
	}
	if ev == EvBlock || ev == EvUnblock || ev == EvRequireReset {
		detail = DetailNone
	}
	var initiated *string
	if by != "" {
		initiated = &by
	}
	if types == nil {
		types = []string{}
	}
	ts.History[u.ID] = append(ts.History[u.ID], HistoryItem{RiskyUser: *u, UserID: u.ID, InitiatedBy: initiated,
		Activity: UserActivity{Detail: detail, RiskEventTypes: types}})
}

func (ts *tenantState) closeUserDetections(userID, detail string, at time.Time) {
	for _, d := range ts.Dets {
		if d.UserID == userID && d.Active() {
			ts.closeDetection(d, detail, at)
		}
	}
}

func (ts *tenantState) closeDetection(d *Detection, detail string, at time.Time) {
	d.RiskState = closedState(detail)
	d.RiskDetail = detail
	d.LastUpdatedDateTime = at
	if d.RequestID != nil {
		if sr := ts.Signins[*d.RequestID]; sr != nil && (sr.RiskState == StateAtRisk || sr.RiskState == StateConfirmedCompromised) {
			ts.setSignin(sr, closedState(detail), detail, at)
		}
	}
}

func (ts *tenantState) setSignin(sr *SigninRisk, state, detail string, at time.Time) {
	sr.RiskState, sr.RiskDetail, sr.Updated = state, detail, at
	switch state {
	case StateConfirmedCompromised:
		sr.LevelAggregated = LevelHigh
	case StateAtRisk:
	default:
		sr.LevelAggregated = LevelNone
	}
}

func (ts *tenantState) signin(ref SigninRef) *SigninRisk {
	sr := ts.Signins[ref.RequestID]
	if sr == nil {
		sr = &SigninRisk{UserID: ref.User.ID, At: ref.At, RiskState: StateNone, RiskDetail: DetailNone,
			LevelAggregated: LevelNone, LevelDuringSignIn: LevelNone, EventTypes: []string{}}
		ts.Signins[ref.RequestID] = sr
	}
	return sr
}

func (ts *tenantState) addDetection(d *Detection, at time.Time) {
	if ts.Dets[d.ID] != nil {
		return
	}
	ts.Dets[d.ID] = d
	ref := UserRef{ID: d.UserID, UPN: d.UserPrincipalName, DisplayName: d.UserDisplayName}
	if d.RequestID != nil {
		sr := ts.signin(SigninRef{RequestID: *d.RequestID, User: ref, At: d.ActivityDateTime})
		if !slices.Contains(sr.EventTypes, d.RiskEventType) {
			sr.EventTypes = append(sr.EventTypes, d.RiskEventType)
		}
		if d.Active() {
			sr.LevelAggregated = maxLevel(sr.LevelAggregated, d.RiskLevel)
			if d.DetectionTimingType == TimingRealtime {
				sr.LevelDuringSignIn = maxLevel(sr.LevelDuringSignIn, d.RiskLevel)
			}
			if sr.RiskState == StateNone || sr.RiskState == StateAtRisk {
				sr.RiskState, sr.RiskDetail = StateAtRisk, DetailNone
			}
			sr.Updated = at
		}
	}
	if d.RiskEventType == TypeAdminConfirmed {
		return // the confirmCompromised action records the user's history itself
	}
	ts.step(ref, EvDetect, "", "", []string{d.RiskEventType}, at)
}

// systemClosable are the detection types a later MFA from the same network judges to
// have been false positives.
var systemClosable = map[string]bool{TypeUnfamiliarFeatures: true, TypeNewCountry: true, TypeUnlikelyTravel: true, TypeAnonymizedIP: true}

func (ts *tenantState) observe(o *Observation) {
	ts.Obs[o.ID] = true
	u := ts.Users[o.UserID]
	if u == nil {
		return // no risk to remediate
	}
	ref := UserRef{ID: u.ID}
	switch o.Kind {
	case ObsRiskPolicyMFA:
		ts.step(ref, EvMFARemediation, "", "", nil, o.At)
	case ObsPasswordChange:
		ts.step(ref, EvPasswordChange, "", "", nil, o.At)
	case ObsPasswordReset:
		delete(ts.ResetRequired, u.ID)
		ts.step(ref, EvPasswordReset, "", "", nil, o.At)
	case ObsFamiliarMFA:
		var types []string
		for _, d := range ts.Dets {
			if d.UserID == u.ID && d.RiskState == StateAtRisk && systemClosable[d.RiskEventType] &&
				IPRange(d.IPAddress) == o.IPRange && d.ActivityDateTime.Before(o.At) {
				ts.closeDetection(d, DetailAIConfirmedSigninSafe, o.At)
				types = append(types, d.RiskEventType)
			}
		}
		ts.afterClose(u, DetailAIConfirmedSigninSafe, "", types, o.At)
	}
}

// afterClose moves an at-risk user whose last active detection was closed out of risk,
// or lowers the level to what is still active.
func (ts *tenantState) afterClose(u *RiskyUser, detail, by string, types []string, at time.Time) {
	if len(types) == 0 {
		return
	}
	slices.Sort(types)
	types = slices.Compact(types)
	if !ts.hasActive(u.ID) {
		ts.step(UserRef{ID: u.ID}, EvAllClosed, detail, by, types, at)
		return
	}
	if u.RiskState == StateAtRisk {
		u.RiskLevel = ts.activeLevel(u.ID)
		u.RiskLastUpdatedDateTime = at
	}
}

func (ts *tenantState) act(a *Action, at time.Time) {
	switch a.Kind {
	case ActSigninConfirmCompromised, ActSigninConfirmSafe, ActSigninDismiss:
		for _, ref := range a.Signins {
			ts.actSignin(a, ref, at)
		}
	case ActCloseDetection:
		detail := map[string]string{"dismiss": DetailAdminDismissedRiskForSignIn, "confirmSafe": DetailAdminConfirmedSigninSafe,
			"confirmCompromised": DetailAdminConfirmedSigninCompromised}[a.How]
		for _, id := range a.Detections {
			d := ts.Dets[id]
			if d == nil || !d.Active() {
				continue
			}
			if d.RequestID != nil && a.How != "dismiss" {
				ts.actSignin(&Action{Kind: map[string]string{"confirmSafe": ActSigninConfirmSafe,
					"confirmCompromised": ActSigninConfirmCompromised}[a.How], By: a.By},
					SigninRef{RequestID: *d.RequestID, User: UserRef{ID: d.UserID}, At: d.ActivityDateTime}, at)
				continue
			}
			ts.closeDetection(d, detail, at)
			ts.afterClose(ts.user(UserRef{ID: d.UserID}), detail, a.By, []string{d.RiskEventType}, at)
		}
	default:
		for _, ref := range a.Users {
			switch a.Kind {
			case EvBlock:
				ts.Blocked[ref.ID] = true
			case EvUnblock:
				delete(ts.Blocked, ref.ID)
			case EvRequireReset:
				ts.ResetRequired[ref.ID] = true
			case EvConfirmCompromised:
				if u := ts.Users[ref.ID]; u != nil && u.RiskState == StateConfirmedCompromised {
					continue
				}
				d := &Detection{ID: detectionID("", TypeAdminConfirmed, ref.ID+"|"+at.Format(time.RFC3339Nano)),
					RiskEventType: TypeAdminConfirmed, RiskState: StateConfirmedCompromised, RiskLevel: LevelHigh,
					RiskDetail: DetailAdminConfirmedUserCompromised, Source: "IdentityProtection",
					DetectionTimingType: TimingOffline, Activity: ActivityUser, TokenIssuerType: "AzureAD",
					ActivityDateTime: at, DetectedDateTime: at, LastUpdatedDateTime: at, UserID: ref.ID,
					UserDisplayName: ref.DisplayName, UserPrincipalName: ref.UPN,
					AdditionalInfo: additionalInfo(kv{"initiatedBy", a.By})}
				ts.Dets[d.ID] = d
			}
			ts.step(ref, a.Kind, "", a.By, nil, at)
		}
	}
}

func (ts *tenantState) actSignin(a *Action, ref SigninRef, at time.Time) {
	sr := ts.signin(ref)
	var detail, state string
	switch a.Kind {
	case ActSigninConfirmCompromised:
		state, detail = StateConfirmedCompromised, DetailAdminConfirmedSigninCompromised
	case ActSigninConfirmSafe:
		state, detail = StateConfirmedSafe, DetailAdminConfirmedSigninSafe
	default:
		state, detail = StateDismissed, DetailAdminDismissedRiskForSignIn
	}
	if sr.RiskState == state && sr.RiskDetail == detail {
		return // idempotent
	}
	ts.setSignin(sr, state, detail, at)
	var types []string
	for _, d := range ts.Dets {
		if d.RequestID != nil && *d.RequestID == ref.RequestID && d.Active() {
			d.RiskState, d.RiskDetail, d.LastUpdatedDateTime = state, detail, at
			types = append(types, d.RiskEventType)
		}
	}
	if state == StateConfirmedCompromised {
		ts.step(ref.User, EvSigninCompromised, "", a.By, sr.EventTypes, at)
		return
	}
	u := ts.user(ref.User)
	if len(types) == 0 {
		types = []string{}
	}
	ts.afterClose(u, detail, a.By, append(types, ""), at)
	if len(ts.History[u.ID]) > 0 { // drop the placeholder used to force afterClose
		h := &ts.History[u.ID][len(ts.History[u.ID])-1]
		h.Activity.RiskEventTypes = slices.DeleteFunc(h.Activity.RiskEventTypes, func(s string) bool { return s == "" })
	}
}

// Retention windows.
const (
	LowRiskRetention      = 183 * 24 * time.Hour // low-risk detections and users: six months
	DetectionReportWindow = 90 * 24 * time.Hour
	SigninReportWindow    = 30 * 24 * time.Hour
)

func (ts *tenantState) expire(now time.Time) {
	cut := now.Add(-LowRiskRetention)
	for id, d := range ts.Dets {
		if d.RiskLevel == LevelLow && d.ActivityDateTime.Before(cut) {
			delete(ts.Dets, id)
		}
	}
	for id, u := range ts.Users {
		// Medium and high risk persist until remediated or dismissed; closed and low-risk
		// users age out.
		if (u.RiskLevel == LevelLow || u.RiskLevel == LevelNone) && u.RiskLastUpdatedDateTime.Before(cut) && !ts.hasActiveAbove(id) {
			delete(ts.Users, id)
			delete(ts.History, id)
		}
	}
	for id, sr := range ts.Signins {
		if sr.At.Before(now.Add(-DetectionReportWindow)) {
			delete(ts.Signins, id)
		}
	}
}

func (ts *tenantState) hasActiveAbove(userID string) bool {
	for _, d := range ts.Dets {
		if d.UserID == userID && d.Active() && levelRank(d.RiskLevel) > 1 {
			return true
		}
	}
	return false
}
