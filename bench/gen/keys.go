package gen

// BetaKeys lists every top-level property the generator emits, in output
// order: the current Graph beta signIn schema minus the legacy
// riskEventTypes and the cloud-specific alternateSignInName. Every event
// carries all of them; inapplicable ones are null, "" or [].
var BetaKeys = []string{
	"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId", "appId", "appDisplayName",
	"ipAddress", "ipAddressFromResourceProvider", "clientAppUsed", "userAgent", "correlationId",
	"conditionalAccessStatus", "originalRequestId", "isInteractive", "tokenIssuerName", "tokenIssuerType",
	"clientCredentialType", "processingTimeInMilliseconds", "riskDetail", "riskLevelAggregated",
	"riskLevelDuringSignIn", "riskState", "riskEventTypes_v2", "resourceDisplayName", "resourceId",
	"resourceServicePrincipalId", "resourceTenantId", "resourceOwnerTenantId", "appOwnerTenantId",
	"homeTenantId", "homeTenantName", "userType", "crossTenantAccessType", "authenticationMethodsUsed",
	"authenticationRequirement", "authenticationProtocol", "incomingTokenType", "originalTransferMethod",
	"signInIdentifier", "signInIdentifierType", "signInEventTypes", "servicePrincipalId",
	"servicePrincipalName", "federatedCredentialId", "servicePrincipalCredentialKeyId",
	"servicePrincipalCredentialThumbprint", "azureResourceId", "managedServiceIdentity", "flaggedForReview",
	"isTenantRestricted", "isThroughGlobalSecureAccess", "globalSecureAccessIpAddress",
	"autonomousSystemNumber", "uniqueTokenIdentifier", "sessionId", "clientSessionId",
	"appTokenProtectionStatus", "signInTokenProtectionStatus", "tokenProtectionStatusDetails", "mfaDetail",
	"status", "deviceDetail", "location", "appliedConditionalAccessPolicies",
	"authenticationProcessingDetails", "networkLocationDetails", "authenticationDetails",
	"authenticationRequirementPolicies", "sessionLifetimePolicies", "conditionalAccessAudiences",
	"appliedEventListeners", "authenticationAppDeviceDetails", "authenticationAppPolicyEvaluationDetails",
	"authenticationContextClassReferences", "privateLinkDetails", "agent",
}
