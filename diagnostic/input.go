package diagnostic

import (
	"regexp"
	"strings"
	"time"
)

// Input is what an administrator knows about a problem. Any combination of the search
// fields may be given; at least one of User, App, CorrelationID, RequestID, EventID or
// Flagged is required.
type Input struct {
	// User is a display name, userPrincipalName or object id; a partial name (prefix of the
	// UPN, part of the display name) resolves to one user or fails listing the candidates.
	User string `json:"user,omitempty"`
	// App is an application display name (or part of it) or application id.
	App           string `json:"app,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	// RequestID is a sign-in's request id (its Graph id); the diagnosis covers its flow.
	RequestID string `json:"requestId,omitempty"`
	// At centres the ±48 hour search window; zero means now. Correlation and request ids
	// are searched over the whole retention unless At is given.
	At time.Time `json:"at,omitzero"`
	// EventID launches the diagnostic from one sign-in: its user, application and
	// correlation, ±48 hours around it.
	EventID string `json:"eventId,omitempty"`
	// Flagged alone reviews the tenant's flagged sign-ins; with other fields it restricts the
	// diagnosis to flagged events.
	Flagged bool `json:"flagged,omitempty"`

	// Columns of the authentication summary ($select-like; slash paths allowed); nil means
	// DefaultColumns.
	Columns   []string `json:"columns,omitempty"`
	Top       int      `json:"top,omitempty"` // summary page size; 0 means Options.PageSize
	SkipToken string   `json:"skipToken,omitempty"`
	// Explain records each query's plan in Report.Plans.
	Explain bool `json:"explain,omitempty"`
}

// DefaultColumns is the authentication summary's column set when the caller picks none.
var DefaultColumns = []string{"createdDateTime", "userPrincipalName", "appDisplayName", "status/errorCode",
	"conditionalAccessStatus", "ipAddress", "clientAppUsed", "correlationId", "id"}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isGUID(s string) bool { return guidRE.MatchString(s) }

// quote renders s as an OData string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (in *Input) normalize() *InputError {
	in.User = strings.TrimSpace(in.User)
	in.App = strings.TrimSpace(in.App)
	in.CorrelationID = strings.TrimSpace(in.CorrelationID)
	in.RequestID = strings.TrimSpace(in.RequestID)
	in.EventID = strings.TrimSpace(in.EventID)
	if in.User == "" && in.App == "" && in.CorrelationID == "" && in.RequestID == "" && in.EventID == "" && !in.Flagged {
		return inputErr(ErrInvalid, "", "nothing to search for",
			"give a user, an application, a correlation id, a request id, an event id, or review flagged sign-ins")
	}
	for name, v := range map[string]string{"correlation id": in.CorrelationID, "request id": in.RequestID, "event id": in.EventID} {
		if v != "" && !isGUID(v) {
			return inputErr(ErrInvalid, name+" "+quote(v), "the "+name+" "+quote(v)+" is not a GUID",
				"copy it from the sign-in's details or the error page's Troubleshooting details (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
		}
	}
	for _, c := range in.Columns {
		if c == "" || strings.ContainsAny(c, " '()") {
			return inputErr(ErrInvalid, "", "invalid summary column "+quote(c), "use property names or paths such as status/errorCode")
		}
	}
	if in.Top < 0 || in.Top > 1000 {
		return inputErr(ErrInvalid, "", "the page size must be between 1 and 1000")
	}
	return nil
}
