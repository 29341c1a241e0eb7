package input

// recordState is what the scan of one record object learned about it.
type recordState struct {
	overflow   bool   // exceeded the size limit; only trunc is kept
	trunc      []byte // prefix of an overflowed record, for the rejects file
	held       bool   // the complete record was copied to Reader.hold
	hasCat     bool
	category   string
	laColumn   bool // a top-level TimeGenerated member: maybe a Log Analytics row
	hasProps   bool
	propsStart int64
	propsEnd   int64
}

func (s *recordState) reset() {
	trunc := s.trunc[:0]
	*s = recordState{trunc: trunc}
}

// keyKind classifies the top-level member names that matter for framing.
type keyKind uint8

const (
	keyOther keyKind = iota
	keyValue
	keyRecords
	keyCategory
	keyProperties
	keyTimeGenerated
)

func classifyKey(k []byte) keyKind {
	switch len(k) { // length first: most sign-in keys are rejected here
	case 5:
		if string(k) == "value" {
			return keyValue
		}
	case 7:
		if string(k) == "records" {
			return keyRecords
		}
	case 8:
		if string(k) == "category" {
			return keyCategory
		}
	case 10:
		if string(k) == "properties" {
			return keyProperties
		}
	case 13:
		if string(k) == "TimeGenerated" {
			return keyTimeGenerated
		}
	}
	return keyOther
}

// scanSpan scans a string keeping it buffered even while the record itself
// is not (after an overflow), and returns its contents, or nil if it was too
// long to keep.
func (r *Reader) scanSpan() ([]byte, *scanError) {
	start := r.abs(r.pos)
	tmp := r.mark < 0
	if tmp {
		r.mark = start
	}
	e := r.scanString()
	if tmp {
		r.mark = -1
	}
	if e != nil || start < r.base {
		return nil, e
	}
	return r.buf[r.rel(start)+1 : r.pos-1], nil
}

// scanMembers scans the members of an object whose '{' has been consumed,
// noting "category" and "properties". At the top level (root) it stops as
// soon as a "value" or "records" member turns out to be an array and
// reports a wrapper, with pos at the '['; the members before are dropped
// and the array is streamed element by element.
func (r *Reader) scanMembers(root bool) (wrapper bool, _ *scanError) {
	c, ok := r.skipWS()
	if !ok {
		return false, r.errEOF("inside an object")
	}
	if c == '}' {
		r.pos++
		return false, nil
	}
	for {
		if c != '"' {
			return false, r.errHere("expected a string key, found %s", describe(c))
		}
		key, e := r.scanSpan()
		if e != nil {
			return false, e
		}
		kind := classifyKey(key)
		if kind == keyTimeGenerated {
			r.cur.laColumn = true
		}
		if e := r.scanColon(); e != nil {
			return false, e
		}
		c, ok = r.skipWS()
		if !ok {
			return false, r.errEOF("where a value was expected")
		}
		switch {
		case root && (kind == keyValue || kind == keyRecords) && c == '[':
			return true, nil
		case kind == keyCategory && c == '"':
			v, e := r.scanSpan()
			if e != nil {
				return false, e
			}
			r.cur.hasCat = v != nil
			r.cur.category = internCategory(v)
		case kind == keyProperties && c == '{':
			r.cur.propsStart = r.abs(r.pos)
			if e := r.skipValue(1); e != nil {
				return false, e
			}
			r.cur.propsEnd = r.abs(r.pos)
			r.cur.hasProps = true
		default:
			if e := r.skipValue(1); e != nil {
				return false, e
			}
		}
		c, ok = r.skipWS()
		if !ok {
			return false, r.errEOF("inside an object")
		}
		switch c {
		case ',':
			r.pos++
			if c, ok = r.skipWS(); !ok {
				return false, r.errEOF("inside an object")
			}
		case '}':
			r.pos++
			return false, nil
		default:
			return false, r.errHere("expected ',' or '}' after object member, found %s", describe(c))
		}
	}
}
