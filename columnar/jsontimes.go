package columnar

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/authlake/authlake/internal/utctime"
)

// JSON with times relative to the row's (encJSONTimes, version 7). A JSON column the schema
// declares to spell its row's time (Column.Times: authenticationDetails, whose every step
// repeats the sign-in's createdDateTime as authenticationStepDateTime) stores each block as a
// block dictionary (blockdict.go) of templates: a value's string literals that are a time (RFC 3339 in UTC, "Z", 0 to 9
// fraction digits, exactly as this code formats it) become marks, "\x01" k [±Δ], the time being
// the row's own plus Δ nanoseconds with k fraction digits. The row's value is then mostly one
// of a few templates, where as text each was unique to its second: 10.7 of the database's
// 100.6 B/event on one generated day (docs/format/segment.md, "Block dictionaries").
//
// A block whose text holds a byte 0x01 (which valid JSON never does) keeps the plain encoding:
// a mark must be unambiguous.

const timeMarkByte = 0x01

// appendTimesTemplate appends v with each string literal that spells a time as a mark
// relative to rowTime (the literal's quotes kept). v is compact JSON; what is not is copied as
// it is, which is still exact.
func appendTimesTemplate(dst, v []byte, rowTime int64) []byte {
	if !utctime.InRange(rowTime) {
		return append(dst, v...)
	}
	last := 0
	eachString(v, func(start, end int) {
		t, k, ok := utctime.Parse(v[start:end])
		if !ok {
			return
		}
		dst = append(dst, v[last:start]...)
		dst = append(dst, timeMarkByte, '0'+byte(k))
		if d := t - rowTime; d != 0 {
			if d > 0 {
				dst = append(dst, '+')
			}
			dst = strconv.AppendInt(dst, d, 10)
		}
		last = end
	})
	return append(dst, v[last:]...)
}

// eachString calls fn with the bounds of each string literal's content in JSON text v, quotes
// excluded, in order; it stops at an unterminated literal.
func eachString(v []byte, fn func(start, end int)) {
	for i := 0; i < len(v); {
		q := bytes.IndexByte(v[i:], '"')
		if q < 0 {
			return
		}
		start := i + q + 1
		end := start
		for end < len(v) && v[end] != '"' {
			if v[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(v) {
			return
		}
		fn(start, end)
		i = end + 1
	}
}

// spellsTime reports whether template t has a string literal a row with a time would have
// had as a mark.
func spellsTime(t []byte) bool {
	found := false
	eachString(t, func(start, end int) {
		if _, _, ok := utctime.Parse(t[start:end]); ok {
			found = true
		}
	})
	return found
}

// A template parsed for expansion: literal text and marks, alternately.
type timesTemplate struct {
	lits  [][]byte // len(marks)+1 pieces
	marks []timeMark
	size  int // the expanded value's length, the same for every row
}

type timeMark struct {
	k     int   // fraction digits
	delta int64 // nanoseconds after the row's time
}

// parseTimesTemplate splits template t at its marks, each of which must be a whole string
// literal's content as eachString finds them (where the writer put it): 0x01, a digit, and
// optionally a sign and decimal digits.
func parseTimesTemplate(t []byte) (timesTemplate, error) {
	var (
		p    timesTemplate
		last int
		err  error
	)
	eachString(t, func(start, end int) {
		if err != nil || start == end || t[start] != timeMarkByte {
			return
		}
		spec := t[start+1 : end]
		if len(spec) == 0 || spec[0] < '0' || spec[0] > '9' {
			err = fmt.Errorf("time mark at byte %d has no fraction digits", start)
			return
		}
		mk := timeMark{k: int(spec[0] - '0')}
		if len(spec) > 1 {
			d, perr := strconv.ParseInt(string(spec[1:]), 10, 64)
			// One spelling: a sign, no leading zeros, no zero offset.
			if perr != nil || d == 0 || (spec[1] != '+' && spec[1] != '-') || spec[2] == '0' {
				err = fmt.Errorf("time mark at byte %d has offset %q", start, spec[1:])
				return
			}
			mk.delta = d
		}
		p.lits = append(p.lits, t[last:start])
		p.marks = append(p.marks, mk)
		p.size += start - last + utctime.Len(mk.k)
		last = end
	})
	if err != nil {
		return p, err
	}
	if n := bytes.Count(t, []byte{timeMarkByte}); n != len(p.marks) {
		return p, fmt.Errorf("%d of its %d time marks are not a string's whole content", n-len(p.marks), n)
	}
	p.lits = append(p.lits, t[last:])
	p.size += len(t) - last
	return p, nil
}
