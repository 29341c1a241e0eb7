package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// SegmentVersion is the segment format version this build writes and the newest it reads.
const SegmentVersion = 9

const (
	segMagic        = "ALSEG\x00"
	segTrailerMagic = "ALSEGEND"
	segHeaderLen    = 8
	segTrailerLen   = 4 + 4 + 1 + 8
	// segTailRead is how much of a segment's end an open reads at once: the trailer and, for
	// every segment this build writes (~3.6 KB for the sign-in schema's 70 columns), the footer.
	segTailRead = 8 << 10

	maxColumns   = 1024
	maxNameLen   = 256
	maxFooterLen = 1 << 20
	maxBlocks    = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SegmentMeta is the decoded footer of a segment.
type SegmentMeta struct {
	Tenant    string
	Day       int32 // days since 1970-01-01 UTC
	Rows      int
	BlockRows int
	MinTime   int64
	MaxTime   int64
	Created   int64
	Columns   []ColumnMeta
}

// ColumnMeta locates and checks one column region.
type ColumnMeta struct {
	Name    string
	Kind    Kind
	Offset  uint64
	Length  uint64
	CRC     uint32
	Nulls   uint64
	DictLen uint64
	// Table is the length of the region's frame table (version 3), whose CRC is CRC; each frame
	// carries its own CRC there. 0 for a version-2 region, whose CRC covers it whole.
	Table uint64
}

// NumBlocks is the number of blocks in the segment.
func (m *SegmentMeta) NumBlocks() int {
	if m.BlockRows == 0 {
		return 0
	}
	return (m.Rows + m.BlockRows - 1) / m.BlockRows
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func (m *SegmentMeta) marshal(dst []byte) []byte { return m.marshalVersion(dst, SegmentVersion) }

// marshalVersion writes the footer of a file of the given version (tests write version 2 to
// prove it is still read).
func (m *SegmentMeta) marshalVersion(dst []byte, version byte) []byte {
	dst = append(dst, version)
	dst = appendString(dst, m.Tenant)
	dst = binary.AppendVarint(dst, int64(m.Day))
	dst = binary.AppendUvarint(dst, uint64(m.Rows))
	dst = binary.AppendUvarint(dst, uint64(m.BlockRows))
	dst = binary.AppendVarint(dst, m.MinTime)
	dst = binary.AppendVarint(dst, m.MaxTime)
	dst = binary.AppendVarint(dst, m.Created)
	dst = binary.AppendUvarint(dst, uint64(len(m.Columns)))
	for _, c := range m.Columns {
		dst = appendString(dst, c.Name)
		dst = append(dst, byte(c.Kind))
		dst = binary.AppendUvarint(dst, c.Offset)
		dst = binary.AppendUvarint(dst, c.Length)
		dst = binary.LittleEndian.AppendUint32(dst, c.CRC)
		dst = binary.AppendUvarint(dst, c.Nulls)
		dst = binary.AppendUvarint(dst, c.DictLen)
		if version >= 3 {
			dst = binary.AppendUvarint(dst, c.Table)
		}
	}
	return dst
}

var errFooter = errors.New("malformed segment footer")

type footerReader struct {
	src []byte
	err error
}

func (r *footerReader) uvarint(what string, limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.src)
	if n <= 0 {
		r.err = fmt.Errorf("%w: cannot read %s", errFooter, what)
		return 0
	}
	if v > limit {
		r.err = fmt.Errorf("%w: %s %d exceeds limit %d", errFooter, what, v, limit)
		return 0
	}
	r.src = r.src[n:]
	return v
}

func (r *footerReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.src)
	if n <= 0 {
		r.err = fmt.Errorf("%w: cannot read %s", errFooter, what)
		return 0
	}
	r.src = r.src[n:]
	return v
}

func (r *footerReader) bytes(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.src) {
		r.err = fmt.Errorf("%w: %s truncated", errFooter, what)
		return nil
	}
	b := r.src[:n]
	r.src = r.src[n:]
	return b
}

func (r *footerReader) string(what string) string {
	n := r.uvarint(what+" length", maxNameLen)
	return string(r.bytes(what, int(n)))
}

// unmarshalSegmentMeta decodes a footer, validating every length against a named limit and every
// region against fileSize.
func unmarshalSegmentMeta(src []byte, fileSize uint64) (*SegmentMeta, error) {
	r := &footerReader{src: src}
	v := r.bytes("version", 1)
	if r.err != nil {
		return nil, r.err
	}
	if v[0] == 0 || v[0] > SegmentVersion {
		return nil, fmt.Errorf("format version %d is newer than this build supports (%d)", v[0], SegmentVersion)
	}
	m := &SegmentMeta{}
	m.Tenant = r.string("tenant")
	m.Day = int32(r.varint("day"))
	m.Rows = int(r.uvarint("rows", 1<<32-1))
	m.BlockRows = int(r.uvarint("block rows", 1<<24))
	m.MinTime = r.varint("min time")
	m.MaxTime = r.varint("max time")
	m.Created = r.varint("created")
	n := r.uvarint("column count", maxColumns)
	for i := uint64(0); i < n && r.err == nil; i++ {
		var c ColumnMeta
		c.Name = r.string("column name")
		if kb := r.bytes("column kind", 1); kb != nil {
			c.Kind = Kind(kb[0])
		}
		c.Offset = r.uvarint("column offset", fileSize)
		c.Length = r.uvarint("column length", fileSize)
		if kb := r.bytes("column crc", 4); kb != nil {
			c.CRC = binary.LittleEndian.Uint32(kb)
		}
		c.Nulls = r.uvarint("column nulls", uint64(m.Rows))
		c.DictLen = r.uvarint("dictionary length", uint64(m.Rows)+1)
		if v[0] >= 3 {
			c.Table = r.uvarint("frame table length", c.Length)
			if r.err == nil && c.Table == 0 {
				r.err = fmt.Errorf("%w: column %s has an empty frame table", errFooter, c.Name)
			}
		}
		if r.err == nil && (c.Offset < segHeaderLen || c.Offset+c.Length > fileSize) {
			r.err = fmt.Errorf("%w: column %s region [%d,+%d) outside the file", errFooter, c.Name, c.Offset, c.Length)
		}
		if r.err == nil && (c.Kind < KindDict || c.Kind > KindExtras) {
			r.err = fmt.Errorf("%w: column %s has unknown kind %d", errFooter, c.Name, c.Kind)
		}
		m.Columns = append(m.Columns, c)
	}
	if r.err != nil {
		return nil, r.err
	}
	if m.Rows > 0 && m.BlockRows == 0 {
		return nil, fmt.Errorf("%w: zero block size", errFooter)
	}
	if m.NumBlocks() > maxBlocks {
		return nil, fmt.Errorf("%w: %d blocks exceeds limit %d", errFooter, m.NumBlocks(), maxBlocks)
	}
	if len(r.src) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errFooter, len(r.src))
	}
	return m, nil
}

// appendFooter appends a segment's footer and its trailer (footer length, footer CRC-32C,
// version, end magic) to dst.
func appendFooter(dst, footer []byte, version byte) []byte {
	dst = append(dst, footer...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(footer)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(footer, castagnoli))
	dst = append(dst, version)
	return append(dst, segTrailerMagic...)
}
