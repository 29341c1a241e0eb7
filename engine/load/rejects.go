package load

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// FileRejects writes quarantined records to two files: PATH holds each rejected record verbatim
// followed by a newline (so a fixed file can be re-ingested as is), and PATH.reasons holds one
// line per record: its number in PATH, "source:line:column" and the reason.
type FileRejects struct {
	Path    string
	n       int
	data    *os.File
	reasons *os.File
	dw, rw  *bufio.Writer
}

// Reject implements RejectSink. Files are created on the first reject only.
func (f *FileRejects) Reject(source string, line, column int, reason string, raw []byte) error {
	if f.data == nil {
		var err error
		if f.data, err = os.Create(f.Path); err != nil {
			return err
		}
		if f.reasons, err = os.Create(f.Path + ".reasons"); err != nil {
			return err
		}
		f.dw, f.rw = bufio.NewWriter(f.data), bufio.NewWriter(f.reasons)
	}
	f.n++
	f.dw.Write(raw)
	f.dw.WriteByte('\n')
	_, err := fmt.Fprintf(f.rw, "%d\t%s:%d:%d\t%s\n", f.n, source, line, column, strings.ReplaceAll(reason, "\n", " "))
	return err
}

// Count is the number of records written.
func (f *FileRejects) Count() int { return f.n }

// Close flushes and syncs the files.
func (f *FileRejects) Close() error {
	if f.data == nil {
		return nil
	}
	var first error
	for _, fn := range []func() error{f.dw.Flush, f.rw.Flush, f.data.Sync, f.reasons.Sync, f.data.Close, f.reasons.Close} {
		if err := fn(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
