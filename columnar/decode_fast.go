package columnar

import (
	"errors"
	"math"
	"unsafe"

	"github.com/valyala/fastjson/fastfloat"

	"github.com/authlake/authlake/internal/jsonscan"
	"github.com/authlake/authlake/internal/utctime"
)

// The fast decoding path. Decoding through fastjson builds a value tree of the whole record and
// then walks it (a quarter of ingest's CPU). Nearly every record is compact JSON whose
// properties' own strings hold no escapes: the fast path reads such a record in one pass over
// its bytes, straight into the row, and gives up on anything else (an escape in a property's
// string or name, whitespace inside a stored JSON value, a control character in a GUID or a
// time, a number or literal outside JSON's grammar, a duplicate property, any value decodeCell
// would refuse, a missing id). The record is then decoded again through fastjson from its
// start, so every rejection and its reason, and every byte stored, is the general path's: the
// fast path only ever accepts what fastjson's accepts and stores what it stores
// (TestFastDecodeMatchesGeneral and FuzzFastDecode compare the two). Stored JSON values are the
// record's own bytes, which is what fastjson writes back for them when they are compact (a
// string or number fastjson has not unescaped or parsed is written as it was read, escapes and
// control characters included).

// errSlowPath says the fast path leaves the record to fastjson.
var errSlowPath = errors.New("columnar: record left to the general decoder")

// maxFastDepth bounds the nesting the fast path follows; deeper values go the general way.
// Sign-ins nest about 4 levels. It is well within the framing limit (input.MaxDepth, 64 levels
// counting the record), so that what DecodeLine takes is a record the Reader would frame.
const maxFastDepth = 32

// DecodeLine decodes raw, a record framed by its line alone (input.Options.Lines), into row if
// the fast path takes it whole: one JSON object, compact as the fast path wants it, whose
// unknown top-level members' names framed does not claim. It reports false otherwise, row then
// in no particular state: the record must be framed by a JSON scanner to learn what it holds.
// What it takes, it decodes as Decode would.
func (d *Decoder) DecodeLine(raw []byte, row *Row, framed func(name []byte) bool) bool {
	return d.decodeFast(sanitize(raw, &d.fix), row, framed) == nil
}

// decodeFast decodes raw into row or returns errSlowPath (row is then in no particular state).
// A top-level member name that is not a property and that refuse (if not nil) claims is left
// to the general path too.
func (d *Decoder) decodeFast(raw []byte, row *Row, refuse func(name []byte) bool) error {
	row.reset()
	seen := row.seenProps(len(d.schema.Properties))
	d.prev = 0
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errSlowPath
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			var key []byte
			var pi, vs int
			if c := d.follow[d.prev]; c >= 0 && hasKeyAt(raw, i, d.schema.Properties[c].key()) {
				// The predicted property, its quoted name and colon compared whole: no search
				// for the name's end, no lookup.
				pi, d.prev = int(c), int(c)+1
				k := d.schema.Properties[c].key()
				key = raw[i+1 : i+len(k)-2]
				vs = skipSpace(raw, i+len(k))
			} else {
				ks, ke, ok := plainString(raw, i)
				if !ok {
					return errSlowPath
				}
				key = raw[ks:ke]
				i = skipSpace(raw, ke+1)
				if i >= len(raw) || raw[i] != ':' {
					return errSlowPath
				}
				vs = skipSpace(raw, i+1)
				pi = d.property(key)
			}
			ve, ok := compactValueEnd(raw, vs, 1)
			if !ok {
				return errSlowPath
			}
			v := raw[vs:ve]
			if pi < 0 && refuse != nil && refuse(key) {
				return errSlowPath
			}
			if pi < 0 {
				row.extras = appendExtra(row.extras, extrasRaw, string(key), v)
			} else {
				if seen[pi] {
					return errSlowPath
				}
				seen[pi] = true
				prop := &d.schema.Properties[pi]
				// v, if a string, holds no escape: compactValueEnd refuses one at depth 1.
				if err := row.decodeValueFast(prop.Column, prop.Object, v, false); err != nil {
					return err
				}
			}
			i = skipSpace(raw, ve)
			if i < len(raw) && raw[i] == ',' {
				i = skipSpace(raw, i+1)
				continue
			}
			if i < len(raw) && raw[i] == '}' {
				i++
				break
			}
			return errSlowPath
		}
	}
	if skipSpace(raw, i) != len(raw) {
		return errSlowPath
	}
	row.markAbsent(d.schema.Properties, seen)
	if row.vals[colID.Index].state != stateValue || row.vals[colCreated.Index].state != stateValue || len(row.extras) > maxExtrasBytes {
		return errSlowPath // the general path says why
	}
	return nil
}

// decodeValueFast decodes a property's or member's value v into its column c or, when c is nil,
// its flattened object o. escaped says whether v, if a string, holds an escape.
func (r *Row) decodeValueFast(c *Column, o *Object, v []byte, escaped bool) error {
	if c != nil {
		return r.decodeCellFast(c, v, escaped)
	}
	return r.decodeObjectFast(o, v)
}

// decodeObjectFast is decodeObject for a compact value v (compactValueEnd accepted it).
func (r *Row) decodeObjectFast(o *Object, v []byte) error {
	if string(v) == "null" {
		r.extras = appendExtra(r.extras, extrasNull, o.Name, nil)
		return nil
	}
	if v[0] != '{' {
		return errSlowPath
	}
	var seenBits uint64 // objects have fewer than 64 members
	if string(v) != "{}" {
		next := 0 // the member predicted: the one after the last found, as sources keep an order
		for i := 1; ; {
			var key []byte
			var vs int
			mi := -1
			if next < len(o.Members) && hasKeyAt(v, i, o.Members[next].key()) {
				mi = next
				vs = i + len(o.Members[mi].key())
				key = v[i+1 : vs-2]
			} else {
				ks, ke, ok := plainString(v, i)
				if !ok {
					return errSlowPath // an escaped name: fastjson's to compare
				}
				key = v[ks:ke]
				vs = ke + 2 // past '":'
				for j := range o.Members {
					if o.Members[j].Name == string(key) {
						mi = j
						break
					}
				}
			}
			ve, escaped, ok := memberEnd(v, vs)
			if !ok {
				return errSlowPath
			}
			mv := v[vs:ve]
			if mi >= 0 {
				m := &o.Members[mi]
				if seenBits&(1<<mi) != 0 {
					return errSlowPath
				}
				seenBits |= 1 << mi
				if err := r.decodeValueFast(m.Column, m.Object, mv, escaped); err != nil {
					return err
				}
				next = mi + 1
			} else {
				r.extras = appendExtra(r.extras, extrasRaw, o.Name+"/"+string(key), mv)
			}
			if v[ve] == '}' {
				break
			}
			i = ve + 1 // past ','
		}
	}
	r.markAbsentMembers(o, seenBits)
	return nil
}

// decodeCellFast is decodeCell for a compact value v; errSlowPath wherever decodeCell would
// refuse v or the fast path cannot tell what it would store. escaped says whether v, if a
// string, holds an escape (its caller found its end).
func (r *Row) decodeCellFast(c *Column, v []byte, escaped bool) error {
	cell := &r.vals[c.Index]
	if string(v) == "null" {
		cell.state = stateNull
		return nil
	}
	str := v[0] == '"'
	if str && escaped {
		return errSlowPath // a string with escapes: stored unescaped, fastjson's to unescape
	}
	if str && (c.Kind == KindGUID || c.Kind == KindTime) && hasControl(v) {
		return errSlowPath // kept as JSON text when not canonical: fastjson would escape them
	}
	switch c.Kind {
	case KindDict, KindText:
		if !str {
			return errSlowPath
		}
		*cell = val{state: stateValue, b: v[1 : len(v)-1]}
	case KindGUID:
		if !str {
			return errSlowPath
		}
		g, ok, canonical := ParseGUID(v[1 : len(v)-1])
		if !ok {
			if c == colID {
				return errSlowPath
			}
			cell.state = stateNull
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v)
			return nil
		}
		start := len(r.buf)
		r.buf = append(r.buf, g[:]...)
		*cell = val{state: stateValue, b: r.buf[start : start+16 : start+16]}
		if !canonical {
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v)
		}
	case KindTime:
		if !str {
			return errSlowPath
		}
		s := v[1 : len(v)-1]
		ns, _, ok := utctime.Parse(s)
		if !ok {
			return errSlowPath // an offset, a leap second, ...: time.Parse's to judge
		}
		*cell = val{state: stateValue, i: ns}
		var tmp [40]byte
		if string(AppendTime(tmp[:0], ns)) != string(s) {
			r.extras = appendExtra(r.extras, extrasRaw, c.Name, v)
		}
	case KindInt32, KindFloat64:
		if str || v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' {
			return errSlowPath
		}
		f, err := fastfloat.Parse(unsafe.String(unsafe.SliceData(v), len(v)))
		if err != nil {
			return errSlowPath
		}
		if c.Kind == KindFloat64 {
			*cell = val{state: stateValue, f: f}
			break
		}
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return errSlowPath
		}
		*cell = val{state: stateValue, i: int64(f)}
	case KindBool:
		switch string(v) {
		case "true":
			*cell = val{state: stateValue, i: 1}
		case "false":
			*cell = val{state: stateValue, i: 0}
		default:
			return errSlowPath
		}
	case KindJSON, KindJSONDict:
		start := len(r.buf)
		r.buf = append(r.buf, v...)
		*cell = val{state: stateValue, b: r.buf[start:len(r.buf):len(r.buf)]}
	default:
		panic("BUG: decodeCellFast on kind " + c.Kind.String())
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// hasKeyAt says whether b holds key, a member's quoted name and colon, at i.
func hasKeyAt(b []byte, i int, key []byte) bool {
	return len(b)-i >= len(key) && string(b[i:i+len(key)]) == string(key)
}

// plainString finds the string starting at b[i] ('"'): its content is b[s:e], e the closing
// quote. ok false: no string there, or one with an escape.
func plainString(b []byte, i int) (s, e int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false
	}
	end, escaped := jsonscan.StringEnd(b, i+1, len(b))
	if end < 0 || escaped {
		return 0, 0, false
	}
	return i + 1, end - 1, true
}

// memberEnd is compactValueEnd for the value at b[i] of a member of an object that
// compactValueEnd accepted whole, which also says whether a string value holds an escape.
func memberEnd(b []byte, i int) (end int, escaped, ok bool) {
	if i < len(b) && b[i] == '"' {
		end, escaped = jsonscan.StringEnd(b, i+1, len(b))
		return end, escaped, end >= 0
	}
	end, ok = compactValueEnd(b, i, 2)
	return end, false, ok
}

// compactValueEnd returns the end of the JSON value at b[i] if it is one the fast path stores
// as its own bytes: no whitespace inside a container, no escape in a string that is the value
// itself (depth 1: a cell's, stored unescaped; fastjson
// writes a string inside a container back as it read it), numbers and literals as JSON spells
// them, at most maxFastDepth deep.
func compactValueEnd(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; c {
	case '"':
		if depth > 1 {
			return rawStringEnd(b, i)
		}
		_, e, ok := plainString(b, i)
		return e + 1, ok
	case '{', '[':
		if depth > maxFastDepth {
			return 0, false
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		i++
		if i < len(b) && b[i] == close {
			return i + 1, true
		}
		for {
			if c == '{' {
				e, ok := rawStringEnd(b, i)
				if !ok || e >= len(b) || b[e] != ':' {
					return 0, false
				}
				i = e + 1
			}
			e, ok := compactValueEnd(b, i, depth+1)
			if !ok || e >= len(b) {
				return 0, false
			}
			switch b[e] {
			case ',':
				i = e + 1
			case close:
				return e + 1, true
			default:
				return 0, false
			}
		}
	case 't':
		return literalEnd(b, i, "true")
	case 'f':
		return literalEnd(b, i, "false")
	case 'n':
		return literalEnd(b, i, "null")
	default:
		return numberEnd(b, i)
	}
}

// rawStringEnd returns the end of the string at b[i] ('"'), escapes skipped as fastjson skips
// them.
func rawStringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	end, _ := jsonscan.StringEnd(b, i+1, len(b))
	return end, end >= 0
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

func literalEnd(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// numberEnd returns the end of a number spelled -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// at b[i].
func numberEnd(b []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
