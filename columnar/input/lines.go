package input

import (
	"bytes"
	"io"
)

// Line framing (Options.Lines). Framing scans every byte of a record as JSON, and its decoder
// then scans them again: at 5.8 KB a sign-in, the framing scan was 15% of a one-core ingest.
// In NDJSON, the input nearly every pipeline writes, a record is its line: a line that starts
// with '{' and ends with '}' (trailing blanks aside) is handed out as it is, found with one
// SIMD search for the newline, and its decoder, which checks every byte anyway, says whether
// it is one sign-in object. When it is not (two objects on one line, a Graph page, a
// diagnostic-settings record, bad JSON), the caller frames the line again with Reframe, which
// gives what the Reader would have given there, positions included.
//
// The one input framed otherwise is a record whose first line ends with '}' and balances its
// braces but which goes on to the next line: that takes a string holding an unmatched brace
// (`{"a":"}","b":{}` then `}` on the next line). No JSON writer breaks lines that way; the line
// and its continuation are rejected, verbatim, as bad JSON (docs/ingest-formats.md).
// Lines whose braces do not balance are framed the usual way. And a bad line framed by its line
// is that line alone: the scanner takes the lines after a bad record that start with a blank
// or a closing bracket as the rest of it (pretty-printed input), where a line framed by its
// line lets the next line be framed on its own, so a good record there is stored.

var (
	openBrace  = []byte{'{'}
	closeBrace = []byte{'}'}
)

// lineObject frames the object at pos ('{', a record's start, beginRecord done) by its line,
// if the line is buffered whole, within the size limit, ends with '}' and its braces balance.
// It returns false, with nothing consumed, otherwise.
//
// A line not buffered whole is read on (the record's start is marked: beginRecord): input read
// in small pieces (a zstd stream's blocks) left one line in twenty to the scanner's slow path,
// 7% of a 10M-event ingest.
func (r *Reader) lineObject() bool {
	var b []byte
	j := -1
	for from := 0; ; {
		b = r.buf[r.pos:]
		if len(b) > r.max+1 {
			b = b[:r.max+1] // room for the newline of a record of the largest size
		}
		if j = bytes.IndexByte(b[from:], '\n'); j >= 0 {
			j += from
			break
		}
		if len(b) > r.max {
			return false // over the limit: the scanner rejects it
		}
		from = len(b)
		if !r.fill() {
			return false // the input's last line, or a read error: the scanner's
		}
	}
	end := j
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\r') {
		end--
	}
	obj := b[:end]
	if end > r.max || obj[end-1] != '}' || bytes.Count(obj, openBrace) != bytes.Count(obj, closeBrace) {
		return false
	}
	r.pos += j + 1
	// The line ended: move the line counter past it without counting again.
	r.lnNum++
	r.lnOff = r.abs(r.pos)
	r.lnStart = r.lnOff
	r.rec.Raw, r.rec.Category, r.rec.Err, r.rec.Unchecked = obj, "", nil, true
	return true
}

// FramesMember says whether a record's top-level member of this name makes the Reader frame
// the record as something other than the object itself (a page's "value" array, a
// diagnostic-settings record's "properties", a Log Analytics row's "TimeGenerated"): an
// Unchecked record with such a member must be framed again (Reframe).
func FramesMember(name []byte) bool { return classifyKey(name) != keyOther }

// Reframe returns a Reader over raw, the bytes of an Unchecked record of source that started
// at at (its Line, Column and Offset), which frames them as a Reader without Options.Lines
// would have framed them in their input: the same records and rejects at the same positions.
// opts are the original Reader's; Lines and Start are set here.
// The Reader reads raw in place, which it never writes to (it only moves what it has buffered
// when it reads more, and raw is all there is): framing a line again costs no copy and no read
// buffer.
func Reframe(raw []byte, source string, at Position, opts Options) (*Reader, error) {
	opts.Lines = false
	opts.Start = at
	if err := checkOptions(&opts, source); err != nil {
		return nil, err
	}
	r := newReader(eofReader{}, func() error { return nil }, None, source, opts, raw[:len(raw):len(raw)])
	r.eof = true
	return r, nil
}

// eofReader is the source of a Reader that has all its input buffered.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// SetLines turns Options.Lines on or off for the records after the next: a caller whose
// decoder takes few of the lines (an exporter that escapes every non-ASCII letter, say) frames
// the rest with the scanner, as framing each line twice costs more than once.
func (r *Reader) SetLines(on bool) { r.lines = on && r.format != FormatLogAnalytics }
