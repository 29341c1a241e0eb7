package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// CorruptionError describes the first frame of a file that is not a valid
// record. In the last file it marks the torn tail; anywhere else it is a hard
// error, because non-final files hold only acknowledged data.
type CorruptionError struct {
	File   string // path of the file, empty when reading raw bytes
	Offset int64  // offset of the invalid frame from the start of the file
	Reason string // one of the reasons in docs/format/wal.md
	// ValidAfter is the offset of a valid record found after the invalid frame in the last
	// file (0: none). It is what makes an invalid frame there damage rather than a torn tail.
	ValidAfter int64
}

func (e *CorruptionError) Error() string {
	s := fmt.Sprintf("wal: corrupt record in %s at offset %d: %s", e.File, e.Offset, e.Reason)
	if e.ValidAfter > 0 {
		s += fmt.Sprintf(" (a valid record follows at offset %d: damage, not a torn tail; nothing was changed — run 'authlake repair' to recover every readable record)", e.ValidAfter)
	}
	return s
}

// Is makes every CorruptionError match ErrCorrupt.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// ErrCorrupt matches (errors.Is) every WAL corruption error.
var ErrCorrupt = errors.New("wal: corrupt")

// Reasons a frame is invalid, in the order they are checked.
const (
	reasonShortHeader  = "short header"
	reasonZeroFilled   = "zero-filled"
	reasonUnknownType  = "unknown type"
	reasonTooLarge     = "length exceeds limit"
	reasonShortPayload = "short payload"
	reasonCRC          = "crc mismatch"
)

// recordReader walks the records of one file. It never allocates more than
// the bytes actually left in the file, so arbitrary input cannot exhaust
// memory.
type recordReader struct {
	r    *bufio.Reader
	size int64 // total file size
	off  int64 // offset of the next frame
	buf  []byte
	hdr  [recordHeaderSize]byte
}

func newRecordReader(r io.Reader, size, off int64) *recordReader {
	return &recordReader{r: bufio.NewReaderSize(r, 1<<20), size: size, off: off}
}

// next returns the payload of the next record and its offset. The payload is
// valid until the following call. At a clean end it returns io.EOF; at an
// invalid frame a *CorruptionError; other errors are I/O errors.
func (rr *recordReader) next() (payload []byte, off int64, err error) {
	off = rr.off
	left := rr.size - off
	if left == 0 {
		return nil, off, io.EOF
	}
	if left < recordHeaderSize {
		return nil, off, rr.corrupt(reasonShortHeader)
	}
	if _, err := io.ReadFull(rr.r, rr.hdr[:]); err != nil {
		return nil, off, rr.ioErr(err)
	}
	n := binary.LittleEndian.Uint32(rr.hdr[0:4])
	stored := binary.LittleEndian.Uint32(rr.hdr[4:8])
	switch typ := rr.hdr[8]; {
	case typ == recTypeZero:
		return nil, off, rr.corrupt(reasonZeroFilled)
	case typ != recTypeFull:
		return nil, off, rr.corrupt(reasonUnknownType)
	case n > MaxRecordSize:
		return nil, off, rr.corrupt(reasonTooLarge)
	case int64(n) > left-recordHeaderSize:
		return nil, off, rr.corrupt(reasonShortPayload)
	}
	if cap(rr.buf) < int(n) {
		rr.buf = make([]byte, n)
	}
	payload = rr.buf[:n]
	if _, err := io.ReadFull(rr.r, payload); err != nil {
		return nil, off, rr.ioErr(err)
	}
	crc := crc32.Update(0, castagnoli, rr.hdr[0:4])
	crc = crc32.Update(crc, castagnoli, rr.hdr[8:9])
	if crc32.Update(crc, castagnoli, payload) != stored {
		return nil, off, rr.corrupt(reasonCRC)
	}
	rr.off += recordHeaderSize + int64(n)
	return payload, off, nil
}

func (rr *recordReader) corrupt(reason string) error {
	return &CorruptionError{Offset: rr.off, Reason: reason}
}

// ioErr reports a read that came up short of a size the file stat promised:
// the file shrank under us or the disk failed. Never a torn tail.
func (rr *recordReader) ioErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("wal: file ended before its stat size %d at offset %d: %w", rr.size, rr.off, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("wal: read at offset %d: %w", rr.off, err)
}
