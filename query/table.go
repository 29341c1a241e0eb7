package query

import (
	"github.com/authlake/authlake/columnar"
)

// tableInfo is what the binder needs to know about a table beyond its schema: which
// string columns hold enum members (compared case-insensitively, as Graph does with
// `RiskState eq 'AtRisk'`), which other columns compare case-insensitively, and which
// JSON collections hold enum-like strings.
type tableInfo struct {
	enums     map[string]string // column name → enum type name
	fold      map[string]bool   // non-enum columns with case-insensitive eq/ne/in
	enumColls map[string]bool   // collections whose elements are enum members
}

var signInInfo = &tableInfo{
	enums: map[string]string{
		"conditionalAccessStatus": "conditionalAccessStatus", "riskDetail": "riskDetail",
		"riskLevelAggregated": "riskLevel", "riskLevelDuringSignIn": "riskLevel", "riskState": "riskState",
		"tokenIssuerType": "tokenIssuerType", "clientCredentialType": "clientCredentialType",
		"authenticationProtocol": "protocolType", "incomingTokenType": "incomingTokenType",
		"signInIdentifierType": "signInIdentifierType", "userType": "signInUserType",
		"crossTenantAccessType": "signInAccessType", "appTokenProtectionStatus": "tokenProtectionStatus",
		"signInTokenProtectionStatus": "tokenProtectionStatus", "originalTransferMethod": "originalTransferMethods",
		"agent/agentType": "agentType", "agent/agentSubjectType": "agentType",
	},
	// Graph stores UPNs lower-case and matches them case-insensitively.
	fold:      map[string]bool{"userPrincipalName": true},
	enumColls: map[string]bool{"signInEventTypes": true, "riskEventTypes": true},
}

var emptyInfo = &tableInfo{}

func infoFor(s *columnar.Schema) *tableInfo {
	if s == columnar.SignIns {
		return signInInfo
	}
	return emptyInfo
}

func (ti *tableInfo) foldColumn(c *columnar.Column) bool {
	if _, ok := ti.enums[c.Name]; ok {
		return true
	}
	return ti.fold[c.Name]
}
