package diagnostic

import (
	"slices"
	"strings"
)

// Cond is a scenario's condition on one sign-in event, as data. Every set field must hold;
// AnyOf adds a disjunction (at least one member holds) and Not a negation. The zero Cond
// matches every event.
type Cond struct {
	Codes       []int // status/errorCode is one of these
	Failure     bool  // status/errorCode != 0
	Success     bool  // status/errorCode == 0
	Interactive bool  // isInteractive
	CAStatus    string
	// Policy: some applied Conditional Access policy matches (report-only results never do:
	// they did not affect the sign-in).
	Policy *PolicyCond
	// Providers: some authenticationRequirementPolicies entry has one of these providers.
	Providers []string
	// MFARequired: authenticationRequirement is multiFactorAuthentication.
	MFARequired bool
	External    bool // guest or cross-tenant (B2B) user
	Member      bool // not External
	ClientApps  []string
	RiskStates  []string
	AnyOf       []Cond
	Not         *Cond
}

// PolicyCond matches one appliedConditionalAccessPolicies entry.
type PolicyCond struct {
	Results []string // result is one of these
	Grants  []string // enforcedGrantControls contains one of these (empty: any)
	// NoGrants: enforcedGrantControls contains none of these.
	NoGrants []string
}

func (c *Cond) match(e *Event) bool {
	code := e.Status.ErrorCode
	switch {
	case len(c.Codes) > 0 && !slices.Contains(c.Codes, code),
		c.Failure && code == 0,
		c.Success && code != 0,
		c.Interactive && !e.IsInteractive,
		c.CAStatus != "" && !strings.EqualFold(c.CAStatus, e.ConditionalAccessStatus),
		c.Policy != nil && len(c.Policy.matching(e)) == 0,
		len(c.Providers) > 0 && !hasProvider(e, c.Providers),
		c.MFARequired && e.AuthenticationRequirement != "multiFactorAuthentication",
		c.External && !e.external(),
		c.Member && e.external(),
		len(c.ClientApps) > 0 && !containsFold(c.ClientApps, e.ClientAppUsed),
		len(c.RiskStates) > 0 && !containsFold(c.RiskStates, e.RiskState),
		c.Not != nil && c.Not.match(e):
		return false
	}
	if len(c.AnyOf) > 0 {
		for i := range c.AnyOf {
			if c.AnyOf[i].match(e) {
				return true
			}
		}
		return false
	}
	return true
}

// matching returns the policies of e that satisfy p (the evidence names them).
func (p *PolicyCond) matching(e *Event) []Policy {
	var out []Policy
	for _, pol := range e.AppliedConditionalAccessPolicies {
		if !containsFold(p.Results, pol.Result) {
			continue
		}
		if len(p.Grants) > 0 && !intersectsFold(p.Grants, pol.EnforcedGrantControls) {
			continue
		}
		if intersectsFold(p.NoGrants, pol.EnforcedGrantControls) {
			continue
		}
		out = append(out, pol)
	}
	return out
}

// policies returns the Conditional Access policies a condition tree refers to that matched
// e, so that messages can name "the policy that applied".
func (c *Cond) policies(e *Event) []Policy {
	var out []Policy
	if c.Policy != nil {
		out = append(out, c.Policy.matching(e)...)
	}
	for i := range c.AnyOf {
		if c.AnyOf[i].match(e) {
			out = append(out, c.AnyOf[i].policies(e)...)
		}
	}
	return out
}

func hasProvider(e *Event, providers []string) bool {
	for _, p := range e.AuthenticationRequirementPolicies {
		if containsFold(providers, p.RequirementProvider) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func intersectsFold(a, b []string) bool {
	for _, x := range b {
		if containsFold(a, x) {
			return true
		}
	}
	return false
}
