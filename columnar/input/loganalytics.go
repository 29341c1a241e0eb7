package input

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/columnar"
)

// Log Analytics and Microsoft Sentinel keep sign-ins in the tables SigninLogs,
// AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs and
// AADManagedIdentitySignInLogs, whose columns are the Graph signIn properties in PascalCase,
// with a few renamed and the nested objects as "dynamic" columns. Exports of them (the portal's
// "Export to CSV", the query API's JSON rows) are converted here into Graph JSON records that
// the decoder accepts. laColumns is the one table of the mapping; docs/ingest-formats.md lists
// it. A column the table does not name is kept, under "logAnalytics" in the record (an unknown
// property, which the store keeps and export returns), so nothing that came in is lost.

// laKind is how a column's value becomes JSON.
type laKind uint8

const (
	laString   laKind = iota // a JSON string
	laInt                    // a JSON number (whole)
	laBool                   // true/false
	laTime                   // a time, rewritten as RFC 3339 UTC
	laDynamic                // JSON text (a dynamic column), inserted as a JSON value
	laLocation               // "City, State, Country" text, as an object
	laCAStatus               // the portal's "Success"/"Failure"/"Not Applied" → Graph's enum
)

// laColumn maps one Log Analytics column to a Graph property path ("status/errorCode").
type laColumn struct {
	Column string
	Graph  string
	Kind   laKind
}

// laColumns is the mapping. Columns named in Graph's own spelling with a capital first letter
// (AppId → appId) are listed too, so the table is the whole truth.
var laColumns = []laColumn{
	{"Id", "id", laString},
	{"CreatedDateTime", "createdDateTime", laTime},
	{"UserPrincipalName", "userPrincipalName", laString},
	{"UserDisplayName", "userDisplayName", laString},
	{"UserId", "userId", laString},
	{"UserType", "userType", laString},
	{"AppId", "appId", laString},
	{"AppDisplayName", "appDisplayName", laString},
	{"IPAddress", "ipAddress", laString},
	{"ClientAppUsed", "clientAppUsed", laString},
	{"CorrelationId", "correlationId", laString},
	{"OriginalRequestId", "originalRequestId", laString},
	{"ConditionalAccessStatus", "conditionalAccessStatus", laString},
	{"IsInteractive", "isInteractive", laBool},
	{"RiskDetail", "riskDetail", laString},
	{"RiskLevelAggregated", "riskLevelAggregated", laString},
	{"RiskLevelDuringSignIn", "riskLevelDuringSignIn", laString},
	{"RiskState", "riskState", laString},
	{"RiskEventTypes", "riskEventTypes", laDynamic},
	{"RiskEventTypes_V2", "riskEventTypes_v2", laDynamic},
	{"ResourceDisplayName", "resourceDisplayName", laString},
	{"ResourceIdentity", "resourceId", laString},
	{"ResourceTenantId", "resourceTenantId", laString},
	{"HomeTenantId", "homeTenantId", laString},
	{"AuthenticationRequirement", "authenticationRequirement", laString},
	{"TokenIssuerType", "tokenIssuerType", laString},
	{"TokenIssuerName", "tokenIssuerName", laString},
	{"IncomingTokenType", "incomingTokenType", laString},
	{"UniqueTokenIdentifier", "uniqueTokenIdentifier", laString},
	{"SessionId", "sessionId", laString},
	{"AutonomousSystemNumber", "autonomousSystemNumber", laInt},
	{"UserAgent", "userAgent", laString},
	{"ServicePrincipalId", "servicePrincipalId", laString},
	{"ServicePrincipalName", "servicePrincipalName", laString},
	{"ProcessingTimeInMilliseconds", "processingTimeInMilliseconds", laInt},
	{"FlaggedForReview", "flaggedForReview", laBool},
	{"CrossTenantAccessType", "crossTenantAccessType", laString},
	{"AuthenticationProtocol", "authenticationProtocol", laString},
	{"ResultType", "status/errorCode", laInt},
	{"ResultDescription", "status/failureReason", laString},
	{"Status", "status", laDynamic},
	{"LocationDetails", "location", laDynamic},
	{"DeviceDetail", "deviceDetail", laDynamic},
	{"ConditionalAccessPolicies", "appliedConditionalAccessPolicies", laDynamic},
	{"AuthenticationDetails", "authenticationDetails", laDynamic},
	{"AuthenticationProcessingDetails", "authenticationProcessingDetails", laDynamic},
	{"AuthenticationRequirementPolicies", "authenticationRequirementPolicies", laDynamic},
	{"NetworkLocationDetails", "networkLocationDetails", laDynamic},
	{"MfaDetail", "mfaDetail", laDynamic},
	{"AppliedEventListeners", "appliedEventListeners", laDynamic},
	{"SignInEventTypes", "signInEventTypes", laDynamic},
}

// laTables maps a Log Analytics table (the Type column) to the diagnostic-settings category
// that carries the same events (and so their signInEventTypes).
var laTables = map[string]string{
	"SigninLogs":                      "SignInLogs",
	"AADNonInteractiveUserSignInLogs": "NonInteractiveUserSignInLogs",
	"AADServicePrincipalSignInLogs":   "ServicePrincipalSignInLogs",
	"AADManagedIdentitySignInLogs":    "ManagedIdentitySignInLogs",
	"SignInLogs":                      "SignInLogs",
	"NonInteractiveUserSignInLogs":    "NonInteractiveUserSignInLogs",
	"ServicePrincipalSignInLogs":      "ServicePrincipalSignInLogs",
	"ManagedIdentitySignInLogs":       "ManagedIdentitySignInLogs",
}

// portalColumns maps the Entra admin center's sign-in log "Download" CSV (columns named as the
// portal shows them) onto Graph. Its text columns that Graph nests (Browser, Location) are
// placed under their object; "Location" is "City, State, Country".
var portalColumns = []laColumn{
	{"Date (UTC)", "createdDateTime", laTime},
	{"Request ID", "id", laString},
	{"User agent", "userAgent", laString},
	{"Correlation ID", "correlationId", laString},
	{"User ID", "userId", laString},
	{"User", "userDisplayName", laString},
	{"Username", "userPrincipalName", laString},
	{"User type", "userType", laString},
	{"Cross tenant access type", "crossTenantAccessType", laString},
	{"Incoming token type", "incomingTokenType", laString},
	{"Authentication Protocol", "authenticationProtocol", laString},
	{"Unique token identifier", "uniqueTokenIdentifier", laString},
	{"Application", "appDisplayName", laString},
	{"Application ID", "appId", laString},
	{"Resource", "resourceDisplayName", laString},
	{"Resource ID", "resourceId", laString},
	{"Resource tenant ID", "resourceTenantId", laString},
	{"Home tenant ID", "homeTenantId", laString},
	{"IP address", "ipAddress", laString},
	{"Location", "location", laLocation},
	{"Sign-in error code", "status/errorCode", laInt},
	{"Failure reason", "status/failureReason", laString},
	{"Client app", "clientAppUsed", laString},
	{"Device ID", "deviceDetail/deviceId", laString},
	{"Browser", "deviceDetail/browser", laString},
	{"Operating System", "deviceDetail/operatingSystem", laString},
	{"Compliant", "deviceDetail/isCompliant", laBool},
	{"Managed", "deviceDetail/isManaged", laBool},
	{"Join Type", "deviceDetail/trustType", laString},
	{"Authentication requirement", "authenticationRequirement", laString},
	{"Conditional Access", "conditionalAccessStatus", laCAStatus},
	{"Flagged for review", "flaggedForReview", laBool},
	{"Token issuer type", "tokenIssuerType", laString},
	{"Token issuer name", "tokenIssuerName", laString},
	{"Session ID", "sessionId", laString},
	{"Autonomous system number", "autonomousSystemNumber", laInt},
	{"Latency", "processingTimeInMilliseconds", laInt},
}

// exportTable is one export's mapping: its columns by lower-case name, and the name of the
// kept-columns property.
type exportTable struct {
	byColumn map[string]laColumn
	keep     string
}

func newExportTable(cols []laColumn, keep string) *exportTable {
	t := &exportTable{byColumn: map[string]laColumn{}, keep: keep}
	for _, c := range cols {
		t.byColumn[strings.ToLower(c.Column)] = c
	}
	return t
}

var (
	laTable     = newExportTable(laColumns, columnar.EnvelopeLogAnalytics)
	portalTable = newExportTable(portalColumns, columnar.EnvelopePortal)
)

// isPortalColumns reports whether a CSV header is the admin center's sign-in download.
func isPortalColumns(cols []string) bool {
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.ToLower(strings.TrimSpace(c))] = true
	}
	return has["date (utc)"] && has["request id"]
}

// laCell is one column of a row: its name as exported and its value, either text (CSV) or a
// JSON value (JSON rows).
type laCell struct {
	Column string
	Text   string          // CSV cell, or a JSON string's contents
	JSON   json.RawMessage // a JSON row's value, when it is not a string
}

// isLARow reports whether a record's columns are Log Analytics ones: TimeGenerated with one of
// the sign-in columns.
func isLAColumns(cols []string) bool {
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.ToLower(laBaseName(c))] = true
	}
	return has["timegenerated"] && (has["resulttype"] || has["userprincipalname"] || has["correlationid"])
}

// laBaseName drops the " [UTC]" the portal's CSV adds to time columns and the _dynamic /
// _string suffix of the paired columns some exports have.
func laBaseName(c string) string {
	c = strings.TrimSuffix(strings.TrimSpace(c), " [UTC]")
	if b, ok := strings.CutSuffix(c, "_dynamic"); ok {
		return b
	}
	if b, ok := strings.CutSuffix(c, "_string"); ok {
		return b
	}
	return c
}

// laToGraph builds a Graph JSON record from one row. It returns the record and the
// diagnostic-settings category of its table ("" when the row does not say).
func laToGraph(cells []laCell) ([]byte, string, error) { return laTable.toGraph(cells) }

func (tbl *exportTable) toGraph(cells []laCell) ([]byte, string, error) {
	top := map[string]any{}
	status := map[string]any{}
	extra := map[string]any{}
	var timeGenerated string
	category := ""
	// A paired column's dynamic form wins over its string form.
	seenDynamic := map[string]bool{}
	for _, c := range cells {
		if strings.HasSuffix(c.Column, "_dynamic") {
			seenDynamic[strings.ToLower(laBaseName(c.Column))] = true
		}
	}
	for _, c := range cells {
		name := laBaseName(c.Column)
		if strings.HasSuffix(c.Column, "_string") && seenDynamic[strings.ToLower(name)] {
			continue
		}
		if absentCell(c) {
			continue
		}
		lname := strings.ToLower(name)
		switch lname {
		case "timegenerated":
			timeGenerated = cellString(c)
			continue
		case "type", "category":
			if cat, ok := laTables[cellString(c)]; ok {
				category = cat
				continue
			}
		}
		col, ok := tbl.byColumn[lname]
		if !ok {
			col, ok = tbl.byColumn[strings.ToLower(strings.TrimSpace(c.Column))]
		}
		if !ok {
			extra[c.Column] = cellValue(c)
			continue
		}
		v, err := convertCell(c, col.Kind)
		if err != nil {
			return nil, "", fmt.Errorf("column %s: %w", c.Column, err)
		}
		if rest, ok := strings.CutPrefix(col.Graph, "status/"); ok {
			status[rest] = v
			continue
		}
		if col.Graph == "status" {
			if m, ok := v.(map[string]any); ok {
				for k, x := range m { // the dynamic Status column: ResultType/ResultDescription win
					if _, set := status[k]; !set {
						status[k] = x
					}
				}
			}
			continue
		}
		setPath(top, col.Graph, v)
	}
	if _, ok := top["createdDateTime"]; !ok && timeGenerated != "" {
		t, err := parseLATime(timeGenerated)
		if err != nil {
			return nil, "", fmt.Errorf("column TimeGenerated: %w", err)
		}
		top["createdDateTime"] = t
	}
	if len(status) > 0 {
		if ec, ok := status["errorCode"].(string); ok { // a Status object with a textual code
			if n, err := strconv.Atoi(ec); err == nil {
				status["errorCode"] = n
			}
		}
		top["status"] = status
	}
	if len(extra) > 0 {
		top[tbl.keep] = extra
	}
	b, err := json.Marshal(top)
	return b, category, err
}

func absentCell(c laCell) bool {
	if c.JSON != nil {
		return bytes.Equal(c.JSON, []byte("null"))
	}
	switch strings.TrimSpace(c.Text) {
	case "", "NaN", "nan", "None", "null", "NULL":
		return true
	}
	return false
}

func cellString(c laCell) string {
	if c.JSON != nil {
		return strings.TrimSpace(string(c.JSON))
	}
	return c.Text
}

// cellValue is an unmapped cell as a JSON value: JSON rows keep theirs, CSV text that holds
// JSON (a dynamic column) is parsed, anything else stays text.
func cellValue(c laCell) any {
	if c.JSON != nil {
		var v any
		if json.Unmarshal(c.JSON, &v) == nil {
			return v
		}
		return string(c.JSON)
	}
	t := strings.TrimSpace(c.Text)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		var v any
		if json.Unmarshal([]byte(t), &v) == nil {
			return v
		}
	}
	return c.Text
}

func convertCell(c laCell, k laKind) (any, error) {
	s := cellString(c)
	switch k {
	case laInt:
		if c.JSON != nil {
			var n json.Number
			if err := json.Unmarshal(c.JSON, &n); err == nil {
				s = n.String()
			}
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f != float64(int64(f)) {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return int64(f), nil
	case laBool:
		v := strings.ToLower(strings.TrimSpace(s))
		switch v { // the portal writes Yes/No
		case "yes":
			v = "true"
		case "no":
			v = "false"
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case laTime:
		return parseLATime(s)
	case laLocation:
		parts := strings.Split(s, ",")
		loc := map[string]any{}
		for i, k := range []string{"city", "state", "countryOrRegion"} {
			if i < len(parts) {
				if p := strings.TrimSpace(parts[i]); p != "" {
					loc[k] = p
				}
			}
		}
		return loc, nil
	case laCAStatus:
		switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "")) {
		case "success":
			return "success", nil
		case "failure":
			return "failure", nil
		case "notapplied":
			return "notApplied", nil
		}
		return s, nil
	case laDynamic:
		raw := []byte(s)
		if c.JSON != nil && c.JSON[0] != '"' {
			raw = c.JSON
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("dynamic value is not JSON: %v", err)
		}
		return v, nil
	}
	return s, nil
}

// setPath sets m[a][b]… = v for the path "a/b/…", making the objects on the way.
func setPath(m map[string]any, path string, v any) {
	for {
		head, rest, nested := strings.Cut(path, "/")
		if !nested {
			m[head] = v
			return
		}
		next, ok := m[head].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[head] = next
		}
		m, path = next, rest
	}
}

// parseLATime reads the time forms exports use: RFC 3339 / ISO 8601 (with or without zone,
// UTC then) and the portal's "M/D/YYYY, h:mm:ss.fff AM" (UTC).
func parseLATime(s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05.9999999",
		"1/2/2006, 3:04:05.000 PM", "1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	}
	return "", fmt.Errorf("%q is not a time (want ISO 8601 or M/D/YYYY, h:mm:ss.fff AM)", s)
}
