package query

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cespare/xxhash/v2"
)

// $skiptoken is a keyset cursor: the sort key and id of the last row of the previous
// page, plus a hash of the query it belongs to. Paging by key (not by offset) is stable
// while ingest, flushes and compactions change the data underneath: a row is on the
// next page iff it sorts after the cursor, so no row is returned twice and none that
// existed is skipped.
//
//	version 1 byte | query hash 8 bytes | n uvarint | n × part | id 16 bytes
//	part: tag 1 byte (0 null, 1 int64 varint, 2 float64 bits, 3 string uvarint+bytes)

const cursorVersion = 1

func queryHash(parts ...string) uint64 {
	d := xxhash.New()
	for _, p := range parts {
		d.WriteString(p)
		d.Write([]byte{0})
	}
	return d.Sum64()
}

func encodeCursor(k *rowKey, hash uint64) string {
	b := []byte{cursorVersion}
	b = binary.LittleEndian.AppendUint64(b, hash)
	b = binary.AppendUvarint(b, uint64(len(k.parts)))
	for _, p := range k.parts {
		switch {
		case p.null:
			b = append(b, 0)
		case p.s != "":
			b = append(b, 3)
			b = binary.AppendUvarint(b, uint64(len(p.s)))
			b = append(b, p.s...)
		case p.f != 0:
			b = append(b, 2)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.f))
		default:
			b = append(b, 1)
			b = binary.AppendVarint(b, p.i)
		}
	}
	b = append(b, k.id[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(tok string, hash uint64, nparts int) (*rowKey, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrBadSkipToken, why) }
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 9 {
		return nil, bad("not a token issued by this service")
	}
	if b[0] != cursorVersion {
		return nil, bad("unknown token version")
	}
	if binary.LittleEndian.Uint64(b[1:9]) != hash {
		return nil, bad("the token belongs to a different $filter or $orderby")
	}
	b = b[9:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n != uint64(nparts) {
		return nil, bad("malformed token")
	}
	b = b[k:]
	key := &rowKey{parts: make([]keyPart, nparts)}
	for i := range key.parts {
		if len(b) == 0 {
			return nil, bad("malformed token")
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case 0:
			key.parts[i].null = true
		case 1:
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, bad("malformed token")
			}
			key.parts[i].i, b = v, b[k:]
		case 2:
			if len(b) < 8 {
				return nil, bad("malformed token")
			}
			key.parts[i].f, b = math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
		case 3:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return nil, bad("malformed token")
			}
			key.parts[i].s, b = string(b[k:k+int(l)]), b[k+int(l):]
		default:
			return nil, bad("malformed token")
		}
	}
	if len(b) != 16 {
		return nil, bad("malformed token")
	}
	copy(key.id[:], b)
	return key, nil
}
