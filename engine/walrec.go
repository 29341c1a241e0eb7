package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// A WAL payload is one ingest call: the raw JSON of each accepted record with the tenant it was
// ingested for and its flags, s2-compressed as a whole. Raw JSON (not decoded columns) is logged
// because it is what the caller sent: replay runs the same decode and dedup path as ingest, and
// dedup makes replaying records that already reached a segment harmless.
//
//	payload  = s2( version u8 | count uvarint | entry* )
//	entry    = tenant (uvarint len + bytes) | flags u8 | category (uvarint len + bytes) | raw (uvarint len + bytes)

const (
	walRecordVersion = 1
	maxWALEntries    = 1 << 24
	maxTenantLen     = 128
	maxRawLen        = 64 << 20
)

// walEntry is one logged record.
type walEntry struct {
	Tenant   string
	Flags    uint8
	Category string
	Raw      []byte
}

const flagFlagged uint8 = 1 // flaggedForReview forced true by a flagging window

func marshalWALEntries(dst []byte, entries []walEntry) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, e := range entries {
		size += 3*binary.MaxVarintLen64 + 1 + len(e.Tenant) + len(e.Category) + len(e.Raw)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, walRecordVersion)
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, uint64(len(e.Tenant)))
		buf = append(buf, e.Tenant...)
		buf = append(buf, e.Flags)
		buf = binary.AppendUvarint(buf, uint64(len(e.Category)))
		buf = append(buf, e.Category...)
		buf = binary.AppendUvarint(buf, uint64(len(e.Raw)))
		buf = append(buf, e.Raw...)
	}
	return s2.Encode(dst[:cap(dst)], buf)
}

var errWALPayload = errors.New("malformed WAL payload")

func unmarshalWALEntries(payload []byte) ([]walEntry, error) {
	n, err := s2.DecodedLen(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errWALPayload, err)
	}
	if n > maxWALEntries*16+maxRawLen {
		return nil, fmt.Errorf("%w: decoded length %d too large", errWALPayload, n)
	}
	src, err := s2.Decode(nil, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errWALPayload, err)
	}
	if len(src) == 0 || src[0] != walRecordVersion {
		return nil, fmt.Errorf("%w: unknown version", errWALPayload)
	}
	src = src[1:]
	count, k := binary.Uvarint(src)
	if k <= 0 || count > maxWALEntries {
		return nil, fmt.Errorf("%w: bad entry count", errWALPayload)
	}
	src = src[k:]
	str := func(limit uint64) ([]byte, bool) {
		l, k := binary.Uvarint(src)
		if k <= 0 || l > limit || l > uint64(len(src)-k) {
			return nil, false
		}
		b := src[k : k+int(l)]
		src = src[k+int(l):]
		return b, true
	}
	entries := make([]walEntry, 0, min(count, 1<<16))
	for i := uint64(0); i < count; i++ {
		t, ok := str(maxTenantLen)
		if !ok || len(src) < 1 {
			return nil, fmt.Errorf("%w: entry %d: bad tenant", errWALPayload, i)
		}
		flags := src[0]
		src = src[1:]
		cat, ok := str(maxTenantLen)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d: bad category", errWALPayload, i)
		}
		raw, ok := str(maxRawLen)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d: bad record", errWALPayload, i)
		}
		entries = append(entries, walEntry{Tenant: string(t), Flags: flags, Category: string(cat), Raw: raw})
	}
	if len(src) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errWALPayload, len(src))
	}
	return entries, nil
}
