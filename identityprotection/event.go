package identityprotection

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
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
	return eventFrom(columnar.JSONProps{V: v})
}

// eventFrom maps a sign-in's properties onto Event, typed from a page's columns (detection
// jobs read every interactive sign-in of a window) or from JSON.
func eventFrom(v columnar.Props) (*Event, error) {
	e := &Event{
		ID:              v.Str("id"),
		CorrelationID:   v.Str("correlationId"),
		UserID:          v.Str("userId"),
		UPN:             v.Str("userPrincipalName"),
		UserDisplayName: v.Str("userDisplayName"),
		IP:              v.Str("ipAddress"),
		ASN:             v.Int("autonomousSystemNumber"),
		ErrorCode:       v.Int("status/errorCode"),
		City:            v.Str("location/city"),
		State:           v.Str("location/state"),
		Country:         v.Str("location/countryOrRegion"),
		DeviceID:        v.Str("deviceDetail/deviceId"),
		OS:              v.Str("deviceDetail/operatingSystem"),
		Browser:         v.Str("deviceDetail/browser"),
		UserAgent:       v.Str("userAgent"),
		AppDisplayName:  v.Str("appDisplayName"),
		TokenIssuerType: v.Str("tokenIssuerType"),
		Interactive:     v.Bool("isInteractive"),
	}
	if e.ID == "" {
		return nil, fmt.Errorf("sign-in without id")
	}
	t, err := v.Time("createdDateTime")
	if err == nil && t.IsZero() {
		err = fmt.Errorf("missing")
	}
	if err != nil {
		return nil, fmt.Errorf("sign-in %s: createdDateTime: %w", e.ID, err)
	}
	e.Time = t.UTC()
	lat, okLat := v.Float("location/geoCoordinates/latitude")
	lon, okLon := v.Float("location/geoCoordinates/longitude")
	if okLat && okLon {
		e.Lat, e.Lon, e.HasGeo = lat, lon, true
	}
	for _, s := range v.Items("signInEventTypes") {
		if string(s.GetStringBytes()) == "interactiveUser" {
			e.Interactive = true
		}
	}
	for _, st := range v.Items("authenticationDetails") {
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
	for _, rp := range v.Items("authenticationRequirementPolicies") {
		p := string(rp.GetStringBytes("requirementProvider"))
		provs = append(provs, p)
		if p == "riskBasedPolicy" || p == "tenantSessionRiskPolicy" || p == "accountCompromisePolicies" {
			e.RiskPolicy = true
		}
	}
	e.RequirementProviders = strings.Join(provs, ",")
	for _, nl := range v.Items("networkLocationDetails") {
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
