package bench

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"slices"
	"strings"
)

// Growth puts several side-by-side runs of different sizes together, to show how each measure
// grows with the data on both engines: needle queries should stay flat on authlake while a
// scanning engine grows linearly.
type Growth struct {
	Runs []*Results // ascending by event count
}

// LoadGrowth reads results JSON files written by `authlake bench --peer duckdb --out`. Runs
// without a peer comparison are refused: growth is shown side by side or not at all; so are
// runs that failed.
func LoadGrowth(paths []string) (*Growth, error) {
	g := &Growth{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r Results
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(r.Compare) == 0 {
			return nil, fmt.Errorf("%s: no DuckDB comparison in this run (it was made without --peer duckdb)", p)
		}
		if r.Failed != "" {
			return nil, fmt.Errorf("%s: this run failed (%s): its figures are not a result", p, r.Failed)
		}
		renameTwoColMeasures(&r)
		g.Runs = append(g.Runs, &r)
	}
	if len(g.Runs) == 0 {
		return nil, fmt.Errorf("no results files given")
	}
	slices.SortStableFunc(g.Runs, func(a, b *Results) int { return int(a.Events - b.Events) })
	return g, nil
}

// renameTwoColMeasures puts the figures of a run made before Q1, Q4 and Q10 returned full
// rows (their pages held id and createdDateTime only; no query of the run says "all"
// properties) on the lines of the "(2 cols)" variants, which measure what they measured.
func renameTwoColMeasures(r *Results) {
	for _, q := range r.Queries {
		if q.Properties == "all" {
			return
		}
	}
	for i, c := range r.Compare {
		for _, q := range Suite {
			base, ok := strings.CutSuffix(q.ID, TwoCols)
			if rest, match := strings.CutPrefix(c.Measure, base+" "); ok && match {
				r.Compare[i].Measure = q.ID + " " + rest
				break
			}
		}
	}
}

// measures lists the comparison rows of every run: the newest run's in its order (the largest
// run's when dates tie), then any measure only older runs have.
func (g *Growth) measures() []CompareRow {
	runs := slices.Clone(g.Runs)
	slices.SortStableFunc(runs, func(a, b *Results) int {
		if c := b.Date.Compare(a.Date); c != 0 {
			return c
		}
		return int(b.Events - a.Events)
	})
	var out []CompareRow
	seen := map[string]bool{}
	for _, r := range runs {
		for _, c := range r.Compare {
			if !seen[c.Measure] {
				seen[c.Measure] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func (g *Growth) row(r *Results, measure string) (CompareRow, bool) {
	for _, c := range r.Compare {
		if c.Measure == measure {
			return c, true
		}
	}
	return CompareRow{}, false
}

// Size names an event count the way people say it: 50K, 1M, 100M, 1B.
func Size(n int64) string {
	switch {
	case n >= 1e9 && n%1e8 == 0:
		return trimZero(float64(n)/1e9) + "B"
	case n >= 1e6 && n%1e5 == 0:
		return trimZero(float64(n)/1e6) + "M"
	case n >= 1e3 && n%100 == 0:
		return trimZero(float64(n)/1e3) + "K"
	}
	return fmt.Sprint(n)
}

func trimZero(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") }

// Markdown renders one line per measure and one column per size; each cell reads
// "authlake vs DuckDB = ratio".
func (g *Growth) Markdown() string {
	var b strings.Builder
	b.WriteString("| measure |")
	for _, r := range g.Runs {
		fmt.Fprintf(&b, " %s |", Size(r.Events))
	}
	b.WriteString("\n|---|")
	for range g.Runs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, m := range g.measures() {
		fmt.Fprintf(&b, "| %s, %s |", m.Measure, m.Unit)
		for _, r := range g.Runs {
			c, ok := g.row(r, m.Measure)
			if !ok {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %s vs %s = %.2fx |", Num(c.Authlake), Num(c.DuckDB), c.Ratio)
		}
		b.WriteString("\n")
	}
	var before []string
	for _, r := range g.Runs {
		if r.Cold == "" {
			before = append(before, Size(r.Events))
		}
	}
	if len(before) > 0 {
		fmt.Fprintf(&b, "\nCold figures of the %s run(s) were measured before cold runs dropped the database's files from the OS page cache: the first query after opening, with whatever the cache held.",
			strings.Join(before, ", "))
		if len(before) < len(g.Runs) {
			fmt.Fprintf(&b, " The others' cold is the %s.", ColdMethod)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// SVG draws small multiples: one panel per warm query plus ingest rate and bytes per event,
// each a log–log plot of the measure against the event count with one line per engine.
func (g *Growth) SVG() string {
	var panels []CompareRow
	for _, m := range g.measures() {
		if strings.Contains(m.Measure, "(cold)") || strings.HasPrefix(m.Measure, "peak RSS") {
			continue
		}
		panels = append(panels, m)
	}
	const (
		cols, pw, ph = 4, 250, 170 // panel size
		padL, padT   = 52, 28      // plot area inside a panel
		plotW, plotH = pw - padL - 14, ph - padT - 30
		top          = 60
	)
	rows := (len(panels) + cols - 1) / cols
	w, h := cols*pw+20, top+rows*ph+10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, w, h)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>`)
	last := g.Runs[len(g.Runs)-1]
	var sizes []string
	for _, r := range g.Runs {
		sizes = append(sizes, Size(r.Events))
	}
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">Growth with data size: authlake vs DuckDB %s, %d threads (log–log; %s events)</text>`,
		html.EscapeString(strings.TrimPrefix(last.peerVersion(), "v")), last.Threads, strings.Join(sizes, ", "))
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#555">%s, %s. Queries: warm median. Lower is better for times and bytes, higher for events/s.</text>`,
		html.EscapeString(last.Machine), last.Date.Format("2006-01-02"))
	fmt.Fprintf(&b, `<line x1="10" y1="50" x2="30" y2="50" stroke="#1565c0" stroke-width="2"/><text x="34" y="54">authlake</text>`)
	fmt.Fprintf(&b, `<line x1="100" y1="50" x2="120" y2="50" stroke="#ef6c00" stroke-width="2" stroke-dasharray="4,2"/><text x="124" y="54">DuckDB</text>`)

	minN, maxN := float64(g.Runs[0].Events), float64(last.Events)
	for i, m := range panels {
		ox, oy := 10+(i%cols)*pw, top+(i/cols)*ph
		var pts [2][][2]float64 // per engine: (events, value)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range g.Runs {
			c, ok := g.row(r, m.Measure)
			if !ok {
				continue
			}
			for e, v := range []float64{c.Authlake, c.DuckDB} {
				if v <= 0 {
					continue
				}
				pts[e] = append(pts[e], [2]float64{float64(r.Events), v})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if math.IsInf(lo, 0) {
			continue
		}
		// Whole decades on the y axis, so the slopes of different panels compare.
		ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if yhi == ylo {
			yhi++
		}
		xlo, xhi := math.Log10(minN), math.Log10(maxN)
		if xhi == xlo {
			xhi = xlo + 1
		}
		px := func(n float64) float64 { return float64(ox+padL) + (math.Log10(n)-xlo)/(xhi-xlo)*plotW }
		py := func(v float64) float64 { return float64(oy+padT) + (yhi-math.Log10(v))/(yhi-ylo)*plotH }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`, ox+4, oy+14, html.EscapeString(strings.TrimSuffix(m.Measure, " (warm)")+", "+m.Unit))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>`, ox+padL, oy+padT, plotW, plotH)
		for d := ylo; d <= yhi; d++ {
			y := py(math.Pow(10, d))
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`,
				ox+padL, y, ox+padL+plotW, y, ox+padL-4, y+4, Num(math.Pow(10, d)))
		}
		for _, r := range g.Runs {
			x := px(float64(r.Events))
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`, x, oy+padT+plotH+14, Size(r.Events))
		}
		for e, color := range []string{"#1565c0", "#ef6c00"} {
			if len(pts[e]) == 0 {
				continue
			}
			var path []string
			for _, p := range pts[e] {
				path = append(path, fmt.Sprintf("%.1f,%.1f", px(p[0]), py(p[1])))
			}
			dash := ""
			if e == 1 {
				dash = ` stroke-dasharray="4,2"` // DuckDB dashed, as in the legend
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke-width="2" stroke="%s"%s/>`, strings.Join(path, " "), color, dash)
			for _, p := range pts[e] {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px(p[0]), py(p[1]), color)
			}
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
