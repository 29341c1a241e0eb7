package columnar

import (
	"bytes"
	"time"

	"github.com/valyala/fastjson"
)

// RowView reads one row of a Batch as typed values, the way a reader of the row's Graph JSON
// would see them, without writing the JSON: in-process consumers (the diagnostic, Identity
// Protection, the benchmark) used to have each row encoded by the query layer and then parsed
// it again.
//
// "The way a reader would see them" means: where the row kept a property's verbatim text in its
// extras (a GUID in upper case, a date-time in another form, an unexpected JSON type), that text
// is what is read, as the encoder writes it; a null, absent or wrongly typed value reads as the
// zero value, as fastjson's Get* accessors return for it.
//
// A column the batch was not read with (not selected) reads as the zero value.
//
// A RowView is reused (Reset) from row to row; it is not safe for concurrent use, and what it
// returns as []byte aliases the batch (valid as long as the batch is).
type RowView struct {
	b       *Batch
	row     int
	extras  []ExtraEntry
	decoded bool
	err     error
	p       fastjson.Parser // verbatim values
	items   fastjson.Parser // collections, kept until the next Items
}

// Reset points v at row of b.
func (v *RowView) Reset(b *Batch, row int) {
	v.b, v.row, v.decoded, v.err = b, row, false, nil
	v.extras = v.extras[:0]
}

// Err reports malformed extras met so far (the values read from them were zero).
func (v *RowView) Err() error { return v.err }

// verbatim returns the JSON text the row kept for c in its extras, if any (none for a column
// the batch was not read with: it reads as absent, as in a page that did not select it).
func (v *RowView) verbatim(c *Column) ([]byte, bool) {
	if !v.b.Has(c.Index) {
		return nil, false
	}
	raw := v.b.Bytes(v.b.Schema.Extras(), v.row)
	if raw == nil || !bytes.Contains(raw, []byte(c.Name)) {
		return nil, false
	}
	if !v.decoded {
		v.decoded = true
		if v.extras, v.err = DecodeExtras(raw, v.extras[:0]); v.err != nil {
			v.extras = v.extras[:0]
		}
	}
	for _, x := range v.extras {
		if x.Kind == extrasRaw && x.Path == c.Name {
			return x.Value, true
		}
	}
	return nil, false
}

// parse parses verbatim JSON text (nil when it is not JSON).
func (v *RowView) parse(raw []byte) *fastjson.Value {
	j, err := v.p.ParseBytes(raw)
	if err != nil {
		return nil
	}
	return j
}

// col finds the column at a slash path; nil when the schema has none (it reads as absent).
func (v *RowView) col(path string) *Column {
	c, _ := v.b.Schema.Lookup(path)
	return c
}

// Str returns a string-valued property (text, dictionary, GUID, date-time): "" when null.
func (v *RowView) Str(path string) string {
	c := v.col(path)
	if c == nil {
		return ""
	}
	if raw, ok := v.verbatim(c); ok {
		if j := v.parse(raw); j != nil {
			return string(j.GetStringBytes())
		}
		return ""
	}
	if !v.b.Valid(c.Index, v.row) {
		return ""
	}
	switch c.Kind {
	case KindGUID:
		return FormatGUID(v.b.Bytes(c.Index, v.row))
	case KindTime:
		return string(AppendTime(nil, v.b.Int64(c.Index, v.row)))
	case KindDict, KindText:
		return string(v.b.Bytes(c.Index, v.row))
	}
	return ""
}

// Int returns an integer property: 0 when null.
func (v *RowView) Int(path string) int64 {
	c := v.col(path)
	if c == nil {
		return 0
	}
	if raw, ok := v.verbatim(c); ok {
		if j := v.parse(raw); j != nil {
			return j.GetInt64()
		}
		return 0
	}
	if !v.b.Valid(c.Index, v.row) || c.Kind != KindInt32 {
		return 0
	}
	return int64(v.b.Int32(c.Index, v.row))
}

// Float returns a number property, and whether the row has a number there.
func (v *RowView) Float(path string) (float64, bool) {
	c := v.col(path)
	if c == nil {
		return 0, false
	}
	if raw, ok := v.verbatim(c); ok {
		if j := v.parse(raw); j != nil && j.Type() == fastjson.TypeNumber {
			return j.GetFloat64(), true
		}
		return 0, false
	}
	if !v.b.Valid(c.Index, v.row) {
		return 0, false
	}
	switch c.Kind {
	case KindFloat64:
		return v.b.Float64(c.Index, v.row), true
	case KindInt32:
		return float64(v.b.Int32(c.Index, v.row)), true
	}
	return 0, false
}

// Bool returns a boolean property: false when null.
func (v *RowView) Bool(path string) bool {
	c := v.col(path)
	if c == nil {
		return false
	}
	if raw, ok := v.verbatim(c); ok {
		if j := v.parse(raw); j != nil {
			return j.GetBool()
		}
		return false
	}
	return v.b.Valid(c.Index, v.row) && c.Kind == KindBool && v.b.Bool(c.Index, v.row)
}

// Time returns a date-time property, as time.Parse(time.RFC3339Nano) reads the text a reader
// of the row sees; the zero time when null. An error is returned for verbatim text that is not
// such a date-time.
func (v *RowView) Time(path string) (time.Time, error) {
	c := v.col(path)
	if c == nil {
		return time.Time{}, nil
	}
	if raw, ok := v.verbatim(c); ok {
		var s string
		if j := v.parse(raw); j != nil {
			s = string(j.GetStringBytes())
		}
		if s == "" {
			return time.Time{}, nil
		}
		return time.Parse(time.RFC3339Nano, s)
	}
	if !v.b.Valid(c.Index, v.row) || c.Kind != KindTime {
		return time.Time{}, nil
	}
	return time.Unix(0, v.b.Int64(c.Index, v.row)).UTC(), nil
}

// JSON returns a JSON property's text (a collection, a nested object kept whole): nil when null.
func (v *RowView) JSON(path string) []byte {
	c := v.col(path)
	if c == nil {
		return nil
	}
	if raw, ok := v.verbatim(c); ok {
		return raw
	}
	if !v.b.Valid(c.Index, v.row) || c.Kind != KindJSON && c.Kind != KindJSONDict {
		return nil
	}
	return v.b.Bytes(c.Index, v.row)
}

// Items returns the elements of a collection property (nil when it is null or not an array),
// valid until the next call of Items.
func (v *RowView) Items(path string) []*fastjson.Value {
	raw := v.JSON(path)
	if raw == nil {
		return nil
	}
	j, err := v.items.ParseBytes(raw)
	if err != nil {
		return nil
	}
	return j.GetArray()
}
