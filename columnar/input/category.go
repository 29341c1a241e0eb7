package input

// Diagnostic-settings categories that carry sign-in events, and the Graph
// signInEventTypes value each one corresponds to.
var categoryEventType = map[string]string{
	"SignInLogs":                   "interactiveUser",
	"NonInteractiveUserSignInLogs": "nonInteractiveUser",
	"ServicePrincipalSignInLogs":   "servicePrincipal",
	"ManagedIdentitySignInLogs":    "managedIdentity",
}

// EventTypeForCategory maps an Azure Monitor diagnostic-settings category
// to the Graph signInEventTypes value of its events. It reports false for
// categories that do not hold sign-ins (AuditLogs, RiskyUsers, ...).
func EventTypeForCategory(category string) (string, bool) {
	t, ok := categoryEventType[category]
	return t, ok
}

// internCategory returns category as a string without allocating for the
// supported categories, which are the ones seen millions of times.
func internCategory(b []byte) string {
	switch string(b) { // the compiler does not allocate for this switch
	case "SignInLogs":
		return "SignInLogs"
	case "NonInteractiveUserSignInLogs":
		return "NonInteractiveUserSignInLogs"
	case "ServicePrincipalSignInLogs":
		return "ServicePrincipalSignInLogs"
	case "ManagedIdentitySignInLogs":
		return "ManagedIdentitySignInLogs"
	}
	return string(b)
}
