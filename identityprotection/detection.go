package identityprotection

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Location is Graph's signInLocation as it appears in a riskDetection.
type Location struct {
	City            string `json:"city"`
	State           string `json:"state"`
	CountryOrRegion string `json:"countryOrRegion"`
	GeoCoordinates  *GeoXY `json:"geoCoordinates"`
}

// GeoXY is geoCoordinates without altitude (Graph leaves it out of detections).
type GeoXY struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// Detection is one riskDetection, in Graph's property order. Its id is a content hash
// (see detectionID) so that a job re-run over the same events finds the same ids.
type Detection struct {
	ID                  string    `json:"id"`
	RequestID           *string   `json:"requestId"`
	CorrelationID       *string   `json:"correlationId"`
	RiskEventType       string    `json:"riskEventType"`
	RiskState           string    `json:"riskState"`
	RiskLevel           string    `json:"riskLevel"`
	RiskDetail          string    `json:"riskDetail"`
	Source              string    `json:"source"`
	DetectionTimingType string    `json:"detectionTimingType"`
	Activity            string    `json:"activity"`
	TokenIssuerType     string    `json:"tokenIssuerType"`
	IPAddress           string    `json:"ipAddress"`
	Location            *Location `json:"location"`
	ActivityDateTime    time.Time `json:"activityDateTime"`
	DetectedDateTime    time.Time `json:"detectedDateTime"`
	LastUpdatedDateTime time.Time `json:"lastUpdatedDateTime"`
	UserID              string    `json:"userId"`
	UserDisplayName     string    `json:"userDisplayName"`
	UserPrincipalName   string    `json:"userPrincipalName"`
	AdditionalInfo      string    `json:"additionalInfo"`
}

// Active reports a detection that still contributes to user risk.
func (d *Detection) Active() bool {
	return d.RiskState == StateAtRisk || d.RiskState == StateConfirmedCompromised
}

// kv is one {"Key","Value"} pair of additionalInfo (Graph capitalises these).
type kv struct {
	Key   string `json:"Key"`
	Value any    `json:"Value"`
}

func additionalInfo(pairs ...kv) string {
	b, _ := json.Marshal(pairs)
	return string(b)
}

// detectionID hashes what makes a detection unique: the tenant, the type and the
// sign-in (or, for user detections, the user and a type-specific key).
func detectionID(tenant, typ, key string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + typ + "\x00" + key))
	return hex.EncodeToString(h[:])
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// signinDetection fills the sign-in-linked fields of a detection from e.
func signinDetection(tenant, typ, level, timing string, e *Event, detected time.Time, info ...kv) Detection {
	d := Detection{
		ID:                  detectionID(tenant, typ, e.ID),
		RequestID:           strp(e.ID),
		CorrelationID:       strp(e.CorrelationID),
		RiskEventType:       typ,
		RiskState:           StateAtRisk,
		RiskLevel:           level,
		RiskDetail:          DetailNone,
		Source:              "IdentityProtection",
		DetectionTimingType: timing,
		Activity:            ActivitySignin,
		TokenIssuerType:     e.TokenIssuerType,
		IPAddress:           e.IP,
		Location:            &Location{City: e.City, State: e.State, CountryOrRegion: e.Country},
		ActivityDateTime:    e.Time,
		DetectedDateTime:    detected,
		LastUpdatedDateTime: detected,
		UserID:              e.UserID,
		UserDisplayName:     e.UserDisplayName,
		UserPrincipalName:   e.UPN,
	}
	if d.TokenIssuerType == "" {
		d.TokenIssuerType = "AzureAD"
	}
	if e.HasGeo {
		d.Location.GeoCoordinates = &GeoXY{e.Lat, e.Lon}
	}
	info = append([]kv{{"userAgent", e.UserAgent}}, info...)
	d.AdditionalInfo = additionalInfo(info...)
	return d
}
