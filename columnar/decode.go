package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Row is one sign-in staged for appending: every cell is decoded and validated before any column
// is touched, so a bad record never leaves a half-appended row behind.
type Row struct {
	schema *Schema
	vals   []val
	extras []byte
	seen   []bool // per flattened-object path index: present in input
	buf    []byte // owns bytes produced while decoding (GUIDs, compact JSON)
}

// NewRow returns an empty row for schema s.
func NewRow(s *Schema) *Row {
	return &Row{schema: s, vals: make([]val, s.NumColumns())}
}

func (r *Row) reset() {
	clear(r.vals)
	r.extras = r.extras[:0]
	r.buf = r.buf[:0]
}

// ID returns the row's request id (16 bytes); valid until the next decode into this row.
func (r *Row) ID() []byte { return r.vals[colID.Index].b }

// CreatedUnixNano returns createdDateTime.
func (r *Row) CreatedUnixNano() int64 { return r.vals[colCreated.Index].i }

// String returns a dictionary or text column's value, "" when null or absent.
func (r *Row) String(c *Column) string {
	if r.vals[c.Index].state != stateValue {
		return ""
	}
	return string(r.vals[c.Index].b)
}

// SetBool overwrites a boolean column (used for flaggedForReview by the flagging feature). The
// property is then present in the exported event even if the input lacked it.
func (r *Row) SetBool(c *Column, v bool) {
	if c.Kind != KindBool {
		panic("BUG: SetBool on " + c.Kind.String() + " column " + c.Name)
	}
	x := int64(0)
	if v {
		x = 1
	}
	r.vals[c.Index] = val{state: stateValue, i: x}
	r.dropExtra(c.Name)
}

// Bool returns a boolean column's value (false when null or absent).
func (r *Row) Bool(c *Column) bool {
	return r.vals[c.Index].state == stateValue && r.vals[c.Index].i != 0
}

// setJSON sets a json/jsondict column to a literal JSON value.
func (r *Row) setJSON(c *Column, js string) {
	start := len(r.buf)
	r.buf = append(r.buf, js...)
	r.vals[c.Index] = val{state: stateValue, b: r.buf[start:len(r.buf):len(r.buf)]}
	r.dropExtra(c.Name)
}

// DropExtra removes an unknown top-level property (or instance annotation) from the row.
func (r *Row) DropExtra(path string) { r.dropExtra(path) }

// dropExtra removes any extras entry for path (it is rare: only when a property the input lacked
// is set by ingest).
func (r *Row) dropExtra(path string) {
	// As in Extra: decode only when the name is there (ingest drops the version annotation
	// from every row, and decoding every row's extras for it was 3% of ingest's CPU).
	if !bytes.Contains(r.extras, []byte(path)) {
		return
	}
	entries, err := DecodeExtras(r.extras, nil)
	if err != nil {
		panic("BUG: row extras do not decode: " + err.Error())
	}
	out := make([]byte, 0, len(r.extras))
	for _, e := range entries {
		if e.Path != path {
			out = appendExtra(out, e.Kind, e.Path, e.Value)
		}
	}
	r.extras = out
}

// Extra returns the verbatim JSON value of an unknown top-level property (or instance
// annotation) of the row, if it has one.
func (r *Row) Extra(path string) ([]byte, bool) {
	// Most rows have extras (absent properties); decode them only when the name is there.
	if !bytes.Contains(r.extras, []byte(path)) {
		return nil, false
	}
	entries, err := DecodeExtras(r.extras, nil)
	if err != nil {
		panic("BUG: row extras do not decode: " + err.Error())
	}
	for _, e := range entries {
		if e.Kind == extrasRaw && e.Path == path {
			return e.Value, true
		}
	}
	return nil, false
}

// SetExtra sets an unknown top-level property (or instance annotation) to a JSON value,
// replacing any. It fails when the row's extras would outgrow their limit.
func (r *Row) SetExtra(path string, value []byte) error {
	if _, known := r.schema.byName[path]; known || strings.Contains(path, "/") || len(path) > maxPathLen {
		panic("BUG: SetExtra of " + path + ", which is not an unknown top-level property")
	}
	r.dropExtra(path)
	if len(r.extras)+len(path)+len(value)+2*binary.MaxVarintLen64+1 > maxExtrasBytes {
		return &DecodeError{Msg: fmt.Sprintf("unknown properties exceed %d bytes", maxExtrasBytes)}
	}
	r.extras = appendExtra(r.extras, extrasRaw, path, value)
	return nil
}

// ApplyEventType fills signInEventTypes and isInteractive from a diagnostic-settings category's
// event type when the record itself does not carry them (Azure Monitor puts the type in the
// category, not in the record).
func (r *Row) ApplyEventType(eventType string) {
	if eventType == "" {
		return
	}
	if r.vals[colEventTypes.Index].state == stateAbsent {
		r.setJSON(colEventTypes, `["`+eventType+`"]`)
	}
	if r.vals[colIsInteractive.Index].state == stateAbsent && (eventType == "interactiveUser" || eventType == "nonInteractiveUser") {
		r.SetBool(colIsInteractive, eventType == "interactiveUser")
	}
}

var (
	colID               = SignIns.byName["id"]
	colCreated          = SignIns.byName["createdDateTime"]
	colEventTypes       = SignIns.byName["signInEventTypes"]
	colFlaggedForReview = SignIns.byName["flaggedForReview"]
	colIsInteractive    = SignIns.byName["isInteractive"]
)

// DecodeError is why a record was rejected.
type DecodeError struct {
	Path string // JSON path of the offending property, "" for the record as a whole
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func decodeErr(path, format string, args ...any) error {
	return &DecodeError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Decoder turns Graph signIn JSON objects into staged rows. It is not safe for concurrent use;
// use one per goroutine. It reuses its parser, so steady-state decoding does not allocate
// except for new dictionary entries downstream.
type Decoder struct {
	schema *Schema
	p      fastjson.Parser
	props  map[string]int // top-level property name → index in schema.Properties
	// follow[i+1] is the property that came after property i the last time i was found
	// (follow[0]: a record's first property), -1 if none yet; prev is that i+1 for the last
	// property found in the record being decoded. A source writes its properties in one order
	// (Graph in its own, a generator or an export in theirs), so the one predicted is nearly
	// always the one found, and the map is left alone.
	follow []int32
	prev   int
	fix    []byte // scratch for records whose text needs repair (sanitize)
}

// NewDecoder returns a decoder for schema s.
func NewDecoder(s *Schema) *Decoder {
	d := &Decoder{schema: s, props: map[string]int{}, follow: make([]int32, len(s.Properties)+1)}
	for i, p := range s.Properties {
		d.props[p.Name] = i
	}
	for i := range d.follow {
		d.follow[i] = -1
	}
	return d
}

// Decode parses raw (one JSON object) into row. A non-nil error is a *DecodeError or a JSON
// syntax error, and says why the record must be quarantined.
// A row's strings may be slices of raw: it is valid until the next Decode and while raw is
// unchanged.
func (d *Decoder) Decode(raw []byte, row *Row) error {
	raw = sanitize(raw, &d.fix)
	if d.decodeFast(raw, row, nil) == nil {
		return nil
	}
	return d.decodeGeneral(raw, row)
}

// decodeGeneral decodes a (sanitized) record through fastjson's value tree: every record the
// fast path leaves, and the reference FuzzFastDecode holds the fast path to.
func (d *Decoder) decodeGeneral(raw []byte, row *Row) error {
	row.reset()
	v, err := d.p.ParseBytes(raw)
	if err != nil {
		return &DecodeError{Msg: "not valid JSON: " + err.Error()}
	}
	o, err := v.Object()
	if err != nil {
		return &DecodeError{Msg: "not a JSON object (got " + v.Type().String() + ")"}
	}
	seen := row.seenProps(len(d.schema.Properties))
	d.prev = 0
	var derr error
	o.Visit(func(key []byte, v *fastjson.Value) {
		if derr != nil {
			return
		}
		pi := d.property(key)
		if pi < 0 {
			row.extras = appendExtra(row.extras, extrasRaw, string(key), v.MarshalTo(nil))
			return
		}
		if seen[pi] {
			derr = decodeErr(string(key), "duplicate property")
			return
		}
		seen[pi] = true
		prop := &d.schema.Properties[pi]
		if prop.Column != nil {
			derr = row.decodeCell(prop.Column, v)
		} else {
			derr = row.decodeObject(prop.Object, v)
		}
	})
	if derr != nil {
		return derr
	}
	row.markAbsent(d.schema.Properties, seen)
	if row.vals[colID.Index].state != stateValue {
		return decodeErr("id", "missing or null: every sign-in needs its request id")
	}
	if row.vals[colCreated.Index].state != stateValue {
		return decodeErr("createdDateTime", "missing or null")
	}
	if len(row.extras) > maxExtrasBytes {
		return &DecodeError{Msg: fmt.Sprintf("unknown properties exceed %d bytes", maxExtrasBytes)}
	}
	return nil
}

// property returns the index of the top-level property named key, or -1. The property that
// followed the last one found last time is tried before the map (follow).
func (d *Decoder) property(key []byte) int {
	if c := d.follow[d.prev]; c >= 0 && d.schema.Properties[c].Name == string(key) {
		d.prev = int(c) + 1
		return int(c)
	}
	i, ok := d.props[string(key)]
	if !ok {
		return -1
	}
	d.follow[d.prev] = int32(i)
	d.prev = i + 1
	return i
}

func (r *Row) seenProps(n int) []bool {
	if cap(r.seen) < n {
		r.seen = make([]bool, n)
	}
	r.seen = r.seen[:n]
	clear(r.seen)
	return r.seen
}

func (r *Row) decodeObject(o *Object, v *fastjson.Value) error {
	if v.Type() == fastjson.TypeNull {
		r.extras = appendExtra(r.extras, extrasNull, o.Name, nil)
		return nil
	}
	obj, err := v.Object()
	if err != nil {
		return decodeErr(o.Name, "expected an object or null, got %s", v.Type())
	}
	var seenBits uint64 // objects have fewer than 64 members
	var derr error
	obj.Visit(func(key []byte, mv *fastjson.Value) {
		if derr != nil {
			return
		}
		for i := range o.Members {
			m := &o.Members[i]
			if m.Name != string(key) {
				continue
			}
			if seenBits&(1<<i) != 0 {
				derr = decodeErr(o.Name+"/"+m.Name, "duplicate property")
				return
			}
			seenBits |= 1 << i
			if m.Column != nil {
				derr = r.decodeCell(m.Column, mv)
			} else {
				derr = r.decodeObject(m.Object, mv)
			}
			return
		}
		r.extras = appendExtra(r.extras, extrasRaw, o.Name+"/"+string(key), mv.MarshalTo(nil))
	})
	if derr != nil {
		return derr
	}
	r.markAbsentMembers(o, seenBits)
	return nil
}

// markAbsent notes in the extras each property of props the record lacks (seen false), so that
// export leaves it out rather than writing a null.
func (r *Row) markAbsent(props []Property, seen []bool) {
	for i, ok := range seen {
		if !ok {
			r.extras = appendExtra(r.extras, extrasAbsent, props[i].path(), nil)
		}
	}
}

// markAbsentMembers is markAbsent for an object's members (seenBits: bit i, member i seen).
func (r *Row) markAbsentMembers(o *Object, seenBits uint64) {
	for i := range o.Members {
		if seenBits&(1<<i) == 0 {
			r.extras = appendExtra(r.extras, extrasAbsent, o.Members[i].path(), nil)
		}
	}
}

// maxTime bounds createdDateTime to what int64 nanoseconds can hold.
var (
	minStoredTime = time.Unix(0, math.MinInt64).UTC()
	maxStoredTime = time.Unix(0, math.MaxInt64).UTC()
)

func (r *Row) decodeCell(c *Column, v *fastjson.Value) error {
	cell := &r.vals[c.Index]
	t := v.Type()
	if t == fastjson.TypeNull {
		cell.state = stateNull
		return nil
	}
	switch c.Kind {
	case KindDict, KindText:
		s, err := v.StringBytes()
		if err != nil {
			return decodeErr(c.Name, "expected a string, got %s", t)
		}
		*cell = val{state: stateValue, b: s}
	case KindGUID:
		s, err := v.StringBytes()
		if err != nil {
			return decodeErr(c.Name, "expected a GUID string, got %s", t)
		}
		g, ok, canonical := ParseGUID(s)
		if !ok {
			if c == colID {
				return decodeErr(c.Name, "%q is not a GUID", s)
			}
			// Not a GUID ("" in some non-interactive rows): keep the text verbatim, the typed
			// cell stays null.
			cell.state = stateNull
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v.MarshalTo(nil))
			return nil
		}
		start := len(r.buf)
		r.buf = append(r.buf, g[:]...)
		*cell = val{state: stateValue, b: r.buf[start : start+16 : start+16]}
		if !canonical {
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v.MarshalTo(nil))
		}
	case KindTime:
		s, err := v.StringBytes()
		if err != nil {
			return decodeErr(c.Name, "expected an ISO 8601 date-time string, got %s", t)
		}
		tm, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return decodeErr(c.Name, "%q is not an RFC 3339 date-time", s)
		}
		if tm.Before(minStoredTime) || tm.After(maxStoredTime) {
			return decodeErr(c.Name, "%q is outside the storable range (1678–2262)", s)
		}
		ns := tm.UnixNano()
		*cell = val{state: stateValue, i: ns}
		var tmp [40]byte
		if string(AppendTime(tmp[:0], ns)) != string(s) {
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v.MarshalTo(nil))
		}
	case KindInt32:
		if t != fastjson.TypeNumber {
			return decodeErr(c.Name, "expected an integer, got %s", t)
		}
		f, _ := v.Float64()
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return decodeErr(c.Name, "%s is not a 32-bit integer", v.String())
		}
		*cell = val{state: stateValue, i: int64(f)}
	case KindFloat64:
		if t != fastjson.TypeNumber {
			return decodeErr(c.Name, "expected a number, got %s", t)
		}
		f, _ := v.Float64()
		*cell = val{state: stateValue, f: f}
	case KindBool:
		switch t {
		case fastjson.TypeTrue:
			*cell = val{state: stateValue, i: 1}
		case fastjson.TypeFalse:
			*cell = val{state: stateValue, i: 0}
		default:
			return decodeErr(c.Name, "expected true or false, got %s", t)
		}
	case KindJSON, KindJSONDict:
		start := len(r.buf)
		r.buf = v.MarshalTo(r.buf)
		*cell = val{state: stateValue, b: r.buf[start:len(r.buf):len(r.buf)]}
	default:
		panic("BUG: decodeCell on kind " + c.Kind.String())
	}
	return nil
}

// AppendTime appends ns as Graph writes timestamps: RFC 3339 in UTC with "Z", fractional seconds
// only when non-zero and without trailing zeros.
func AppendTime(dst []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(dst, time.RFC3339Nano)
}

// IsDecodeError reports whether err is a per-record rejection (as opposed to an I/O failure).
func IsDecodeError(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}
