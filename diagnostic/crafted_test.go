package diagnostic

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// Crafted events: a base sign-in (a member's successful interactive browser sign-in to
// SharePoint, with one MFA policy that did not apply) and modifiers for each scenario.

const (
	userA = "aaaaaaaa-0000-4000-8000-000000000001"
	appSP = "00000003-0000-0ff1-ce00-000000000000"
)

var craftedSeq int

type mod func(m map[string]any)

func base() map[string]any {
	craftedSeq++
	return map[string]any{
		"id":                        fmt.Sprintf("00000000-0000-4000-8000-%012d", craftedSeq),
		"createdDateTime":           testNow.Add(-time.Duration(craftedSeq) * time.Minute).Format(time.RFC3339),
		"userDisplayName":           "Avery Smith",
		"userPrincipalName":         "avery.smith@contoso.com",
		"userId":                    userA,
		"appId":                     appSP,
		"appDisplayName":            "Office 365 SharePoint Online",
		"ipAddress":                 "203.0.113.10",
		"clientAppUsed":             "Browser",
		"correlationId":             fmt.Sprintf("cccccccc-0000-4000-8000-%012d", craftedSeq),
		"originalRequestId":         fmt.Sprintf("00000000-0000-4000-8000-%012d", craftedSeq),
		"conditionalAccessStatus":   "success",
		"isInteractive":             true,
		"signInEventTypes":          []string{"interactiveUser"},
		"resourceDisplayName":       "Office 365 SharePoint Online",
		"resourceTenantId":          testTenant,
		"homeTenantId":              testTenant,
		"userType":                  "member",
		"crossTenantAccessType":     "none",
		"riskState":                 "none",
		"riskLevelDuringSignIn":     "none",
		"flaggedForReview":          false,
		"authenticationRequirement": "singleFactorAuthentication",
		"status":                    map[string]any{"errorCode": 0, "failureReason": "Other.", "additionalDetails": nil},
		"deviceDetail":              map[string]any{"deviceId": "dev-1", "displayName": "AVERY-LAPTOP", "operatingSystem": "Windows10", "browser": "Edge 120.0"},
		"location":                  map[string]any{"city": "Seattle", "state": "Washington", "countryOrRegion": "US"},
		"appliedConditionalAccessPolicies": []any{
			map[string]any{"id": "p-mfa", "displayName": "Require MFA for admins", "enforcedGrantControls": []string{}, "result": "notApplied"},
		},
		"authenticationRequirementPolicies": []any{},
	}
}

func code(c int) mod {
	return func(m map[string]any) {
		m["status"] = map[string]any{"errorCode": c, "failureReason": fmt.Sprintf("failure %d", c)}
	}
}

func policy(name, result string, grants ...string) mod {
	return func(m map[string]any) {
		if grants == nil {
			grants = []string{}
		}
		m["appliedConditionalAccessPolicies"] = append(m["appliedConditionalAccessPolicies"].([]any),
			map[string]any{"id": "p-" + name, "displayName": name, "enforcedGrantControls": grants, "result": result})
	}
}

func set(k string, v any) mod { return func(m map[string]any) { m[k] = v } }

func providers(ps ...string) mod {
	return func(m map[string]any) {
		var l []any
		for _, p := range ps {
			l = append(l, map[string]any{"requirementProvider": p, "detail": p})
		}
		m["authenticationRequirementPolicies"] = l
	}
}

func mfa() mod { return set("authenticationRequirement", "multiFactorAuthentication") }

func guest() mod {
	return func(m map[string]any) {
		m["userType"], m["crossTenantAccessType"] = "guest", "b2bCollaboration"
		m["homeTenantId"] = "dddddddd-0000-4000-8000-000000000009"
	}
}

func nonInteractive() mod {
	return func(m map[string]any) {
		m["isInteractive"], m["signInEventTypes"] = false, []string{"nonInteractiveUser"}
	}
}

func device(id, browser string) mod {
	return func(m map[string]any) {
		m["deviceDetail"] = map[string]any{"deviceId": id, "displayName": id, "operatingSystem": "Windows10", "browser": browser}
	}
}

func user(id, upn, name string) mod {
	return func(m map[string]any) { m["userId"], m["userPrincipalName"], m["userDisplayName"] = id, upn, name }
}

func at(t time.Time) mod { return set("createdDateTime", t.UTC().Format(time.RFC3339)) }

func craft(mods ...mod) map[string]any {
	m := base()
	for _, f := range mods {
		f(m)
	}
	return m
}

func line(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func toEvent(t testing.TB, m map[string]any) Event {
	t.Helper()
	e, err := decodeEvent(line(m))
	if err != nil {
		t.Fatal(err)
	}
	return e
}
