package gen

import (
	"strconv"

	"github.com/authlake/authlake/columnar"
)

const hexDigits = "0123456789abcdef"

// appendStr appends s as a JSON string, with the same escaping authlake's encoder uses.
func appendStr(dst []byte, s string) []byte { return columnar.AppendJSONString(dst, s) }

// appendStrOrNull renders "" as JSON null, for properties Graph leaves null
// when not applicable.
func appendStrOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendStr(dst, s)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// guid is a random (version 4) UUID kept as raw bytes so that it is cheap
// to carry in pending events and formatted only when emitted.
type guid [16]byte

func (g guid) isZero() bool { return g == guid{} }

// appendGUID writes the lower-case canonical 8-4-4-4-12 form Graph uses.
func appendGUID(dst []byte, g guid) []byte {
	var b [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[g[i]>>4]
		b[j+1] = hexDigits[g[i]&0xf]
		j += 2
	}
	return append(dst, b[:]...)
}

func (g guid) String() string { return string(appendGUID(nil, g)) }

func guidFrom(a, b uint64) guid {
	var g guid
	for i := 0; i < 8; i++ {
		g[i] = byte(a >> (56 - 8*i))
		g[8+i] = byte(b >> (56 - 8*i))
	}
	g[6] = g[6]&0x0f | 0x40 // version 4
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return g
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendTokenID writes 16 random bytes as unpadded base64url (22 chars),
// the shape of uniqueTokenIdentifier.
func appendTokenID(dst []byte, a, b uint64) []byte {
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (56 - 8*i))
		raw[8+i] = byte(b >> (56 - 8*i))
	}
	var out [22]byte
	j := 0
	for i := 0; i+3 <= 15; i += 3 {
		v := uint32(raw[i])<<16 | uint32(raw[i+1])<<8 | uint32(raw[i+2])
		out[j] = b64url[v>>18&63]
		out[j+1] = b64url[v>>12&63]
		out[j+2] = b64url[v>>6&63]
		out[j+3] = b64url[v&63]
		j += 4
	}
	v := uint32(raw[15]) << 16
	out[j] = b64url[v>>18&63]
	out[j+1] = b64url[v>>12&63]
	return append(dst, out[:]...)
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// timeFormatter renders Unix seconds as Graph's "2026-11-03T08:15:27Z".
// Events arrive in time order, so the date part is cached per day and only
// the clock is formatted per call.
type timeFormatter struct {
	day    int64
	prefix [11]byte // "2026-11-03T"
}

func (f *timeFormatter) appendTime(dst []byte, sec int64) []byte {
	day := floorDiv(sec, 86400)
	if day != f.day || f.prefix[0] == 0 {
		f.day = day
		y, m, d := civilFromDays(day)
		p := f.prefix[:0]
		p = append(p, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
			byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
		_ = p
	}
	s := sec - day*86400
	h, mi, se := s/3600, s/60%60, s%60
	dst = append(dst, f.prefix[:]...)
	return append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+se/10), byte('0'+se%10), 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's algorithm), avoiding time.Time in the hot path.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}
