package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// The extras column holds, per row, what typed columns cannot say: unknown properties, values
// whose text the typed column would not reproduce, absent properties and null objects. See
// docs/format/segment.md. It is null for ordinary rows, so it costs nothing when unused.

const (
	extrasRaw    byte = 1 // path → verbatim JSON value
	extrasAbsent byte = 2 // path was not in the input object
	extrasNull   byte = 3 // flattened object was JSON null

	maxExtrasEntries = 4096
	maxExtrasBytes   = 16 << 20
	maxPathLen       = 1024
)

// ExtraEntry is one decoded entry of a row's extras. Path and Value alias the bytes they were
// decoded from (no copy: the encoder decodes the extras of every row it writes), so they are
// valid only as long as those bytes are.
type ExtraEntry struct {
	Kind  byte
	Path  string
	Value []byte // for extrasRaw: the JSON value
}

func appendExtra(dst []byte, kind byte, path string, value []byte) []byte {
	dst = append(dst, kind)
	dst = binary.AppendUvarint(dst, uint64(len(path)))
	dst = append(dst, path...)
	if kind == extrasRaw {
		dst = binary.AppendUvarint(dst, uint64(len(value)))
		dst = append(dst, value...)
	}
	return dst
}

var errBadExtras = errors.New("malformed extras")

// DecodeExtras parses a row's extras value, validating every length against the named limits.
func DecodeExtras(src []byte, dst []ExtraEntry) ([]ExtraEntry, error) {
	if len(src) > maxExtrasBytes {
		return dst, fmt.Errorf("%w: %d bytes exceeds %d", errBadExtras, len(src), maxExtrasBytes)
	}
	for len(src) > 0 {
		if len(dst) >= maxExtrasEntries {
			return dst, fmt.Errorf("%w: more than %d entries", errBadExtras, maxExtrasEntries)
		}
		kind := src[0]
		if kind < extrasRaw || kind > extrasNull {
			return dst, fmt.Errorf("%w: unknown entry kind %d", errBadExtras, kind)
		}
		src = src[1:]
		n, k := binary.Uvarint(src)
		if k <= 0 || n > maxPathLen || n > uint64(len(src)-k) {
			return dst, fmt.Errorf("%w: bad path length", errBadExtras)
		}
		e := ExtraEntry{Kind: kind}
		if n > 0 {
			e.Path = unsafe.String(&src[k], int(n))
		}
		src = src[k+int(n):]
		if kind == extrasRaw {
			n, k = binary.Uvarint(src)
			if k <= 0 || n > uint64(len(src)-k) {
				return dst, fmt.Errorf("%w: bad value length", errBadExtras)
			}
			e.Value = src[k : k+int(n)]
			src = src[k+int(n):]
		}
		dst = append(dst, e)
	}
	return dst, nil
}
