package gen

// render appends the JSON object for p. Key order is fixed; every beta
// property is present, with null, "" or [] where Graph leaves it empty.
func (g *Generator) render(dst []byte, p *pending) []byte {
	u := p.u
	w := p.wl
	o := &outcomes[p.outcome]
	success := o.code == 0

	flagged := false
	if u != nil {
		flagged = g.flagged(u, p)
	}

	// Ground truth.
	g.stats.byKind[p.kind]++
	g.stats.byOutcome[p.outcome]++
	if flagged {
		g.stats.flagged++
		if !success {
			g.stats.flaggedFail++
		}
	}
	if p.cross != crossNone {
		g.stats.cross++
		if p.cross == crossPassthrough {
			g.stats.passthrough++
		}
	}
	if p.risk != 0 {
		g.stats.risky++
	}

	dst = append(dst, `{"id":"`...)
	dst = appendGUID(dst, p.id)
	dst = append(dst, `","createdDateTime":"`...)
	dst = g.tf.appendTime(dst, p.t)
	dst = append(dst, `",`...)
	if u != nil {
		dst = append(dst, u.frag...)
		dst = append(dst, ',')
		dst = append(dst, g.appFrag[p.app]...)
	} else {
		dst = append(dst, `"userDisplayName":"","userPrincipalName":"","userId":"","appId":"`...)
		dst = append(dst, w.appID...)
		dst = append(dst, `","appDisplayName":`...)
		dst = appendStr(dst, w.name)
	}
	dst = append(dst, `,"ipAddress":"`...)
	dst = append(dst, p.ip.s...)
	dst = append(dst, `","ipAddressFromResourceProvider":null,"clientAppUsed":`...)
	var dev *device
	if u != nil {
		dev = &u.devices[p.dev]
		dst = append(dst, clientAppFrags[p.client]...)
		switch p.client {
		case clientBrowser:
			dst = append(dst, dev.uaFrag...)
		case clientRich:
			dst = append(dst, dev.richUAFrag...)
		case clientEAS:
			dst = append(dst, `,"userAgent":"Apple-iPhone15C3/2201.212"`...)
		default:
			dst = append(dst, `,"userAgent":""`...)
		}
	} else {
		dst = append(dst, `"","userAgent":""`...)
	}
	dst = append(dst, `,"correlationId":"`...)
	dst = appendGUID(dst, p.corr)

	// Conditional Access is evaluated here so that the status member and the
	// policy list below agree.
	caStatus := "notApplied"
	var results [numPolicyKinds]policyResult
	if u != nil {
		anySuccess, anyFailure := false, false
		for i, pol := range g.policies {
			res := p.ca.evaluate(pol.kind)
			results[i] = res
			if !policyTemplates[pol.kind].reportOnly {
				anySuccess = anySuccess || res == resSuccess
				anyFailure = anyFailure || res == resFailure
			}
		}
		if anyFailure {
			caStatus = "failure"
		} else if anySuccess {
			caStatus = "success"
		}
	}
	dst = append(dst, `","conditionalAccessStatus":"`...)
	dst = append(dst, caStatus...)
	dst = append(dst, `","originalRequestId":"`...)
	dst = appendGUID(dst, p.orig)
	dst = append(dst, `","isInteractive":`...)
	dst = appendBool(dst, p.kind == kindInteractive)
	dst = append(dst, `,"tokenIssuerName":"","tokenIssuerType":"AzureAD","clientCredentialType":`...)
	if w != nil {
		dst = appendStr(dst, w.credType)
	} else {
		dst = append(dst, `"none"`...)
	}
	dst = append(dst, `,"processingTimeInMilliseconds":`...)
	dst = appendInt(dst, int64(p.procMs))

	if p.risk == 0 {
		dst = append(dst, `,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes_v2":[]`...)
	} else {
		lvl := [4]string{"", "low", "medium", "high"}[p.risk]
		dst = append(dst, `,"riskDetail":"none","riskLevelAggregated":"`...)
		dst = append(dst, lvl...)
		dst = append(dst, `","riskLevelDuringSignIn":"`...)
		dst = append(dst, lvl...)
		dst = append(dst, `","riskState":"atRisk","riskEventTypes_v2":["`...)
		dst = append(dst, riskTypes[p.riskType]...)
		dst = append(dst, `"]`...)
	}

	dst = append(dst, ',')
	dst = append(dst, g.resFrag[p.res]...)
	dst = append(dst, ',')
	if p.cross == crossPassthrough {
		dst = append(dst, `"resourceTenantId":"`...)
		dst = append(dst, g.passTenant...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, g.tenantFrag...)
	}
	dst = append(dst, `,"resourceOwnerTenantId":"`+microsoftTenant+`","appOwnerTenantId":"`...)
	if u != nil {
		dst = append(dst, g.appOwner[p.app]...)
	} else {
		dst = append(dst, g.cfg.Tenant...)
	}
	dst = append(dst, `","homeTenantId":`...)
	switch {
	case u == nil:
		dst = append(dst, `"","homeTenantName":"","userType":null,"crossTenantAccessType":"none"`...)
	case p.cross == crossB2B:
		dst = append(dst, '"')
		dst = append(dst, u.homeTenant...)
		dst = append(dst, `","homeTenantName":"","userType":"guest","crossTenantAccessType":"b2bCollaboration"`...)
	case p.cross == crossPassthrough:
		dst = append(dst, '"')
		dst = append(dst, u.homeTenant...)
		dst = append(dst, `","homeTenantName":"","userType":"member","crossTenantAccessType":"passthrough"`...)
	default:
		dst = append(dst, '"')
		dst = append(dst, u.homeTenant...)
		dst = append(dst, `","homeTenantName":"","userType":"member","crossTenantAccessType":"none"`...)
	}

	// Authentication summary.
	var mfa = 0
	if u != nil {
		mfa = int(u.mfa)
	}
	dst = append(dst, `,"authenticationMethodsUsed":`...)
	switch p.auth {
	case apPwFail, apPwOK, apPwOKMFAPending, apMFAFail:
		dst = append(dst, `["Password"]`...)
	case apMFADone:
		dst = append(dst, `["Password","`...)
		dst = append(dst, mfaMethods[mfa].used...)
		dst = append(dst, `"]`...)
	default:
		dst = append(dst, `[]`...)
	}
	if p.mfaReq {
		dst = append(dst, `,"authenticationRequirement":"multiFactorAuthentication"`...)
	} else {
		dst = append(dst, `,"authenticationRequirement":"singleFactorAuthentication"`...)
	}
	if p.proto == 1 {
		dst = append(dst, `,"authenticationProtocol":"deviceCode","incomingTokenType":"none","originalTransferMethod":"deviceCodeFlow"`...)
	} else if p.kind == kindNonInteractive && dev.trustType != "" && dev.os == osWindows {
		dst = append(dst, `,"authenticationProtocol":"none","incomingTokenType":"primaryRefreshToken","originalTransferMethod":"none"`...)
	} else {
		dst = append(dst, `,"authenticationProtocol":"none","incomingTokenType":"none","originalTransferMethod":"none"`...)
	}
	dst = append(dst, `,"signInIdentifier":`...)
	if u != nil && p.kind == kindInteractive {
		dst = appendStr(dst, u.upn)
		dst = append(dst, `,"signInIdentifierType":"userPrincipalName"`...)
	} else {
		dst = append(dst, `"","signInIdentifierType":null`...)
	}
	dst = append(dst, `,"signInEventTypes":["`...)
	dst = append(dst, kindNames[p.kind]...)
	dst = append(dst, `"]`...)

	// Workload identity members.
	if w != nil {
		dst = append(dst, `,"servicePrincipalId":"`...)
		dst = append(dst, w.spID...)
		dst = append(dst, `","servicePrincipalName":`...)
		dst = appendStr(dst, w.name)
		dst = append(dst, `,"federatedCredentialId":"`...)
		dst = append(dst, w.ficID...)
		dst = append(dst, `","servicePrincipalCredentialKeyId":"`...)
		dst = append(dst, w.keyID...)
		dst = append(dst, `","servicePrincipalCredentialThumbprint":"`...)
		dst = append(dst, w.thumbprint...)
		dst = append(dst, `","azureResourceId":"`...)
		dst = append(dst, w.azureResourceID...)
		dst = append(dst, `",`...)
		if w.mi {
			dst = append(dst, `"managedServiceIdentity":{"msiType":"`...)
			dst = append(dst, w.msiType...)
			dst = append(dst, `","associatedResourceId":`...)
			dst = appendStr(dst, w.azureResourceID)
			dst = append(dst, `,"federatedTokenId":null,"federatedTokenIssuer":null}`...)
		} else {
			dst = append(dst, userMSI...)
		}
	} else {
		dst = append(dst, `,"servicePrincipalId":"","servicePrincipalName":"","federatedCredentialId":"","servicePrincipalCredentialKeyId":"","servicePrincipalCredentialThumbprint":"","azureResourceId":"",`...)
		dst = append(dst, userMSI...)
	}

	dst = append(dst, `,"flaggedForReview":`...)
	dst = appendBool(dst, flagged)
	dst = append(dst, `,"isTenantRestricted":false,"isThroughGlobalSecureAccess":false,"globalSecureAccessIpAddress":"","autonomousSystemNumber":`...)
	dst = appendInt(dst, int64(p.ip.asn))
	dst = append(dst, `,"uniqueTokenIdentifier":"`...)
	if success {
		dst = appendTokenID(dst, g.r.Uint64(), g.r.Uint64())
	}
	dst = append(dst, `","sessionId":"`...)
	if !p.sess.isZero() {
		dst = appendGUID(dst, p.sess)
	}
	dst = append(dst, `","clientSessionId":"","appTokenProtectionStatus":"none","signInTokenProtectionStatus":"none","tokenProtectionStatusDetails":null,`...)
	if p.auth == apMFADone {
		dst = append(dst, mfaDetailFrags[mfa]...)
	} else {
		dst = append(dst, `"mfaDetail":null`...)
	}
	dst = append(dst, ',')
	dst = append(dst, o.status...)

	dst = append(dst, ',')
	switch {
	case dev == nil || p.client >= clientIMAP: // legacy protocols report no device
		dst = append(dst, emptyDeviceDetail...)
	case p.client == clientBrowser:
		dst = append(dst, dev.detailBrowser...)
	default:
		dst = append(dst, dev.detailRich...)
	}
	dst = append(dst, ',')
	if p.foreign {
		dst = append(dst, foreignLocationFrags[p.ip.city]...)
	} else {
		dst = append(dst, locationFrags[p.ip.city]...)
	}

	dst = append(dst, `,"appliedConditionalAccessPolicies":[`...)
	if u != nil {
		for i := range g.policies {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, g.policies[i].json[results[i]]...)
		}
	}
	dst = append(dst, "],"...)

	switch p.kind {
	case kindInteractive:
		dst = append(dst, procInteractive...)
	case kindNonInteractive:
		dst = append(dst, procSilent...)
	default:
		dst = append(dst, procWorkload...)
	}
	if p.ip.trusted {
		dst = append(dst, ","+trustedNetwork...)
	} else {
		dst = append(dst, `,"networkLocationDetails":[]`...)
	}

	dst = append(dst, `,"authenticationDetails":[`...)
	switch p.auth {
	case apPwFail:
		dst = g.appendStep(dst, p.t, stepPwFail)
	case apPwOK, apPwOKMFAPending:
		dst = g.appendStep(dst, p.t, stepPwOK)
	case apMFADone:
		dst = g.appendStep(dst, p.t, stepFirstSSO)
		dst = append(dst, ',')
		dst = g.appendStep(dst, p.t, stepMFADone[mfa])
	case apMFAFail:
		dst = g.appendStep(dst, p.t, stepFirstSSO)
		dst = append(dst, ',')
		dst = g.appendStep(dst, p.t, stepMFAFail[mfa])
	case apSSO:
		dst = g.appendStep(dst, p.t, stepFirstSSO)
	case apSSOMFA:
		dst = g.appendStep(dst, p.t, stepFirstSSO)
		dst = append(dst, ',')
		dst = g.appendStep(dst, p.t, stepMFASSO)
	}
	dst = append(dst, "],"...)
	if p.mfaReq {
		dst = append(dst, mfaReqPolicies...)
	} else {
		dst = append(dst, `"authenticationRequirementPolicies":[]`...)
	}
	dst = append(dst, ',')
	switch {
	case p.kmsi && success:
		dst = append(dst, kmsiLifetime...)
	case g.hasSIF && success && p.kind == kindInteractive && u != nil && !u.guest:
		dst = append(dst, sifLifetime...)
	default:
		dst = append(dst, `"sessionLifetimePolicies":[]`...)
	}
	dst = append(dst, `,"conditionalAccessAudiences":[`...)
	if u != nil && p.ca.evaluated {
		dst = append(dst, '"')
		dst = append(dst, firstPartyResources[p.res].id...)
		dst = append(dst, '"')
	}
	dst = append(dst, ']')
	return append(dst, tail...)
}

func (g *Generator) appendStep(dst []byte, t int64, rest string) []byte {
	dst = append(dst, stepPrefix...)
	dst = g.tf.appendTime(dst, t)
	return append(dst, rest...)
}

// flagged applies the 20-minute rule: the event is flagged iff it falls in
// an open window of its user on the same device and browser. Windows that
// ended before t are dropped; output time never goes backwards.
func (g *Generator) flagged(u *user, p *pending) bool {
	if len(u.windows) == 0 {
		return false
	}
	live := u.windows[:0]
	hit := false
	for _, w := range u.windows {
		if w.end <= p.t {
			continue
		}
		live = append(live, w)
		if p.client == clientBrowser && w.dev == p.dev && w.start <= p.t {
			hit = true
		}
	}
	u.windows = live
	return hit
}
