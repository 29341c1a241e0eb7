package diagnostic

// Kind says how a scenario is evaluated.
type Kind uint8

const (
	// KindEvent: When is tested on each diagnosed event; the matching events make one finding
	// (or one per group of GroupBy with at least MinGroup events).
	KindEvent Kind = iota + 1
	// KindFallback: "error code insights" for failures no KindEvent scenario explains and whose
	// code is in the AADSTS catalogue; one finding per code.
	KindFallback
	// KindUserVolume: the user's failures over the search window, counted with the status
	// index (not limited to the events listed), at least MinFailures.
	KindUserVolume
	// KindIPSpray: failures with one of Codes from one IP address across users, for the IP
	// addresses of the diagnosed failures: at least MinFailures by at least MinUsers users.
	KindIPSpray
	// KindUnexplained: failures nothing else explains, or no finding at all.
	KindUnexplained
)

// Severity orders findings in a report.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevInfo    Severity = "info"
)

// Link is related documentation.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Scenario is one row of the scenario table.
type Scenario struct {
	ID       string
	Title    string
	Kind     Kind
	Severity Severity
	When     Cond
	// GroupBy splits matching events by these keys (app, client, ip, user, code) and
	// reports only groups of at least MinGroup events.
	GroupBy  []string
	MinGroup int
	// Thresholds of the window scenarios.
	MinFailures, MinUsers int
	// MinShare: the failures are at least this share of all the IP's sign-ins in the
	// window (an office egress address fails for many users too, but mostly succeeds).
	MinShare float64
	Codes    []int
	// Evidence lists the event fields shown for each evidence event (see evidenceFields).
	Evidence []string
	// What and Action are text/template strings over FindingData.
	What   string
	Action string
	Links  []Link
}

// Documentation links, named once.
var (
	lnkScenarios   = Link{"Sign-in diagnostic scenarios", "https://learn.microsoft.com/entra/identity/monitoring-health/concept-sign-in-diagnostics-scenarios"}
	lnkCATrouble   = Link{"Troubleshoot sign-in problems with Conditional Access", "https://learn.microsoft.com/entra/identity/conditional-access/troubleshoot-conditional-access"}
	lnkWhatIf      = Link{"Conditional Access What If tool", "https://learn.microsoft.com/entra/identity/conditional-access/what-if-tool"}
	lnkCAGrant     = Link{"Conditional Access grant controls", "https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-grant"}
	lnkCAMFA       = Link{"Require MFA for all users with Conditional Access", "https://learn.microsoft.com/entra/identity/conditional-access/policy-all-users-mfa-strength"}
	lnkB2BCA       = Link{"Conditional Access for B2B collaboration users", "https://learn.microsoft.com/entra/external-id/authentication-conditional-access"}
	lnkCrossTenant = Link{"Cross-tenant access overview", "https://learn.microsoft.com/entra/external-id/cross-tenant-access-overview"}
	lnkPerUserMFA  = Link{"Convert per-user MFA to Conditional Access", "https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates"}
	lnkRegister    = Link{"Combined security information registration", "https://learn.microsoft.com/entra/identity/authentication/concept-registration-mfa-sspr-combined"}
	lnkCAPolicies  = Link{"Common Conditional Access policies", "https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-policy-common"}
	lnkLockout     = Link{"Microsoft Entra smart lockout", "https://learn.microsoft.com/entra/identity/authentication/howto-password-smart-lockout"}
	lnkSignInErr   = Link{"Troubleshoot sign-in errors", "https://learn.microsoft.com/entra/identity/monitoring-health/howto-troubleshoot-sign-in-errors"}
	lnkSpray       = Link{"Password spray investigation playbook", "https://learn.microsoft.com/security/operations/incident-response-playbook-password-spray"}
	lnkAppSSO      = Link{"Troubleshoot SAML-based single sign-on", "https://learn.microsoft.com/entra/identity/enterprise-apps/debug-saml-sso-issues"}
	lnkAppCreds    = Link{"Add and manage application credentials", "https://learn.microsoft.com/entra/identity-platform/how-to-add-credentials"}
	lnkAssign      = Link{"Assign users and groups to an application", "https://learn.microsoft.com/entra/identity/enterprise-apps/assign-user-or-group-access-portal"}
	lnkConsent     = Link{"Grant tenant-wide admin consent", "https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent"}
	lnkReplyURL    = Link{"Redirect URI (reply URL) restrictions", "https://learn.microsoft.com/entra/identity-platform/reply-url"}
	lnkSecDefaults = Link{"Security defaults in Microsoft Entra ID", "https://learn.microsoft.com/entra/fundamentals/security-defaults"}
	lnkLegacy      = Link{"Block legacy authentication with Conditional Access", "https://learn.microsoft.com/entra/identity/conditional-access/policy-block-legacy-authentication"}
	lnkRiskPol     = Link{"Configure risk policies", "https://learn.microsoft.com/entra/id-protection/howto-identity-protection-configure-risk-policies"}
	lnkRiskInv     = Link{"Investigate risk", "https://learn.microsoft.com/entra/id-protection/howto-identity-protection-investigate-risk"}
	lnkPTA         = Link{"Troubleshoot pass-through authentication", "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-pass-through-authentication"}
	lnkSSO         = Link{"Troubleshoot seamless single sign-on", "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-sso"}
	lnkErrCodes    = Link{"Microsoft Entra authentication and authorization error codes", "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"}
	lnkSupport     = Link{"Open a Microsoft Entra support request", "https://learn.microsoft.com/entra/fundamentals/how-to-get-support"}
)

// Role lists of the requirementProvider enum.
var (
	caProviders = []string{"v1ConditionalAccess", "multiConditionalAccess", "v1ConditionalAccessDependency",
		"v1ConditionalAccessPolicyIdRequested", "authenticationStrengths"}
	secDefaultProviders = []string{"securityDefaults", "mfaRegistrationRequiredBySecurityDefaults"}
	// Sources of an MFA requirement other than Conditional Access and security defaults:
	// per-user MFA first of all ("user"), then request- and policy-driven ones.
	otherMFAProviders = []string{"user", "request", "servicePrincipal", "tenantSessionRiskPolicy",
		"accountCompromisePolicies", "baselineProtection", "enforcedForCspAdmins", "proofUpCodeRequest",
		"crossTenantOutboundRule", "gpsLocationCondition", "riskBasedPolicy", "scopeBasedAuthRequirementPolicy"}
	legacyClients = []string{"IMAP", "IMAP4", "POP", "POP3", "SMTP", "Authenticated SMTP", "Exchange ActiveSync",
		"MAPI", "MAPI Over HTTP", "Other clients", "Exchange Web Services", "AutoDiscover",
		"Exchange Online PowerShell", "Offline Address Book", "Outlook Anywhere (RPC over HTTP)",
		"Reporting Web Services", "Universal Outlook"}
	// Codes that say "wrong credentials": what a password spray produces.
	credentialCodes = []int{50126, 50053, 50055, 50056, 50034}
	enforced        = []string{"failure"}
	evaluated       = []string{"success", "failure"}
)

// Scenarios is the scenario table, in report order. Each entry is covered by a positive and
// a near-miss negative test in scenarios_test.go; docs/diagnostic.md reproduces it.
var Scenarios = []Scenario{
	{
		ID: "blocked-by-ca", Title: "Blocked by Conditional Access", Kind: KindEvent, Severity: SevError,
		When:     Cond{Codes: []int{53003}, Member: true, Policy: &PolicyCond{Results: enforced, Grants: []string{"Block"}}},
		Evidence: []string{"code", "policy", "app", "ip", "location", "clientApp"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} were blocked by Conditional Access (AADSTS53003): ` +
			`the policy {{.Policies}} applied with the Block grant control and its result was failure.`,
		Action: `Review {{.Policies}} in Conditional Access (users, applications, locations, client apps it targets). ` +
			`If the block is unexpected, test the sign-in with the What If tool and adjust the policy's assignments or add an exclusion.`,
		Links: []Link{lnkCATrouble, lnkWhatIf, lnkScenarios},
	},
	{
		ID: "ca-failed", Title: "Failed Conditional Access", Kind: KindEvent, Severity: SevError,
		When: Cond{Failure: true, AnyOf: []Cond{
			{Codes: []int{53000, 53001, 53002, 50131, 53010, 530032}},
			{CAStatus: "failure", Policy: &PolicyCond{Results: enforced, NoGrants: []string{"Block", "Mfa"}}},
		}},
		Evidence: []string{"code", "policy", "app", "device", "clientApp"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} failed Conditional Access between {{.First}} and {{.Last}} ` +
			`(AADSTS{{.Codes}}: {{.CodeMeaning}}){{if .Policies}}; grant controls of {{.Policies}} were not met{{end}}.`,
		Action: `Check which grant control was not met (compliant or joined device, approved client app). If the policies are too strict ` +
			`for this user or device, review their user/group and application scoping and device-platform conditions; otherwise have ` +
			`the user enroll or remediate the device ({{.Clients}}).`,
		Links: []Link{lnkCATrouble, lnkCAGrant, lnkWhatIf},
	},
	{
		ID: "b2b-blocked-by-ca", Title: "B2B sign-in blocked by Conditional Access", Kind: KindEvent, Severity: SevError,
		When: Cond{Failure: true, External: true, AnyOf: []Cond{
			{Policy: &PolicyCond{Results: enforced, NoGrants: []string{"Mfa"}}},
			{Codes: []int{53003, 53000, 53001, 50131, 500212, 500213}},
		}},
		Evidence: []string{"code", "policy", "userType", "crossTenant", "app"},
		What: `{{.Count}} sign-in(s) of external user(s) {{.Users}} to {{.Apps}} were blocked by Conditional Access between {{.First}} and {{.Last}} ` +
			`(AADSTS{{.Codes}}){{if .Policies}}; policy {{.Policies}} failed{{end}}. Guests often cannot satisfy device controls of the resource tenant.`,
		Action: `Review Conditional Access policies that target guests and external users, and the cross-tenant access settings ` +
			`(inbound trust of MFA and compliant or hybrid-joined devices from the user's home tenant).`,
		Links: []Link{lnkB2BCA, lnkCrossTenant, lnkCATrouble},
	},
	{
		ID: "mfa-from-ca", Title: "MFA from Conditional Access", Kind: KindEvent, Severity: SevInfo,
		When: Cond{Interactive: true, Policy: &PolicyCond{Results: evaluated, Grants: []string{"Mfa"}},
			// 50074/50076 are the MFA interrupts a policy causes. A failed MFA (500121) is not
			// informational: it is left to the scenarios that explain failures.
			AnyOf: []Cond{{Codes: []int{50074, 50076}}, {Success: true, MFARequired: true, Providers: caProviders}}},
		Evidence: []string{"code", "policy", "provider", "app"},
		What: `{{.Count}} interactive sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} required multifactor ` +
			`authentication because of Conditional Access policy {{.Policies}}{{if .Codes}} (interrupts AADSTS{{.Codes}}){{end}}.`,
		Action: `Informational: confirm that {{.Policies}} is meant to require MFA here.`,
		Links:  []Link{lnkCAMFA, lnkScenarios},
	},
	{
		ID: "mfa-other", Title: "MFA from other requirements", Kind: KindEvent, Severity: SevWarning,
		When:     Cond{Providers: otherMFAProviders, AnyOf: []Cond{{MFARequired: true}, {Codes: []int{50074, 50076, 500121}}}},
		Evidence: []string{"code", "provider", "app"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} required MFA because of ` +
			`{{.Providers}}, not Conditional Access (per-user MFA or another legacy requirement).`,
		Action: `Convert per-user MFA to Conditional Access policies, so that MFA requirements are visible, scoped and testable with the What If tool.`,
		Links:  []Link{lnkPerUserMFA, lnkCAMFA},
	},
	{
		ID: "mfa-proofup", Title: "MFA proof-up (registration required)", Kind: KindEvent, Severity: SevWarning,
		When: Cond{AnyOf: []Cond{{Codes: []int{50072, 50079, 53004}},
			{Providers: []string{"mfaRegistrationRequiredByIdentityProtectionPolicy", "mfaRegistrationRequiredByBaselineProtection", "mfaRegistrationRequiredByMultiConditionalAccess"}}}},
		Evidence: []string{"code", "provider", "app", "ip"},
		What: `{{.Users}} was interrupted {{.Count}} time(s) between {{.First}} and {{.Last}} to register multifactor authentication ` +
			`(AADSTS{{.Codes}}: {{.CodeMeaning}}) while signing in to {{.Apps}}.`,
		Action: `Have the user complete security information registration (from a trusted location or device if 53004), ` +
			`or pre-provision methods such as a Temporary Access Pass.`,
		Links: []Link{lnkRegister, lnkScenarios},
	},
	{
		ID: "success-no-ca", Title: "Successful sign-in without Conditional Access", Kind: KindEvent, Severity: SevInfo,
		When:     Cond{Success: true, Interactive: true, CAStatus: "notApplied"},
		Evidence: []string{"app", "ip", "location", "clientApp", "requirement"},
		What: `{{.Count}} interactive sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} succeeded ` +
			`with no Conditional Access policy applied (conditionalAccessStatus notApplied).`,
		Action: `Review whether a Conditional Access policy should cover these sign-ins (for example require MFA for all users, ` +
			`or for this application and location).`,
		Links: []Link{lnkCAPolicies, lnkWhatIf},
	},
	{
		ID: "account-locked", Title: "Account locked (smart lockout)", Kind: KindEvent, Severity: SevError,
		When:     Cond{Codes: []int{50053}},
		Evidence: []string{"code", "app", "ip", "location", "device", "os"},
		What: `{{.Users}} was locked out by smart lockout {{.Count}} time(s) between {{.First}} and {{.Last}} (AADSTS50053) ` +
			`after too many wrong passwords; attempts came from {{.IPs}} using {{.Apps}} on {{.Clients}}.`,
		Action: `Inspect the applications, attempt counts, devices, operating systems and IP addresses to decide whether the attempts ` +
			`are the user's own (unlock, reset the password) or an attack (block the IP addresses, require MFA, check risk).`,
		Links: []Link{lnkLockout, lnkSignInErr},
	},
	{
		ID: "invalid-password", Title: "Invalid username or password", Kind: KindEvent, Severity: SevWarning,
		When:     Cond{Codes: []int{50126}},
		Evidence: []string{"code", "app", "ip", "device", "os", "clientApp"},
		What: `{{.Count}} sign-in(s) of {{.Users}} between {{.First}} and {{.Last}} failed with an invalid username or password ` +
			`(AADSTS50126) in {{.Apps}} from {{.IPs}}.`,
		Action: `A few failures are user typing mistakes. If they continue, check whether one client keeps replaying an old password ` +
			`and whether the IP addresses are the user's.`,
		Links: []Link{lnkSignInErr, lnkLockout},
	},
	{
		ID: "stale-password-replay", Title: "A client replays an old password", Kind: KindEvent, Severity: SevWarning,
		When: Cond{Codes: []int{50126}}, GroupBy: []string{"user", "app", "client", "ip"}, MinGroup: 5,
		Evidence: []string{"code", "app", "device", "os", "ip", "clientApp"},
		What: `{{.Count}} invalid-password failures of {{.Users}} between {{.First}} and {{.Last}} all came from one client: ` +
			`{{.Apps}} on {{.Clients}} at {{.IPs}}. A repeating source like this usually is an application or device holding a cached, old password.`,
		Action: `Update the saved password in {{.Apps}} on {{.Clients}} (mail profiles, mapped drives, scheduled tasks, phones), ` +
			`or remove the account from that device.`,
		Links: []Link{lnkSignInErr, lnkLockout},
	},
	{
		ID: "app-service-provider", Title: "Enterprise application: service provider error", Kind: KindEvent, Severity: SevError,
		When:     Cond{Codes: []int{7000215, 7000222, 7000218, 50012, 50027, 50196, 70011, 50001}},
		Evidence: []string{"code", "app", "resource", "reason"},
		What: `{{.Count}} sign-in(s) to {{.Apps}} between {{.First}} and {{.Last}} failed because of what the application sent ` +
			`(AADSTS{{.Codes}}: {{.CodeMeaning}}).`,
		Action: `Fix the application (service provider) side: {{.CodeAction}} Follow the vendor's or developer's configuration guidance.`,
		Links:  []Link{lnkAppCreds, lnkAppSSO, lnkErrCodes},
	},
	{
		ID: "app-configuration", Title: "Enterprise application: configuration error", Kind: KindEvent, Severity: SevError,
		When:     Cond{Codes: []int{50011, 50105, 65001, 700016, 500011, 90094, 90095}},
		Evidence: []string{"code", "app", "resource", "reason"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} failed because of the ` +
			`application's configuration in Microsoft Entra ID (AADSTS{{.Codes}}: {{.CodeMeaning}}).`,
		Action: `Update the enterprise application: {{.CodeAction}}`,
		Links:  []Link{lnkAssign, lnkConsent, lnkReplyURL, lnkErrCodes},
	},
	{
		ID: "security-defaults", Title: "Interrupted by security defaults", Kind: KindEvent, Severity: SevWarning,
		// A security-defaults requirement on a sign-in that went through is not a problem: the
		// provider names why MFA was asked, and only a failed or interrupted sign-in needs a fix.
		When:     Cond{AnyOf: []Cond{{Codes: []int{530035}}, {Providers: secDefaultProviders, Failure: true}}},
		Evidence: []string{"code", "provider", "app", "clientApp"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} were interrupted or blocked ` +
			`by security defaults{{if .Codes}} (AADSTS{{.Codes}}){{end}}{{if .ClientApps}} using {{.ClientApps}}{{end}}.`,
		Action: `Review security defaults: they require MFA registration and block legacy authentication. Move the client to modern ` +
			`authentication, or replace security defaults with Conditional Access policies if exceptions are needed.`,
		Links: []Link{lnkSecDefaults},
	},
	{
		ID: "legacy-auth", Title: "Legacy authentication", Kind: KindEvent, Severity: SevWarning,
		When:     Cond{Failure: true, ClientApps: legacyClients},
		Evidence: []string{"code", "clientApp", "app", "policy", "ip"},
		What: `{{.Count}} sign-in(s) of {{.Users}} between {{.First}} and {{.Last}} used legacy authentication ({{.ClientApps}}) ` +
			`and failed (AADSTS{{.Codes}}){{if .Policies}}; policy {{.Policies}} blocked them{{end}}.`,
		Action: `Move these clients to modern authentication (OAuth) and keep legacy authentication blocked with Conditional Access.`,
		Links:  []Link{lnkLegacy, lnkSecDefaults},
	},
	{
		ID: "blocked-by-risk", Title: "Blocked by a risk policy", Kind: KindEvent, Severity: SevError,
		When: Cond{Failure: true, AnyOf: []Cond{{Codes: []int{53011, 530034}},
			{RiskStates: []string{"atRisk", "confirmedCompromised"}, Policy: &PolicyCond{Results: enforced, Grants: []string{"Block"}}}}},
		Evidence: []string{"code", "risk", "policy", "ip", "location"},
		What: `{{.Count}} sign-in(s) of {{.Users}} between {{.First}} and {{.Last}} were blocked because of risk ` +
			`({{.RiskStates}}{{if .Codes}}, AADSTS{{.Codes}}{{end}}){{if .Policies}} by {{.Policies}}{{end}}.`,
		Action: `Investigate the risk detections of the user and sign-ins; remediate (secure password change, MFA) or dismiss ` +
			`if safe, and check that risk policies allow self-remediation.`,
		Links: []Link{lnkRiskInv, lnkRiskPol},
	},
	{
		ID: "pass-through-auth", Title: "Pass-through authentication", Kind: KindEvent, Severity: SevError,
		When:     Cond{Codes: []int{80001, 80002, 80005, 80007, 80010, 80011, 80012, 80013, 80014}},
		Evidence: []string{"code", "reason", "app"},
		What: `{{.Count}} sign-in(s) of {{.Users}} between {{.First}} and {{.Last}} failed in pass-through authentication ` +
			`(AADSTS{{.Codes}}: {{.CodeMeaning}}).`,
		Action: `Check the pass-through authentication agents (running, able to reach on-premises Active Directory) and the ` +
			`on-premises account; {{.CodeAction}}`,
		Links: []Link{lnkPTA},
	},
	{
		ID: "seamless-sso", Title: "Seamless single sign-on", Kind: KindEvent, Severity: SevWarning,
		When:     Cond{Codes: []int{81001, 81004, 81009, 81010, 81012}},
		Evidence: []string{"code", "device", "os", "browser"},
		What: `{{.Count}} seamless single sign-on attempt(s) of {{.Users}} between {{.First}} and {{.Last}} failed ` +
			`(AADSTS{{.Codes}}: {{.CodeMeaning}}) on {{.Clients}}.`,
		Action: `Troubleshoot Seamless SSO: the Kerberos ticket of the device, the AZUREADSSOACC computer account key, ` +
			`intranet zone settings of the browser, and whether the signed-in Windows user is the user signing in.`,
		Links: []Link{lnkSSO},
	},
	{
		ID: "error-code-insights", Title: "Error code insights", Kind: KindFallback, Severity: SevWarning,
		Evidence: []string{"code", "reason", "app", "ip"},
		What: `{{.Count}} sign-in(s) of {{.Users}} to {{.Apps}} between {{.First}} and {{.Last}} failed with AADSTS{{.Codes}}: ` +
			`{{.CodeMeaning}}.`,
		Action: `{{.CodeAction}}`,
		Links:  []Link{lnkErrCodes, lnkSignInErr},
	},
	{
		ID: "many-failures-user", Title: "A large number of failed sign-ins", Kind: KindUserVolume, Severity: SevWarning,
		MinFailures: 10,
		What: `{{.User}} had {{.Failures}} failed sign-ins between {{.WindowStart}} and {{.WindowEnd}} ` +
			`(busiest hour {{.PeakHour}} with {{.PeakCount}}); most common: {{.TopCodes}}.`,
		Action: `Look at the applications, devices and IP addresses behind the failures (see the histogram): a steady stream from ` +
			`one client is a misconfigured device; bursts from many places suggest an attack.`,
		Links: []Link{lnkSignInErr, lnkLockout},
	},
	{
		ID: "password-spray-ip", Title: "Password spray signal from an IP address", Kind: KindIPSpray, Severity: SevError,
		MinFailures: 10, MinUsers: 5, MinShare: 0.5, Codes: credentialCodes,
		What: `IP address {{.IP}} produced {{.Failures}} credential failures for {{.DistinctUsers}} different users between ` +
			`{{.WindowStart}} and {{.WindowEnd}} ({{.Share}} of its sign-ins; busiest hour {{.PeakHour}} with {{.PeakCount}}): ` +
			`the pattern of a password spray.`,
		Action: `Investigate {{.IP}}: block it with a named location if it is not yours, require MFA for the targeted users, ` +
			`check for successful sign-ins from it and for leaked-credential risk detections.`,
		Links: []Link{lnkSpray, lnkLockout},
	},
	{
		ID: "unexplained", Title: "No known scenario explains this", Kind: KindUnexplained, Severity: SevWarning,
		Evidence: []string{"code", "reason", "app"},
		What: `{{if .Count}}{{.Count}} failed sign-in(s) of {{.Users}} between {{.First}} and {{.Last}} (AADSTS{{.Codes}}) match no ` +
			`known scenario and no documented error code.{{else}}None of the {{.Total}} sign-in(s) found matches a known problem scenario.{{end}}`,
		Action: `If the user still cannot sign in, open a support request and include the correlation and request ids of the sign-ins listed.`,
		Links:  []Link{lnkSupport, lnkSignInErr},
	},
}

// scenario returns the table entry with id (a BUG if it is missing: the table is fixed).
func scenario(id string) *Scenario {
	for i := range Scenarios {
		if Scenarios[i].ID == id {
			return &Scenarios[i]
		}
	}
	panic("BUG: no scenario " + id)
}
