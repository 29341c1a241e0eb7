package query

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
)

// Type is the static type of a bound expression. Dynamic values (lambda variables and
// paths into JSON columns) take their concrete type at run time.
type Type uint8

const (
	TNull Type = iota + 1
	TBool
	TInt   // Int32 columns and integer literals; evaluated in int64
	TFloat // Double columns, decimal and double literals
	TString
	TTime      // DateTimeOffset, unix nanoseconds UTC
	TDate      // Date, unix nanoseconds of midnight UTC
	TTimeOfDay // nanoseconds since midnight
	TGUID      // GUID columns; values are canonical lower-case text
	TDuration  // nanoseconds
	TDynamic   // JSON value whose type is known only per row
	TJSON      // a JSON collection or object (run-time kind of a dynamic value, or a JSON column)
)

var typeNames = [...]string{TNull: "Null", TBool: "Boolean", TInt: "Int32", TFloat: "Double", TString: "String",
	TTime: "DateTimeOffset", TDate: "Date", TTimeOfDay: "TimeOfDay", TGUID: "Guid", TDuration: "Duration", TDynamic: "untyped JSON value", TJSON: "collection"}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "unknown"
}

// tri is a three-valued boolean: OData comparisons with null operands are null, and rows
// whose filter is null are excluded.
type tri uint8

const (
	triFalse tri = 0
	triTrue  tri = 1
	triNull  tri = 2
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func triAnd(a, b tri) tri {
	if a == triFalse || b == triFalse {
		return triFalse
	}
	if a == triNull || b == triNull {
		return triNull
	}
	return triTrue
}

func triOr(a, b tri) tri {
	if a == triTrue || b == triTrue {
		return triTrue
	}
	if a == triNull || b == triNull {
		return triNull
	}
	return triFalse
}

func triNot(a tri) tri {
	switch a {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triNull
}

// value is one scalar at run time. k is never TDynamic: dynamic values carry their
// concrete kind (TJSON for arrays and objects, whose decoded form is in j).
type value struct {
	k Type
	b bool
	i int64 // TInt, TTime, TDate, TTimeOfDay
	f float64
	s string // TString, TGUID
	j any    // TJSON: []any or map[string]any from jsonToValue
}

var nullValue = value{k: TNull}

func (v value) asTri() tri {
	if v.k == TBool {
		return triOf(v.b)
	}
	return triNull
}

func boolValue(t tri) value {
	if t == triNull {
		return nullValue
	}
	return value{k: TBool, b: t == triTrue}
}

// jsonToValue converts a decoded JSON value (json.Number for numbers) to a value.
func jsonToValue(x any) value {
	switch x := x.(type) {
	case nil:
		return nullValue
	case bool:
		return value{k: TBool, b: x}
	case string:
		return value{k: TString, s: x}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return value{k: TInt, i: i}
		}
		f, err := x.Float64()
		if err != nil {
			return nullValue
		}
		return value{k: TFloat, f: f}
	case []any, map[string]any:
		return value{k: TJSON, j: x}
	}
	return nullValue
}

// parseJSONValue decodes compact JSON text into a value; malformed text reads as null.
func parseJSONValue(raw []byte) value {
	if len(raw) == 0 {
		return nullValue
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nullValue
	}
	return jsonToValue(x)
}

func isNumeric(k Type) bool { return k == TInt || k == TFloat }

func isTimeLike(k Type) bool { return k == TTime || k == TDate }

func isStringLike(k Type) bool { return k == TString || k == TGUID }

func (v value) float() float64 {
	if v.k == TInt {
		return float64(v.i)
	}
	return v.f
}

// compareValues orders a and b of comparable kinds: -1, 0, 1, and ok=false when the
// kinds cannot be compared (or a NaN is involved).
func compareValues(a, b value) (int, bool) {
	switch {
	case a.k == TInt && b.k == TInt:
		return cmp3(a.i, b.i), true
	case isNumeric(a.k) && isNumeric(b.k):
		x, y := a.float(), b.float()
		if math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		return cmp3(x, y), true
	case isStringLike(a.k) && isStringLike(b.k):
		return strings.Compare(a.s, b.s), true
	case isTimeLike(a.k) && isTimeLike(b.k), a.k == TTimeOfDay && b.k == TTimeOfDay, a.k == TDuration && b.k == TDuration:
		return cmp3(a.i, b.i), true
	case a.k == TBool && b.k == TBool:
		return cmp3(b2i(a.b), b2i(b.b)), true
	}
	return 0, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmp3[T int64 | float64 | int](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}
