package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// ErrCorrupt is wrapped by every error caused by sidecar bytes that fail a check.
var ErrCorrupt = errors.New("index: corrupt sidecar")

// ErrNotFound is wrapped when a probe names a column or kind the sidecar lacks.
var ErrNotFound = errors.New("index: section not found")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// trailer is the fixed-size tail of a sidecar; Open reads it first because it is the
// only thing whose position is known without reading anything else.
type trailer struct {
	dirOffset uint64
	dirLen    uint32
	dirCRC    uint32
	rows      uint32
	version   uint8
}

func (t *trailer) marshal(dst []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, t.dirOffset)
	dst = binary.LittleEndian.AppendUint32(dst, t.dirLen)
	dst = binary.LittleEndian.AppendUint32(dst, t.dirCRC)
	dst = binary.LittleEndian.AppendUint32(dst, t.rows)
	dst = append(dst, t.version, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	return append(dst, magic...)
}

// unmarshal decodes exactly trailerLen bytes; the returned tail is what follows them.
func (t *trailer) unmarshal(src []byte) ([]byte, error) {
	if len(src) < trailerLen {
		return src, corruptf("trailer: %d bytes, want %d", len(src), trailerLen)
	}
	b := src[:trailerLen]
	if string(b[28:32]) != magic {
		return src, corruptf("trailer: bad magic %q", b[28:32])
	}
	if got, want := crc32.Checksum(b[:24], castagnoli), binary.LittleEndian.Uint32(b[24:28]); got != want {
		return src, corruptf("trailer: crc32c mismatch (got %08x, stored %08x)", got, want)
	}
	t.dirOffset = binary.LittleEndian.Uint64(b[0:8])
	t.dirLen = binary.LittleEndian.Uint32(b[8:12])
	t.dirCRC = binary.LittleEndian.Uint32(b[12:16])
	t.rows = binary.LittleEndian.Uint32(b[16:20])
	t.version = b[20]
	if b[21] != 0 || b[22] != 0 || b[23] != 0 {
		return src, corruptf("trailer: non-zero reserved bytes")
	}
	if t.version < oldestFormatVersion || t.version > formatVersion {
		return src, fmt.Errorf("%w: unsupported format version %d (this reader knows %d to %d)", ErrCorrupt, t.version, oldestFormatVersion, formatVersion)
	}
	if t.rows > maxRows {
		return src, corruptf("trailer: too many rows %d; max %d", t.rows, maxRows)
	}
	if t.dirLen > maxDirectoryLen {
		return src, corruptf("trailer: too long directory %d; max %d", t.dirLen, maxDirectoryLen)
	}
	return src[trailerLen:], nil
}

func marshalHeader(dst []byte) []byte {
	dst = append(dst, magic...)
	return append(dst, formatVersion, 0, 0, 0)
}

func checkHeader(b []byte) error {
	if len(b) != headerLen || string(b[:4]) != magic || b[4] < oldestFormatVersion || b[4] > formatVersion || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return corruptf("header: bad bytes %x", b)
	}
	return nil
}

// dirEntry locates one section. The directory is sorted by (column, kind) so that a
// probe finds its section by binary search without building a map at Open.
type dirEntry struct {
	column string
	kind   Kind
	offset uint64
	length uint64
	crc    uint32
}

func compareEntry(a *dirEntry, column string, kind Kind) int {
	if c := strings.Compare(a.column, column); c != 0 {
		return c
	}
	return int(a.kind) - int(kind)
}

func (e *dirEntry) marshal(dst []byte) []byte {
	dst = append(dst, byte(e.kind))
	dst = binary.AppendUvarint(dst, uint64(len(e.column)))
	dst = append(dst, e.column...)
	dst = binary.AppendUvarint(dst, e.offset)
	dst = binary.AppendUvarint(dst, e.length)
	return binary.LittleEndian.AppendUint32(dst, e.crc)
}

func (e *dirEntry) unmarshal(src []byte) ([]byte, error) {
	if len(src) < 1 {
		return src, corruptf("directory entry: missing kind")
	}
	e.kind = Kind(src[0])
	if !e.kind.valid() {
		return src, corruptf("directory entry: unknown section kind %d", src[0])
	}
	src = src[1:]
	n, nn := binary.Uvarint(src)
	if nn <= 0 {
		return src, corruptf("directory entry: cannot read column name length")
	}
	src = src[nn:]
	if n == 0 || n > maxColumnNameLen {
		return src, corruptf("directory entry: bad column name length %d; must be 1..%d", n, maxColumnNameLen)
	}
	if uint64(len(src)) < n {
		return src, corruptf("directory entry: column name needs %d bytes, %d left", n, len(src))
	}
	e.column = string(src[:n])
	src = src[n:]
	if e.offset, nn = binary.Uvarint(src); nn <= 0 {
		return src, corruptf("directory entry %q: cannot read section offset", e.column)
	}
	src = src[nn:]
	if e.length, nn = binary.Uvarint(src); nn <= 0 {
		return src, corruptf("directory entry %q: cannot read section length", e.column)
	}
	src = src[nn:]
	if e.length > maxSectionLen {
		return src, corruptf("directory entry %q: too long section %d; max %d", e.column, e.length, maxSectionLen)
	}
	if len(src) < 4 {
		return src, corruptf("directory entry %q: missing crc32c", e.column)
	}
	e.crc = binary.LittleEndian.Uint32(src)
	return src[4:], nil
}

func marshalDirectory(dst []byte, entries []dirEntry) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(entries)))
	for i := range entries {
		dst = entries[i].marshal(dst)
	}
	return dst
}

// unmarshalDirectory decodes the directory and checks that every section lies inside
// [headerLen, dirOffset) and that entries are strictly sorted, which also rules out
// duplicates.
func unmarshalDirectory(src []byte, dirOffset uint64) ([]dirEntry, []byte, error) {
	n, nn := binary.Uvarint(src)
	if nn <= 0 {
		return nil, src, corruptf("directory: cannot read entry count")
	}
	src = src[nn:]
	if n > maxSections {
		return nil, src, corruptf("directory: too many sections %d; max %d", n, maxSections)
	}
	entries := make([]dirEntry, n)
	for i := range entries {
		e := &entries[i]
		var err error
		if src, err = e.unmarshal(src); err != nil {
			return nil, src, fmt.Errorf("directory entry %d: %w", i, err)
		}
		if e.offset < headerLen || e.offset > dirOffset || e.length > dirOffset-e.offset {
			return nil, src, corruptf("directory: section %s %q [%d, +%d) outside [%d, %d)", e.kind, e.column, e.offset, e.length, headerLen, dirOffset)
		}
		if i > 0 && compareEntry(&entries[i-1], e.column, e.kind) >= 0 {
			return nil, src, corruptf("directory: entries not strictly sorted at %d (%q %s)", i, e.column, e.kind)
		}
	}
	return entries, src, nil
}
