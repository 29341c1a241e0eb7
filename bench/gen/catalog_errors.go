package gen

// outcome is one status variant. Several success variants exist because
// Graph varies additionalDetails on successes; stats aggregate by code.
type outcome struct {
	code    int32
	reason  string
	details string
	// mfaFailure marks codes where an MFA-granting CA policy was evaluated
	// and not yet satisfied; other failures happen before CA evaluation.
	mfaFailure bool
	// caBlock marks a grant-control block by a Conditional Access policy.
	caBlock bool
	status  []byte // precomputed `"status":{…}` member
}

// Outcome indexes. Order is irrelevant to output, but must stay stable so
// that the RNG stream (which picks indexes) does not change between builds.
const (
	okPlain = iota
	okMFAClaim
	okMFADone
	e50126
	e50074
	e50140
	e53003
	e500121
	e50076
	e50053
	e70044
	e50058
	e50072
	e50097
	e65001
	e7000215
	e700016
	e50105
	e530035
	e81010
	e16003
	e700082
	e50173
	e7000222
	e500011
	numOutcomes
)

var outcomes = [numOutcomes]outcome{
	okPlain:    {code: 0, reason: "Other.", details: ""},
	okMFAClaim: {code: 0, reason: "Other.", details: "MFA requirement satisfied by claim in the token"},
	okMFADone:  {code: 0, reason: "Other.", details: "MFA completed in Azure AD"},
	e50126: {code: 50126, reason: "Error validating credentials due to invalid username or password.",
		details: "The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."},
	e50074: {code: 50074, reason: "Strong Authentication is required.",
		details: "The user is required to complete a second factor of authentication. This is an expected part of the login flow.", mfaFailure: true},
	e50140: {code: 50140, reason: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
		details: "This is an expected part of the login flow, where a user is asked if they want to remain signed into this browser to make further logins easier."},
	e53003: {code: 53003, reason: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
		details: "If this is unexpected, see the conditional access policy that applied to this request in the Azure Portal.", caBlock: true},
	e500121: {code: 500121, reason: "Authentication failed during strong authentication request.",
		details: "The user didn't complete the MFA prompt. They may have decided not to authenticate, timed out while doing other work, or has an issue with their authentication setup.", mfaFailure: true},
	e50076: {code: 50076, reason: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.",
		details: "MFA is required for this request. Retry interactively with multi-factor authentication.", mfaFailure: true},
	e50053: {code: 50053, reason: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
		details: "The account was locked by smart lockout to prevent brute force attacks. Check the failure reason and source IP addresses."},
	e70044: {code: 70044, reason: "The session has expired or is invalid due to sign-in frequency checks by conditional access.",
		details: "The user must sign in again to satisfy the sign-in frequency requirement."},
	e50058: {code: 50058, reason: "Session information is not sufficient for single-sign-on.",
		details: "This means that a user is not signed in. This is a common error that's expected when a user is unauthenticated and has not yet signed in."},
	e50072: {code: 50072, reason: "Users needs to enroll for second factor authentication (interactive).",
		details: "The user must register security information before they can sign in.", mfaFailure: true},
	e50097: {code: 50097, reason: "Device authentication is required.",
		details: "The device must be registered and present a valid primary refresh token."},
	e65001: {code: 65001, reason: "The user or administrator has not consented to use the application.",
		details: "Send an interactive authorization request for this user and resource, or grant admin consent."},
	e7000215: {code: 7000215, reason: "Invalid client secret is provided.",
		details: "The client secret sent by the application does not match a configured credential. Update the secret in the app configuration."},
	e700016: {code: 700016, reason: "Application with identifier was not found in the directory.",
		details: "The application may not have been installed by the administrator of the tenant or consented to by any user in the tenant."},
	e50105: {code: 50105, reason: "The signed in user is not assigned to a role for the application.",
		details: "Assign the user or a group they belong to to the enterprise application."},
	e530035: {code: 530035, reason: "Access has been blocked by security defaults. This is due to the request using legacy auth or being deemed unsafe by security defaults policies.",
		details: "Move the client to modern authentication."},
	e81010: {code: 81010, reason: "Seamless SSO failed because the user's Kerberos ticket has expired or is invalid.",
		details: "The user falls back to an interactive password sign-in."},
	e16003: {code: 16003, reason: "User account does not exist in the resource tenant and cannot access the application in that tenant.",
		details: "The account needs to be added as an external user in the tenant first."},
	e700082: {code: 700082, reason: "The refresh token has expired due to inactivity.",
		details: "The token was issued a long time ago and was not used. The user must sign in again."},
	e50173: {code: 50173, reason: "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
		details: "The user changed their password or an administrator revoked sessions."},
	e7000222: {code: 7000222, reason: "The provided client secret keys are expired.",
		details: "Create new client secret keys or use a certificate credential."},
	e500011: {code: 500011, reason: "The resource principal was not found in the tenant.",
		details: "The resource application may not be provisioned in this tenant."},
}

func init() {
	for i := range outcomes {
		o := &outcomes[i]
		b := append([]byte(nil), `"status":{"errorCode":`...)
		b = appendInt(b, int64(o.code))
		b = append(b, `,"failureReason":`...)
		b = appendStr(b, o.reason)
		b = append(b, `,"additionalDetails":`...)
		b = appendStrOrNull(b, o.details)
		o.status = append(b, '}')
	}
}
