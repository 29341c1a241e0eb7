package identityprotection

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// Licence tiers. Without P2, risk levels and details read "hidden" and detections are
// reported as "generic".
const (
	LicenceFree = "Free"
	LicenceP1   = "P1"
	LicenceP2   = "P2"
)

// Registration says which self-service methods a user has registered; a required
// password reset is only possible with both.
type Registration struct {
	MFA  bool `json:"mfa"`
	SSPR bool `json:"sspr"`
}

// Policy is a user-risk or sign-in-risk policy.
type Policy struct {
	Name     string   `json:"name"`
	Enabled  bool     `json:"enabled"`
	Level    string   `json:"level"`  // threshold: low, medium or high (at or above)
	Action   string   `json:"action"` // block, requireMFA or requirePasswordChange
	Excluded []string `json:"excludedUsers,omitempty"`
}

// Policy actions.
const (
	PolicyBlock                 = "block"
	PolicyRequireMFA            = "requireMFA"
	PolicyRequirePasswordChange = "requirePasswordChange"
)

func (p *Policy) validate(kind string) error {
	if p == nil {
		return nil
	}
	if levelRank(p.Level) == 0 {
		return fmt.Errorf("%s policy: level %q: want low, medium or high", kind, p.Level)
	}
	switch p.Action {
	case PolicyBlock, PolicyRequireMFA, PolicyRequirePasswordChange:
	default:
		return fmt.Errorf("%s policy: action %q: want block, requireMFA or requirePasswordChange", kind, p.Action)
	}
	return nil
}

func (p *Policy) applies(userID, level string) bool {
	return p != nil && p.Enabled && levelRank(level) > 0 && levelRank(level) >= levelRank(p.Level) &&
		!slices.ContainsFunc(p.Excluded, func(x string) bool { return strings.EqualFold(x, userID) })
}

// TenantConfig is one tenant's Identity Protection configuration.
type TenantConfig struct {
	Licence          string                  `json:"licence"`
	Registrations    map[string]Registration `json:"registrations,omitempty"`
	UserRiskPolicy   *Policy                 `json:"userRiskPolicy,omitempty"`
	SignInRiskPolicy *Policy                 `json:"signInRiskPolicy,omitempty"`
	Thresholds       Thresholds              `json:"thresholds"`
}

// Config is the configuration file (DIR/identityprotection/config.json). Tenants absent
// from it are P2 with no policies.
type Config struct {
	Tenants map[string]*TenantConfig `json:"tenants"`
}

func (c *Config) tenant(t string) TenantConfig {
	if tc := c.Tenants[t]; tc != nil {
		out := *tc
		if out.Licence == "" {
			out.Licence = LicenceP2
		}
		return out
	}
	return TenantConfig{Licence: LicenceP2}
}

func (c *Config) validate() error {
	for t, tc := range c.Tenants {
		switch tc.Licence {
		case "", LicenceFree, LicenceP1, LicenceP2:
		default:
			return fmt.Errorf("tenant %s: licence %q: want Free, P1 or P2", t, tc.Licence)
		}
		if err := tc.UserRiskPolicy.validate("user risk"); err != nil {
			return fmt.Errorf("tenant %s: %w", t, err)
		}
		if err := tc.SignInRiskPolicy.validate("sign-in risk"); err != nil {
			return fmt.Errorf("tenant %s: %w", t, err)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a synced temporary file and a rename, and
// syncs the directory, so a crash leaves either the old or the new file.
// writeFile replaces one of the store's files atomically (ErrReadOnly in a read-only store).
func (s *Store) writeFile(path string, data []byte) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return fsutil.WriteFileAtomic(vfs.Default, path, data, 0o644, s.noSync)
}

func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
