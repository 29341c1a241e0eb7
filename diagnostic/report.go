package diagnostic

import "time"

// Report is the result of a diagnosis: what was searched, the authentication summary and
// the diagnostic results. For a flagged review, Flagged lists the groups instead.
type Report struct {
	Tenant   string         `json:"tenant"`
	Search   Search         `json:"search"`
	Summary  *Summary       `json:"summary,omitempty"`
	Findings []Finding      `json:"findings"`
	Flagged  []FlaggedGroup `json:"flagged,omitempty"`
	Plans    []Plan         `json:"plans,omitempty"`
}

// Search says what was searched, after resolving names to identifiers.
type Search struct {
	Input  Input     `json:"input"`
	User   *Identity `json:"user,omitempty"`
	App    *Identity `json:"app,omitempty"`
	Event  string    `json:"event,omitempty"` // the event the diagnosis was launched from
	From   time.Time `json:"from,omitzero"`   // zero: no lower time bound
	To     time.Time `json:"to,omitzero"`
	Filter string    `json:"filter"`
	// Matched counts every event matching Filter; Diagnosed those the scenarios looked at
	// (the newest Options.MaxEvents).
	Matched   int64    `json:"matched"`
	Diagnosed int      `json:"diagnosed"`
	Notes     []string `json:"notes,omitempty"`
}

// Identity is a resolved user (UPN in Name) or application.
type Identity struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
}

// Summary is one page of matching events, newest first, with the correlated flow of each.
type Summary struct {
	Columns   []string              `json:"columns"`
	Rows      []SummaryRow          `json:"rows"`
	SkipToken string                `json:"skipToken,omitempty"`
	Flows     map[string][]FlowStep `json:"flows"` // by correlationId
}

// SummaryRow is one event: its values in Columns order.
type SummaryRow struct {
	ID            string   `json:"id"`
	CorrelationID string   `json:"correlationId"`
	Values        []string `json:"values"`
}

// FlowStep is one event of a correlated flow (all events sharing a correlationId), oldest
// first.
type FlowStep struct {
	ID                string    `json:"id"`
	OriginalRequestID string    `json:"originalRequestId"`
	Time              time.Time `json:"createdDateTime"`
	App               string    `json:"appDisplayName"`
	Resource          string    `json:"resourceDisplayName"`
	ErrorCode         int       `json:"errorCode"`
	Interactive       bool      `json:"isInteractive"`
}

// Finding is one scenario that applies: what happened, the evidence, what to do.
type Finding struct {
	Scenario  string      `json:"scenario"`
	Title     string      `json:"title"`
	Severity  Severity    `json:"severity"`
	What      string      `json:"what"`
	Action    string      `json:"action"`
	Links     []Link      `json:"links"`
	Count     int64       `json:"count"` // events (or failures, for window scenarios)
	Evidence  []Evidence  `json:"evidence,omitempty"`
	Histogram []HourCount `json:"histogram,omitempty"`
}

// Evidence is one event behind a finding, with the fields that show why.
type Evidence struct {
	EventID string    `json:"eventId"`
	Time    time.Time `json:"createdDateTime"`
	Fields  []Field   `json:"fields"`
}

// Field is one name/value pair of evidence.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HourCount is one hour of a failure histogram (hours without failures are left out).
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count int       `json:"count"`
}

// FlaggedGroup is the flagged sign-ins of one user from one client (device and browser):
// flagging marks every sign-in of that user, browser and device for 20 minutes.
type FlaggedGroup struct {
	UserID      string    `json:"userId"`
	User        string    `json:"userPrincipalName"`
	DisplayName string    `json:"userDisplayName"`
	DeviceID    string    `json:"deviceId"`
	Client      string    `json:"client"`
	Events      int       `json:"events"`
	Failures    int       `json:"failures"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	Codes       []int     `json:"errorCodes"`
	// DiagnoseEvent is the event to launch the diagnosis from: the newest failure (or the
	// newest event when all succeeded).
	DiagnoseEvent string   `json:"diagnoseEvent"`
	Scenarios     []string `json:"scenarios"`
}

// Plan is how one query of the diagnosis ran.
type Plan struct {
	Step    string `json:"step"`
	Filter  string `json:"filter"`
	Took    string `json:"took"` // wall time of the query
	Explain string `json:"explain"`
}
