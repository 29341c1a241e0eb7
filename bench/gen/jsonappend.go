package gen

import (
	"strconv"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/utctime"
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

// timeFormatter renders Unix seconds as Graph's "2026-11-03T08:15:27Z". Events arrive in
// time order, and the writer remembers the day's date.
type timeFormatter struct{ w utctime.Writer }

func (f *timeFormatter) appendTime(dst []byte, sec int64) []byte {
	return f.w.Append(dst, sec*1e9, 0)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
