package server

import (
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
)

// Evolvable enums (reference §1.3): members declared after unknownFutureValue are only sent to
// clients that ask for them with "Prefer: include-unknown-enum-members"; others get the
// sentinel, because their generated SDKs would fail to deserialize a member they do not know.
// Each set lists the members that are always sent; any other non-empty value is evolvable.
type evolvable struct {
	sentinel string
	known    map[string]bool // lower-case
}

func enumSet(sentinel string, members ...string) *evolvable {
	e := &evolvable{sentinel: sentinel, known: map[string]bool{}}
	for _, m := range members {
		e.known[strings.ToLower(m)] = true
	}
	e.known[strings.ToLower(sentinel)] = true
	return e
}

var (
	enumAccessType = enumSet("unknownFutureValue", "none", "b2bCollaboration", "b2bDirectConnect", "microsoftSupport", "serviceProvider")
	enumTokenType  = enumSet("unknownFutureValue", "none", "primaryRefreshToken", "saml11", "saml20")
	// tokenIssuerType spells its sentinel in PascalCase like its other members.
	enumIssuerType = enumSet("UnknownFutureValue", "AzureAD", "ADFederationServices")
	enumProtocol   = enumSet("unknownFutureValue", "none", "oAuth2", "ropc", "wsFederation", "saml20", "deviceCode")
	enumRiskDetail = enumSet("unknownFutureValue", "none", "adminGeneratedTemporaryPassword", "userPerformedSecuredPasswordChange",
		"userPerformedSecuredPasswordReset", "adminConfirmedSigninSafe", "aiConfirmedSigninSafe", "userPassedMFADrivenByRiskBasedPolicy",
		"adminDismissedAllRiskForUser", "adminConfirmedSigninCompromised", "hidden", "adminConfirmedUserCompromised")
	enumCAResult   = enumSet("unknownFutureValue", "success", "failure", "notApplied", "notEnabled", "unknown")
	enumConditions = enumSet("unknownFutureValue", "none", "application", "users", "devicePlatform", "location", "clientType",
		"signInRisk", "userRisk", "time", "deviceState", "client", "ipAddressSeenByAzureAD", "ipAddressSeenByResourceProvider")
	enumAgentType = enumSet("unknownFutureValue", "notAgentic", "agenticApp", "agenticAppInstance")

	topLevelEnums = map[string]*evolvable{
		"crossTenantAccessType": enumAccessType, "incomingTokenType": enumTokenType, "tokenIssuerType": enumIssuerType,
		"authenticationProtocol": enumProtocol, "riskDetail": enumRiskDetail,
	}
	// v1.0's appliedConditionalAccessPolicy members; beta adds the rest.
	v1CAMembers = map[string]bool{"id": true, "displayName": true, "enforcedGrantControls": true, "enforcedSessionControls": true, "result": true}
)

// rowRewriter adapts rows from the store (beta JSON, all members) to the response: the v1.0
// property subset, and evolvable enum members replaced unless the client opted in.
type rowRewriter struct {
	v1          bool
	keepEvolved bool
	p           fastjson.Parser
	arena       fastjson.Arena
}

func (rw *rowRewriter) needed() bool { return rw.v1 || !rw.keepEvolved }

// rewrite returns row adapted, appended to dst. Rows come from our own encoder, so a parse
// failure is a bug; the row is then passed through unchanged rather than dropped.
func (rw *rowRewriter) rewrite(dst, row []byte) []byte {
	if !rw.needed() {
		return append(dst, row...)
	}
	v, err := rw.p.ParseBytes(row)
	if err != nil {
		return append(dst, row...)
	}
	o, err := v.Object()
	if err != nil {
		return append(dst, row...)
	}
	rw.arena.Reset()
	if rw.v1 {
		var drop []string
		o.Visit(func(k []byte, val *fastjson.Value) {
			name := string(k)
			p := propertyByName(name)
			if p == nil {
				// The mark of a home-tenant copy is an annotation, not a beta property.
				if !columnar.IsAnnotation(name) {
					drop = append(drop, name)
				}
				return
			}
			if p.Column != nil {
				if p.Column.Version&columnar.V1 == 0 {
					drop = append(drop, name)
				}
				return
			}
			if p.Object.Version&columnar.V1 == 0 {
				drop = append(drop, name)
				return
			}
			pruneObject(p.Object, val)
		})
		for _, k := range drop {
			o.Del(k)
		}
		if cas := o.Get("appliedConditionalAccessPolicies"); cas != nil && cas.Type() == fastjson.TypeArray {
			for _, ca := range cas.GetArray() {
				if co, err := ca.Object(); err == nil {
					var d []string
					co.Visit(func(k []byte, _ *fastjson.Value) {
						if !v1CAMembers[string(k)] {
							d = append(d, string(k))
						}
					})
					for _, k := range d {
						co.Del(k)
					}
				}
			}
		}
	}
	if !rw.keepEvolved {
		for name, set := range topLevelEnums {
			rw.fixEnum(o, name, set)
		}
		if ag := o.Get("agent"); ag != nil && ag.Type() == fastjson.TypeObject {
			ao, _ := ag.Object()
			rw.fixEnum(ao, "agentType", enumAgentType)
			rw.fixEnum(ao, "agentSubjectType", enumAgentType)
		}
		if cas := o.Get("appliedConditionalAccessPolicies"); cas != nil && cas.Type() == fastjson.TypeArray {
			for _, ca := range cas.GetArray() {
				if co, err := ca.Object(); err == nil {
					rw.fixEnum(co, "result", enumCAResult)
					rw.fixFlags(co, "conditionsSatisfied", enumConditions)
					rw.fixFlags(co, "conditionsNotSatisfied", enumConditions)
				}
			}
		}
	}
	return v.MarshalTo(dst)
}

func (rw *rowRewriter) fixEnum(o *fastjson.Object, key string, set *evolvable) {
	v := o.Get(key)
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	s := string(v.GetStringBytes())
	if s == "" || set.known[strings.ToLower(s)] {
		return
	}
	o.Set(key, rw.arena.NewString(set.sentinel))
}

// fixFlags handles a flags enum ("application,users"): evolvable members are replaced by the
// sentinel, once.
func (rw *rowRewriter) fixFlags(o *fastjson.Object, key string, set *evolvable) {
	v := o.Get(key)
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	s := string(v.GetStringBytes())
	if s == "" {
		return
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	changed, sentinel := false, false
	for _, p := range parts {
		if set.known[strings.ToLower(strings.TrimSpace(p))] {
			out = append(out, p)
			continue
		}
		changed = true
		if !sentinel {
			out = append(out, set.sentinel)
			sentinel = true
		}
	}
	if changed {
		o.Set(key, rw.arena.NewString(strings.Join(out, ",")))
	}
}

// pruneObject removes members of a flattened object that v1.0 does not have.
func pruneObject(obj *columnar.Object, v *fastjson.Value) {
	o, err := v.Object()
	if err != nil {
		return
	}
	for _, m := range obj.Members {
		switch {
		case m.Column != nil && m.Column.Version&columnar.V1 == 0:
			o.Del(m.Name)
		case m.Object != nil && m.Object.Version&columnar.V1 == 0:
			o.Del(m.Name)
		case m.Object != nil:
			if sub := o.Get(m.Name); sub != nil {
				pruneObject(m.Object, sub)
			}
		}
	}
}

var propsByName = func() map[string]*columnar.Property {
	m := map[string]*columnar.Property{}
	for i := range columnar.SignIns.Properties {
		p := &columnar.SignIns.Properties[i]
		m[p.Name] = p
	}
	return m
}()

func propertyByName(name string) *columnar.Property { return propsByName[name] }

// preferUnknownEnums reports whether the Prefer header asks for evolvable members.
func preferUnknownEnums(prefer []string) bool {
	for _, h := range prefer {
		for p := range strings.SplitSeq(h, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "include-unknown-enum-members") {
				return true
			}
		}
	}
	return false
}
