package columnar

import "strings"

// Evolvable is an evolvable enum (reference §1.3): members declared after its sentinel
// (unknownFutureValue) are only sent to clients that ask for them with
// "Prefer: include-unknown-enum-members"; others get the sentinel, because their generated SDKs
// would fail to deserialize a member they do not know. It lists the members that are always
// sent; any other non-empty value is evolvable.
type Evolvable struct {
	Sentinel string
	known    map[string]bool // lower-case
}

func enumSet(sentinel string, members ...string) *Evolvable {
	e := &Evolvable{Sentinel: sentinel, known: map[string]bool{}}
	for _, m := range members {
		e.known[strings.ToLower(m)] = true
	}
	e.known[strings.ToLower(sentinel)] = true
	return e
}

// Known reports whether member is always sent (case-insensitive, as Graph matches members).
func (e *Evolvable) Known(member string) bool { return e.known[strings.ToLower(member)] }

// Hide returns v as a client that did not opt in sees it: the sentinel for an evolvable
// member, v otherwise ("" stays "").
func (e *Evolvable) Hide(v string) (string, bool) {
	if v == "" || e.Known(v) {
		return v, false
	}
	return e.Sentinel, true
}

// HideFlags is Hide for a flags enum ("application,users"): evolvable members are replaced by
// the sentinel, once.
func (e *Evolvable) HideFlags(v string) (string, bool) {
	if v == "" {
		return v, false
	}
	parts := strings.Split(v, ",")
	out := parts[:0]
	changed, sentinel := false, false
	for _, p := range parts {
		if e.Known(strings.TrimSpace(p)) {
			out = append(out, p)
			continue
		}
		changed = true
		if !sentinel {
			out = append(out, e.Sentinel)
			sentinel = true
		}
	}
	if !changed {
		return v, false
	}
	return strings.Join(out, ","), true
}

// The evolvable enums of the signIn resource (reference/graph-signin-api.md §1.3).
var (
	enumAccessType = enumSet("unknownFutureValue", "none", "b2bCollaboration", "b2bDirectConnect", "microsoftSupport", "serviceProvider")
	enumTokenType  = enumSet("unknownFutureValue", "none", "primaryRefreshToken", "saml11", "saml20")
	// tokenIssuerType spells its sentinel in PascalCase like its other members.
	enumIssuerType = enumSet("UnknownFutureValue", "AzureAD", "ADFederationServices")
	enumProtocol   = enumSet("unknownFutureValue", "none", "oAuth2", "ropc", "wsFederation", "saml20", "deviceCode")
	enumRiskDetail = enumSet("unknownFutureValue", "none", "adminGeneratedTemporaryPassword", "userPerformedSecuredPasswordChange",
		"userPerformedSecuredPasswordReset", "adminConfirmedSigninSafe", "aiConfirmedSigninSafe", "userPassedMFADrivenByRiskBasedPolicy",
		"adminDismissedAllRiskForUser", "adminConfirmedSigninCompromised", "hidden", "adminConfirmedUserCompromised")
	enumCAResult   = enumSet("unknownFutureValue", "success", "failure", "notApplied", "notEnabled", "unknown")
	enumConditions = enumSet("unknownFutureValue", "none", "application", "users", "devicePlatform", "location", "clientType",
		"signInRisk", "userRisk", "time", "deviceState", "client", "ipAddressSeenByAzureAD", "ipAddressSeenByResourceProvider")
	enumAgentType = enumSet("unknownFutureValue", "notAgentic", "agenticApp", "agenticAppInstance")
)

// ItemMember is a member of the objects in a collection stored as JSON
// (appliedConditionalAccessPolicies): the versions that have it, and its evolvable enum.
type ItemMember struct {
	Name    string
	Version Version
	Enum    *Evolvable
	Flags   bool // Enum is a flags enum: a comma-separated list of members
}

// Items describes the objects of a collection column. In v1.0 an item keeps only the members
// listed with V1; beta keeps every member, listed or not.
type Items struct {
	Members []ItemMember
}

// Member finds a member by exact name.
func (it *Items) Member(name string) *ItemMember {
	for i := range it.Members {
		if it.Members[i].Name == name {
			return &it.Members[i]
		}
	}
	return nil
}

// caPolicy is appliedConditionalAccessPolicy: v1.0 has five members, beta adds the rest.
var caPolicy = &Items{Members: []ItemMember{
	{Name: "id", Version: bv},
	{Name: "displayName", Version: bv},
	{Name: "enforcedGrantControls", Version: bv},
	{Name: "enforcedSessionControls", Version: bv},
	{Name: "result", Version: bv, Enum: enumCAResult},
	{Name: "conditionsSatisfied", Version: b, Enum: enumConditions, Flags: true},
	{Name: "conditionsNotSatisfied", Version: b, Enum: enumConditions, Flags: true},
}}

// RiskField names the properties Identity Protection's overlay replaces (Column.Risk).
type RiskField uint8

const (
	RiskNone RiskField = iota
	RiskStateField
	RiskDetailField
	RiskLevelAggregatedField
	RiskLevelDuringSignInField
	RiskEventTypesV2Field
)
