package identityprotection

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Event is the part of a Graph sign-in the detectors read. It is extracted with
// fastjson because detection jobs parse every interactive sign-in of a window.
type Event struct {
	ID, CorrelationID                string
	Time                             time.Time
	UserID, UPN, UserDisplayName     string
	IP                               string
	ASN                              int64
	ErrorCode                        int64
	City, State, Country             string
	Lat, Lon                         float64
	HasGeo                           bool
	DeviceID, OS, Browser, UserAgent string
	AppDisplayName                   string
	TokenIssuerType                  string
	Interactive                      bool
	MFASucceeded                     bool   // a Multifactor authentication step succeeded
	FraudReported                    bool   // an MFA step was denied and reported as fraud
	PasswordChanged                  bool   // a secure password change step succeeded
	PasswordReset                    bool   // a self-service password reset step succeeded
	RiskPolicy                       bool   // a risk-based policy required a factor
	RequirementProviders             string // comma-joined, for additionalInfo
	Trusted                          bool   // from a trusted named location or the intranet
}

var parserPool fastjson.ParserPool

// ParseEvent extracts an Event from one Graph JSON sign-in.
func ParseEvent(raw []byte) (*Event, error) {
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("sign-in JSON: %w", err)
	}
	e := &Event{
		ID:              string(v.GetStringBytes("id")),
		CorrelationID:   string(v.GetStringBytes("correlationId")),
		UserID:          string(v.GetStringBytes("userId")),
		UPN:             string(v.GetStringBytes("userPrincipalName")),
		UserDisplayName: string(v.GetStringBytes("userDisplayName")),
		IP:              string(v.GetStringBytes("ipAddress")),
		ASN:             v.GetInt64("autonomousSystemNumber"),
		ErrorCode:       v.GetInt64("status", "errorCode"),
		City:            string(v.GetStringBytes("location", "city")),
		State:           string(v.GetStringBytes("location", "state")),
		Country:         string(v.GetStringBytes("location", "countryOrRegion")),
		DeviceID:        string(v.GetStringBytes("deviceDetail", "deviceId")),
		OS:              string(v.GetStringBytes("deviceDetail", "operatingSystem")),
		Browser:         string(v.GetStringBytes("deviceDetail", "browser")),
		UserAgent:       string(v.GetStringBytes("userAgent")),
		AppDisplayName:  string(v.GetStringBytes("appDisplayName")),
		TokenIssuerType: string(v.GetStringBytes("tokenIssuerType")),
		Interactive:     v.GetBool("isInteractive"),
	}
	if e.ID == "" {
		return nil, fmt.Errorf("sign-in without id")
	}
	t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("createdDateTime")))
	if err != nil {
		return nil, fmt.Errorf("sign-in %s: createdDateTime: %w", e.ID, err)
	}
	e.Time = t.UTC()
	if g := v.Get("location", "geoCoordinates"); g != nil {
		lat, lon := g.Get("latitude"), g.Get("longitude")
		if lat != nil && lon != nil && lat.Type() == fastjson.TypeNumber && lon.Type() == fastjson.TypeNumber {
			e.Lat, e.Lon, e.HasGeo = lat.GetFloat64(), lon.GetFloat64(), true
		}
	}
	for _, s := range v.GetArray("signInEventTypes") {
		if string(s.GetStringBytes()) == "interactiveUser" {
			e.Interactive = true
		}
	}
	for _, st := range v.GetArray("authenticationDetails") {
		req := strings.ToLower(string(st.GetStringBytes("authenticationStepRequirement")))
		detail := strings.ToLower(string(st.GetStringBytes("authenticationStepResultDetail")))
		ok := st.GetBool("succeeded")
		switch {
		case strings.Contains(detail, "fraud") || strings.Contains(detail, "suspicious activity reported"):
			e.FraudReported = true
		case ok && strings.Contains(detail, "password reset"):
			e.PasswordReset = true
		case ok && strings.Contains(detail, "password change"):
			e.PasswordChanged = true
		case ok && strings.Contains(req, "multifactor"):
			e.MFASucceeded = true
		}
	}
	var provs []string
	for _, rp := range v.GetArray("authenticationRequirementPolicies") {
		p := string(rp.GetStringBytes("requirementProvider"))
		provs = append(provs, p)
		if p == "riskBasedPolicy" || p == "tenantSessionRiskPolicy" || p == "accountCompromisePolicies" {
			e.RiskPolicy = true
		}
	}
	e.RequirementProviders = strings.Join(provs, ",")
	for _, nl := range v.GetArray("networkLocationDetails") {
		switch string(nl.GetStringBytes("networkType")) {
		case "trustedNamedLocation", "trusted", "intranet":
			e.Trusted = true
		}
	}
	return e, nil
}

// Succeeded reports a sign-in that completed (status.errorCode 0).
func (e *Event) Succeeded() bool { return e.ErrorCode == 0 }

// credentialsValidated lists failure codes that STS only returns after the password was
// accepted (MFA, Conditional Access and device requirements come after primary
// authentication), so for password spray they count as a successful validation.
var credentialsValidated = map[int64]bool{
	0: true, 50074: true, 50076: true, 50079: true, 50072: true, 500121: true, 53003: true,
	53000: true, 53001: true, 530032: true, 50158: true, 50097: true, 50140: true,
}

// CredentialsValidated reports a sign-in whose password was accepted.
func (e *Event) CredentialsValidated() bool { return credentialsValidated[e.ErrorCode] }

// BrowserFamily drops the version from deviceDetail.browser ("Edge 131.0.0" → "Edge").
func (e *Event) BrowserFamily() string {
	b := e.Browser
	if i := strings.LastIndexByte(b, ' '); i > 0 {
		if c := b[i+1]; c >= '0' && c <= '9' {
			b = b[:i]
		}
	}
	return b
}

// IPRange is the /24 (IPv4) or /48 (IPv6) network of the sign-in's address, the unit
// both spray detection and IP familiarity work with.
func IPRange(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	bits := 24
	if a.Is6() && !a.Is4In6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// DeviceKey identifies the device for familiarity: the registered device id, or the
// operating system for unregistered devices.
func (e *Event) DeviceKey() string {
	if e.DeviceID != "" {
		return e.DeviceID
	}
	return "os:" + e.OS
}
