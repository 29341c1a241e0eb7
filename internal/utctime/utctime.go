// Package utctime writes and reads times as RFC 3339 in UTC with "Z" and a fixed number of
// fraction digits, exactly as time.Time.Format does with the layout "2006-01-02T15:04:05.000…Z",
// without time.Time: the segment format's JSON times (package columnar) expand one per step
// of every row a query shows, and the benchmark generator writes one per field of every event.
package utctime

// The times this package spells: those whose nanoseconds since 1970 fit an int64 and whose
// year has four digits, years 1678 to 2261.
const (
	MinNanos = -9_214_560_000_000_000_000 // 1678-01-01T00:00:00Z
	MaxNanos = 9_214_646_399_999_999_999  // 2261-12-31T23:59:59.999999999Z
)

// InRange reports whether ns is a time this package spells.
func InRange(ns int64) bool { return ns >= MinNanos && ns <= MaxNanos }

// Add returns t+d when both it and t are InRange.
func Add(t, d int64) (int64, bool) {
	s := t + d
	if !InRange(t) || (d > 0 && s < t) || (d < 0 && s > t) || !InRange(s) {
		return 0, false
	}
	return s, true
}

// FracUnit[k] is the nanoseconds of the last of k fraction digits.
var FracUnit = [10]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1}

// Len is the length of a time Append writes with k fraction digits.
func Len(k int) int {
	if k == 0 {
		return 20
	}
	return 21 + k
}

// NanosPerDay is the nanoseconds of a UTC day (no leap seconds, as Unix time).
const NanosPerDay = 86_400_000_000_000

// Append appends ns (within InRange) as RFC 3339 in UTC with exactly k fraction digits
// and "Z": what time.Time.Format gives with the layout "2006-01-02T15:04:05.000…Z" (k zeros).
func Append(dst []byte, ns int64, k int) []byte {
	var w Writer
	return w.Append(dst, ns, k)
}

// Writer writes times as Append does, remembering the last day's date (a mark is expanded
// in every row of every block a query shows, and a block's rows are mostly of one day).
type Writer struct {
	day  int64
	date [11]byte // "YYYY-MM-DDT" of day
	set  bool
}

func (w *Writer) Append(dst []byte, ns int64, k int) []byte {
	days := ns / NanosPerDay
	rem := ns % NanosPerDay
	if rem < 0 {
		rem += NanosPerDay
		days--
	}
	var b [30]byte
	put2 := func(at int, v int64) { b[at], b[at+1] = byte('0'+v/10), byte('0'+v%10) }
	if !w.set || days != w.day {
		y, m, d := CivilFromDays(days)
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

// Parse reads s as a time Append writes: its nanoseconds and fraction digits. ok false:
// it is not one (any other spelling of a time included: an offset, a lowercase letter, a leap
// second, a day the month lacks, a year outside InRange).
func Parse(s []byte) (ns int64, k int, ok bool) {
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
	ns = DaysFromCivil(y, mo, d)*NanosPerDay + (h*3600+mi*60+se)*1e9 + frac
	return ns, k, InRange(ns)
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

// DaysFromCivil and CivilFromDays convert between proleptic Gregorian dates and days since
// 1970-01-01 (Howard Hinnant's algorithms, "chrono-Compatible Low-Level Date Algorithms").
func DaysFromCivil(y, m, d int64) int64 {
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

func CivilFromDays(z int64) (y, m, d int64) {
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
