//go:build linux

package main

import (
	"fmt"
	"math"
	"strings"
)

// series is one CDF line of the plot.
type series struct {
	name   string
	xs, ys []float64 // latency µs, cumulative fraction
}

// panel is one chart: a title and its lines.
type panel struct {
	title string
	lines []series
}

var palette = map[string]string{
	"wsbridge": "#d62728", "ser2net": "#1f77b4", "socat": "#7f7f7f",
	"python": "#2ca02c", "node": "#9467bd", "baseline": "#ff7f0e",
}

const (
	panelW, panelH = 360, 280
	padL, padR     = 52, 12
	padT, padB     = 34, 44
)

// cdfSVG draws panels side by side: x is latency on a log scale, y the
// fraction of frames delivered within it. A self-contained SVG, no deps.
func cdfSVG(title string, panels []panel) string {
	lo, hi := xRange(panels)
	w := panelW*len(panels) + 20
	h := panelH + 44
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" text-anchor="middle">%s</text>`+"\n", w/2, esc(title))
	for i, p := range panels {
		drawPanel(&b, 10+i*panelW, 16, p, lo, hi)
	}
	drawLegend(&b, panels, h-10)
	b.WriteString("</svg>\n")
	return b.String()
}

func xRange(panels []panel) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		for _, s := range p.lines {
			for _, x := range s.xs {
				lo, hi = math.Min(lo, math.Max(x, 1)), math.Max(hi, x)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return 10, 1e5
	}
	return math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
}

func drawPanel(b *strings.Builder, ox, oy int, p panel, lo, hi float64) {
	x0, y0 := float64(ox+padL), float64(oy+padT)
	pw, ph := float64(panelW-padL-padR), float64(panelH-padT-padB)
	fx := func(v float64) float64 {
		v = math.Max(v, lo)
		return x0 + pw*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	fy := func(v float64) float64 { return y0 + ph*(1-v) }
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" font-size="12">%s</text>`+"\n", x0+pw/2, y0-8, esc(p.title))
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", x0, y0, pw, ph)
	for d := lo; d <= hi*1.001; d *= 10 {
		x := fx(d)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", x, y0, x, y0+ph)
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x, y0+ph+14, usLabel(d))
	}
	for _, q := range []float64{0, 0.25, 0.5, 0.75, 0.9, 1} {
		y := fy(q)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/>`+"\n", x0, y, x0+pw, y)
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end">%g</text>`+"\n", x0-4, y+4, q)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">added latency (log scale)</text>`+"\n", x0+pw/2, y0+ph+30)
	for _, s := range p.lines {
		var pts []string
		prev := 0.0
		for i, x := range s.xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", fx(x), fy(prev), fx(x), fy(s.ys[i])))
			prev = s.ys[i]
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`+"\n", color(s.name), strings.Join(pts, " "))
	}
}

func drawLegend(b *strings.Builder, panels []panel, y int) {
	seen := map[string]bool{}
	x := 60
	for _, p := range panels {
		for _, s := range p.lines {
			if seen[s.name] {
				continue
			}
			seen[s.name] = true
			fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", x, y-4, x+22, y-4, color(s.name))
			fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", x+27, y, esc(s.name))
			x += 40 + 7*len(s.name)
		}
	}
}

func color(name string) string {
	if c, ok := palette[name]; ok {
		return c
	}
	return "#000"
}

func usLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%g s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%g ms", v/1e3)
	}
	return fmt.Sprintf("%g µs", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
