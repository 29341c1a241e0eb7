package columnar

import (
	"bytes"
	"fmt"
	"strconv"
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
	if !timeInRange(rowTime) {
		return append(dst, v...)
	}
	last := 0
	eachString(v, func(start, end int) {
		t, k, ok := parseUTC(v[start:end])
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
		if _, _, ok := parseUTC(t[start:end]); ok {
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
		p.size += start - last + utcLen(mk.k)
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

// Times a mark can spell: those whose nanoseconds since 1970 fit an int64 and whose year has
// four digits, years 1678 to 2261.
const (
	minMarkNanos = -9_214_560_000_000_000_000 // 1678-01-01T00:00:00Z
	maxMarkNanos = 9_214_646_399_999_999_999  // 2261-12-31T23:59:59.999999999Z
)

func timeInRange(ns int64) bool { return ns >= minMarkNanos && ns <= maxMarkNanos }

// addTime returns t+d when both it and t are times a mark can spell.
func addTime(t, d int64) (int64, bool) {
	s := t + d
	if !timeInRange(t) || (d > 0 && s < t) || (d < 0 && s > t) || !timeInRange(s) {
		return 0, false
	}
	return s, true
}

// fracUnit[k] is the nanoseconds of the last of k fraction digits.
var fracUnit = [10]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1}

// utcLen is the length of a time appendUTC writes with k fraction digits.
func utcLen(k int) int {
	if k == 0 {
		return 20
	}
	return 21 + k
}

const nanosPerDay = 86_400_000_000_000

// appendUTC appends ns (within timeInRange) as RFC 3339 in UTC with exactly k fraction digits
// and "Z": what time.Time.Format gives with the layout "2006-01-02T15:04:05.000…Z" (k zeros).
func appendUTC(dst []byte, ns int64, k int) []byte {
	var w utcWriter
	return w.append(dst, ns, k)
}

// utcWriter writes times as appendUTC does, remembering the last day's date (a mark is expanded
// in every row of every block a query shows, and a block's rows are mostly of one day).
type utcWriter struct {
	day  int64
	date [11]byte // "YYYY-MM-DDT" of day
	set  bool
}

func (w *utcWriter) append(dst []byte, ns int64, k int) []byte {
	days := ns / nanosPerDay
	rem := ns % nanosPerDay
	if rem < 0 {
		rem += nanosPerDay
		days--
	}
	var b [30]byte
	put2 := func(at int, v int64) { b[at], b[at+1] = byte('0'+v/10), byte('0'+v%10) }
	if !w.set || days != w.day {
		y, m, d := civilFromDays(days)
		put2(0, y/100)
		put2(2, y%100)
		b[4] = '-'
		put2(5, m)
		b[7] = '-'
		put2(8, d)
		b[10] = 'T'
		copy(w.date[:], b[:11])
		w.day, w.set = days, true
	} else {
		copy(b[:11], w.date[:])
	}
	sec := rem / 1e9
	frac := rem % 1e9
	put2(11, sec/3600)
	b[13] = ':'
	put2(14, sec/60%60)
	b[16] = ':'
	put2(17, sec%60)
	n := 19
	if k > 0 {
		b[19] = '.'
		for i := 8; i >= 0; i-- {
			if i < k {
				b[20+i] = byte('0' + frac%10)
			}
			frac /= 10
		}
		n = 20 + k
	}
	b[n] = 'Z'
	return append(dst, b[:n+1]...)
}

// parseUTC reads s as a time appendUTC writes: its nanoseconds and fraction digits. ok false:
// it is not one (any other spelling of a time included: an offset, a lowercase letter, a leap
// second, a day the month lacks, a year outside timeInRange).
func parseUTC(s []byte) (ns int64, k int, ok bool) {
	if len(s) != 20 && (len(s) < 22 || len(s) > 30) || s[len(s)-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, 0, false
	}
	num := func(lo, hi int) (int64, bool) {
		var v int64
		for _, c := range s[lo:hi] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	se, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59 {
		return 0, 0, false
	}
	var frac int64
	if len(s) > 20 {
		if s[19] != '.' {
			return 0, 0, false
		}
		k = len(s) - 21
		f, okf := num(20, 20+k)
		if !okf {
			return 0, 0, false
		}
		for i := k; i < 9; i++ {
			f *= 10
		}
		frac = f
	}
	ns = daysFromCivil(y, mo, d)*nanosPerDay + (h*3600+mi*60+se)*1e9 + frac
	return ns, k, timeInRange(ns)
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil and civilFromDays convert between proleptic Gregorian dates and days since
// 1970-01-01 (Howard Hinnant's algorithms, "chrono-Compatible Low-Level Date Algorithms").
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
