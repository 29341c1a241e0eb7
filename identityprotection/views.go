package identityprotection

import (
	"bytes"
	"sort"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/valyala/fastjson"
)

// masked applies the licence rule to a detection copy: without P2, levels and details
// read "hidden" and the type is "generic".
func maskDetection(d Detection, licence string) Detection {
	if licence != LicenceP2 {
		d.RiskLevel, d.RiskDetail, d.RiskEventType = LevelHidden, DetailHidden, TypeGeneric
		d.AdditionalInfo = "[]"
	}
	return d
}

func maskUser(u RiskyUser, licence string) RiskyUser {
	if licence != LicenceP2 {
		u.RiskLevel, u.RiskDetail = LevelHidden, DetailHidden
	}
	return u
}

// Detections returns the tenant's detections as the tenant's licence lets it see them,
// newest activity first.
func (s *Store) Detections(tenant string) []Detection {
	s.mu.Lock()
	defer s.mu.Unlock()
	lic := s.cfg.tenant(tenant).Licence
	ts := s.state(tenant)
	out := make([]Detection, 0, len(ts.Dets))
	for _, d := range ts.Dets {
		out = append(out, maskDetection(*d, lic))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ActivityDateTime.Equal(out[j].ActivityDateTime) {
			return out[i].ActivityDateTime.After(out[j].ActivityDateTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Detection returns one detection.
func (s *Store) Detection(tenant, id string) (Detection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.state(tenant).Dets[id]
	if d == nil {
		return Detection{}, false
	}
	return maskDetection(*d, s.cfg.tenant(tenant).Licence), true
}

// RiskyUsers returns every user Identity Protection has an opinion on, most recently
// updated first.
func (s *Store) RiskyUsers(tenant string) []RiskyUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	lic := s.cfg.tenant(tenant).Licence
	ts := s.state(tenant)
	out := make([]RiskyUser, 0, len(ts.Users))
	for _, u := range ts.Users {
		if u.RiskState == StateNone && len(ts.History[u.ID]) == 0 {
			continue
		}
		out = append(out, maskUser(*u, lic))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RiskLastUpdatedDateTime.Equal(out[j].RiskLastUpdatedDateTime) {
			return out[i].RiskLastUpdatedDateTime.After(out[j].RiskLastUpdatedDateTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// RiskyUser returns one risky user.
func (s *Store) RiskyUser(tenant, id string) (RiskyUser, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.state(tenant).Users[id]
	if u == nil {
		return RiskyUser{}, false
	}
	return maskUser(*u, s.cfg.tenant(tenant).Licence), true
}

// History returns a user's history, oldest first.
func (s *Store) History(tenant, id string) ([]HistoryItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	if ts.Users[id] == nil {
		return nil, false
	}
	lic := s.cfg.tenant(tenant).Licence
	h := make([]HistoryItem, len(ts.History[id]))
	for i, it := range ts.History[id] {
		it.RiskyUser = maskUser(it.RiskyUser, lic)
		if lic != LicenceP2 {
			it.Activity = UserActivity{Detail: DetailHidden, RiskEventTypes: []string{TypeGeneric}}
		}
		h[i] = it
	}
	return h, true
}

// Blocked reports whether an admin blocked the user.
func (s *Store) Blocked(tenant, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state(tenant).Blocked[userID]
}

// RiskySignin is one overlay entry with its request id.
type RiskySignin struct {
	RequestID string
	SigninRisk
}

// RiskySignins lists the overlay entries of sign-ins created at or after since, newest
// first.
func (s *Store) RiskySignins(tenant string, since time.Time) []RiskySignin {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	var out []RiskySignin
	for id, sr := range ts.Signins {
		if !sr.At.Before(since) {
			out = append(out, RiskySignin{id, *sr})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].RequestID < out[j].RequestID
	})
	return out
}

// SigninIDs lists the request ids of tenant's sign-ins that MergeSignIn changes, for queries
// that must filter, sort or aggregate them as they are shown (engine.Snapshot.Overlay). Ids
// that are not GUIDs are left out: no stored sign-in has one.
func (s *Store) SigninIDs(tenant string) [][16]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[tenant]
	if ts == nil {
		return nil
	}
	out := make([][16]byte, 0, len(ts.Signins))
	for id := range ts.Signins {
		if g, ok, _ := columnar.ParseGUID([]byte(id)); ok {
			out = append(out, g)
		}
	}
	return out
}

// MergeSignIn rewrites the risk fields (riskState, riskDetail, riskLevelAggregated,
// riskLevelDuringSignIn, riskEventTypes_v2) of a Graph JSON sign-in of tenant with tenant's
// overlay, as tenant's licence lets it see them. Fields absent from row (left out by $select)
// stay absent; a sign-in without overlay is returned unchanged.
//
// The overlay is keyed by (tenant, request id), never by id alone: any tenant can store an event
// under any id in its own log and act on it, and that must not change what another tenant reads
// for its own event with the same id.
func (s *Store) MergeSignIn(tenant string, row []byte) []byte {
	// Rows as the engine writes them start with their id: most sign-ins have no overlay, and
	// finding that out must not cost a parse of the whole row (a console download merges
	// every row it streams).
	if id, ok := leadingID(row); ok {
		s.mu.Lock()
		ts := s.tenants[tenant]
		has := ts != nil && ts.Signins[id] != nil
		s.mu.Unlock()
		if !has {
			return row
		}
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(row)
	if err != nil || v.Type() != fastjson.TypeObject {
		return row
	}
	sr, found := s.visibleRisk(tenant, string(v.GetStringBytes("id")))
	if !found {
		return row
	}
	var a fastjson.Arena
	o := v.GetObject()
	set := func(k string, val *fastjson.Value) {
		if o.Get(k) != nil {
			o.Set(k, val)
		}
	}
	set("riskState", a.NewString(sr.RiskState))
	set("riskDetail", a.NewString(sr.RiskDetail))
	set("riskLevelAggregated", a.NewString(sr.LevelAggregated))
	set("riskLevelDuringSignIn", a.NewString(sr.LevelDuringSignIn))
	arr := a.NewArray()
	for i, t := range sr.EventTypes {
		arr.SetArrayItem(i, a.NewString(t))
	}
	set("riskEventTypes_v2", arr)
	return v.MarshalTo(nil)
}

// RiskLookup is tenant's overlay as the encoder takes it (columnar.EncodeOptions.Risk), to be
// written into sign-ins as they are encoded instead of merged into their JSON afterwards
// (MergeSignIn). It is bound to tenant: another tenant's sign-in with the same id is never
// found in it. It is nil when tenant has no overlay, so that its rows cost no lookup.
func (s *Store) RiskLookup(tenant string) columnar.RiskLookup {
	s.mu.Lock()
	ts := s.tenants[tenant]
	empty := ts == nil || len(ts.Signins) == 0
	s.mu.Unlock()
	if empty {
		return nil
	}
	return func(id [16]byte) (columnar.SignInRisk, bool) {
		var buf [36]byte
		sr, found := s.visibleRisk(tenant, string(columnar.AppendGUID(buf[:0], id[:])))
		if !found {
			return columnar.SignInRisk{}, false
		}
		return columnar.SignInRisk{State: sr.RiskState, Detail: sr.RiskDetail, LevelAggregated: sr.LevelAggregated,
			LevelDuringSignIn: sr.LevelDuringSignIn, EventTypes: sr.EventTypes}, true
	}
}

// visibleRisk is tenant's overlay of its sign-in id as tenant's licence lets it see it.
func (s *Store) visibleRisk(tenant, id string) (SigninRisk, bool) {
	s.mu.Lock()
	var sr SigninRisk
	var lic string
	found := false
	if ts := s.tenants[tenant]; ts != nil {
		if x := ts.Signins[id]; x != nil {
			sr, lic, found = *x, s.cfg.tenant(tenant).Licence, true
			// A copy: the caller writes it after the lock is released.
			sr.EventTypes = append([]string(nil), x.EventTypes...)
		}
	}
	s.mu.Unlock()
	if found && lic != LicenceP2 {
		sr.RiskDetail, sr.LevelAggregated, sr.LevelDuringSignIn = DetailHidden, LevelHidden, LevelHidden
		sr.EventTypes = []string{TypeGeneric}
	}
	return sr, found
}

// leadingID is the id of a row that starts {"id":"…" with an id that needs no unescaping.
func leadingID(row []byte) (string, bool) {
	const prefix = `{"id":"`
	if !bytes.HasPrefix(row, []byte(prefix)) {
		return "", false
	}
	rest := row[len(prefix):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	return string(rest[:end]), true
}
