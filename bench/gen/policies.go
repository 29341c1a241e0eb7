package gen

// Conditional Access model. A tenant has 4–8 policies chosen from the
// templates below; every user sign-in lists all of them with a result, as
// Graph does, and conditionalAccessStatus is derived from those results.

type policyKind uint8

const (
	polMFAAdmins policyKind = iota
	polBlockLegacy
	polMFAAll
	polBlockCountries
	polCompliant
	polSignInFrequency
	polMFAGuests
	polAzureMgmt
	polAppProtection
	numPolicyKinds
)

type policyTemplate struct {
	name       string
	grant      []string
	session    []string
	reportOnly bool
	// conditions matched when the policy applies, and the condition that
	// failed to match when it does not.
	applied, notApplied string
	include             [][2]string // includeRulesSatisfied when applied
}

var policyTemplates = [numPolicyKinds]policyTemplate{
	polMFAAdmins:       {name: "Require MFA for admins", grant: []string{"Mfa"}, applied: "application,users", notApplied: "users", include: [][2]string{{"application", "allApps"}, {"users", "roleId"}}},
	polBlockLegacy:     {name: "Block legacy authentication", grant: []string{"Block"}, applied: "application,users,clientType", notApplied: "clientType", include: [][2]string{{"application", "allApps"}, {"users", "allUsers"}}}, // the client type shows in conditionsSatisfied: Graph's conditionalAccessRule has no member for it
	polMFAAll:          {name: "Require MFA for all users", grant: []string{"Mfa"}, applied: "application,users,location", notApplied: "location", include: [][2]string{{"application", "allApps"}, {"users", "allUsers"}}},
	polBlockCountries:  {name: "Block access outside allowed countries", grant: []string{"Block"}, applied: "application,users,location", notApplied: "location", include: [][2]string{{"application", "allApps"}, {"users", "allUsers"}, {"location", "allLocations"}}},
	polCompliant:       {name: "Require compliant device", grant: []string{"RequireCompliantDevice"}, reportOnly: true, applied: "application,users,devicePlatform", notApplied: "devicePlatform", include: [][2]string{{"application", "allApps"}, {"users", "allUsers"}}},
	polSignInFrequency: {name: "Sign-in frequency 12 hours", session: []string{"SignInFrequency"}, applied: "application,users", notApplied: "users", include: [][2]string{{"application", "allApps"}, {"users", "allUsers"}}},
	polMFAGuests:       {name: "Require MFA for guests", grant: []string{"Mfa"}, applied: "application,users", notApplied: "users", include: [][2]string{{"application", "allApps"}, {"users", "guest"}}},
	polAzureMgmt:       {name: "Require MFA for Azure management", grant: []string{"Mfa"}, applied: "application,users", notApplied: "application", include: [][2]string{{"application", "appId"}, {"users", "allUsers"}}},
	polAppProtection:   {name: "Require app protection policy on mobile", grant: []string{"RequireApprovedApp"}, reportOnly: true, applied: "application,users,devicePlatform", notApplied: "devicePlatform", include: [][2]string{{"application", "allApps"}, {"devicePlatform", "allDevicePlatforms"}}},
}

type policyResult uint8

const (
	resSuccess policyResult = iota
	resFailure
	resNotApplied
	numPolicyResults
)

var resultNames = [2][numPolicyResults]string{
	{"success", "failure", "notApplied"},
	{"reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied"},
}

// policy is one tenant policy with its JSON object pre-rendered for every
// result, so emitting the array is a sequence of copies.
type policy struct {
	kind policyKind
	json [numPolicyResults][]byte
}

func buildPolicy(kind policyKind, id guid) policy {
	t := &policyTemplates[kind]
	p := policy{kind: kind}
	ro := 0
	if t.reportOnly {
		ro = 1
	}
	for r := policyResult(0); r < numPolicyResults; r++ {
		b := append([]byte(nil), `{"id":"`...)
		b = appendGUID(b, id)
		b = append(b, `","displayName":`...)
		b = appendStr(b, t.name)
		applied := r != resNotApplied
		b = append(b, `,"enforcedGrantControls":`...)
		if applied {
			b = appendStrList(b, t.grant)
		} else {
			b = append(b, "[]"...)
		}
		b = append(b, `,"enforcedSessionControls":`...)
		if applied {
			b = appendStrList(b, t.session)
		} else {
			b = append(b, "[]"...)
		}
		b = append(b, `,"result":`...)
		b = appendStr(b, resultNames[ro][r])
		if applied {
			b = append(b, `,"conditionsSatisfied":`...)
			b = appendStr(b, t.applied)
			b = append(b, `,"conditionsNotSatisfied":"none","includeRulesSatisfied":[`...)
			for i, rule := range t.include {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"conditionalAccessCondition":`...)
				b = appendStr(b, rule[0])
				b = append(b, `,"ruleSatisfied":`...)
				b = appendStr(b, rule[1])
				b = append(b, '}')
			}
			b = append(b, ']')
		} else {
			b = append(b, `,"conditionsSatisfied":"application","conditionsNotSatisfied":`...)
			b = appendStr(b, t.notApplied)
			b = append(b, `,"includeRulesSatisfied":[]`...)
		}
		b = append(b, `,"excludeRulesSatisfied":[]}`...)
		p.json[r] = b
	}
	return p
}

func appendStrList(dst []byte, xs []string) []byte {
	dst = append(dst, '[')
	for i, s := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendStr(dst, s)
	}
	return append(dst, ']')
}

// caContext is what policy conditions look at for one user sign-in.
type caContext struct {
	admin, guest, legacy, trusted, foreign, azureMgmt, mobile, compliant bool
	// evaluated is false for failures that happen before Conditional
	// Access runs (bad password, lockout, missing SSO session, …).
	evaluated bool
	mfaFailed bool // an MFA grant was required and not (yet) satisfied
	blocked   bool // a Block grant stopped the sign-in
}

// evaluate returns the result of policy kind k for ctx.
func (c *caContext) evaluate(k policyKind) policyResult {
	if !c.evaluated {
		return resNotApplied
	}
	var applies bool
	switch k {
	case polMFAAdmins:
		applies = c.admin
	case polBlockLegacy:
		applies = c.legacy
	case polMFAAll:
		applies = !c.trusted && !c.legacy
	case polBlockCountries:
		applies = c.foreign
	case polCompliant:
		applies = !c.guest && !c.legacy
		if applies && !c.compliant {
			return resFailure
		}
	case polSignInFrequency:
		applies = !c.guest
	case polMFAGuests:
		applies = c.guest
	case polAzureMgmt:
		applies = c.azureMgmt
	case polAppProtection:
		applies = c.mobile
		if applies {
			return resFailure
		}
	}
	if !applies {
		return resNotApplied
	}
	grant := policyTemplates[k].grant
	if len(grant) > 0 {
		switch grant[0] {
		case "Mfa":
			if c.mfaFailed {
				return resFailure
			}
		case "Block":
			return resFailure
		}
	}
	return resSuccess
}

// mfaRequired reports whether any enabled (non-report-only) policy of the
// tenant demands MFA in ctx; flows use it to decide between single- and
// multi-factor sign-ins so that CA results stay consistent.
func mfaRequired(kinds []policyKind, c *caContext) bool {
	for _, k := range kinds {
		t := &policyTemplates[k]
		if t.reportOnly || len(t.grant) == 0 || t.grant[0] != "Mfa" {
			continue
		}
		switch k {
		case polMFAAdmins:
			if c.admin {
				return true
			}
		case polMFAAll:
			if !c.trusted && !c.legacy {
				return true
			}
		case polMFAGuests:
			if c.guest {
				return true
			}
		case polAzureMgmt:
			if c.azureMgmt {
				return true
			}
		}
	}
	return false
}
