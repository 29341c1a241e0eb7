package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
)

// The Parquet schema is the Graph signIn resource as distributed engines want it, derived from
// columnar.SignIns (the one truth for which properties exist and how authlake stores them):
// objects (status, deviceDetail, location, …) are structs of their members, collections of
// strings are lists of strings, request and correlation ids are their canonical text, times are
// UTC timestamps in nanoseconds. The properties authlake keeps as JSON text (collections of
// objects, and objects without columns of their own) are typed by jsonTypes, after Graph's
// complex types (reference/graph-signin-api.md §1.2): lists of structs and structs. Unknown
// properties (a row's extras, and members a type does not declare) are not exported.

// Schema is the Arrow schema of the exported rows.
var Schema = arrow.NewSchema(fieldsOf(columnar.SignIns), nil)

func fieldsOf(s *columnar.Schema) []arrow.Field {
	var out []arrow.Field
	for _, p := range s.Properties {
		if p.Column != nil {
			out = append(out, arrow.Field{Name: p.Name, Type: columnType(p.Column), Nullable: true})
		} else {
			out = append(out, arrow.Field{Name: p.Name, Type: objectType(p.Object), Nullable: true})
		}
	}
	return out
}

func objectType(o *columnar.Object) arrow.DataType {
	var fs []arrow.Field
	for _, m := range o.Members {
		if m.Column != nil {
			fs = append(fs, arrow.Field{Name: m.Name, Type: columnType(m.Column), Nullable: true})
		} else {
			fs = append(fs, arrow.Field{Name: m.Name, Type: objectType(m.Object), Nullable: true})
		}
	}
	return arrow.StructOf(fs...)
}

// jsonTypes are the Parquet types of the properties authlake stores as JSON text. A value that
// does not fit its type (a member of another JSON type than declared) is written null and
// counted (Day.Unfit). appliedEventListeners stays JSON text: its handlerResult is an open type,
// one shape per kind of listener.
var jsonTypes = map[string]arrow.DataType{
	"appliedConditionalAccessPolicies": arrow.ListOf(structOf(
		"id", str, "displayName", str, "enforcedGrantControls", strs, "enforcedSessionControls", strs,
		"result", str, "conditionsSatisfied", str, "conditionsNotSatisfied", str,
		"includeRulesSatisfied", arrow.ListOf(ruleSatisfied), "excludeRulesSatisfied", arrow.ListOf(ruleSatisfied),
		"authenticationStrength", structOf("authenticationStrengthId", str, "displayName", str, "authenticationStrengthResult", str),
		"sessionControlsNotSatisfied", strs)),
	"conditionalAccessAudiences": strs,
	"authenticationDetails": arrow.ListOf(structOf(
		"authenticationStepDateTime", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"},
		"authenticationMethod", str, "authenticationMethodDetail", str, "succeeded", arrow.FixedWidthTypes.Boolean,
		"authenticationStepResultDetail", str, "authenticationStepRequirement", str)),
	"authenticationProcessingDetails":      arrow.ListOf(structOf("key", str, "value", str)),
	"authenticationRequirementPolicies":    arrow.ListOf(structOf("requirementProvider", str, "detail", str)),
	"authenticationContextClassReferences": arrow.ListOf(structOf("id", str, "detail", str)),
	"authenticationAppDeviceDetails":       structOf("appVersion", str, "clientApp", str, "deviceId", str, "operatingSystem", str),
	"authenticationAppPolicyEvaluationDetails": arrow.ListOf(structOf("policyName", str, "adminConfiguration", str,
		"authenticationEvaluation", str, "status", str)),
	"networkLocationDetails":  arrow.ListOf(structOf("networkType", str, "networkNames", strs)),
	"sessionLifetimePolicies": arrow.ListOf(structOf("expirationRequirement", str, "detail", str)),
	"managedServiceIdentity": structOf("msiType", str, "associatedResourceId", str, "federatedTokenId", str,
		"federatedTokenIssuer", str),
	"privateLinkDetails":           structOf("policyId", str, "policyName", str, "policyTenantId", str, "resourceId", str),
	"tokenProtectionStatusDetails": structOf("signInSessionStatus", str, "signInSessionStatusCode", arrow.PrimitiveTypes.Int32),
	"mfaDetail":                    structOf("authMethod", str, "authDetail", str),
}

var (
	str           = arrow.BinaryTypes.String
	strs          = arrow.ListOf(arrow.BinaryTypes.String)
	ruleSatisfied = structOf("conditionalAccessCondition", str, "ruleSatisfied", str)
)

// structOf is a struct of nullable fields, given as name, type, name, type, ….
func structOf(nameTypes ...any) *arrow.StructType {
	var fs []arrow.Field
	for i := 0; i < len(nameTypes); i += 2 {
		fs = append(fs, arrow.Field{Name: nameTypes[i].(string), Type: nameTypes[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.StructOf(fs...)
}

func columnType(c *columnar.Column) arrow.DataType {
	if t, ok := jsonTypes[c.Name]; ok {
		return t
	}
	switch {
	case c.Kind == columnar.KindGUID:
		return arrow.BinaryTypes.String
	case c.StringList():
		return arrow.ListOf(arrow.BinaryTypes.String)
	case c.Kind == columnar.KindJSONDict:
		return arrow.BinaryTypes.String
	}
	return c.Kind.ArrowType()
}

// verbatim holds, per GUID column and row, the text an event carried where the typed column
// could not reproduce it (a correlationId that is no GUID, one in capitals): the row's extras
// keep it, and the export writes it instead of the column's canonical form or null.
type verbatim map[int]map[int]string

func verbatimOf(flat arrow.RecordBatch) (verbatim, error) {
	s := columnar.SignIns
	b, err := columnar.NewBatch(s, flat)
	if err != nil {
		return nil, err
	}
	out := verbatim{}
	var entries []columnar.ExtraEntry
	for r := 0; r < b.Rows; r++ {
		if entries, err = b.Extras(r, entries); err != nil {
			return nil, err
		}
		for _, x := range entries {
			c, ok := s.Lookup(x.Path)
			if !ok || c.Kind != columnar.KindGUID || len(x.Value) == 0 || x.Value[0] != '"' {
				continue
			}
			var v string
			if json.Unmarshal(x.Value, &v) != nil {
				continue
			}
			if out[c.Index] == nil {
				out[c.Index] = map[int]string{}
			}
			out[c.Index][r] = v
		}
	}
	return out, nil
}

// convert turns one flat record of columnar.SignIns (all columns bound) into the export's,
// adding to unfit the JSON values that did not fit their declared type.
func convert(mem memory.Allocator, flat arrow.RecordBatch, unfit *int64) (arrow.RecordBatch, error) {
	s := columnar.SignIns
	vb, err := verbatimOf(flat)
	if err != nil {
		return nil, err
	}
	var cols []arrow.Array
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, p := range s.Properties {
		var a arrow.Array
		var err error
		if p.Column != nil {
			a, err = convertColumn(mem, p.Column, flat.Column(p.Column.Index), vb[p.Column.Index], unfit)
		} else {
			a, err = convertObject(mem, p.Object, flat, vb, unfit)
		}
		if err != nil {
			release()
			return nil, err
		}
		cols = append(cols, a)
	}
	rec := array.NewRecordBatch(Schema, cols, flat.NumRows())
	release()
	return rec, nil
}

func convertObject(mem memory.Allocator, o *columnar.Object, flat arrow.RecordBatch, vb verbatim, unfit *int64) (arrow.Array, error) {
	var kids []arrow.Array
	var names []string
	defer func() {
		for _, k := range kids {
			k.Release()
		}
	}()
	for _, m := range o.Members {
		var a arrow.Array
		var err error
		if m.Column != nil {
			a, err = convertColumn(mem, m.Column, flat.Column(m.Column.Index), vb[m.Column.Index], unfit)
		} else {
			a, err = convertObject(mem, m.Object, flat, vb, unfit)
		}
		if err != nil {
			return nil, err
		}
		kids = append(kids, a)
		names = append(names, m.Name)
	}
	return array.NewStructArray(kids, names)
}

// convertColumn returns the export's array for one stored column (a new reference).
func convertColumn(mem memory.Allocator, c *columnar.Column, a arrow.Array, verbatim map[int]string, unfit *int64) (arrow.Array, error) {
	if t, ok := jsonTypes[c.Name]; ok {
		return typedJSON(mem, t, a, unfit)
	}
	switch {
	case c.Kind == columnar.KindGUID:
		fb := a.(*array.FixedSizeBinary)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(fb.Len())
		b.ReserveData(fb.Len() * 36)
		buf := make([]byte, 0, 36)
		for i := 0; i < fb.Len(); i++ {
			if v, ok := verbatim[i]; ok {
				b.Append(v)
				continue
			}
			if fb.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.BinaryBuilder.Append(columnar.AppendGUID(buf[:0], fb.Value(i)))
		}
		return b.NewArray(), nil
	case c.Kind == columnar.KindJSONDict:
		d := a.(*array.Dictionary)
		dict := d.Dictionary().(*array.String)
		codes := d.Indices().(*array.Int32)
		if c.StringList() {
			// Each dictionary value is parsed once, not each row's.
			vals := make([][]string, dict.Len())
			for i := range vals {
				if err := json.Unmarshal([]byte(dict.Value(i)), &vals[i]); err != nil {
					return nil, fmt.Errorf("column %s: %q is not a list of strings: %w", c.Name, dict.Value(i), err)
				}
			}
			lb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
			defer lb.Release()
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for i := 0; i < d.Len(); i++ {
				if d.IsNull(i) {
					lb.AppendNull()
					continue
				}
				lb.Append(true)
				for _, v := range vals[codes.Value(i)] {
					vb.Append(v)
				}
			}
			return lb.NewArray(), nil
		}
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(d.Len())
		for i := 0; i < d.Len(); i++ {
			if d.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(dict.Value(int(codes.Value(i))))
			}
		}
		return b.NewArray(), nil
	}
	a.Retain()
	return a, nil
}

// typedJSON parses a column of JSON text (dictionary-encoded, or a string per row) into typ. A
// dictionary's values are parsed once each and the rows take theirs by code.
func typedJSON(mem memory.Allocator, typ arrow.DataType, a arrow.Array, unfit *int64) (arrow.Array, error) {
	switch a := a.(type) {
	case *array.Dictionary:
		dict := a.Dictionary().(*array.String)
		vals := parseJSONValues(mem, typ, dict.Len(), func(i int) (string, bool) { return dict.Value(i), true }, unfit)
		defer vals.Release()
		out, err := compute.TakeArray(context.Background(), vals, a.Indices())
		if err != nil {
			return nil, err
		}
		return out, nil
	case *array.String:
		return parseJSONValues(mem, typ, a.Len(), func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }, unfit), nil
	}
	return nil, fmt.Errorf("lake: JSON column of %s", a.DataType())
}

// parseJSONValues parses n JSON texts into an array of typ, with null for each that is absent or
// does not fit typ (counted in unfit). fastjson parses; the value is checked against the type
// before anything is appended, so a value that does not fit leaves no partial row behind.
func parseJSONValues(mem memory.Allocator, typ arrow.DataType, n int, value func(int) (string, bool), unfit *int64) arrow.Array {
	b := array.NewBuilder(mem, typ)
	defer b.Release()
	b.Reserve(n)
	var p fastjson.Parser
	for i := range n {
		text, ok := value(i)
		if !ok || text == "" {
			b.AppendNull()
			continue
		}
		v, err := p.Parse(text)
		if err != nil || !fits(typ, v) {
			*unfit++
			b.AppendNull()
			continue
		}
		appendJSON(b, typ, v)
	}
	return b.NewArray()
}

// fits says whether v can be appended as typ: null anywhere, and members typ does not declare
// (skipped), are fine.
func fits(typ arrow.DataType, v *fastjson.Value) bool {
	if v.Type() == fastjson.TypeNull {
		return true
	}
	switch t := typ.(type) {
	case *arrow.StringType:
		return v.Type() == fastjson.TypeString
	case *arrow.BooleanType:
		return v.Type() == fastjson.TypeTrue || v.Type() == fastjson.TypeFalse
	case *arrow.Int32Type:
		_, err := v.Int()
		return err == nil
	case *arrow.TimestampType:
		_, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes()))
		return v.Type() == fastjson.TypeString && err == nil
	case *arrow.ListType:
		arr, err := v.Array()
		if err != nil {
			return false
		}
		for _, e := range arr {
			if !fits(t.Elem(), e) {
				return false
			}
		}
		return true
	case *arrow.StructType:
		o, err := v.Object()
		if err != nil {
			return false
		}
		for i := range t.NumFields() {
			if f := t.Field(i); o.Get(f.Name) != nil && !fits(f.Type, o.Get(f.Name)) {
				return false
			}
		}
		return true
	}
	return false
}

// appendJSON appends v, which fits typ, b's type (given: a StructBuilder makes its type anew
// on each call of Type).
func appendJSON(b array.Builder, typ arrow.DataType, v *fastjson.Value) {
	if v.Type() == fastjson.TypeNull {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		b.BinaryBuilder.Append(v.GetStringBytes())
	case *array.BooleanBuilder:
		b.Append(v.GetBool())
	case *array.Int32Builder:
		b.Append(int32(v.GetInt()))
	case *array.TimestampBuilder:
		at, _ := time.Parse(time.RFC3339Nano, string(v.GetStringBytes()))
		b.Append(arrow.Timestamp(at.UnixNano()))
	case *array.ListBuilder:
		b.Append(true)
		elem := typ.(*arrow.ListType).Elem()
		for _, e := range v.GetArray() {
			appendJSON(b.ValueBuilder(), elem, e)
		}
	case *array.StructBuilder:
		b.Append(true)
		st := typ.(*arrow.StructType)
		for i := range st.NumFields() {
			f := st.Field(i)
			if m := v.Get(f.Name); m != nil {
				appendJSON(b.FieldBuilder(i), f.Type, m)
			} else {
				b.FieldBuilder(i).AppendNull()
			}
		}
	}
}
