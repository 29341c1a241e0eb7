package identityprotection

// User-level events of the risky-user state machine. Admin actions, self-remediation seen
// in later sign-ins and detections all reduce to one of these.
const (
	EvDetect             = "detect"
	EvConfirmCompromised = "confirmCompromised"
	EvDismiss            = "dismiss"
	EvConfirmSafe        = "confirmSafe"
	EvTempPassword       = "tempPassword"
	EvRequireReset       = "requireReset"
	EvBlock              = "block"
	EvUnblock            = "unblock"
	EvMFARemediation     = "mfaRemediation"
	EvPasswordChange     = "passwordChange"
	EvPasswordReset      = "passwordReset"
	EvSigninCompromised  = "signinCompromised"
	EvAllClosed          = "allClosed" // the last active detection was closed (admin or system)
)

// UserEvents lists every event, for the table test and the CLI.
var UserEvents = []string{EvDetect, EvConfirmCompromised, EvDismiss, EvConfirmSafe, EvTempPassword, EvRequireReset,
	EvBlock, EvUnblock, EvMFARemediation, EvPasswordChange, EvPasswordReset, EvSigninCompromised, EvAllClosed}

// UserStates lists every riskState a user can be in.
var UserStates = []string{StateNone, StateAtRisk, StateConfirmedCompromised, StateRemediated, StateDismissed, StateConfirmedSafe}

// Step is the outcome of one event in one state.
type Step struct {
	To      string // new riskState
	Detail  string // new riskDetail ("" keeps the current one)
	History bool   // recorded in the user's history
	Closes  bool   // closes the user's active detections with Detail
}

// Transition is the risky-user state machine. closeDetail is the riskDetail of the
// closure for EvAllClosed. It is a pure function so that the table test can cover every
// event from every state.
func Transition(from, ev, closeDetail string) Step {
	risky := from == StateAtRisk || from == StateConfirmedCompromised
	same := Step{To: from}
	switch ev {
	case EvDetect:
		if from == StateConfirmedCompromised {
			return Step{To: from, History: true}
		}
		return Step{To: StateAtRisk, Detail: DetailNone, History: true}
	case EvConfirmCompromised:
		if from == StateConfirmedCompromised {
			return same // idempotent
		}
		return Step{To: StateConfirmedCompromised, Detail: DetailAdminConfirmedUserCompromised, History: true}
	case EvDismiss:
		if from == StateNone || from == StateDismissed {
			return same
		}
		return Step{To: StateDismissed, Detail: DetailAdminDismissedAllRiskForUser, History: true, Closes: true}
	case EvConfirmSafe:
		if from == StateNone || from == StateConfirmedSafe {
			return same
		}
		return Step{To: StateConfirmedSafe, Detail: DetailAdminConfirmedAccountSafe, History: true, Closes: true}
	case EvTempPassword:
		if risky {
			return Step{To: StateRemediated, Detail: DetailAdminGeneratedTemporaryPassword, History: true, Closes: true}
		}
		return Step{To: from, History: true} // the reset happened; there was no risk to remediate
	case EvRequireReset, EvBlock, EvUnblock:
		return Step{To: from, History: true}
	case EvMFARemediation:
		// MFA proves the sign-in, not the password: it cannot remediate a confirmed compromise.
		if from == StateAtRisk {
			return Step{To: StateRemediated, Detail: DetailUserPassedMFADrivenByRiskBasedPolicy, History: true, Closes: true}
		}
		return same
	case EvPasswordChange, EvPasswordReset:
		if !risky {
			return same
		}
		d := DetailUserPerformedSecuredPasswordChange
		if ev == EvPasswordReset {
			d = DetailUserPerformedSecuredPasswordReset
		}
		return Step{To: StateRemediated, Detail: d, History: true, Closes: true}
	case EvSigninCompromised:
		if from == StateConfirmedCompromised {
			return Step{To: from, History: true}
		}
		return Step{To: StateAtRisk, Detail: DetailAdminConfirmedSigninCompromised, History: true}
	case EvAllClosed:
		if from == StateAtRisk {
			return Step{To: StateDismissed, Detail: closeDetail, History: true}
		}
		return same
	}
	panic("BUG: unknown user event " + ev)
}

// closedState is the detection riskState that a closure detail implies.
func closedState(detail string) string {
	switch detail {
	case DetailUserPassedMFADrivenByRiskBasedPolicy, DetailUserPerformedSecuredPasswordChange,
		DetailUserPerformedSecuredPasswordReset, DetailAdminGeneratedTemporaryPassword:
		return StateRemediated
	case DetailAdminConfirmedSigninSafe, DetailAdminConfirmedAccountSafe:
		return StateConfirmedSafe
	case DetailAdminConfirmedSigninCompromised:
		return StateConfirmedCompromised
	}
	return StateDismissed
}
