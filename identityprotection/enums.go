package identityprotection

// Risk levels, states, details and detection types, spelled as Graph spells them.
const (
	LevelNone   = "none"
	LevelLow    = "low"
	LevelMedium = "medium"
	LevelHigh   = "high"
	LevelHidden = "hidden"

	StateNone                 = "none"
	StateConfirmedSafe        = "confirmedSafe"
	StateRemediated           = "remediated"
	StateDismissed            = "dismissed"
	StateAtRisk               = "atRisk"
	StateConfirmedCompromised = "confirmedCompromised"

	DetailNone                                 = "none"
	DetailAdminGeneratedTemporaryPassword      = "adminGeneratedTemporaryPassword"
	DetailUserPerformedSecuredPasswordChange   = "userPerformedSecuredPasswordChange"
	DetailUserPerformedSecuredPasswordReset    = "userPerformedSecuredPasswordReset"
	DetailAdminConfirmedSigninSafe             = "adminConfirmedSigninSafe"
	DetailAIConfirmedSigninSafe                = "aiConfirmedSigninSafe"
	DetailUserPassedMFADrivenByRiskBasedPolicy = "userPassedMFADrivenByRiskBasedPolicy"
	DetailAdminDismissedAllRiskForUser         = "adminDismissedAllRiskForUser"
	DetailAdminConfirmedSigninCompromised      = "adminConfirmedSigninCompromised"
	DetailHidden                               = "hidden"
	DetailAdminConfirmedUserCompromised        = "adminConfirmedUserCompromised"
	DetailAdminDismissedRiskForSignIn          = "adminDismissedRiskForSignIn"
	DetailAdminConfirmedAccountSafe            = "adminConfirmedAccountSafe"

	TimingRealtime = "realtime"
	TimingOffline  = "offline"

	ActivitySignin = "signin"
	ActivityUser   = "user"
)

// Detection types (riskEventType values) raised by this package.
const (
	TypeAnonymizedIP       = "anonymizedIPAddress"
	TypeUnlikelyTravel     = "unlikelyTravel"
	TypeUnfamiliarFeatures = "unfamiliarFeatures"
	TypeNewCountry         = "newCountry"
	TypeMaliciousIP        = "maliciousIPAddress"
	TypePasswordSpray      = "passwordSpray"
	TypeLeakedCredentials  = "leakedCredentials"
	TypeAdminConfirmed     = "adminConfirmedUserCompromised"
	TypeUserReported       = "userReportedSuspiciousActivity"
	TypeGeneric            = "generic"
)

// DetectorTypes lists the detection types the sign-in stream and imported lists produce,
// in report order.
var DetectorTypes = []string{TypeAnonymizedIP, TypeUnlikelyTravel, TypeUnfamiliarFeatures, TypeNewCountry,
	TypeMaliciousIP, TypePasswordSpray, TypeLeakedCredentials, TypeUserReported}

// levelRank orders risk levels; unknown values rank as none.
func levelRank(l string) int {
	switch l {
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	}
	return 0
}

func maxLevel(a, b string) string {
	if levelRank(b) > levelRank(a) {
		return b
	}
	if a == "" {
		return LevelNone
	}
	return a
}

// evolvableDetails are riskDetail members listed after unknownFutureValue in Graph's
// enum: clients see unknownFutureValue unless they send
// Prefer: include-unknown-enum-members.
var evolvableDetails = map[string]bool{
	"m365DAdminDismissedDetection": true, "adminConfirmedServicePrincipalCompromised": true,
	"adminDismissedAllRiskForServicePrincipal": true, "userChangedPasswordOnPremises": true,
	DetailAdminDismissedRiskForSignIn: true, DetailAdminConfirmedAccountSafe: true, "microsoftRevokedSessions": true,
}

// PublicDetail applies the evolvable-enum rule to a riskDetail value.
func PublicDetail(d string, includeUnknown bool) string {
	if !includeUnknown && evolvableDetails[d] {
		return "unknownFutureValue"
	}
	return d
}
