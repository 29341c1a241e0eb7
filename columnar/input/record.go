package input

import (
	"errors"
	"fmt"
)

// Limits. A record is buffered whole so the decoder can see it in one slice;
// everything around records (wrapper objects, arrays, pages) is streamed.
const (
	// MaxRecordSize is the default largest record, in bytes, that is
	// buffered. Larger records are rejected and skipped.
	MaxRecordSize = 4 << 20
	// MaxDepth is the deepest nesting of objects and arrays accepted inside
	// one record; sign-ins nest about 4 levels, so deeper input is hostile.
	MaxDepth = 64
	// MaxRejectRawSize caps Record.Raw of a bad record that could not be
	// buffered whole (oversized records, long runs of skipped input), so a
	// rejects file stays usable.
	MaxRejectRawSize = 64 << 10
)

// Sentinel reasons of bad records; test with errors.Is on Record.Err.
var (
	// ErrSyntax: the bytes are not a JSON object where a record was expected.
	ErrSyntax = errors.New("invalid JSON")
	// ErrNotObject: a well-formed JSON value that is not an object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrTooLarge: the record exceeds the configured MaxRecordSize.
	ErrTooLarge = errors.New("record too large")
	// ErrUnsupportedCategory: a diagnostic-settings record whose category is
	// not a sign-in log.
	ErrUnsupportedCategory = errors.New("unsupported diagnostic category")
)

// Record is one framed record. The Reader reuses it: Raw and the Record
// itself are valid only until the next call to Next.
type Record struct {
	// Raw is the record's JSON object. For diagnostic-settings records it is
	// the "properties" object. For a bad record it is the verbatim input that
	// was rejected (without the line terminator), possibly truncated to
	// MaxRejectRawSize.
	Raw []byte
	// Source names the input (typically a file name), as given to NewReader.
	Source string
	// Line and Column (1-based; Column counts bytes) locate the first byte of
	// the record; for a diagnostic-settings record, the enclosing record
	// object rather than its "properties".
	Line   int
	Column int
	// Offset is the byte offset of that first byte in the decompressed stream.
	Offset int64
	// Category is the diagnostic-settings category ("SignInLogs", ...), or ""
	// when the record did not come from a diagnostic-settings export.
	Category string
	// Err is nil for a good record. Otherwise the record is bad and Err is a
	// *RecordError wrapping one of ErrSyntax, ErrNotObject, ErrTooLarge or
	// ErrUnsupportedCategory.
	Err error
	// Unchecked says Raw is a line framed by Options.Lines: a '{' to a '}' that fills its
	// line, not checked to be JSON. Raw is one record as the Reader would frame it if it is a
	// single JSON object with none of the members that frame otherwise (FramesMember);
	// anything else must be framed again from Raw (Reframe) to learn what it holds.
	Unchecked bool
}

// RecordError explains why a record was rejected and where. Line, Column and
// Offset locate the problem itself (for syntax errors, the offending byte),
// which may lie after the start of the record.
type RecordError struct {
	Source string
	Line   int
	Column int
	Offset int64
	Reason string // human-readable, e.g. "record exceeds 4 MiB"
	Kind   error  // one of the Err* sentinels
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Source, e.Line, e.Column, e.Reason)
}

// Unwrap returns the sentinel kind so errors.Is(err, ErrSyntax) works.
func (e *RecordError) Unwrap() error { return e.Kind }

// sizeText renders a byte limit the way users configured it.
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
