package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// spanName is the file that records which WAL files must exist (docs/format/wal.md, "Span"):
// without it, deleting the newest file (or all of them) would lose acknowledged records
// without a trace, since what is left still looks like a consistent log.
const spanName = "SPAN"

// span is the range of files that hold records not yet known to be in segments: first is the
// oldest file RemoveBefore kept, last the newest file created.
type span struct{ first, last uint64 }

const spanSize = 8 + 8 + 4 // first, last (little-endian), CRC32C of the 16 bytes

func (s span) marshal() []byte {
	b := binary.LittleEndian.AppendUint64(nil, s.first)
	b = binary.LittleEndian.AppendUint64(b, s.last)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func readSpan(fsys vfs.FS, dir string) (span, bool, error) {
	path := filepath.Join(dir, spanName)
	b, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return span{}, false, nil // a log written before the span existed
	}
	if err != nil {
		return span{}, false, fmt.Errorf("wal: read %s: %w", path, err)
	}
	if len(b) != spanSize || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return span{}, false, &CorruptionError{File: path, Reason: "bad span file (length or checksum)"}
	}
	return span{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}, true, nil
}

// checkSpan verifies that every file the span names is on disk. Files before the span's
// start are leftovers of an interrupted RemoveBefore and files after its end were created
// just before a crash; both are fine.
func checkSpan(fsys vfs.FS, dir string, files []uint64) (span, error) {
	s, ok, err := readSpan(fsys, dir)
	if err != nil || !ok {
		if ok := len(files) > 0; ok && err == nil { // an older log: start the span from what is there
			return span{first: files[0], last: files[len(files)-1]}, nil
		}
		return span{}, err
	}
	switch {
	case len(files) == 0:
		return s, fmt.Errorf("wal: %s: every WAL file is missing (%s to %s should exist): acknowledged events would be lost; restore them, or move %s aside to accept the loss",
			dir, fileName(s.first), fileName(s.last), spanName)
	case files[0] > s.first:
		return s, fmt.Errorf("wal: %s: %s is missing (the log starts at %s): acknowledged events would be lost; restore it, or move %s aside to accept the loss",
			dir, fileName(s.first), fileName(files[0]), spanName)
	case files[len(files)-1] < s.last:
		return s, fmt.Errorf("wal: %s: %s is missing (the log ends at %s): acknowledged events would be lost; restore it, or move %s aside to accept the loss",
			dir, fileName(s.last), fileName(files[len(files)-1]), spanName)
	}
	return s, nil
}

// extendSpan moves the span's start up to first and its end up to last (0 leaves an end) and
// writes it. Both ends only ever grow, whichever of the flusher (new files) and RemoveBefore
// (dropped files) gets here first.
func (l *Log) extendSpan(first, last uint64) error {
	l.spanMu.Lock()
	defer l.spanMu.Unlock()
	s := l.span
	if s.first == 0 {
		s.first = max(first, last) // a new log: it starts at its first file
	}
	s.first, s.last = max(s.first, first), max(s.last, last)
	if s == l.span {
		return nil
	}
	if err := l.writeSpan(s); err != nil {
		return err
	}
	l.span = s
	return nil
}

// writeSpan replaces the span file atomically and durably.
func (l *Log) writeSpan(s span) error {
	path := filepath.Join(l.dir, spanName)
	if err := fsutil.WriteFileAtomic(l.opts.FS, path, s.marshal(), 0o644, l.opts.NoSync); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	return nil
}
