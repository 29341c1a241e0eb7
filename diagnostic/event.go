package diagnostic

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
)

// Event is the part of a Graph signIn row the scenarios look at. Rows arrive as Graph JSON
// from the query layer; decoding only these members keeps a diagnosis of 1,000 events cheap.
type Event struct {
	ID                        string    `json:"id"`
	CreatedDateTime           time.Time `json:"createdDateTime"`
	UserDisplayName           string    `json:"userDisplayName"`
	UserPrincipalName         string    `json:"userPrincipalName"`
	UserID                    string    `json:"userId"`
	AppID                     string    `json:"appId"`
	AppDisplayName            string    `json:"appDisplayName"`
	IPAddress                 string    `json:"ipAddress"`
	ClientAppUsed             string    `json:"clientAppUsed"`
	CorrelationID             string    `json:"correlationId"`
	OriginalRequestID         string    `json:"originalRequestId"`
	ConditionalAccessStatus   string    `json:"conditionalAccessStatus"`
	IsInteractive             bool      `json:"isInteractive"`
	ResourceDisplayName       string    `json:"resourceDisplayName"`
	UserType                  string    `json:"userType"`
	CrossTenantAccessType     string    `json:"crossTenantAccessType"`
	HomeTenantID              string    `json:"homeTenantId"`
	ResourceTenantID          string    `json:"resourceTenantId"`
	RiskState                 string    `json:"riskState"`
	RiskLevelDuringSignIn     string    `json:"riskLevelDuringSignIn"`
	FlaggedForReview          bool      `json:"flaggedForReview"`
	AuthenticationRequirement string    `json:"authenticationRequirement"`
	Status                    struct {
		ErrorCode         int    `json:"errorCode"`
		FailureReason     string `json:"failureReason"`
		AdditionalDetails string `json:"additionalDetails"`
	} `json:"status"`
	DeviceDetail struct {
		DeviceID        string `json:"deviceId"`
		DisplayName     string `json:"displayName"`
		OperatingSystem string `json:"operatingSystem"`
		Browser         string `json:"browser"`
	} `json:"deviceDetail"`
	Location struct {
		City            string `json:"city"`
		CountryOrRegion string `json:"countryOrRegion"`
	} `json:"location"`
	AppliedConditionalAccessPolicies  []Policy `json:"appliedConditionalAccessPolicies"`
	AuthenticationRequirementPolicies []struct {
		RequirementProvider string `json:"requirementProvider"`
		Detail              string `json:"detail"`
	} `json:"authenticationRequirementPolicies"`

	raw []byte // the Graph row, for caller-chosen summary columns
}

// Policy is one appliedConditionalAccessPolicy entry.
type Policy struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName"`
	EnforcedGrantControls []string `json:"enforcedGrantControls"`
	Result                string   `json:"result"`
}

// eventSelect is the $select of the events a diagnosis decodes: the members of Event.
// Selecting them, instead of all ~80 properties, is what keeps late materialization cheap:
// each selected column of each touched block is decompressed.
var eventSelect = []string{"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId", "appId",
	"appDisplayName", "ipAddress", "clientAppUsed", "correlationId", "originalRequestId", "conditionalAccessStatus",
	"isInteractive", "resourceDisplayName", "userType", "crossTenantAccessType", "homeTenantId", "resourceTenantId",
	"riskState", "riskLevelDuringSignIn", "flaggedForReview", "authenticationRequirement", "status", "deviceDetail",
	"location", "appliedConditionalAccessPolicies", "authenticationRequirementPolicies"}

// withColumns adds the top-level properties of summary columns to sel.
func withColumns(sel, cols []string) []string {
	out := append([]string(nil), sel...)
	for _, c := range cols {
		top, _, _ := strings.Cut(c, "/")
		if !containsFold(out, top) {
			out = append(out, top)
		}
	}
	return out
}

// fillEvent maps a sign-in's properties onto Event, typed from a page's columns or from JSON.
func fillEvent(src columnar.Props) (Event, error) {
	var e Event
	var err error
	if e.CreatedDateTime, err = src.Time("createdDateTime"); err != nil {
		return e, fmt.Errorf("decoding a sign-in row: %w", err)
	}
	e.ID = src.Str("id")
	e.UserDisplayName, e.UserPrincipalName, e.UserID = src.Str("userDisplayName"), src.Str("userPrincipalName"), src.Str("userId")
	e.AppID, e.AppDisplayName, e.IPAddress = src.Str("appId"), src.Str("appDisplayName"), src.Str("ipAddress")
	e.ClientAppUsed, e.CorrelationID, e.OriginalRequestID = src.Str("clientAppUsed"), src.Str("correlationId"), src.Str("originalRequestId")
	e.ConditionalAccessStatus, e.IsInteractive = src.Str("conditionalAccessStatus"), src.Bool("isInteractive")
	e.ResourceDisplayName, e.UserType, e.CrossTenantAccessType = src.Str("resourceDisplayName"), src.Str("userType"), src.Str("crossTenantAccessType")
	e.HomeTenantID, e.ResourceTenantID = src.Str("homeTenantId"), src.Str("resourceTenantId")
	e.RiskState, e.RiskLevelDuringSignIn = src.Str("riskState"), src.Str("riskLevelDuringSignIn")
	e.FlaggedForReview, e.AuthenticationRequirement = src.Bool("flaggedForReview"), src.Str("authenticationRequirement")
	e.Status.ErrorCode = int(src.Int("status/errorCode"))
	e.Status.FailureReason, e.Status.AdditionalDetails = src.Str("status/failureReason"), src.Str("status/additionalDetails")
	e.DeviceDetail.DeviceID, e.DeviceDetail.DisplayName = src.Str("deviceDetail/deviceId"), src.Str("deviceDetail/displayName")
	e.DeviceDetail.OperatingSystem, e.DeviceDetail.Browser = src.Str("deviceDetail/operatingSystem"), src.Str("deviceDetail/browser")
	e.Location.City, e.Location.CountryOrRegion = src.Str("location/city"), src.Str("location/countryOrRegion")
	str := func(v *fastjson.Value, key string) string { return string(v.GetStringBytes(key)) }
	for _, p := range src.Items("appliedConditionalAccessPolicies") {
		pol := Policy{ID: str(p, "id"), DisplayName: str(p, "displayName"), Result: str(p, "result")}
		for _, g := range p.GetArray("enforcedGrantControls") {
			pol.EnforcedGrantControls = append(pol.EnforcedGrantControls, string(g.GetStringBytes()))
		}
		e.AppliedConditionalAccessPolicies = append(e.AppliedConditionalAccessPolicies, pol)
	}
	for _, p := range src.Items("authenticationRequirementPolicies") {
		e.AuthenticationRequirementPolicies = append(e.AuthenticationRequirementPolicies,
			struct {
				RequirementProvider string `json:"requirementProvider"`
				Detail              string `json:"detail"`
			}{str(p, "requirementProvider"), str(p, "detail")})
	}
	return e, nil
}

// decodeEvent reads a Graph JSON row, keeping it for the summary's caller-chosen columns.
func decodeEvent(row []byte) (Event, error) {
	v, err := fastjson.ParseBytes(row)
	if err != nil {
		return Event{}, fmt.Errorf("decoding a sign-in row: %w", err)
	}
	e, err := fillEvent(columnar.JSONProps{V: v})
	e.raw = row
	return e, err
}

// external reports a guest or cross-tenant (B2B) sign-in.
func (e *Event) external() bool {
	if strings.EqualFold(e.UserType, "guest") {
		return true
	}
	switch e.CrossTenantAccessType {
	case "b2bCollaboration", "b2bDirectConnect":
		return true
	}
	return e.HomeTenantID != "" && e.ResourceTenantID != "" && !strings.EqualFold(e.HomeTenantID, e.ResourceTenantID)
}

// client names the device and browser a sign-in came from, as flagging sees them.
func (e *Event) client() string {
	dev := e.DeviceDetail.DisplayName
	if dev == "" {
		dev = e.DeviceDetail.DeviceID
	}
	if dev == "" {
		dev = "unregistered device"
	}
	if e.DeviceDetail.Browser != "" {
		return dev + " / " + e.DeviceDetail.Browser
	}
	return dev
}

// user names the signed-in user for messages.
func (e *Event) user() string {
	if e.UserPrincipalName != "" {
		return e.UserPrincipalName
	}
	if e.UserDisplayName != "" {
		return e.UserDisplayName
	}
	return e.UserID
}

func (e *Event) app() string {
	if e.AppDisplayName != "" {
		return e.AppDisplayName
	}
	return e.AppID
}

// object decodes the whole Graph row, for the authentication summary's caller-chosen
// columns (only the summary page's rows pay for it).
func (e *Event) object() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(e.raw, &m); err != nil {
		return nil
	}
	return m
}

// columnValue returns a top-level property or a slash path (status/errorCode) of a row as
// display text.
func columnValue(m map[string]any, path string) string {
	var v any = m
	for _, part := range strings.Split(path, "/") {
		o, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = lookupFold(o, part)
	}
	return display(v)
}

// lookupFold matches a property name case-insensitively, as Graph does.
func lookupFold(m map[string]any, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v
		}
	}
	return nil
}

func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
