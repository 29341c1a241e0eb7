package main

import (
	"fmt"
	"strings"
)

// tableName is the one table the peer loads sign-ins into.
const tableName = "signins"

// column is one top-level property of the Graph beta signIn resource and the DuckDB type it is
// loaded as. read_ndjson gets exactly these columns, so nothing is sniffed: a sample-based guess
// would type a column from whatever the first rows happen to hold (null, [] or {}).
type column struct {
	Name string
	Type string
}

// Reusable nested types (reference/graph-signin-api.md §1.2).
const (
	tRuleSatisfied = "STRUCT(conditionalAccessCondition VARCHAR, ruleSatisfied VARCHAR)"
	tCAPolicy      = "STRUCT(" +
		"id VARCHAR, displayName VARCHAR, enforcedGrantControls VARCHAR[], enforcedSessionControls VARCHAR[], " +
		"result VARCHAR, conditionsSatisfied VARCHAR, conditionsNotSatisfied VARCHAR, " +
		"includeRulesSatisfied " + tRuleSatisfied + "[], excludeRulesSatisfied " + tRuleSatisfied + "[], " +
		"authenticationStrength STRUCT(authenticationStrengthId VARCHAR, displayName VARCHAR, authenticationStrengthResult VARCHAR), " +
		"sessionControlsNotSatisfied VARCHAR[])"
	tAuthDetail = "STRUCT(authenticationStepDateTime TIMESTAMPTZ, authenticationMethod VARCHAR, " +
		"authenticationMethodDetail VARCHAR, succeeded BOOLEAN, authenticationStepResultDetail VARCHAR, " +
		"authenticationStepRequirement VARCHAR)"
)

// signInColumns lists every top-level property of the beta signIn resource (§1.1), in Graph's
// order, with its DuckDB type. Choices:
//   - id is UUID (16 bytes, always a server-issued GUID, the ORDER BY tie-breaker; UUID order in
//     DuckDB equals the order of the lower-case text form). Other GUID-like properties stay
//     VARCHAR because Graph emits "" for them in some rows (originalRequestId, clientSessionId,
//     servicePrincipalId, …) and correlationId is client-supplied; a single non-GUID value would
//     otherwise abort the whole load.
//   - createdDateTime is TIMESTAMPTZ: DuckDB's cast to plain TIMESTAMP silently drops a UTC
//     offset ("…T02:00:00+02:00" would load as 02:00), the TIMESTAMPTZ cast honours it. Sessions
//     run with TimeZone=UTC. Graph's 7-digit fractions are truncated to microseconds.
//   - enums stay VARCHAR: DuckDB dictionary-compresses them on disk, and an ENUM type would reject
//     the evolvable values Graph adds after unknownFutureValue.
var signInColumns = []column{
	{"id", "UUID"},
	{"createdDateTime", "TIMESTAMPTZ"},
	{"userDisplayName", "VARCHAR"},
	{"userPrincipalName", "VARCHAR"},
	{"userId", "VARCHAR"},
	{"appId", "VARCHAR"},
	{"appDisplayName", "VARCHAR"},
	{"ipAddress", "VARCHAR"},
	{"ipAddressFromResourceProvider", "VARCHAR"},
	{"clientAppUsed", "VARCHAR"},
	{"userAgent", "VARCHAR"},
	{"correlationId", "VARCHAR"},
	{"conditionalAccessStatus", "VARCHAR"},
	{"originalRequestId", "VARCHAR"},
	{"isInteractive", "BOOLEAN"},
	{"tokenIssuerName", "VARCHAR"},
	{"tokenIssuerType", "VARCHAR"},
	{"clientCredentialType", "VARCHAR"},
	{"processingTimeInMilliseconds", "INTEGER"},
	{"riskDetail", "VARCHAR"},
	{"riskLevelAggregated", "VARCHAR"},
	{"riskLevelDuringSignIn", "VARCHAR"},
	{"riskState", "VARCHAR"},
	{"riskEventTypes", "VARCHAR[]"},
	{"riskEventTypes_v2", "VARCHAR[]"},
	{"resourceDisplayName", "VARCHAR"},
	{"resourceId", "VARCHAR"},
	{"resourceServicePrincipalId", "VARCHAR"},
	{"resourceTenantId", "VARCHAR"},
	{"homeTenantId", "VARCHAR"},
	{"homeTenantName", "VARCHAR"},
	{"appOwnerTenantId", "VARCHAR"},
	{"resourceOwnerTenantId", "VARCHAR"},
	{"authenticationMethodsUsed", "VARCHAR[]"},
	{"authenticationRequirement", "VARCHAR"},
	{"authenticationProtocol", "VARCHAR"},
	{"incomingTokenType", "VARCHAR"},
	{"signInIdentifier", "VARCHAR"},
	{"signInIdentifierType", "VARCHAR"},
	{"signInEventTypes", "VARCHAR[]"},
	{"servicePrincipalId", "VARCHAR"},
	{"servicePrincipalName", "VARCHAR"},
	{"servicePrincipalCredentialKeyId", "VARCHAR"},
	{"servicePrincipalCredentialThumbprint", "VARCHAR"},
	{"federatedCredentialId", "VARCHAR"},
	{"azureResourceId", "VARCHAR"},
	{"userType", "VARCHAR"},
	{"flaggedForReview", "BOOLEAN"},
	{"isTenantRestricted", "BOOLEAN"},
	{"isThroughGlobalSecureAccess", "BOOLEAN"},
	{"globalSecureAccessIpAddress", "VARCHAR"},
	{"autonomousSystemNumber", "INTEGER"},
	{"crossTenantAccessType", "VARCHAR"},
	{"uniqueTokenIdentifier", "VARCHAR"},
	{"sessionId", "VARCHAR"},
	{"clientSessionId", "VARCHAR"},
	{"appTokenProtectionStatus", "VARCHAR"},
	{"signInTokenProtectionStatus", "VARCHAR"},
	{"originalTransferMethod", "VARCHAR"},
	{"alternateSignInName", "VARCHAR"},
	{"status", "STRUCT(errorCode INTEGER, failureReason VARCHAR, additionalDetails VARCHAR)"},
	{"deviceDetail", "STRUCT(deviceId VARCHAR, displayName VARCHAR, operatingSystem VARCHAR, browser VARCHAR, " +
		"isCompliant BOOLEAN, isManaged BOOLEAN, trustType VARCHAR, browserId VARCHAR)"},
	{"location", "STRUCT(city VARCHAR, state VARCHAR, countryOrRegion VARCHAR, " +
		"geoCoordinates STRUCT(altitude DOUBLE, latitude DOUBLE, longitude DOUBLE))"},
	{"agent", "STRUCT(agentType VARCHAR, agentSubjectType VARCHAR, agentSubjectParentId VARCHAR, parentAppId VARCHAR)"},
	{"appliedConditionalAccessPolicies", tCAPolicy + "[]"},
	// The CSDL types this as String[]; some SDKs model it as a complex type. A JSON object in
	// this position would be kept as its JSON text.
	{"conditionalAccessAudiences", "VARCHAR[]"},
	{"authenticationDetails", tAuthDetail + "[]"},
	{"authenticationProcessingDetails", "STRUCT(key VARCHAR, value VARCHAR)[]"},
	{"authenticationRequirementPolicies", "STRUCT(requirementProvider VARCHAR, detail VARCHAR)[]"},
	{"authenticationContextClassReferences", "STRUCT(id VARCHAR, detail VARCHAR)[]"},
	{"authenticationAppDeviceDetails", "STRUCT(appVersion VARCHAR, clientApp VARCHAR, deviceId VARCHAR, operatingSystem VARCHAR)"},
	{"authenticationAppPolicyEvaluationDetails", "STRUCT(policyName VARCHAR, adminConfiguration VARCHAR, " +
		"authenticationEvaluation VARCHAR, status VARCHAR)[]"},
	// handlerResult is an open complex type (one shape per listener kind): kept as JSON.
	{"appliedEventListeners", "STRUCT(eventType VARCHAR, executedListenerId VARCHAR, handlerResult JSON)[]"},
	{"networkLocationDetails", "STRUCT(networkType VARCHAR, networkNames VARCHAR[])[]"},
	{"sessionLifetimePolicies", "STRUCT(expirationRequirement VARCHAR, detail VARCHAR)[]"},
	{"managedServiceIdentity", "STRUCT(msiType VARCHAR, associatedResourceId VARCHAR, federatedTokenId VARCHAR, federatedTokenIssuer VARCHAR)"},
	{"privateLinkDetails", "STRUCT(policyId VARCHAR, policyName VARCHAR, policyTenantId VARCHAR, resourceId VARCHAR)"},
	{"tokenProtectionStatusDetails", "STRUCT(signInSessionStatus VARCHAR, signInSessionStatusCode INTEGER)"},
	{"mfaDetail", "STRUCT(authMethod VARCHAR, authDetail VARCHAR)"},
}

// createTableSQL is the DDL for the sign-in table.
func createTableSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", tableName)
	for i, c := range signInColumns {
		sep := ","
		if i == len(signInColumns)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s %s%s\n", quoteIdent(c.Name), c.Type, sep)
	}
	b.WriteString(")")
	return b.String()
}

// columnsArg is the columns={…} argument of read_ndjson.
func columnsArg() string {
	var b strings.Builder
	b.WriteString("{")
	for i, c := range signInColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", quoteString(c.Name), quoteString(c.Type))
	}
	b.WriteString("}")
	return b.String()
}

// insertSQL appends the given NDJSON files to the table. Explicit columns plus records=true mean
// DuckDB neither samples nor guesses; keys not listed are ignored, missing keys load as NULL.
// The JSON reader is the one format DuckDB parses in parallel per file, and insertion order is
// preserved (the generator writes events oldest first, which keeps createdDateTime zone maps
// tight for both engines).
func insertSQL(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	names := make([]string, len(signInColumns))
	for i, c := range signInColumns {
		names[i] = quoteIdent(c.Name)
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s FROM read_ndjson([%s],\n  columns = %s,\n  format = 'newline_delimited', records = true)",
		tableName, strings.Join(names, ", "), strings.Join(names, ", "), strings.Join(quoted, ", "), columnsArg())
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
