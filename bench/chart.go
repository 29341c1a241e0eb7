package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// SVG draws the comparison as horizontal bars of the ratio (log scale, 1x in the middle), with
// each goal marked: a chart a person would rather look at than the JSON.
func (r *Results) SVG() string {
	rows := r.Compare
	const (
		left, barW, rowH, top = 330, 420, 22, 50
	)
	h := top + rowH*len(rows) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, left+barW+120, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">authlake vs DuckDB %s: %d events, %d threads (ratio, log scale; right of 1x = authlake better)</text>`,
		html.EscapeString(strings.TrimPrefix(r.peerVersion(), "v")), r.Events, r.Threads)
	fmt.Fprintf(&b, `<text x="10" y="36" fill="#555">%s, %s</text>`, html.EscapeString(r.Machine), r.Date.Format("2006-01-02"))
	// log scale from 1/100x to 100x
	x := func(ratio float64) float64 {
		if ratio <= 0 {
			ratio = 0.01
		}
		l := math.Log10(ratio)
		l = math.Max(-2, math.Min(2, l))
		return left + (l+2)/4*barW
	}
	for _, tick := range []float64{0.01, 0.1, 1, 10, 100} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle" fill="#555">%gx</text>`,
			x(tick), top-5, x(tick), h-30, x(tick), h-15, tick)
	}
	for i, c := range rows {
		y := top + i*rowH
		color := "#2e7d32"
		switch {
		case c.Goal == 0:
			color = "#9e9e9e" // no goal: reported beside the measure that has one
		case !c.Met:
			color = "#c62828"
		}
		x0, x1 := x(1), x(c.Ratio)
		if x1 < x0 {
			x0, x1 = x1, x0
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-8, y+14, html.EscapeString(c.Measure))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x0, y+3, math.Max(1, x1-x0), rowH-6, color)
		if c.Goal > 0 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-dasharray="2,2"/>`, x(c.Goal), y+1, x(c.Goal), y+rowH-1)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%.2fx</text>`, left+barW+8, y+14, c.Ratio)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func (r *Results) peerVersion() string {
	if r.Peer != nil {
		return r.Peer.Version
	}
	return ""
}
