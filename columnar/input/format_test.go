package input

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// --format overrides what the content says: each override either reads the input as asked or
// says plainly why it cannot, and auto stays what the content says.
func TestFormatOverride(t *testing.T) {
	laCSV, _ := os.ReadFile("testdata/la_signinlogs.csv")
	laJSON, _ := os.ReadFile("testdata/la_rows.json")
	portalCSV, _ := os.ReadFile("testdata/portal_signins.csv")
	graph := []byte(`{"id":"a0000000-0000-4000-8000-000000000009","createdDateTime":"2026-11-18T09:00:00Z"}` + "\n")

	// auto: every kind is recognised.
	for name, in := range map[string][]byte{"la csv": laCSV, "la json": laJSON, "portal csv": portalCSV, "graph": graph} {
		for _, g := range readAllFrom(t, bytes.NewReader(in), Options{}) {
			if g.Err != "" || strings.Contains(g.Raw, "TimeGenerated") {
				t.Fatalf("auto, %s: %v", name, g)
			}
		}
	}
	// graph: a Log Analytics row is taken as it is (Graph records with PascalCase names, which
	// the decoder then rejects for their missing id), a CSV file is not read as CSV.
	for _, g := range readAllFrom(t, bytes.NewReader(laJSON), Options{Format: FormatGraph}) {
		if g.Err != "" || !strings.Contains(g.Raw, `"TimeGenerated"`) {
			t.Fatalf("graph, la json: %v", g)
		}
	}
	for _, g := range readAllFrom(t, bytes.NewReader(laCSV), Options{Format: FormatGraph}) {
		if g.Err == "" || strings.Contains(g.Err, "CSV") {
			t.Fatalf("graph, la csv: a record read as CSV or accepted: %v", g)
		}
	}
	// loganalytics: a record that is not a Log Analytics row is rejected, saying why; a CSV
	// header of another kind stops the file.
	gs := readAllFrom(t, bytes.NewReader(graph), Options{Format: FormatLogAnalytics})
	if len(gs) != 1 || !strings.Contains(gs[0].Err, "not a Log Analytics row (--format loganalytics)") {
		t.Fatalf("loganalytics, graph: %v", gs)
	}
	if _, err := readAllErr(bytes.NewReader(portalCSV), Options{Format: FormatLogAnalytics}); err == nil || !strings.Contains(err.Error(), "--format loganalytics, but the CSV header") {
		t.Fatalf("loganalytics, portal csv: %v", err)
	}
	if gs := readAllFrom(t, bytes.NewReader(laCSV), Options{Format: FormatLogAnalytics}); len(gs) != 2 || gs[0].Err != "" {
		t.Fatalf("loganalytics, la csv: %v", gs)
	}
	// portal: the admin center's CSV only.
	if _, err := readAllErr(bytes.NewReader(laCSV), Options{Format: FormatPortal}); err == nil || !strings.Contains(err.Error(), "--format portal, but the CSV header") {
		t.Fatalf("portal, la csv: %v", err)
	}
	if gs := readAllFrom(t, bytes.NewReader(portalCSV), Options{Format: FormatPortal}); len(gs) == 0 || gs[0].Err != "" {
		t.Fatalf("portal, portal csv: %v", gs)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Fatal("ParseFormat took xml")
	}
	if _, err := NewReaderOptions(bytes.NewReader(graph), "x", Options{Format: "xml"}); err == nil {
		t.Fatal("NewReaderOptions took format xml")
	}
}
