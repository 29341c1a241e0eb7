package input

import (
	"bytes"

	"github.com/authlake/authlake/internal/jsonscan"
)

// The fast framing path. Framing a record with the general scanner (scan.go, members.go) costs a
// function call or two per token and a buffer check per byte it peeks, because a value may run
// past what is buffered and a record past the size limit. Nearly every record of a real input is
// an object that is already buffered whole: the fast path frames it in one tight loop over the
// buffer, and gives up, leaving the position untouched, on anything it does not handle there
// (the end of the buffer, the size limit, a wrapper's record array, any syntax error). The
// general scanner then frames the record from its start, so what a record is, and every error
// and its position, is the general scanner's: the fast path only ever accepts what the general
// one accepts, ending where it ends and noting the same members (FuzzFastFraming compares them).

// fastObject frames the object starting at pos ('{') if the whole of it is buffered, within
// the size limit, and not a wrapper (root: a "value" or "records" member whose value is an
// array). On success pos is just past the object and r.cur notes its category, properties
// and TimeGenerated members as scanMembers would; on failure nothing has changed.
func (r *Reader) fastObject(root bool) bool {
	b := r.buf
	start := r.pos
	lim := len(b)
	if start+r.max < lim {
		lim = start + r.max // an object ending within the limit ends before start+max
	}
	var (
		stack    uint64 // bit k set: the container at level k+1 is an array; level 1 is the record
		level    = 1
		i        = start + 1
		kind     keyKind // of the member whose value comes next
		hasCat   bool
		category string
		la       bool
		hasProps bool
		propsAt  = -1 // offset of the properties object being scanned
		pStart   int
		pEnd     int
	)
	// Each iteration is at the start of an object's members: first is true right after its '{'.
	first := true
members:
	for {
		i = skipSpace(b, i, lim)
		if i >= lim {
			return false
		}
		if first && b[i] == '}' {
			i++
			goto closed
		}
		if b[i] != '"' {
			return false
		}
		{
			ks := i + 1
			if i = stringEnd(b, ks, lim); i < 0 {
				return false
			}
			kind = keyOther
			if level == 1 {
				kind = classifyKey(b[ks : i-1])
				if kind == keyTimeGenerated {
					la = true
				}
			}
		}
		i = skipSpace(b, i, lim)
		if i >= lim || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1, lim)
		if i >= lim {
			return false
		}
		if level == 1 {
			switch {
			case root && (kind == keyValue || kind == keyRecords) && b[i] == '[':
				return false // a wrapper: the general scanner streams its array
			case kind == keyCategory && b[i] == '"':
				e := stringEnd(b, i+1, lim)
				if e < 0 {
					return false
				}
				hasCat, category = true, internCategory(b[i+1:e-1])
				i = e
				goto after
			case kind == keyProperties && b[i] == '{':
				propsAt = i
			}
		}
	value: // a value starts at i
		switch c := b[i]; c {
		case '"':
			if i = stringEnd(b, i+1, lim); i < 0 {
				return false
			}
		case '{', '[':
			if level+1 >= MaxDepth {
				return false
			}
			if c == '[' {
				stack |= 1 << level
			} else {
				stack &^= 1 << level
			}
			level++
			i++
			if c == '{' {
				first = true
				continue members
			}
			i = skipSpace(b, i, lim)
			if i >= lim {
				return false
			}
			if b[i] == ']' {
				i++
				goto closed
			}
			goto value
		case 't':
			if !bytes.HasPrefix(b[i:lim], litTrue) {
				return false
			}
			i += len(litTrue)
		case 'f':
			if !bytes.HasPrefix(b[i:lim], litFalse) {
				return false
			}
			i += len(litFalse)
		case 'n':
			if !bytes.HasPrefix(b[i:lim], litNull) {
				return false
			}
			i += len(litNull)
		default:
			if i = numberEnd(b, i, lim); i < 0 {
				return false
			}
		}
	after: // a value ended at i: continue its container, or close it
		i = skipSpace(b, i, lim)
		if i >= lim {
			return false
		}
		switch c, isArr := b[i], stack>>(level-1)&1 == 1; {
		case c == ',':
			i = skipSpace(b, i+1, lim)
			if i >= lim {
				return false
			}
			if isArr {
				goto value
			}
			first = false
			continue members
		case c == '}' && !isArr, c == ']' && isArr:
			i++
			goto closed
		default:
			return false
		}
	closed: // the container at level closed just before i
		level--
		if level == 1 && propsAt >= 0 {
			hasProps, pStart, pEnd, propsAt = true, propsAt, i, -1
		}
		if level > 0 {
			goto after
		}
		break
	}
	r.pos = i
	if hasCat {
		r.cur.hasCat, r.cur.category = true, category
	}
	if la {
		r.cur.laColumn = true
	}
	if hasProps {
		r.cur.hasProps, r.cur.propsStart, r.cur.propsEnd = true, r.abs(pStart), r.abs(pEnd)
	}
	return true
}

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace
// (lim if none before lim).
func skipSpace(b []byte, i, lim int) int {
	for i < lim {
		switch b[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return lim
}

// stringEnd returns the index just past the closing quote of the string whose contents start
// at i, or -1 if it does not close before lim. As scanString, an escape skips the byte after
// the backslash whatever it is; contents are the field decoder's to check.
func stringEnd(b []byte, i, lim int) int {
	end, _ := jsonscan.StringEnd(b, i, lim)
	return end
}

// numberEnd returns the index just past the number starting at i, which must match
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, or -1.
func numberEnd(b []byte, i, lim int) int {
	if i < lim && b[i] == '-' {
		i++
	}
	switch {
	case i >= lim:
		return -1
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i < lim && isDigit(b[i]) {
			i++
		}
	default:
		return -1
	}
	if i < lim && b[i] == '.' {
		i++
		if i >= lim || !isDigit(b[i]) {
			return -1
		}
		for i < lim && isDigit(b[i]) {
			i++
		}
	}
	if i < lim && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < lim && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= lim || !isDigit(b[i]) {
			return -1
		}
		for i < lim && isDigit(b[i]) {
			i++
		}
	}
	if i >= lim {
		return -1 // a number at the limit may go on in unbuffered input
	}
	return i
}

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
	litNull  = []byte("null")
)
