package input

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSV exports. A stream whose first character is not '{' or '[' and whose first line is a CSV
// header naming Log Analytics sign-in columns (see isLAColumns) is read as CSV with the
// standard library's reader (streaming: one row in memory, quoted multi-line cells and CRLF
// handled), each row mapped to a Graph record by laToGraph. A row that cannot be mapped is a
// bad record with its line and reason; the rows around it are kept.

type csvState struct {
	table  *exportTable
	r      *csv.Reader
	header []string
	out    []byte
}

// startCSV switches the reader to CSV when the stream's head is a recognised header. It reports
// whether it did; an unrecognised CSV-looking head is a stream error saying what is expected.
func (r *Reader) startCSV() (bool, error) {
	// Buffer up to the end of the first non-blank line, whatever the read sizes.
	var head []byte
	for {
		head = bytes.TrimLeft(r.buf[r.pos:], " \t\r\n")
		if len(head) > 0 && (bytes.IndexByte(head, '\n') >= 0 || len(head) >= 1<<16) || r.eof || !r.fill() {
			break
		}
	}
	if len(head) == 0 || head[0] == '{' || head[0] == '[' {
		return false, nil
	}
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	hdr, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil || len(hdr) < 2 {
		return false, nil // not CSV either: the JSON reader reports it
	}
	table := laTable
	if !isLAColumns(hdr) {
		table = portalTable
	}
	switch {
	case r.format == FormatLogAnalytics && !isLAColumns(hdr):
		return false, fmt.Errorf("input %s: --format loganalytics, but the CSV header is not a Log Analytics sign-in export's (TimeGenerated with ResultType, UserPrincipalName or CorrelationId); it starts %s",
			r.source, strings.Join(hdr[:min(len(hdr), 4)], ","))
	case r.format == FormatPortal && !isPortalColumns(hdr):
		return false, fmt.Errorf("input %s: --format portal, but the CSV header is not the admin center's sign-in download (Date (UTC) and Request ID); it starts %s",
			r.source, strings.Join(hdr[:min(len(hdr), 4)], ","))
	case r.format == FormatPortal:
		table = portalTable
	}
	if !isLAColumns(hdr) && !isPortalColumns(hdr) {
		// Not a sign-in export: the JSON reader rejects its lines one by one (nothing else is
		// lost), and each reason says why the file was not read as CSV.
		r.csvHint = fmt.Sprintf(" (read as JSON: a CSV file is read only when its header is a Log Analytics sign-in export's, TimeGenerated with ResultType, UserPrincipalName or CorrelationId, or the admin center's sign-in download, Date (UTC) and Request ID; this one starts %s)",
			strings.Join(hdr[:min(len(hdr), 4)], ","))
		return false, nil
	}
	rest := append([]byte(nil), r.buf[r.pos:]...)
	cr := csv.NewReader(io.MultiReader(bytes.NewReader(rest), r.src))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil {
		return false, fmt.Errorf("input %s: CSV header: %w", r.source, err)
	}
	r.csv = &csvState{table: table, r: cr, header: append([]string(nil), hdr...)}
	r.buf, r.pos = r.buf[:0], 0
	return true, nil
}

// nextCSV returns the next CSV row as a Graph record; nil at the end.
func (r *Reader) nextCSV() (*Record, error) {
	cs := r.csv
	row, err := cs.r.Read()
	if err == io.EOF {
		return nil, nil
	}
	rec := &r.rec
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		*rec = Record{Source: r.source, Line: pe.StartLine, Column: 1}
		rec.Raw = []byte(strings.Join(row, ","))
		rec.Err = &RecordError{Source: r.source, Line: pe.Line, Column: pe.Column, Kind: ErrSyntax, Reason: "CSV: " + pe.Err.Error()}
		return rec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", r.source, err)
	}
	line, col := 0, 0
	if len(row) > 0 {
		line, col = cs.r.FieldPos(0)
	}
	*rec = Record{Source: r.source, Line: line, Column: col}
	cells := make([]laCell, 0, len(row))
	for i, v := range row {
		if i < len(cs.header) {
			cells = append(cells, laCell{Column: cs.header[i], Text: v})
		}
	}
	out, category, err := cs.table.toGraph(cells)
	if err != nil {
		rec.Raw = csvLine(row)
		rec.Err = &RecordError{Source: r.source, Line: line, Column: col, Kind: ErrSyntax, Reason: "export row: " + err.Error()}
		return rec, nil
	}
	cs.out = append(cs.out[:0], out...)
	rec.Raw, rec.Category = cs.out, category
	return rec, nil
}

// csvLine is a rejected row as CSV text, for the rejects file.
func csvLine(row []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(row)
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\n")
}

// laJSONRow converts a framed JSON record that is a Log Analytics row (PascalCase columns with
// TimeGenerated) into a Graph record; ok is false for any other record. timeGenerated says
// whether the framing scan saw a top-level TimeGenerated member (no row lacks one).
func laJSONRow(raw []byte, timeGenerated bool) (out []byte, category string, ok bool, err error) {
	if !timeGenerated {
		return nil, "", false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, "", false, nil
	}
	var cells []laCell
	var cols []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, "", false, nil
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", false, nil
		}
		c := laCell{Column: k}
		if len(v) > 0 && v[0] == '"' {
			var s string
			json.Unmarshal(v, &s)
			c.Text = s
		} else {
			c.JSON = v
		}
		cells = append(cells, c)
		cols = append(cols, k)
	}
	if !isLAColumns(cols) {
		return nil, "", false, nil
	}
	out, category, err = laToGraph(cells)
	return out, category, true, err
}
