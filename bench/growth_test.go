package bench

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeResults(t *testing.T, dir string, r *Results) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, Size(r.Events)+".json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGrowthOrdersRunsAndRendersEveryMeasure(t *testing.T) {
	dir := t.TempDir()
	small := &Results{Events: 1_000_000, Threads: 2, Cold: ColdMethod, Compare: []CompareRow{
		{Measure: "Q2 flagged + user (warm)", Unit: "ms", Authlake: 1, DuckDB: 2.5, Ratio: 2.5},
		{Measure: "ingest, 2 threads", Unit: "events/s", Authlake: 50000, DuckDB: 30000, Ratio: 50000.0 / 30000},
	}}
	big := &Results{Events: 100_000_000, Threads: 2, Cold: ColdMethod, Compare: []CompareRow{
		{Measure: "Q2 flagged + user (warm)", Unit: "ms", Authlake: 2, DuckDB: 250, Ratio: 125},
		{Measure: "Q2 (cold)", Unit: "ms", Authlake: 9, DuckDB: 900, Ratio: 100},
		{Measure: "ingest, 2 threads", Unit: "events/s", Authlake: 40000, DuckDB: 36000, Ratio: 40000.0 / 36000},
	}}
	// Given out of order: the table and chart go by size.
	g, err := LoadGrowth([]string{writeResults(t, dir, big), writeResults(t, dir, small)})
	if err != nil {
		t.Fatal(err)
	}
	md := g.Markdown()
	lines := strings.Split(strings.TrimSpace(md), "\n")
	if lines[0] != "| measure | 1M | 100M |" {
		t.Fatalf("header %q", lines[0])
	}
	want := []string{
		"| Q2 flagged + user (warm), ms | 1.00 vs 2.50 = 2.50x | 2.00 vs 250.0 = 125.00x |",
		"| Q2 (cold), ms | – | 9.00 vs 900.0 = 100.00x |", // only the big run measured it
		"| ingest, 2 threads, events/s | 50000 vs 30000 = 1.67x | 40000 vs 36000 = 1.11x |",
	}
	if got := lines[2:]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	svg := g.SVG()
	dec := xml.NewDecoder(strings.NewReader(svg))
	lines2, panels := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				lines2++
			case "rect":
				panels++
			}
		}
	}
	// Cold rows are left out of the chart: two panels (Q2 warm, ingest), two engines each,
	// plus the background rect.
	if lines2 != 4 || panels != 3 {
		t.Fatalf("polylines %d (want 4), rects %d (want 3)", lines2, panels)
	}
}

func TestGrowthRefusesRunsWithoutThePeer(t *testing.T) {
	dir := t.TempDir()
	p := writeResults(t, dir, &Results{Events: 50_000})
	if _, err := LoadGrowth([]string{p}); err == nil || !strings.Contains(err.Error(), "--peer duckdb") {
		t.Fatalf("want a refusal naming --peer duckdb, got %v", err)
	}
	if _, err := LoadGrowth(nil); err == nil {
		t.Fatal("no files accepted")
	}
}

func TestGrowthRefusesFailedRuns(t *testing.T) {
	p := writeResults(t, t.TempDir(), &Results{Events: 50_000, Compare: []CompareRow{{Measure: "Q1 (warm)"}}, Failed: "Q2 differs"})
	if _, err := LoadGrowth([]string{p}); err == nil || !strings.Contains(err.Error(), "this run failed (Q2 differs)") {
		t.Fatalf("want a refusal naming the failure, got %v", err)
	}
}

func TestSizeNames(t *testing.T) {
	for n, want := range map[int64]string{50_000: "50K", 1_000_000: "1M", 2_500_000: "2.5M", 100_000_000: "100M", 1_000_000_000: "1B", 1234: "1234"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
