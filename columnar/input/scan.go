package input

import (
	"bytes"
	"fmt"
	"strconv"
)

// The scanner checks JSON structure just enough to find where a value ends:
// brackets, nesting depth, string boundaries and escapes, literals and number
// shape. It builds nothing and does not check escape contents, control
// characters or UTF-8 inside strings; the field decoder sees those.

// scanError is a framing failure at a stream offset.
type scanError struct {
	off int64
	msg string
	eof bool // the input ended inside the value
}

func (r *Reader) errHere(format string, args ...any) *scanError {
	return &scanError{off: r.abs(r.pos), msg: fmt.Sprintf(format, args...)}
}

func (r *Reader) errEOF(what string) *scanError {
	return &scanError{off: r.abs(r.pos), msg: "unexpected end of input " + what, eof: true}
}

// describe names a byte for error messages.
func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// scanString consumes a string; pos is at its opening quote. Strings are
// most of the bytes of a sign-in, so the search for the closing quote and
// for backslashes uses bytes.IndexByte (SIMD) rather than a byte loop.
func (r *Reader) scanString() *scanError {
	r.pos++
	i := r.pos
	// Most strings are short keys and enum values: a plain loop beats
	// the two IndexByte calls' setup cost for them.
	for b, lim := r.buf, min(len(r.buf), i+24); i < lim; i++ {
		if c := b[i]; c == '"' {
			r.pos = i + 1
			return nil
		} else if c == '\\' {
			break
		}
	}
	qa := -1 // index of the next quote at or after i, len(buf) if none buffered
	for {
		b := r.buf
		if qa < i {
			if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
				qa = i + q
			} else {
				qa = len(b)
			}
		}
		if e := bytes.IndexByte(b[i:qa], '\\'); e >= 0 {
			k := i + e
			if k+1 < len(b) {
				i = k + 2 // skip the escaped byte, whatever it is
				continue
			}
			r.pos = k // backslash is the last buffered byte: read on
			if !r.fill() {
				r.pos = len(r.buf)
				return r.errEOF("inside a string")
			}
			i, qa = r.pos, -1
			continue
		}
		if qa < len(b) {
			r.pos = qa + 1
			return nil
		}
		r.pos = len(b)
		if !r.fill() {
			return r.errEOF("inside a string")
		}
		i, qa = r.pos, -1
	}
}

// scanLiteral consumes true, false or null.
func (r *Reader) scanLiteral(lit string) *scanError {
	for j := 0; j < len(lit); j++ {
		c, ok := r.peek()
		if !ok {
			return r.errEOF("inside a literal")
		}
		if c != lit[j] {
			return r.errHere("invalid literal, expected %q", lit)
		}
		r.pos++
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits consumes a run of at least one decimal digit.
func (r *Reader) digits() *scanError {
	c, ok := r.peek()
	if !ok {
		return r.errEOF("inside a number")
	}
	if !isDigit(c) {
		return r.errHere("invalid number: expected a digit, found %s", describe(c))
	}
	for ok && isDigit(c) {
		r.pos++
		c, ok = r.peek()
	}
	return nil
}

// scanNumber consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *Reader) scanNumber() *scanError {
	c, _ := r.peek()
	if c == '-' {
		r.pos++
	}
	c, ok := r.peek()
	switch {
	case !ok:
		return r.errEOF("inside a number")
	case c == '0':
		r.pos++
	case isDigit(c):
		if e := r.digits(); e != nil {
			return e
		}
	default:
		return r.errHere("invalid number: expected a digit, found %s", describe(c))
	}
	if c, ok = r.peek(); ok && c == '.' {
		r.pos++
		if e := r.digits(); e != nil {
			return e
		}
	}
	if c, ok = r.peek(); ok && (c == 'e' || c == 'E') {
		r.pos++
		if c, ok = r.peek(); ok && (c == '+' || c == '-') {
			r.pos++
		}
		if e := r.digits(); e != nil {
			return e
		}
	}
	return nil
}

// scanColon consumes optional whitespace, a colon and optional whitespace.
func (r *Reader) scanColon() *scanError {
	c, ok := r.skipWS()
	if !ok {
		return r.errEOF("after an object key")
	}
	if c != ':' {
		return r.errHere("expected ':' after object key, found %s", describe(c))
	}
	r.pos++
	return nil
}

// scanKey consumes whitespace, a member name and its colon.
func (r *Reader) scanKey() *scanError {
	c, ok := r.skipWS()
	if !ok {
		return r.errEOF("inside an object")
	}
	if c != '"' {
		return r.errHere("expected a string key, found %s", describe(c))
	}
	if e := r.scanString(); e != nil {
		return e
	}
	return r.scanColon()
}

// skipValue consumes one JSON value (after optional whitespace). depth is
// the nesting level of the container holding the value, so that the depth
// limit applies to the whole record. Containers are tracked in a bit stack
// (bit set: array), which MaxDepth <= 64 makes fit in one word.
func (r *Reader) skipValue(depth int) *scanError {
	var stack uint64
	n := 0 // open containers
	for {
		c, ok := r.skipWS()
		if !ok {
			return r.errEOF("where a value was expected")
		}
		switch c {
		case '"':
			if e := r.scanString(); e != nil {
				return e
			}
		case '{', '[':
			if depth+n >= MaxDepth {
				return r.errHere("nesting deeper than %d levels", MaxDepth)
			}
			r.pos++
			closer := byte('}')
			if c == '[' {
				stack |= 1 << n
				closer = ']'
			} else {
				stack &^= 1 << n
			}
			n++
			c2, ok := r.skipWS()
			if !ok {
				return r.errEOF("inside a container")
			}
			if c2 == closer {
				r.pos++
				n--
				break
			}
			if c == '{' {
				if e := r.scanKey(); e != nil {
					return e
				}
			}
			continue
		case 't':
			if e := r.scanLiteral("true"); e != nil {
				return e
			}
		case 'f':
			if e := r.scanLiteral("false"); e != nil {
				return e
			}
		case 'n':
			if e := r.scanLiteral("null"); e != nil {
				return e
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if e := r.scanNumber(); e != nil {
				return e
			}
		default:
			return r.errHere("expected a value, found %s", describe(c))
		}
		// A value ended: close containers until one continues with a comma.
		for {
			if n == 0 {
				return nil
			}
			c, ok := r.skipWS()
			if !ok {
				return r.errEOF("inside a container")
			}
			isArr := stack>>(n-1)&1 == 1
			if c == ',' {
				r.pos++
				if !isArr {
					if e := r.scanKey(); e != nil {
						return e
					}
				}
				break
			}
			if isArr && c == ']' || !isArr && c == '}' {
				r.pos++
				n--
				continue
			}
			if isArr {
				return r.errHere("expected ',' or ']' after array element, found %s", describe(c))
			}
			return r.errHere("expected ',' or '}' after object member, found %s", describe(c))
		}
	}
}
