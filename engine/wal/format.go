package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// On-disk constants; docs/format/wal.md is the specification.
const (
	// FormatVersion is the version byte written in every file header.
	FormatVersion = 1

	// MaxRecordSize bounds one payload. A reader treats a larger length as
	// corruption before allocating anything, so garbage cannot cause a huge
	// allocation.
	MaxRecordSize = 256 << 20

	fileHeaderSize   = 20
	recordHeaderSize = 9

	recTypeZero = 0 // never written: what preallocated space reads as
	recTypeFull = 1

	fileSuffix   = ".wal"
	seqDigits    = 20
	lockFileName = "LOCK"
)

var (
	fileMagic  = [4]byte{'A', 'L', 'W', 'L'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// appendFileHeader appends the 20-byte file header for seq to dst.
func appendFileHeader(dst []byte, seq uint64) []byte {
	start := len(dst)
	dst = append(dst, fileMagic[:]...)
	dst = append(dst, FormatVersion, 0, 0, 0)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// parseFileHeader validates a file header and returns the seq it names.
func parseFileHeader(b []byte) (uint64, error) {
	if len(b) < fileHeaderSize {
		return 0, fmt.Errorf("short file header: %d bytes", len(b))
	}
	b = b[:fileHeaderSize]
	if [4]byte(b[:4]) != fileMagic {
		return 0, fmt.Errorf("bad magic %q", b[:4])
	}
	if got, want := binary.LittleEndian.Uint32(b[16:]), crc32.Checksum(b[:16], castagnoli); got != want {
		return 0, fmt.Errorf("file header crc mismatch: stored %08x, computed %08x", got, want)
	}
	if b[4] != FormatVersion {
		return 0, fmt.Errorf("unsupported format version %d (this reader knows %d)", b[4], FormatVersion)
	}
	if b[5]|b[6]|b[7] != 0 {
		return 0, fmt.Errorf("reserved header bytes are not zero: % x", b[5:8])
	}
	return binary.BigEndian.Uint64(b[8:16]), nil
}

// recordCRC returns the CRC32C of a record: len bytes, type byte, payload.
// It is computed by the appender's goroutine, outside the flusher, so
// checksumming scales with the number of writers.
func recordCRC(payload []byte) uint32 {
	var h [5]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(payload)))
	h[4] = recTypeFull
	c := crc32.Update(0, castagnoli, h[:])
	return crc32.Update(c, castagnoli, payload)
}

// appendRecordHeader appends the 9-byte frame header of a full record.
func appendRecordHeader(dst []byte, payloadLen int, crc uint32) []byte {
	if payloadLen > MaxRecordSize {
		panic(fmt.Sprintf("BUG: record of %d bytes passed the MaxRecordSize check", payloadLen))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(payloadLen))
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, recTypeFull)
}

// appendRecord appends one complete framed record to dst.
func appendRecord(dst, payload []byte) []byte {
	dst = appendRecordHeader(dst, len(payload), recordCRC(payload))
	return append(dst, payload...)
}

// fileName returns the base name of the file with the given seq.
func fileName(seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	return strings.Repeat("0", seqDigits-len(s)) + s + fileSuffix
}

// parseFileName returns the seq of a WAL file name. ok is false for names
// that are not WAL files at all; err is set for *.wal names that are malformed.
func parseFileName(name string) (seq uint64, ok bool, err error) {
	base, found := strings.CutSuffix(name, fileSuffix)
	if !found {
		return 0, false, nil
	}
	if len(base) != seqDigits {
		return 0, true, fmt.Errorf("malformed WAL file name %q: want %d digits", name, seqDigits)
	}
	for i := 0; i < len(base); i++ {
		if base[i] < '0' || base[i] > '9' {
			return 0, true, fmt.Errorf("malformed WAL file name %q: not decimal", name)
		}
	}
	seq, err = strconv.ParseUint(base, 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("malformed WAL file name %q: %w", name, err)
	}
	return seq, true, nil
}
