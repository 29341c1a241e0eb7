package syntax

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// unquote removes the surrounding single quotes of an OData string and turns
// each doubled quote into one. participle's Unquote cannot be used: it applies
// Go escape rules, which OData does not have.
func unquote(raw string) string {
	inner := raw[1 : len(raw)-1]
	if !strings.Contains(inner, "''") {
		return inner
	}
	return strings.ReplaceAll(inner, "''", "'")
}

// quote is the inverse of unquote.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// numberLiteral classifies and converts a Number token (optionally with a
// sign already prepended by the caller when folding a unary minus).
func numberLiteral(text string, at Pos) (*Literal, string) {
	lit := &Literal{Raw: text, At: at}
	body := strings.TrimPrefix(text, "+")
	switch strings.TrimPrefix(body, "-") {
	case "INF":
		lit.Kind, lit.Float = LitDouble, math.Inf(1)
		if body[0] == '-' {
			lit.Float = math.Inf(-1)
		}
		return lit, ""
	case "NaN":
		lit.Kind, lit.Float = LitDouble, math.NaN()
		return lit, ""
	}
	if !strings.ContainsAny(body, ".eE") {
		if v, err := strconv.ParseInt(body, 10, 64); err == nil {
			lit.Kind, lit.Int, lit.Float = LitInt, v, float64(v)
			return lit, ""
		}
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil && !isRangeErr(err) {
		return nil, "invalid number " + text
	}
	if strings.ContainsAny(body, "eE") {
		if math.IsInf(f, 0) {
			return nil, "number " + text + " is out of range for a double"
		}
		lit.Kind, lit.Float = LitDouble, f
		return lit, ""
	}
	lit.Kind, lit.Float, lit.Decimal = LitDecimal, f, canonicalDecimal(body)
	return lit, ""
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// canonicalDecimal drops a leading '+', redundant leading zeros of the
// integer part and trailing zeros of the fraction (keeping one digit), so that
// 05.50 and 5.5 print the same. A decimal without a fraction (an integer too
// large for int64) gains ".0" so that it re-parses as a decimal.
func canonicalDecimal(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	ip, fp, _ := strings.Cut(s, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	fp = strings.TrimRight(fp, "0")
	if fp == "" {
		fp = "0"
	}
	if neg && (ip != "0" || fp != "0") {
		return "-" + ip + "." + fp
	}
	return ip + "." + fp
}

// digits parses s[i:i+n] as a decimal number; ok is false on a non-digit.
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDate parses `YYYY-MM-DD` (the lexer guaranteed the shape, but not the
// ranges). Years outside 0000..9999 are rejected: time.Time and RFC 3339 both
// stop there and no sign-in is that old.
func parseDate(s string) (time.Time, string) {
	if len(s) != 10 || s[0] == '-' {
		return time.Time{}, "year out of supported range 0000..9999 in " + s
	}
	y, _ := digits(s, 0, 4)
	m, _ := digits(s, 5, 2)
	d, _ := digits(s, 8, 2)
	if m < 1 || m > 12 {
		return time.Time{}, "month out of range in " + s
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if d < 1 || t.Day() != d {
		return time.Time{}, "day out of range in " + s
	}
	return t, ""
}

// parseTimeOfDay parses `hh:mm[:ss[.fffffffff]]` into time since midnight.
// Fractions beyond nanoseconds (the ABNF allows 12 digits) are truncated.
func parseTimeOfDay(s string) (time.Duration, string) {
	h, _ := digits(s, 0, 2)
	m, _ := digits(s, 3, 2)
	if h > 23 || m > 59 {
		return 0, "time of day out of range in " + s
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if len(s) > 5 {
		sec, _ := digits(s, 6, 2)
		if sec > 59 {
			return 0, "seconds out of range in " + s
		}
		d += time.Duration(sec) * time.Second
		if len(s) > 8 {
			frac := s[9:]
			if len(frac) > 12 {
				return 0, "more than 12 fractional second digits in " + s
			}
			frac = (frac + "000000000")[:9]
			ns, _ := digits(frac, 0, 9)
			d += time.Duration(ns)
		}
	}
	return d, ""
}

// parseDateTimeOffset parses date 'T' timeOfDay ('Z' / ±hh:mm).
func parseDateTimeOffset(s string) (time.Time, int, string) {
	tpos := strings.IndexAny(s[1:], "Tt") + 1
	date, msg := parseDate(s[:tpos])
	if msg != "" {
		return time.Time{}, 0, msg
	}
	rest := s[tpos+1:]
	offMin := 0
	if last := rest[len(rest)-1]; last == 'Z' || last == 'z' {
		rest = rest[:len(rest)-1]
	} else {
		off := rest[len(rest)-6:]
		rest = rest[:len(rest)-6]
		oh, _ := digits(off, 1, 2)
		om, _ := digits(off, 4, 2)
		if oh > 23 || om > 59 {
			return time.Time{}, 0, "time zone offset out of range in " + s
		}
		offMin = oh*60 + om
		if off[0] == '-' {
			offMin = -offMin
		}
	}
	tod, msg := parseTimeOfDay(rest)
	if msg != "" {
		return time.Time{}, 0, msg
	}
	t := date.Add(tod).Add(-time.Duration(offMin) * time.Minute)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, 0, "date out of supported range 0000..9999 after applying the offset in " + s
	}
	return t, offMin, ""
}

// parseGUID parses 8-4-4-4-12 hex digits (shape checked by the lexer).
func parseGUID(s string) [16]byte {
	var g [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		panic("BUG: lexer accepted a malformed GUID " + s)
	}
	return g
}

func formatGUID(g [16]byte) string {
	h := hex.EncodeToString(g[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseDuration parses an XML Schema dayTimeDuration: [-]P[nD][T[nH][nM][n[.f]S]]. It counts
// in integer nanoseconds (fractions of a second past nanoseconds are rounded), so that every
// duration formatDuration prints parses back to itself, the extremes included.
func parseDuration(s string) (time.Duration, string) {
	bad := "invalid duration '" + s + "' (expected the form P1DT2H3M4.5S)"
	outOfRange := "duration '" + s + "' is out of range (about 292 years)"
	i, neg := 0, false
	if strings.HasPrefix(s, "-") {
		neg, i = true, 1
	}
	if i >= len(s) || (s[i] != 'P' && s[i] != 'p') {
		return 0, bad
	}
	i++
	limit := uint64(math.MaxInt64) // nanoseconds
	if neg {
		limit++ // -limit is math.MinInt64
	}
	var total uint64
	add := func(v uint64) bool {
		if v > limit-total {
			return false
		}
		total += v
		return true
	}
	inTime, any := false, false
	order := 0 // enforces D < H < M < S
	for i < len(s) {
		if s[i] == 'T' || s[i] == 't' {
			if inTime {
				return 0, bad
			}
			inTime = true
			i++
			if i == len(s) {
				return 0, bad
			}
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		whole := s[i:j]
		frac := ""
		if j < len(s) && s[j] == '.' {
			k := j + 1
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			frac, j = s[j+1:k], k
			if frac == "" {
				return 0, bad
			}
		}
		if whole == "" || j == len(s) {
			return 0, bad
		}
		var unit uint64
		var rank int
		switch u := s[j] | 0x20; {
		case u == 'd' && !inTime:
			unit, rank = uint64(24*time.Hour), 1
		case u == 'h' && inTime:
			unit, rank = uint64(time.Hour), 2
		case u == 'm' && inTime:
			unit, rank = uint64(time.Minute), 3
		case u == 's' && inTime:
			unit, rank = uint64(time.Second), 4
		default:
			return 0, bad
		}
		if rank <= order || (frac != "" && rank != 4) {
			return 0, bad
		}
		order = rank
		n, err := strconv.ParseUint(whole, 10, 64)
		if err != nil || n > limit/unit || !add(n*unit) {
			return 0, outOfRange
		}
		if frac != "" {
			// Nanoseconds from the first nine digits, rounded half up by the tenth.
			var ns uint64
			for k := 0; k < 9; k++ {
				ns *= 10
				if k < len(frac) {
					ns += uint64(frac[k] - '0')
				}
			}
			if len(frac) > 9 && frac[9] >= '5' {
				ns++
			}
			if !add(ns) {
				return 0, outOfRange
			}
		}
		any = true
		i = j + 1
	}
	if !any {
		return 0, bad
	}
	if neg {
		return time.Duration(-int64(total-1) - 1), "" // total may be 2^63
	}
	return time.Duration(total), ""
}

// formatDuration prints the canonical dayTimeDuration form.
func formatDuration(d time.Duration) string {
	var b strings.Builder
	u := uint64(d) // the magnitude, in nanoseconds; -math.MinInt64 does not fit an int64
	if d < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteByte('P')
	const day, hour, minute, second = uint64(24 * time.Hour), uint64(time.Hour), uint64(time.Minute), uint64(time.Second)
	days := u / day
	u -= days * day
	if days > 0 {
		b.WriteString(strconv.FormatUint(days, 10))
		b.WriteByte('D')
	}
	if u > 0 || days == 0 {
		b.WriteByte('T')
		h := u / hour
		u -= h * hour
		m := u / minute
		u -= m * minute
		if h > 0 {
			b.WriteString(strconv.FormatUint(h, 10) + "H")
		}
		if m > 0 {
			b.WriteString(strconv.FormatUint(m, 10) + "M")
		}
		if u > 0 || (h == 0 && m == 0) {
			sec := strconv.FormatUint(u/second, 10)
			if u%second != 0 {
				sec += "." + strings.TrimRight(strconv.FormatUint(u%second+second, 10)[1:], "0")
			}
			b.WriteString(sec + "S")
		}
	}
	return b.String()
}

func formatTimeOfDay(d time.Duration) string {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d)
	return t.Format("15:04:05.999999999")
}

// decodeBinary accepts base64url with or without padding (the ABNF's form)
// and, leniently, standard base64.
func decodeBinary(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

// jsonUnquote decodes a JSON string token.
func jsonUnquote(raw string) (string, bool) {
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

func jsonQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic("BUG: json.Marshal of a string failed: " + err.Error())
	}
	return string(b)
}
