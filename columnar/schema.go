// Package columnar owns the sign-in schema as Arrow types, JSON → Arrow decoding, Arrow → Graph
// JSON encoding, and the immutable segment file (column regions of zstd frames holding Arrow
// buffers, a checksummed footer and a format version). It knows nothing about OData, HTTP or indexes.
package columnar

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is the physical encoding of a column. The values are written in segment footers, so
// they never change meaning.
type Kind uint8

const (
	KindDict     Kind = 1  // dictionary<int32, utf8>, low/medium-cardinality strings and enums
	KindGUID     Kind = 2  // fixed_size_binary(16), high-cardinality GUIDs
	KindTime     Kind = 3  // timestamp[ns, UTC]
	KindInt32    Kind = 4  // int32
	KindFloat64  Kind = 5  // float64
	KindBool     Kind = 6  // bool
	KindText     Kind = 7  // utf8, high-cardinality strings
	KindJSONDict Kind = 8  // dictionary<int32, utf8> of compact JSON values
	KindJSON     Kind = 9  // utf8 of compact JSON values, nearly unique per row
	KindExtras   Kind = 10 // binary, per-row exceptions (see docs/format/segment.md)
)

func (k Kind) String() string {
	switch k {
	case KindDict:
		return "dict"
	case KindGUID:
		return "guid"
	case KindTime:
		return "time"
	case KindInt32:
		return "int32"
	case KindFloat64:
		return "float64"
	case KindBool:
		return "bool"
	case KindText:
		return "text"
	case KindJSONDict:
		return "jsondict"
	case KindJSON:
		return "json"
	case KindExtras:
		return "extras"
	}
	return "unknown"
}

// ArrowType is the logical Arrow type of a column of this kind.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case KindDict, KindJSONDict:
		return dictUTF8
	case KindGUID:
		return guidType
	case KindTime:
		return timeType
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindFloat64:
		return arrow.PrimitiveTypes.Float64
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindText, KindJSON:
		return arrow.BinaryTypes.String
	case KindExtras:
		return arrow.BinaryTypes.Binary
	}
	panic("BUG: unknown kind")
}

var (
	dictUTF8 = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	guidType = &arrow.FixedSizeBinaryType{ByteWidth: 16}
	timeType = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
)

// Version tells which Graph API versions expose a property.
type Version uint8

const (
	Beta Version = 1 << iota // every property here is in beta
	V1                       // also in v1.0
)

// Column is one stored column: a top-level property or a member of a flattened object.
type Column struct {
	Name    string // path as written in $filter: "status/errorCode"
	Kind    Kind
	Version Version
	Index   int // position in Schema.Columns
	// Enum is the evolvable enum of a string column (nil: not one). Items describes the objects
	// of a collection stored as JSON whose members v1.0 narrows or that hold evolvable enums.
	Enum  *Evolvable
	Items *Items
	// Risk is the property of Identity Protection's overlay this column holds (RiskNone: none).
	Risk RiskField
	// Sibling is the GUID column whose value in some row of the same block this GUID column's
	// value usually is (originalRequestId: the id of the sequence's first request, often its
	// own row's). Its frames store references to those rows, and literals only for the rest
	// (docs/format/segment.md, "References to a sibling column"). nil: none.
	Sibling *Column
	// Tokens says a text column's values are usually 16 bytes as 22 characters of unpadded
	// base64url (uniqueTokenIdentifier): its frames store those as the 16 bytes
	// (docs/format/segment.md, "Tokens").
	Tokens bool
	// Times is the time column whose row value this JSON column's values usually spell
	// (authenticationDetails: each step's authenticationStepDateTime is the sign-in's
	// createdDateTime). Its frames store templates with marks for those times and a code per row
	// (docs/format/segment.md, "Block dictionaries"). nil: none.
	Times *Column
	// JSON path split into segments; len 1 for top-level properties.
	path []string
	enc  encodeKey
}

// encodeKey is what the JSON encoder precomputes of a column's or an object's path once, not per
// row: its key as written ("name": escaped, the path's last segment) and its bit in a row's
// mask of the paths its extras mention (see Encoder).
type encodeKey struct {
	key []byte
	bit uint64
}

func newEncodeKey(path string) encodeKey {
	last := path[strings.LastIndexByte(path, '/')+1:]
	return encodeKey{key: append(AppendJSONString(nil, last), ':'), bit: pathBit(path)}
}

// pathBit hashes a path to one of 64 bits (FNV-1a): a row's extras set the bits of the paths
// they mention, and a column whose bit is clear needs no lookup in them.
func pathBit(path string) uint64 {
	h := uint32(2166136261)
	for i := 0; i < len(path); i++ {
		h = (h ^ uint32(path[i])) * 16777619
	}
	return 1 << (h & 63)
}

// Path returns the JSON path segments of the column.
func (c *Column) Path() []string { return c.path }

// StringList reports whether the column is a collection of strings in Graph
// (Collection(Edm.String) or of an enum), stored as JSON text: typed exports (Parquet) write it
// as a list of strings.
func (c *Column) StringList() bool { return stringLists[c.Name] }

// stringLists are the JSON columns whose Graph type is a collection of strings or enums.
var stringLists = map[string]bool{
	"riskEventTypes": true, "riskEventTypes_v2": true, "authenticationMethodsUsed": true,
	"signInEventTypes": true,
}

// Object is a flattened complex property (status, deviceDetail, location, …): its scalar members
// are columns of their own, so filters on them scan one narrow column.
type Object struct {
	Name    string
	Version Version
	Members []Member // in Graph's order
	enc     encodeKey
}

// Member is either a column or a nested flattened object (location/geoCoordinates).
type Member struct {
	Name   string
	Column *Column
	Object *Object
}

// key is the member's name as compact JSON writes it before its value: quoted, then a colon.
func (m *Member) key() []byte { return memberKey(m.Column, m.Object) }

// memberKey is the encode key of a property's or member's column or object.
func memberKey(c *Column, o *Object) []byte {
	if c != nil {
		return c.enc.key
	}
	return o.enc.key
}

// Property is a top-level property of the signIn resource, in Graph's order.
type Property struct {
	Name   string
	Column *Column // nil when Object is set
	Object *Object
}

// key is the property's name as compact JSON writes it before its value: quoted, then a colon.
func (p *Property) key() []byte { return memberKey(p.Column, p.Object) }

// Schema is the sign-in table: its properties (for JSON) and its columns (for storage).
type Schema struct {
	Properties []Property
	Columns    []*Column
	byName     map[string]*Column // exact column path
	byFold     map[string]*Column // lower-cased column path
	objects    map[string]*Object // lower-cased object path
	arrow      *arrow.Schema
}

// ExtrasColumn is the name of the per-row exceptions column.
const ExtrasColumn = "_extras"

// ReportedBy is the OData instance annotation, kept in a row's extras, that marks a copy of a
// cross-tenant sign-in stored for the user's home tenant: its value is the tenant that reported
// it. The engine sets it on copies and refuses it on ingested records, so a reader can trust it;
// the encoder writes it even under $select, since it says whose event the row is.
const ReportedBy = "@authlake.reportedBy"

// VersionAnnotation is the OData instance annotation, kept in a row's extras, that numbers a
// stored version of a sign-in seen again with different content (2, 3, …; the first version
// has none). The engine sets it; one in an ingested record is ignored, so that an export loads
// again. See docs/versions.md.
const VersionAnnotation = "@authlake.version"

// Source envelopes are the unknown properties under which input converters keep a source's
// own columns that the Graph schema has no place for (Log Analytics' TimeGenerated, _ItemId, …):
// what the source says about its record, not about the sign-in. Export returns them; a
// re-emission that differs only in them is the same content (ContentDigest).
const (
	EnvelopeLogAnalytics = "logAnalytics"
	EnvelopePortal       = "portal"
)

func isEnvelope(path string) bool { return path == EnvelopeLogAnalytics || path == EnvelopePortal }

// annotationPrefix starts every annotation authlake itself sets on a row.
const annotationPrefix = "@authlake."

// IsAnnotation reports whether name is one of authlake's own instance annotations: not a
// property of the event but something the engine says about it.
func IsAnnotation(name string) bool { return strings.HasPrefix(name, annotationPrefix) }

// Lookup finds a column by exact path.
func (s *Schema) Lookup(name string) (*Column, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// LookupFold finds a column by path, ignoring case, as Graph matches property names.
func (s *Schema) LookupFold(name string) (*Column, bool) {
	c, ok := s.byFold[strings.ToLower(name)]
	return c, ok
}

// LookupObject finds a flattened object by path, ignoring case.
func (s *Schema) LookupObject(name string) (*Object, bool) {
	o, ok := s.objects[strings.ToLower(name)]
	return o, ok
}

// Arrow returns the logical Arrow schema: every column in order, then the extras column.
func (s *Schema) Arrow() *arrow.Schema { return s.arrow }

// NumColumns counts the data columns plus the extras column.
func (s *Schema) NumColumns() int { return len(s.Columns) + 1 }

// Extras is the index of the extras column in records of this schema.
func (s *Schema) Extras() int { return len(s.Columns) }

// propSpec is the declarative form the schema is built from. Members of objects nest.
type propSpec struct {
	name    string
	kind    Kind
	version Version
	members []propSpec
	enum    *Evolvable
	items   *Items
	risk    RiskField
	sibling string
	times   string
	tokens  bool
}

// evolvable declares the column an evolvable enum.
func (ps propSpec) evolvable(e *Evolvable) propSpec { ps.enum = e; return ps }

// of declares the members of a collection column's objects.
func (ps propSpec) of(it *Items) propSpec { ps.items = it; return ps }

// overlaid declares the column one of the risk overlay's properties.
func (ps propSpec) overlaid(f RiskField) propSpec { ps.risk = f; return ps }

// repeats declares a GUID column's values mostly copies of the GUID column name's in rows near
// it (Column.Sibling).
func (ps propSpec) repeats(name string) propSpec { ps.sibling = name; return ps }

// base64Tokens declares a text column's values mostly 16-byte tokens in base64url (Column.Tokens).
func (ps propSpec) base64Tokens() propSpec { ps.tokens = true; return ps }

// spellsTimeOf declares a JSON column's values mostly spelling the time column name's row value
// (Column.Times).
func (ps propSpec) spellsTimeOf(name string) propSpec { ps.times = name; return ps }

func p(name string, kind Kind, v Version) propSpec {
	return propSpec{name: name, kind: kind, version: v}
}

func obj(name string, v Version, members ...propSpec) propSpec {
	return propSpec{name: name, version: v, members: members}
}

const (
	b  = Beta
	bv = Beta | V1
)

// signInSpec lists every property of the Microsoft Graph beta signIn resource in Graph's order
// (reference/graph-signin-api.md §1.1, §1.2). The kind of each column was chosen for size and scan
// speed: see docs/format/segment.md.
var signInSpec = []propSpec{
	p("id", KindGUID, bv),
	p("createdDateTime", KindTime, bv),
	p("userDisplayName", KindDict, bv),
	p("userPrincipalName", KindDict, bv),
	p("userId", KindDict, bv),
	p("appId", KindDict, bv),
	p("appDisplayName", KindDict, bv),
	p("ipAddress", KindDict, bv),
	p("ipAddressFromResourceProvider", KindDict, b),
	p("clientAppUsed", KindDict, bv),
	p("userAgent", KindDict, bv),
	p("correlationId", KindGUID, bv),
	p("conditionalAccessStatus", KindDict, bv),
	p("originalRequestId", KindGUID, b).repeats("id"), // a single-step sign-in's own id
	p("isInteractive", KindBool, bv),
	p("tokenIssuerName", KindDict, b),
	p("tokenIssuerType", KindDict, b).evolvable(enumIssuerType),
	p("clientCredentialType", KindDict, b),
	p("processingTimeInMilliseconds", KindInt32, b),
	p("riskDetail", KindDict, bv).evolvable(enumRiskDetail).overlaid(RiskDetailField),
	p("riskLevelAggregated", KindDict, bv).overlaid(RiskLevelAggregatedField),
	p("riskLevelDuringSignIn", KindDict, bv).overlaid(RiskLevelDuringSignInField),
	p("riskState", KindDict, bv).overlaid(RiskStateField),
	p("riskEventTypes", KindJSONDict, bv),
	p("riskEventTypes_v2", KindJSONDict, bv).overlaid(RiskEventTypesV2Field),
	p("resourceDisplayName", KindDict, bv),
	p("resourceId", KindDict, bv),
	p("resourceServicePrincipalId", KindDict, b),
	p("resourceTenantId", KindDict, bv),
	p("homeTenantId", KindDict, bv),
	p("homeTenantName", KindDict, b),
	p("appOwnerTenantId", KindDict, b),
	p("resourceOwnerTenantId", KindDict, b),
	p("authenticationMethodsUsed", KindJSONDict, b),
	p("authenticationRequirement", KindDict, b),
	p("authenticationProtocol", KindDict, b).evolvable(enumProtocol),
	p("incomingTokenType", KindDict, b).evolvable(enumTokenType),
	p("signInIdentifier", KindDict, b),
	p("signInIdentifierType", KindDict, b),
	p("signInEventTypes", KindJSONDict, b),
	p("servicePrincipalId", KindDict, bv),
	p("servicePrincipalName", KindDict, bv),
	p("servicePrincipalCredentialKeyId", KindDict, b),
	p("servicePrincipalCredentialThumbprint", KindDict, b),
	p("federatedCredentialId", KindDict, b),
	p("azureResourceId", KindDict, b),
	p("userType", KindDict, b),
	p("flaggedForReview", KindBool, b),
	p("isTenantRestricted", KindBool, b),
	p("isThroughGlobalSecureAccess", KindBool, b),
	p("globalSecureAccessIpAddress", KindDict, b),
	p("autonomousSystemNumber", KindInt32, b),
	p("crossTenantAccessType", KindDict, b).evolvable(enumAccessType),
	p("uniqueTokenIdentifier", KindText, b).base64Tokens(),
	p("sessionId", KindGUID, b),
	p("clientSessionId", KindGUID, b),
	p("appTokenProtectionStatus", KindDict, b),
	p("signInTokenProtectionStatus", KindDict, b),
	p("originalTransferMethod", KindDict, b),
	p("alternateSignInName", KindDict, b),
	obj("status", bv,
		p("errorCode", KindInt32, bv),
		p("failureReason", KindDict, bv),
		p("additionalDetails", KindDict, bv),
	),
	obj("deviceDetail", bv,
		p("deviceId", KindDict, bv),
		p("displayName", KindDict, bv),
		p("operatingSystem", KindDict, bv),
		p("browser", KindDict, bv),
		p("isCompliant", KindBool, bv),
		p("isManaged", KindBool, bv),
		p("trustType", KindDict, bv),
		p("browserId", KindDict, b),
	),
	obj("location", bv,
		p("city", KindDict, bv),
		p("state", KindDict, bv),
		p("countryOrRegion", KindDict, bv),
		obj("geoCoordinates", bv,
			p("altitude", KindFloat64, bv),
			p("latitude", KindFloat64, bv),
			p("longitude", KindFloat64, bv),
		),
	),
	obj("agent", b,
		p("agentType", KindDict, b).evolvable(enumAgentType),
		p("agentSubjectType", KindDict, b).evolvable(enumAgentType),
		p("agentSubjectParentId", KindDict, b),
		p("parentAppId", KindDict, b),
	),
	p("appliedConditionalAccessPolicies", KindJSONDict, bv).of(caPolicy),
	p("conditionalAccessAudiences", KindJSONDict, b),
	p("authenticationDetails", KindJSON, b).spellsTimeOf("createdDateTime"),
	p("authenticationProcessingDetails", KindJSONDict, b),
	p("authenticationRequirementPolicies", KindJSONDict, b),
	p("authenticationContextClassReferences", KindJSONDict, b),
	p("authenticationAppDeviceDetails", KindJSONDict, bv),
	p("authenticationAppPolicyEvaluationDetails", KindJSONDict, b),
	p("appliedEventListeners", KindJSONDict, b),
	p("networkLocationDetails", KindJSONDict, b),
	p("sessionLifetimePolicies", KindJSONDict, b),
	p("managedServiceIdentity", KindJSONDict, b),
	p("privateLinkDetails", KindJSONDict, b),
	p("tokenProtectionStatusDetails", KindJSONDict, b),
	p("mfaDetail", KindJSONDict, b),
}

// SignIns is the sign-in table schema.
var SignIns = buildSchema(signInSpec)

func buildSchema(spec []propSpec) *Schema {
	s := &Schema{
		byName:  map[string]*Column{},
		byFold:  map[string]*Column{},
		objects: map[string]*Object{},
	}
	var addObject func(prefix []string, ps propSpec) *Object
	siblings := map[*Column]string{}
	times := map[*Column]string{}
	addColumn := func(path []string, ps propSpec) *Column {
		c := &Column{Name: strings.Join(path, "/"), Kind: ps.kind, Version: ps.version, Index: len(s.Columns), path: path,
			Enum: ps.enum, Items: ps.items, Risk: ps.risk, Tokens: ps.tokens}
		if c.Tokens && c.Kind != KindText {
			panic("BUG: tokens in " + c.Name + ", a " + c.Kind.String() + " column")
		}
		c.enc = newEncodeKey(c.Name)
		if ps.sibling != "" {
			siblings[c] = ps.sibling
		}
		if ps.times != "" {
			times[c] = ps.times
		}
		if _, dup := s.byFold[strings.ToLower(c.Name)]; dup {
			panic("BUG: duplicate column " + c.Name)
		}
		s.Columns = append(s.Columns, c)
		s.byName[c.Name] = c
		s.byFold[strings.ToLower(c.Name)] = c
		return c
	}
	addObject = func(prefix []string, ps propSpec) *Object {
		path := append(append([]string{}, prefix...), ps.name)
		o := &Object{Name: strings.Join(path, "/"), Version: ps.version}
		o.enc = newEncodeKey(o.Name)
		s.objects[strings.ToLower(o.Name)] = o
		for _, m := range ps.members {
			if m.members != nil {
				o.Members = append(o.Members, Member{Name: m.name, Object: addObject(path, m)})
			} else {
				mp := append(append([]string{}, path...), m.name)
				o.Members = append(o.Members, Member{Name: m.name, Column: addColumn(mp, m)})
			}
		}
		return o
	}
	for _, ps := range spec {
		if ps.members != nil {
			s.Properties = append(s.Properties, Property{Name: ps.name, Object: addObject(nil, ps)})
		} else {
			s.Properties = append(s.Properties, Property{Name: ps.name, Column: addColumn([]string{ps.name}, ps)})
		}
	}
	for c, name := range siblings {
		// The writer encodes the sibling's blocks before the column's (segment_write.go).
		sib := s.byName[name]
		if sib == nil || sib.Kind != KindGUID || c.Kind != KindGUID || sib.Index >= c.Index || sib.Sibling != nil {
			panic("BUG: " + c.Name + " cannot repeat " + name)
		}
		c.Sibling = sib
	}
	for c, name := range times {
		// As a sibling: the writer encodes the time column's blocks before the column's.
		t := s.byName[name]
		if t == nil || t.Kind != KindTime || c.Kind != KindJSON || t.Index >= c.Index {
			panic("BUG: " + c.Name + " cannot spell the time of " + name)
		}
		c.Times = t
	}
	fields := make([]arrow.Field, 0, len(s.Columns)+1)
	for _, c := range s.Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: ExtrasColumn, Type: KindExtras.ArrowType(), Nullable: true})
	s.arrow = arrow.NewSchema(fields, nil)
	return s
}

// path is the property's stored name: its column's, or its flattened object's.
func (p *Property) path() string {
	if p.Column != nil {
		return p.Column.Name
	}
	return p.Object.Name
}

// path is the member's stored name (location/city): its column's, or its object's.
func (m *Member) path() string {
	if m.Column != nil {
		return m.Column.Name
	}
	return m.Object.Name
}
