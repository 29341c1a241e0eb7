package load

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileRejects writes quarantined records to two files: PATH holds each rejected record verbatim
// followed by a newline (so a fixed file can be re-ingested as is), and PATH.reasons holds one
// line per record: its number in PATH, "source:line:column" and the reason.
type FileRejects struct {
	Path string
	// MaxBytes bounds what the two files hold (default DefaultRejectsBytes): past it, rejected
	// records are counted but not written, and the reasons file ends with a line saying how
	// many were left out. A stream of garbage once wrote a 7 GB reasons file in 150 s.
	MaxBytes int64
	written  int64
	Dropped  int // rejected records not written because of MaxBytes
	n        int
	data     *os.File
	reasons  *os.File
	dw, rw   *bufio.Writer
}

// Reject implements RejectSink. Files are created on the first reject only, and never over an
// existing file: when PATH (or PATH.reasons) exists, PATH-2, PATH-3, … is used instead (before
// the extension) and Path says which. Two ingests that start in the same second once wrote the
// same default name, and the later one destroyed the earlier one's rejected records.
func (f *FileRejects) Reject(source string, line, column int, reason string, raw []byte) error {
	if f.data == nil {
		if err := f.create(); err != nil {
			return err
		}
		f.dw, f.rw = bufio.NewWriter(f.data), bufio.NewWriter(f.reasons)
	}
	if limit := f.limit(); f.written+int64(len(raw))+int64(len(reason))+64 > limit {
		f.Dropped++
		return nil
	}
	f.written += int64(len(raw)) + int64(len(reason)) + int64(len(source)) + 32
	f.n++
	f.dw.Write(raw)
	f.dw.WriteByte('\n')
	_, err := fmt.Fprintf(f.rw, "%d\t%s:%d:%d\t%s\n", f.n, source, line, column, strings.ReplaceAll(reason, "\n", " "))
	return err
}

func (f *FileRejects) create() error {
	ext := filepath.Ext(f.Path)
	base := strings.TrimSuffix(f.Path, ext)
	for i := 1; i <= 10000; i++ {
		path := f.Path
		if i > 1 {
			path = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		data, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		reasons, err := os.OpenFile(path+".reasons", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) { // a stray .reasons file: keep it, take the next name
			data.Close()
			os.Remove(path)
			continue
		}
		if err != nil {
			data.Close()
			return err
		}
		f.Path, f.data, f.reasons = path, data, reasons
		return nil
	}
	return fmt.Errorf("rejects: 10,000 files named %s-N%s exist already", base, ext)
}

// DefaultRejectsBytes is FileRejects.MaxBytes when it is 0.
const DefaultRejectsBytes = 256 << 20

// Count is the number of records written.
func (f *FileRejects) Count() int { return f.n }

// Close flushes and syncs the files.
func (f *FileRejects) Close() error {
	if f.data == nil {
		return nil
	}
	if f.Dropped > 0 {
		fmt.Fprintf(f.rw, "-\t-\t%d more rejected records were not written: the rejects files reached their limit of %d bytes\n", f.Dropped, f.limit())
	}
	var first error
	for _, fn := range []func() error{f.dw.Flush, f.rw.Flush, f.data.Sync, f.reasons.Sync, f.data.Close, f.reasons.Close} {
		if err := fn(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (f *FileRejects) limit() int64 {
	if f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultRejectsBytes
}
