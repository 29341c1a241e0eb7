package gen

import (
	"strconv"
	"time"
)

// Pre-rendered members shared by many events. Everything that does not vary
// per event is rendered once so that the hot path is mostly copies.

var locationFrags, foreignLocationFrags [][]byte

func renderLocation(c city) []byte {
	b := append([]byte(nil), `"location":{"city":`...)
	b = appendStr(b, c.name)
	b = append(b, `,"state":`...)
	b = appendStr(b, c.state)
	b = append(b, `,"countryOrRegion":`...)
	b = appendStr(b, c.country)
	b = append(b, `,"geoCoordinates":{"altitude":null,"latitude":`...)
	b = strconv.AppendFloat(b, c.lat, 'f', -1, 64)
	b = append(b, `,"longitude":`...)
	b = strconv.AppendFloat(b, c.long, 'f', -1, 64)
	return append(b, `}}`...)
}

func init() {
	for _, c := range cities {
		locationFrags = append(locationFrags, renderLocation(c))
	}
	for _, c := range foreignCities {
		foreignLocationFrags = append(foreignLocationFrags, renderLocation(c))
	}
}

func renderDeviceDetail(d *device, browser string) []byte {
	b := append([]byte(nil), `"deviceDetail":{"deviceId":"`...)
	b = append(b, d.id...)
	b = append(b, `","displayName":`...)
	b = appendStr(b, d.displayName)
	b = append(b, `,"operatingSystem":`...)
	b = appendStr(b, osNames[d.os])
	b = append(b, `,"browser":`...)
	b = appendStr(b, browser)
	b = append(b, `,"browserId":"","isCompliant":`...)
	b = appendBool(b, d.compliant)
	b = append(b, `,"isManaged":`...)
	b = appendBool(b, d.managed)
	b = append(b, `,"trustType":`...)
	b = appendStr(b, d.trustType)
	return append(b, '}')
}

const emptyDeviceDetail = `"deviceDetail":{"deviceId":"","displayName":"","operatingSystem":"","browser":"","browserId":"","isCompliant":false,"isManaged":false,"trustType":""}`

// Authentication step tails: everything after the step timestamp.
const (
	stepPrefix   = `{"authenticationStepDateTime":"`
	stepPwFail   = `","authenticationMethod":"Password","authenticationMethodDetail":"Password in the cloud","succeeded":false,"authenticationStepResultDetail":"Invalid username or password or Invalid on-premise username or password.","authenticationStepRequirement":"Primary authentication"}`
	stepPwOK     = `","authenticationMethod":"Password","authenticationMethodDetail":"Password in the cloud","succeeded":true,"authenticationStepResultDetail":"Correct password","authenticationStepRequirement":"Primary authentication"}`
	stepFirstSSO = `","authenticationMethod":"Previously satisfied","authenticationMethodDetail":null,"succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication"}`
	stepMFASSO   = `","authenticationMethod":"Previously satisfied","authenticationMethodDetail":null,"succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","authenticationStepRequirement":"Multifactor authentication"}`
)

var stepMFADone, stepMFAFail []string

func init() {
	for _, m := range mfaMethods {
		done := append([]byte(`","authenticationMethod":`), appendStr(nil, m.detail)...)
		done = append(done, `,"authenticationMethodDetail":null,"succeeded":true,"authenticationStepResultDetail":"MFA successfully completed","authenticationStepRequirement":"Multifactor authentication"}`...)
		stepMFADone = append(stepMFADone, string(done))
		fail := append([]byte(`","authenticationMethod":`), appendStr(nil, m.detail)...)
		fail = append(fail, `,"authenticationMethodDetail":null,"succeeded":false,"authenticationStepResultDetail":"MFA denied; user did not complete the authentication","authenticationStepRequirement":"Multifactor authentication"}`...)
		stepMFAFail = append(stepMFAFail, string(fail))
	}
}

const (
	procInteractive = `"authenticationProcessingDetails":[{"key":"Login Hint Present","value":"True"},{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"}]`
	procSilent      = `"authenticationProcessingDetails":[{"key":"Is CAE Token","value":"True"},{"key":"Oauth Scope Info","value":"[\"offline_access\",\"openid\"]"}]`
	procWorkload    = `"authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"}]`
	trustedNetwork  = `"networkLocationDetails":[{"networkType":"trustedNamedLocation","networkNames":["Corporate network"]}]`
	mfaReqPolicies  = `"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}]`
	kmsiLifetime    = `"sessionLifetimePolicies":[{"expirationRequirement":"rememberMultifactorAuthenticationOnTrustedDevices","detail":"Remember MFA"}]`
	sifLifetime     = `"sessionLifetimePolicies":[{"expirationRequirement":"signInFrequencyPeriodicReauthentication","detail":"Sign-in frequency periodic reauthentication"}]`
	userMSI         = `"managedServiceIdentity":null`
	tail            = `,"appliedEventListeners":[],"authenticationAppDeviceDetails":null,"authenticationAppPolicyEvaluationDetails":[],"authenticationContextClassReferences":[],"privateLinkDetails":{"policyId":"","policyName":"","resourceId":"","policyTenantId":""},"agent":null}`
)

var mfaDetailFrags = func() [][]byte {
	names := []string{"PhoneAppNotification", "PhoneAppNotification", "OneWaySMS", "PhoneAppOTP", "Fido"}
	var out [][]byte
	for _, n := range names {
		out = append(out, []byte(`"mfaDetail":{"authMethod":"`+n+`","authDetail":null}`))
	}
	return out
}()

// clientAppFrags are the quoted clientAppUsed values.
var clientAppFrags = func() [][]byte {
	var out [][]byte
	for _, n := range clientAppNames {
		out = append(out, appendStr(nil, n))
	}
	return out
}()

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
