package input

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// PortalCSVWriter writes Graph sign-in rows as the Entra admin center's sign-in "Download CSV":
// the columns and value spellings of portalColumns, the same table the portal import reads, so
// a download loads back with `authlake ingest --format portal` (the mapped columns survive; the
// rest of a sign-in is not in the portal's file either).
type PortalCSVWriter struct {
	w     *csv.Writer
	p     fastjson.Parser
	cells []string
}

// NewPortalCSVWriter writes the header row and returns the writer.
func NewPortalCSVWriter(w io.Writer) (*PortalCSVWriter, error) {
	pw := &PortalCSVWriter{w: csv.NewWriter(w), cells: make([]string, len(portalColumns))}
	for i, c := range portalColumns {
		pw.cells[i] = c.Column
	}
	return pw, pw.w.Write(pw.cells)
}

// PortalProperties are the top-level sign-in properties the download's columns read: a
// query that selects only these gives rows the writer needs nothing more from.
func PortalProperties() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range portalColumns {
		p, _, _ := strings.Cut(c.Graph, "/")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Write writes one Graph sign-in row (JSON).
func (pw *PortalCSVWriter) Write(row []byte) error {
	v, err := pw.p.ParseBytes(row)
	if err != nil {
		return fmt.Errorf("portal csv: %w", err)
	}
	for i, c := range portalColumns {
		pw.cells[i] = portalCell(v.Get(portalPaths[i]...), c.Kind)
	}
	return pw.w.Write(pw.cells)
}

// Flush writes what is buffered and reports any write error.
func (pw *PortalCSVWriter) Flush() error {
	pw.w.Flush()
	return pw.w.Error()
}

// PortalCAStatus is how the admin center spells conditionalAccessStatus ("notApplied" →
// "Not Applied"); other values pass through. laValue reads it back.
func PortalCAStatus(s string) string {
	switch s {
	case "success":
		return "Success"
	case "failure":
		return "Failure"
	case "notApplied":
		return "Not Applied"
	}
	return s
}

// portalPaths are the columns' property paths, split once.
var portalPaths = func() [][]string {
	out := make([][]string, len(portalColumns))
	for i, c := range portalColumns {
		out[i] = strings.Split(c.Graph, "/")
	}
	return out
}()

// portalCell spells one value as the portal does (the inverse of laValue for these kinds).
func portalCell(v *fastjson.Value, kind laKind) string {
	if v == nil || v.Type() == fastjson.TypeNull {
		return ""
	}
	switch kind {
	case laBool:
		if v.Type() == fastjson.TypeTrue {
			return "Yes"
		}
		if v.Type() == fastjson.TypeFalse {
			return "No"
		}
	case laLocation:
		var parts []string
		for _, k := range []string{"city", "state", "countryOrRegion"} {
			parts = append(parts, string(v.GetStringBytes(k)))
		}
		if parts[0] == "" && parts[1] == "" && parts[2] == "" {
			return ""
		}
		return strings.Join(parts, ", ")
	case laCAStatus:
		return PortalCAStatus(string(v.GetStringBytes()))
	case laInt:
		if n, err := v.Int64(); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	if v.Type() == fastjson.TypeString {
		return string(v.GetStringBytes())
	}
	return v.String()
}
