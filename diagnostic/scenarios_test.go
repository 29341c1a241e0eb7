package diagnostic

import (
	"slices"
	"strings"
	"testing"
)

// eventCases: for each per-event scenario, crafted events that must produce it (with words
// its message must contain) and near misses that must not.
var eventCases = map[string]struct {
	pos, neg [][]mod
	says     []string
}{
	"blocked-by-ca": {
		pos:  [][]mod{{code(53003), set("conditionalAccessStatus", "failure"), policy("Block access outside allowed countries", "failure", "Block")}},
		neg:  [][]mod{{code(53003), set("conditionalAccessStatus", "failure"), policy("Block legacy", "reportOnlyFailure", "Block")}},
		says: []string{"'Block access outside allowed countries'", "AADSTS53003", "avery.smith@contoso.com", "Office 365 SharePoint Online"},
	},
	"ca-failed": {
		pos: [][]mod{{code(53000), set("conditionalAccessStatus", "failure"), policy("Require compliant device", "failure", "RequireCompliantDevice")},
			{code(50131), set("conditionalAccessStatus", "failure")}},
		// An unmet MFA grant is "MFA from Conditional Access", not a failed policy.
		neg:  [][]mod{{code(50074), set("conditionalAccessStatus", "failure"), policy("Require MFA", "failure", "Mfa")}},
		says: []string{"53000", "'Require compliant device'", "not met"},
	},
	"b2b-blocked-by-ca": {
		pos:  [][]mod{{guest(), code(53003), set("conditionalAccessStatus", "failure"), policy("Require hybrid joined device", "failure", "RequireDomainJoinedDevice")}},
		neg:  [][]mod{{code(53003), set("conditionalAccessStatus", "failure"), policy("Require hybrid joined device", "failure", "RequireDomainJoinedDevice")}},
		says: []string{"external", "'Require hybrid joined device'", "53003"},
	},
	"mfa-from-ca": {
		pos:  [][]mod{{code(50074), set("conditionalAccessStatus", "failure"), policy("Require MFA for all users", "failure", "Mfa"), mfa(), providers("multiConditionalAccess")}, {mfa(), policy("Require MFA for all users", "success", "Mfa"), providers("multiConditionalAccess")}},
		neg:  [][]mod{{mfa(), providers("user"), policy("Require MFA for all users", "notApplied")}},
		says: []string{"'Require MFA for all users'", "multifactor"},
	},
	"mfa-other": {
		pos:  [][]mod{{mfa(), providers("user"), set("conditionalAccessStatus", "notApplied")}},
		neg:  [][]mod{{mfa(), providers("multiConditionalAccess"), policy("Require MFA", "success", "Mfa")}},
		says: []string{"user", "not Conditional Access"},
	},
	"mfa-proofup": {
		pos:  [][]mod{{code(50072)}, {code(53004)}, {code(50079)}},
		neg:  [][]mod{{code(50074)}},
		says: []string{"register", "AADSTS"},
	},
	"success-no-ca": {
		pos:  [][]mod{{set("conditionalAccessStatus", "notApplied")}},
		neg:  [][]mod{{set("conditionalAccessStatus", "notApplied"), nonInteractive()}, {set("conditionalAccessStatus", "notApplied"), code(50126)}},
		says: []string{"notApplied", "succeeded"},
	},
	"account-locked": {
		pos:  [][]mod{{code(50053), set("ipAddress", "198.51.100.7")}},
		neg:  [][]mod{{code(50126)}},
		says: []string{"smart lockout", "198.51.100.7", "AADSTS50053"},
	},
	"invalid-password": {
		pos:  [][]mod{{code(50126)}},
		neg:  [][]mod{{code(50053)}},
		says: []string{"invalid username or password", "AADSTS50126"},
	},
	"app-service-provider": {
		pos:  [][]mod{{code(7000215), nonInteractive()}},
		neg:  [][]mod{{code(50105)}},
		says: []string{"7000215", "Invalid client secret", "Update the secret"},
	},
	"app-configuration": {
		pos:  [][]mod{{code(50105)}, {code(65001)}, {code(700016)}, {code(50011)}, {code(500011)}},
		neg:  [][]mod{{code(7000215)}},
		says: []string{"configuration", "AADSTS"},
	},
	"security-defaults": {
		pos: [][]mod{{code(530035), set("clientAppUsed", "IMAP")}, {providers("securityDefaults"), mfa(), code(50074)}},
		// A successful sign-in whose MFA came from security defaults is not a problem.
		neg:  [][]mod{{code(53003), policy("Block legacy authentication", "failure", "Block")}, {providers("securityDefaults"), mfa()}},
		says: []string{"security defaults"},
	},
	"legacy-auth": {
		pos:  [][]mod{{code(53003), set("clientAppUsed", "Exchange ActiveSync"), policy("Block legacy authentication", "failure", "Block")}, {code(50126), set("clientAppUsed", "POP")}},
		neg:  [][]mod{{set("clientAppUsed", "IMAP")}, {code(50126), set("clientAppUsed", "Mobile Apps and Desktop clients")}},
		says: []string{"legacy authentication", "Exchange ActiveSync"},
	},
	"blocked-by-risk": {
		pos:  [][]mod{{code(53003), set("riskState", "atRisk"), set("riskLevelDuringSignIn", "high"), policy("Block high sign-in risk", "failure", "Block")}, {code(53011)}},
		neg:  [][]mod{{code(53003), policy("Block countries", "failure", "Block")}, {set("riskState", "atRisk")}},
		says: []string{"risk", "'Block high sign-in risk'"},
	},
	"pass-through-auth": {
		pos: [][]mod{{code(80001)}, {code(80007)}},
		// 90072 is the external-account error, not pass-through authentication.
		neg:  [][]mod{{code(50126)}, {code(90072)}},
		says: []string{"pass-through", "AADSTS80001"},
	},
	"seamless-sso": {
		pos:  [][]mod{{code(81010)}, {code(81012)}},
		neg:  [][]mod{{code(50058)}},
		says: []string{"seamless single sign-on", "81010"},
	},
	"error-code-insights": {
		pos:  [][]mod{{code(50058)}, {code(500121)}},
		neg:  [][]mod{{code(53003), policy("Block", "failure", "Block")}, {code(99999)}},
		says: []string{"AADSTS50058", "UserInformationNotProvided"},
	},
}

func scenarioIDs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Scenario)
	}
	return out
}

func findingOf(fs []Finding, id string) *Finding {
	for i := range fs {
		if fs[i].Scenario == id {
			return &fs[i]
		}
	}
	return nil
}

func TestEventScenarios(t *testing.T) {
	for _, sc := range Scenarios {
		if sc.Kind != KindEvent && sc.Kind != KindFallback {
			continue
		}
		if sc.GroupBy != nil {
			continue // TestStalePasswordReplay
		}
		t.Run(sc.ID, func(t *testing.T) {
			tc, ok := eventCases[sc.ID]
			if !ok || len(tc.pos) == 0 || len(tc.neg) == 0 {
				t.Fatalf("scenario %s has no positive and near-miss cases", sc.ID)
			}
			for i, mods := range tc.pos {
				fs, _ := evaluate([]Event{toEvent(t, craft(mods...))})
				f := findingOf(fs, sc.ID)
				if f == nil {
					t.Fatalf("positive case %d: got %v, want %s", i, scenarioIDs(fs), sc.ID)
				}
				if f.Count != 1 || len(f.Evidence) != 1 || f.Action == "" || len(f.Links) == 0 {
					t.Fatalf("positive case %d: incomplete finding %+v", i, f)
				}
				if i == 0 {
					for _, w := range tc.says {
						if !strings.Contains(f.What+" "+f.Action, w) {
							t.Errorf("message lacks %q:\n%s\n%s", w, f.What, f.Action)
						}
					}
				}
			}
			for i, mods := range tc.neg {
				fs, _ := evaluate([]Event{toEvent(t, craft(mods...))})
				if findingOf(fs, sc.ID) != nil {
					t.Errorf("near miss %d: %s must not apply (got %v)", i, sc.ID, scenarioIDs(fs))
				}
			}
		})
	}
}

func TestStalePasswordReplay(t *testing.T) {
	same := func(ip string) []mod {
		return []mod{code(50126), set("clientAppUsed", "Mobile Apps and Desktop clients"), device("OLD-PHONE", "Outlook Mobile"), set("ipAddress", ip)}
	}
	var evs []Event
	for range 6 {
		evs = append(evs, toEvent(t, craft(same("192.0.2.44")...)))
	}
	fs, _ := evaluate(evs)
	f := findingOf(fs, "stale-password-replay")
	if f == nil || f.Count != 6 {
		t.Fatalf("got %v", scenarioIDs(fs))
	}
	if !strings.Contains(f.What, "OLD-PHONE") || !strings.Contains(f.What, "192.0.2.44") || !strings.Contains(f.What, "cached") {
		t.Errorf("message: %s", f.What)
	}
	// Near miss: as many failures, but from different addresses (a roaming user mistyping).
	evs = evs[:0]
	for i := range 6 {
		evs = append(evs, toEvent(t, craft(same("192.0.2."+string(rune('1'+i)))...)))
	}
	fs, _ = evaluate(evs)
	if findingOf(fs, "stale-password-replay") != nil || findingOf(fs, "invalid-password") == nil {
		t.Errorf("got %v", scenarioIDs(fs))
	}
}

func TestUnexplainedFailure(t *testing.T) {
	fs, unexplained := evaluate([]Event{toEvent(t, craft(code(99999)))})
	if len(fs) != 0 || len(unexplained) != 1 {
		t.Fatalf("got %v, %d unexplained", scenarioIDs(fs), len(unexplained))
	}
	f := unexplainedFinding(unexplained, 1)
	if !strings.Contains(f.What, "99999") || !strings.Contains(f.Action, "support request") || f.Count != 1 {
		t.Errorf("%+v", f)
	}
	// Near miss: a catalogued code is explained by error code insights.
	_, unexplained = evaluate([]Event{toEvent(t, craft(code(50058)))})
	if len(unexplained) != 0 {
		t.Error("50058 is in the catalogue")
	}
}

func TestScenarioTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	kinds := map[Kind]bool{}
	for _, sc := range Scenarios {
		if seen[sc.ID] {
			t.Errorf("duplicate scenario %s", sc.ID)
		}
		seen[sc.ID] = true
		kinds[sc.Kind] = true
		if sc.Title == "" || sc.What == "" || sc.Action == "" || len(sc.Links) == 0 || sc.Severity == "" {
			t.Errorf("scenario %s lacks a title, message, action, severity or link", sc.ID)
		}
		for _, l := range sc.Links {
			if !strings.HasPrefix(l.URL, "https://") {
				t.Errorf("%s: bad link %q", sc.ID, l.URL)
			}
		}
		// Every template renders with an empty and with a full data set.
		render(&sc, FindingData{})
		render(&sc, FindingData{Count: 3, Users: "u", Apps: "a", Codes: "53003", Policies: "'p'", IP: "1.2.3.4", Failures: 12})
	}
	for _, id := range []string{"many-failures-user", "password-spray-ip", "stale-password-replay", "unexplained"} {
		if !seen[id] {
			t.Errorf("missing %s", id)
		}
	}
	for id := range eventCases {
		if !seen[id] {
			t.Errorf("test case for unknown scenario %s", id)
		}
	}
	// Every code a scenario names is in the catalogue or documented by the scenario itself.
	for _, sc := range Scenarios {
		for _, c := range collectCodes(sc.When) {
			if _, ok := errorCatalog[c]; !ok && !slices.Contains([]string{"pass-through-auth", "seamless-sso", "ca-failed", "app-service-provider", "mfa-proofup"}, sc.ID) {
				t.Errorf("%s names code %d outside the catalogue", sc.ID, c)
			}
		}
	}
}

func collectCodes(c Cond) []int {
	out := append([]int(nil), c.Codes...)
	for _, a := range c.AnyOf {
		out = append(out, collectCodes(a)...)
	}
	return out
}
