package identityprotection

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotRegistered refuses "require password reset" for a user who could not complete it.
var ErrNotRegistered = errors.New("the user is not registered for both MFA and self-service password reset; generate a temporary password instead")

// ErrUnknownAction is returned for an action name the store does not know.
var ErrUnknownAction = errors.New("unknown action")

// UserAction applies an admin action (an Ev* user event: confirmCompromised, dismiss,
// confirmSafe, tempPassword, requireReset, block, unblock) to users, recorded with by.
func (s *Store) UserAction(tenant, kind, by string, users []UserRef) error {
	switch kind {
	case EvConfirmCompromised, EvDismiss, EvConfirmSafe, EvTempPassword, EvRequireReset, EvBlock, EvUnblock:
	default:
		return fmt.Errorf("%w %q", ErrUnknownAction, kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == EvRequireReset {
		tc := s.cfg.tenant(tenant)
		for _, u := range users {
			r := tc.Registrations[strings.ToLower(u.ID)]
			if !r.MFA || !r.SSPR {
				return fmt.Errorf("user %s: %w", u.ID, ErrNotRegistered)
			}
		}
	}
	return s.commit(&record{Op: opAction, Tenant: tenant, At: s.now().UTC(), Act: &Action{Kind: kind, By: by, Users: users}})
}

// SigninAction confirms sign-ins compromised or safe, or dismisses their risk
// (ActSignin* kinds).
func (s *Store) SigninAction(tenant, kind, by string, signins []SigninRef) error {
	switch kind {
	case ActSigninConfirmCompromised, ActSigninConfirmSafe, ActSigninDismiss:
	default:
		return fmt.Errorf("%w %q", ErrUnknownAction, kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(&record{Op: opAction, Tenant: tenant, At: s.now().UTC(), Act: &Action{Kind: kind, By: by, Signins: signins}})
}

// CloseDetections closes individual detections: how is dismiss, confirmSafe or
// confirmCompromised. Unknown ids are an error and nothing is applied.
func (s *Store) CloseDetections(tenant, how, by string, ids []string) error {
	switch how {
	case "dismiss", "confirmSafe", "confirmCompromised":
	default:
		return fmt.Errorf("%w: close detection as %q (want dismiss, confirmSafe or confirmCompromised)", ErrUnknownAction, how)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	var unknown []string
	for _, id := range ids {
		if ts.Dets[id] == nil {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return &UnknownIDsError{Kind: "riskDetection", IDs: unknown}
	}
	return s.commit(&record{Op: opAction, Tenant: tenant, At: s.now().UTC(), Act: &Action{Kind: ActCloseDetection, By: by, Detections: ids, How: how}})
}

// UnknownIDsError lists ids that name nothing.
type UnknownIDsError struct {
	Kind string
	IDs  []string
}

func (e *UnknownIDsError) Error() string {
	return fmt.Sprintf("unknown %s id(s): %s", e.Kind, strings.Join(e.IDs, ", "))
}

// BlockedByRiskPolicy tells the sign-in diagnostic whether a sign-in of userID with the
// given sign-in risk level would be blocked now, and by which policy. An admin block
// counts as the policy "adminBlocked".
func (s *Store) BlockedByRiskPolicy(tenant, userID string, signInRiskLevel string) (policy string, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	if ts.Blocked[userID] {
		return "adminBlocked", true
	}
	tc := s.cfg.tenant(tenant)
	userLevel := LevelNone
	if u := ts.Users[userID]; u != nil {
		userLevel = u.RiskLevel
	}
	if p := tc.UserRiskPolicy; p.applies(userID, userLevel) && p.Action == PolicyBlock {
		return p.Name, true
	}
	if p := tc.SignInRiskPolicy; p.applies(userID, signInRiskLevel) && p.Action == PolicyBlock {
		return p.Name, true
	}
	return "", false
}

// Config returns a copy of the configuration.
func (s *Store) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Config{Tenants: map[string]*TenantConfig{}}
	for t, tc := range s.cfg.Tenants {
		c := *tc
		out.Tenants[t] = &c
	}
	return out
}

// TenantConfig returns one tenant's effective configuration.
func (s *Store) TenantConfig(tenant string) TenantConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.tenant(tenant)
}

// SetTenantConfig validates and stores one tenant's configuration (fsync + rename).
func (s *Store) SetTenantConfig(tenant string, tc TenantConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := Config{Tenants: map[string]*TenantConfig{}}
	for t, c := range s.cfg.Tenants {
		next.Tenants[t] = c
	}
	if tc.Registrations != nil {
		lower := make(map[string]Registration, len(tc.Registrations))
		for k, v := range tc.Registrations {
			lower[strings.ToLower(k)] = v
		}
		tc.Registrations = lower
	}
	next.Tenants[tenant] = &tc
	if err := next.validate(); err != nil {
		return err
	}
	data, _ := jsonIndent(next)
	if err := s.writeFile(filepath.Join(s.dir, configName), data); err != nil {
		return err
	}
	s.cfg = next
	return nil
}

// ImportIPList validates an anonymous-proxy ("anonymous") or threat-intelligence
// ("threat") list and installs it. A malformed list is reported with its position and
// leaves the installed list untouched.
func (s *Store) ImportIPList(kind, name string, data []byte) (int, error) {
	l, err := ParseIPList(name, data)
	if err != nil {
		return 0, err
	}
	file := map[string]string{"anonymous": anonName, "threat": threatName}[kind]
	if file == "" {
		return 0, fmt.Errorf("list kind %q: want anonymous or threat", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeFile(filepath.Join(s.dir, file), data); err != nil {
		return 0, err
	}
	if kind == "anonymous" {
		s.anon = l
	} else {
		s.threat = l
	}
	return l.Len(), nil
}

// Lists returns the installed anonymous and threat lists (nil when none).
func (s *Store) Lists() (anon, threat *IPList) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anon, s.threat
}

// ImportLeaks validates a leaked-credentials list and raises one leakedCredentials
// detection per listed user that lookup knows (lookup gives the user's UPN and display
// name; unknown users are returned, not raised). Nothing is stored when the list is
// malformed. Re-importing the same list raises nothing new.
func (s *Store) ImportLeaks(tenant, name string, data []byte, lookup func(userID string) (UserRef, bool)) (added int, unknown []string, err error) {
	leaks, err := ParseLeakList(name, data)
	if err != nil {
		return 0, nil, err
	}
	now := s.now().UTC()
	var dets []Detection
	for _, lk := range leaks {
		ref, ok := lookup(lk.UserID)
		if !ok {
			unknown = append(unknown, lk.UserID)
			continue
		}
		at := lk.At
		if at.IsZero() {
			at = now
		}
		dets = append(dets, Detection{
			ID: detectionID(tenant, TypeLeakedCredentials, lk.UserID+"|"+at.Format(time.RFC3339)), RiskEventType: TypeLeakedCredentials,
			RiskState: StateAtRisk, RiskLevel: LevelHigh, RiskDetail: DetailNone, Source: "IdentityProtection",
			DetectionTimingType: TimingOffline, Activity: ActivityUser, TokenIssuerType: "AzureAD",
			ActivityDateTime: at, DetectedDateTime: now, LastUpdatedDateTime: now, UserID: lk.UserID,
			UserDisplayName: ref.DisplayName, UserPrincipalName: ref.UPN,
			AdditionalInfo: additionalInfo(kv{"leakSource", name}),
		})
	}
	added, err = s.AddDetections(tenant, dets)
	return added, unknown, err
}

var _ = os.ReadFile
