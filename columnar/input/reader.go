package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Options tune a Reader; the zero value means the defaults.
type Options struct {
	// MaxRecordSize is the largest record buffered; 0 means MaxRecordSize.
	MaxRecordSize int
	// Format overrides what the content says the input is (FormatAuto: recognised from it).
	Format Format
	// Lines frames a top-level object that fills its line by the line alone, without
	// scanning its JSON (lines.go): such a record comes back with Record.Unchecked set, and
	// the caller must check it is one sign-in object or frame it again (Reframe). Not with
	// FormatLogAnalytics, whose every record is converted.
	Lines bool
	// Start is where the stream starts in a larger input, for positions (Reframe); the zero
	// value is the start of a file (line 1, column 1, offset 0).
	Start Position
}

// Position locates a byte of an input.
type Position struct {
	Line, Column int // 1-based; Column counts bytes
	Offset       int64
}

// Format is what kind of export an input is. The Reader recognises it from the content; a
// Format other than FormatAuto overrides that, for input that looks like another kind.
type Format string

const (
	FormatAuto = Format("") // recognised from the content
	// FormatGraph is Graph signIn JSON (objects, arrays, NDJSON, Graph pages and Azure Monitor
	// records): never read as CSV, never converted from Log Analytics columns.
	FormatGraph = Format("graph")
	// FormatLogAnalytics is a Log Analytics or Sentinel export: CSV with its header, or JSON rows;
	// a record that is not a Log Analytics row is rejected.
	FormatLogAnalytics = Format("loganalytics")
	// FormatPortal is the admin center's sign-in download: its CSV, or its JSON (Graph objects).
	FormatPortal = Format("portal")
)

// Formats lists the formats by name, for flags and messages.
var Formats = []Format{FormatAuto, FormatGraph, FormatLogAnalytics, FormatPortal}

// ParseFormat reads a format name ("auto" or "" for FormatAuto).
func ParseFormat(s string) (Format, error) {
	if s == "auto" {
		return FormatAuto, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return FormatAuto, fmt.Errorf("unknown input format %q: use auto, graph, loganalytics or portal", s)
}

// Where the Reader is between calls to Next.
type readerState uint8

const (
	stTop         readerState = iota // between top-level values
	stArray                          // inside an array of records
	stWrapperTail                    // inside a wrapper object, after its array
)

// Reader frames records from a stream. It is not safe for concurrent use.
type Reader struct {
	src         io.Reader
	closeSrc    func() error
	compression Compression
	source      string
	max         int
	format      Format
	lines       bool // Options.Lines

	buf  []byte
	base int64 // stream offset of buf[0]
	pos  int   // next unread byte in buf
	mark int64 // stream offset from which input must stay buffered, or -1
	eof  bool
	rerr error // sticky read or decompression error

	lnOff   int64 // newlines are counted in stream[0:lnOff]
	lnNum   int   // 1-based line number at lnOff
	lnStart int64 // stream offset of the start of that line

	state      readerState
	arrWrapper bool // the current array is a wrapper's "value"/"records"
	arrFirst   bool // no element of the current array seen yet
	started    bool
	closed     bool

	csv     *csvState // the stream is a CSV export (csvexport.go)
	csvHint string    // why a CSV-looking stream was read as JSON, added to its rejects
	laOut   []byte    // a Log Analytics JSON row converted to a Graph record

	cur     recordState
	holdEnd int64  // end of a complete record still to be returned, or -1
	hold    []byte // that record, if it had to leave buf (see overflow)
	rec     Record
}

// NewReader returns a Reader over r, which may be plain, gzip or zstd
// compressed (detected by magic bytes). source names r in positions and
// errors. The caller must Close the Reader; it does not close r.
func NewReader(r io.Reader, source string) (*Reader, error) {
	return NewReaderOptions(r, source, Options{})
}

// NewReaderOptions is NewReader with explicit limits.
func NewReaderOptions(r io.Reader, source string, opts Options) (*Reader, error) {
	if err := checkOptions(&opts, source); err != nil {
		return nil, err
	}
	src, comp, closer, err := decompress(r, source)
	if err != nil {
		return nil, err
	}
	return newReader(src, closer, comp, source, opts, make([]byte, 0, readChunk)), nil
}

// checkOptions validates opts and fills in the defaults.
func checkOptions(opts *Options, source string) error {
	if opts.MaxRecordSize < 0 {
		return fmt.Errorf("input %s: negative MaxRecordSize %d", source, opts.MaxRecordSize)
	}
	if opts.MaxRecordSize == 0 {
		opts.MaxRecordSize = MaxRecordSize
	}
	if _, err := ParseFormat(string(opts.Format)); err != nil {
		return fmt.Errorf("input %s: %w", source, err)
	}
	return nil
}

// newReader returns a Reader of src (decompressed) that buffers in buf.
func newReader(src io.Reader, closer func() error, comp Compression, source string, opts Options, buf []byte) *Reader {
	at := opts.Start
	if at.Line <= 0 || at.Column <= 0 {
		at = Position{Line: 1, Column: 1, Offset: at.Offset}
	}
	return &Reader{
		src:         src,
		closeSrc:    closer,
		compression: comp,
		source:      source,
		max:         opts.MaxRecordSize,
		format:      opts.Format,
		lines:       opts.Lines && opts.Format != FormatLogAnalytics,
		buf:         buf,
		base:        at.Offset,
		mark:        -1,
		holdEnd:     -1,
		lnOff:       at.Offset,
		lnNum:       at.Line,
		lnStart:     at.Offset - int64(at.Column-1),
		rec:         Record{Source: source},
	}
}

// Compression reports the detected compression of the stream.
func (r *Reader) Compression() Compression { return r.compression }

// Close releases the decompressor. It does not close the underlying reader.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.buf = nil
	return r.closeSrc()
}

// Next returns the next record, good or bad (Record.Err set). It returns
// io.EOF at the end of the input, and any other error only when the stream
// itself cannot be read further (I/O failure, corrupt compression); such
// errors name the source and position.
func (r *Reader) Next() (*Record, error) {
	if r.closed {
		return nil, fmt.Errorf("input %s: Next after Close", r.source)
	}
	if r.rerr != nil {
		return nil, r.fatal()
	}
	r.mark = -1
	r.rec.Unchecked = false
	if !r.started {
		r.started = true
		r.skipBOM()
		if r.format != FormatGraph {
			if _, err := r.startCSV(); err != nil {
				return nil, err
			}
		}
	}
	if r.csv != nil {
		rec, err := r.nextCSV()
		if err == nil && rec == nil {
			return nil, io.EOF
		}
		return rec, err
	}
	rec := r.next()
	if rec != nil && rec.Err != nil && r.csvHint != "" {
		var re *RecordError
		if errors.As(rec.Err, &re) && !strings.HasSuffix(re.Reason, r.csvHint) {
			re.Reason += r.csvHint
		}
	}
	if rec != nil && rec.Err == nil && !rec.Unchecked && rec.Category == "" && (r.format == FormatAuto || r.format == FormatLogAnalytics) {
		// A Log Analytics row (query API or az CLI JSON) becomes a Graph record. The framing
		// scan saw the record's member names: only one with TimeGenerated can be such a row
		// (searching every record's bytes for that name was 7% of a Graph file's ingest).
		out, category, ok, err := laJSONRow(rec.Raw, r.cur.laColumn)
		switch {
		case !ok && r.format == FormatLogAnalytics:
			rec.Err = &RecordError{Source: r.source, Line: rec.Line, Column: rec.Column, Offset: rec.Offset, Kind: ErrSyntax,
				Reason: "not a Log Analytics row (--format loganalytics): a row has PascalCase columns with TimeGenerated and one of ResultType, UserPrincipalName or CorrelationId"}
		case ok && err != nil:
			rec.Err = &RecordError{Source: r.source, Line: rec.Line, Column: rec.Column, Offset: rec.Offset, Kind: ErrSyntax, Reason: "Log Analytics row: " + err.Error()}
		case ok:
			r.laOut = append(r.laOut[:0], out...)
			rec.Raw, rec.Category = r.laOut, category
		}
	}
	if r.rerr != nil && (rec == nil || rec.Err != nil) {
		// A bad record at a read error is an artefact of the broken stream.
		return nil, r.fatal()
	}
	if rec == nil {
		return nil, io.EOF
	}
	return rec, nil
}

func (r *Reader) fatal() error {
	end := r.abs(len(r.buf))
	line, _ := r.position(end)
	return fmt.Errorf("input %s: %s stream broken at offset %d (line %d): %w",
		r.source, r.compression, end, line, r.rerr)
}

// skipBOM drops a UTF-8 byte order mark, which Windows tools like to write.
func (r *Reader) skipBOM() {
	for len(r.buf) < 3 && r.fill() {
	}
	if bytes.HasPrefix(r.buf, []byte{0xef, 0xbb, 0xbf}) {
		r.pos = 3
	}
}

// next advances the state machine until it has a record; nil means EOF.
func (r *Reader) next() *Record {
	for {
		switch r.state {
		case stTop:
			c, ok := r.skipWS()
			if !ok {
				return nil
			}
			start := r.abs(r.pos)
			r.beginRecord(start)
			switch c {
			case '{':
				// Not in a stream that looked like CSV: its rejects' reasons say why it was
				// read as JSON, which a record framed again alone would not know.
				if r.lines && r.csvHint == "" && r.lineObject() {
					return &r.rec
				}
				var wrapper bool
				if !r.fastObject(true) {
					r.pos++
					var e *scanError
					if wrapper, e = r.scanMembers(true); e != nil {
						return r.rejectSyntax(e, start, "")
					}
				}
				if wrapper {
					r.pos++ // '['
					r.mark = -1
					r.state, r.arrWrapper, r.arrFirst = stArray, true, true
					continue
				}
				end := r.abs(r.pos) // absolute: peeking below may compact buf
				r.holdEnd = end
				off, bad := r.trailingGarbage()
				r.holdEnd = -1
				if bad {
					return r.rejectTrailing(start, off)
				}
				return r.emitObject(start, end)
			case '[':
				r.pos++
				r.mark = -1
				r.state, r.arrWrapper, r.arrFirst = stArray, false, true
			default:
				what := "found " + describe(c)
				if e := r.skipValue(0); e == nil {
					what = "found a JSON scalar"
				}
				e := &scanError{off: start, msg: "expected a JSON object or array, " + what}
				return r.rejectSyntax(e, start, "")
			}
		case stArray:
			if rec, done := r.arrayElement(); done {
				return rec
			}
		case stWrapperTail:
			if rec, done := r.wrapperTail(); done {
				return rec
			}
		default:
			panic(fmt.Sprintf("BUG: input reader in unknown state %d", r.state))
		}
	}
}

// beginRecord starts buffering a record at start and records its position.
func (r *Reader) beginRecord(start int64) {
	r.mark = start
	r.cur.reset()
	r.countLines(start)
	r.rec.Line = r.lnNum
	r.rec.Column = int(start-r.lnStart) + 1
	r.rec.Offset = start
}

// arrayElement handles one element (or the end) of an array of records.
func (r *Reader) arrayElement() (*Record, bool) {
	c, ok := r.skipWS()
	if !ok {
		r.beginRecord(r.abs(r.pos))
		r.state = stTop
		return r.reject(nil, ErrSyntax, r.abs(r.pos), "invalid JSON: unexpected end of input inside an array of records"), true
	}
	if !r.arrFirst && c != ']' {
		if c != ',' {
			r.beginRecord(r.abs(r.pos))
			e := r.errHere("expected ',' or ']' after array element, found %s", describe(c))
			return r.rejectSyntax(e, r.abs(r.pos), arrayRest), true
		}
		r.pos++
		if c, ok = r.skipWS(); !ok {
			return nil, false // reported as end of input inside the array
		}
		if c == ']' {
			r.beginRecord(r.abs(r.pos))
			return r.rejectSyntax(r.errHere("trailing comma in array"), r.abs(r.pos), arrayRest), true
		}
	} else if c == ']' {
		r.pos++
		if r.arrWrapper {
			r.state = stWrapperTail
			return nil, false
		}
		r.state = stTop
		if off, bad := r.trailingGarbage(); bad {
			r.beginRecord(off)
			return r.rejectTrailing(off, off), true
		}
		return nil, false
	}
	r.arrFirst = false
	start := r.abs(r.pos)
	r.beginRecord(start)
	if c == '{' {
		if !r.fastObject(false) {
			r.pos++
			if _, e := r.scanMembers(false); e != nil {
				return r.rejectSyntax(e, start, arrayRest), true
			}
		}
		return r.emitObject(start, r.abs(r.pos)), true
	}
	if e := r.skipValue(0); e != nil {
		return r.rejectSyntax(e, start, arrayRest), true
	}
	return r.reject(r.rejectedRaw(start), ErrNotObject, start, "array element is not a JSON object"), true
}

const arrayRest = "; the rest of the array was rejected"

// wrapperTail skips the members of a wrapper object after its record array
// ("@odata.nextLink" and the like) without buffering them.
func (r *Reader) wrapperTail() (*Record, bool) {
	c, ok := r.skipWS()
	if !ok {
		r.beginRecord(r.abs(r.pos))
		r.state = stTop
		return r.reject(nil, ErrSyntax, r.abs(r.pos), "invalid JSON: unexpected end of input inside a wrapper object"), true
	}
	switch c {
	case '}':
		r.pos++
		r.state = stTop
		if off, bad := r.trailingGarbage(); bad {
			r.beginRecord(off)
			return r.rejectTrailing(off, off), true
		}
		return nil, false
	case ',':
		r.pos++
		if e := r.scanKey(); e != nil {
			r.beginRecord(e.off)
			return r.rejectSyntax(e, e.off, ""), true
		}
		if e := r.skipValue(1); e != nil {
			r.beginRecord(e.off)
			return r.rejectSyntax(e, e.off, ""), true
		}
		return nil, false
	}
	r.beginRecord(r.abs(r.pos))
	e := r.errHere("expected ',' or '}' after object member, found %s", describe(c))
	return r.rejectSyntax(e, e.off, ""), true
}

// trailingGarbage checks what follows a top-level value on its line: only
// whitespace, or the start of another concatenated object or array.
func (r *Reader) trailingGarbage() (int64, bool) {
	for {
		c, ok := r.peek()
		if !ok {
			return 0, false
		}
		switch c {
		case ' ', '\t', '\r':
			r.pos++
		case '\n', '{', '[':
			return 0, false
		default:
			return r.abs(r.pos), true
		}
	}
}

// emitObject turns the object just scanned from start into a record;
// end is the stream offset just after it.
func (r *Reader) emitObject(start, end int64) *Record {
	var raw []byte
	switch {
	// The size first: a record held aside (overflow) because the bytes after it were
	// examined may itself be over the limit, and read a byte at a time it was accepted.
	case end-start > int64(r.max), r.cur.overflow && !r.cur.held:
		return r.reject(r.rejectedRaw(start), ErrTooLarge, start, "record exceeds "+sizeText(r.max))
	case r.cur.held:
		raw = r.hold
	default:
		raw = r.buf[r.rel(start):r.rel(end)]
	}
	if r.cur.hasCat && r.cur.hasProps {
		if _, ok := EventTypeForCategory(r.cur.category); !ok {
			return r.reject(raw, ErrUnsupportedCategory, start, "unsupported diagnostic category "+r.cur.category)
		}
		r.rec.Raw = raw[r.cur.propsStart-start : r.cur.propsEnd-start]
		r.rec.Category = r.cur.category
		r.rec.Err = nil
		return &r.rec
	}
	r.rec.Raw, r.rec.Category, r.rec.Err = raw, "", nil
	return &r.rec
}

// reject fills the record as a bad one; errOff locates the problem.
func (r *Reader) reject(raw []byte, kind error, errOff int64, reason string) *Record {
	line, col := r.rec.Line, r.rec.Column
	if errOff != r.rec.Offset {
		line, col = r.position(errOff)
	}
	r.rec.Raw, r.rec.Category = raw, ""
	r.rec.Err = &RecordError{Source: r.source, Line: line, Column: col, Offset: errOff, Reason: reason, Kind: kind}
	return &r.rec
}

// rejectSyntax reports the bad record starting at start and resynchronises.
func (r *Reader) rejectSyntax(e *scanError, start int64, suffix string) *Record {
	line, col := r.rec.Line, r.rec.Column
	if e.off != r.rec.Offset {
		line, col = r.position(e.off)
	}
	// Look for the restart point from the line after start, since a broken
	// value may hide a record start (a truncated NDJSON line). Past the size
	// limit the start is no longer buffered in every case, so restart after
	// the current position; deciding by size, not by what happens to be
	// buffered, keeps the outcome independent of read sizes.
	if r.abs(r.pos)-start <= int64(r.max) && start >= r.base && !r.cur.overflow {
		r.pos = r.rel(start)
	}
	r.resync()
	r.state = stTop
	raw := r.rejectedRaw(start)
	r.rec.Raw, r.rec.Category = raw, ""
	r.rec.Err = &RecordError{Source: r.source, Line: line, Column: col, Offset: e.off,
		Reason: "invalid JSON: " + e.msg + suffix, Kind: ErrSyntax}
	return &r.rec
}

// rejectTrailing reports a value followed by garbage on its line; the bad
// record runs from start (the value, if not yet returned) to the line's end.
func (r *Reader) rejectTrailing(start, off int64) *Record {
	line, col := r.position(off)
	r.resync()
	r.state = stTop
	r.rec.Raw, r.rec.Category = r.rejectedRaw(start), ""
	r.rec.Err = &RecordError{Source: r.source, Line: line, Column: col, Offset: off,
		Reason: "invalid JSON: trailing data after a JSON value", Kind: ErrSyntax}
	return &r.rec
}

// rejectedRaw is the verbatim input from start to pos, without trailing
// line terminators, cut to rejectPrefix() bytes if longer than r.max. The cut
// does not depend on how the input happened to be read, so rejects files
// are reproducible.
func (r *Reader) rejectedRaw(start int64) []byte {
	var raw []byte
	if r.cur.overflow || start < r.base {
		raw = r.cur.trunc
	} else {
		raw = r.buf[r.rel(start):r.pos]
		if len(raw) > r.max {
			raw = raw[:r.rejectPrefix()]
		}
	}
	return bytes.TrimRight(raw, " \t\r\n")
}

// rejectPrefix is how much of an oversized bad record is kept.
func (r *Reader) rejectPrefix() int { return min(r.max, MaxRejectRawSize) }

// resync moves pos to the next place where a record can start after bad
// input: the start of the first following line whose first byte is not
// whitespace or a closing bracket. In NDJSON that is simply the next line;
// in pretty-printed JSON it skips the indented rest of a broken value and
// its closing bracket, instead of misreading its nested objects as records.
func (r *Reader) resync() {
	for {
		for {
			if j := bytes.IndexByte(r.buf[r.pos:], '\n'); j >= 0 {
				r.pos += j + 1
				break
			}
			r.pos = len(r.buf)
			if !r.fill() {
				return
			}
		}
		c, ok := r.peek()
		if !ok {
			return
		}
		switch c {
		case ' ', '\t', '\r', '\n', '}', ']':
			continue
		}
		return
	}
}
