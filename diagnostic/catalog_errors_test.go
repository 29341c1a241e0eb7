package diagnostic

import (
	"strings"
	"testing"
)

// TestCatalogNamesMatchReference pins the error names that were wrong or shared between two
// codes before they were checked against Microsoft's AADSTS reference (reference-error-codes in
// the entra-docs repository): one name per code.
func TestCatalogNamesMatchReference(t *testing.T) {
	for code, name := range map[int]string{
		50132:  "SsoArtifactInvalidOrExpired:",
		50133:  "SsoArtifactRevoked:",
		500212: "NotAllowedByOutboundPolicyTenant:",
		500213: "NotAllowedByInboundPolicyTenant:",
		80001:  "OnPremiseStoreIsNotAvailable:",
		80007:  "OnPremisePasswordValidatorErrorOccurredOnPrem:",
		90072:  "PassThroughUserMfaError: the external account",
		50126:  "InvalidUserNameOrPassword",
		53003:  "BlockedByConditionalAccess",
	} {
		e, ok := errorCatalog[code]
		if !ok || !strings.HasPrefix(e.Meaning, name) || e.Code != code {
			t.Errorf("AADSTS%d: %q, want it to start with %q", code, e.Meaning, name)
		}
	}
}
