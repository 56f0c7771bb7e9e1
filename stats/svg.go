package stats

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"
)

// The charts are hand-written SVG, inline in the HTML page (no xmlns: the
// page must hold no URL at all): no chart library writes self-contained
// SVG from Go without pulling in a browser-side runtime, and these three
// shapes (bars, stacked bars, histograms) need little code.

// palette colours the series of stacked charts: twelve hues of distinct
// lightness and hue (Tableau 10 and two darker ones); tab20's light/dark
// pairs of one hue were too alike to tell twenty sources apart. Series 13
// and on reuse the hues under a pattern (seriesFill), so up to 36 series
// stay distinct, and every segment also carries its name in a tooltip and,
// where it fits, a label.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#9c755f",
	"#edc948", "#76b7b2", "#ff9da7", "#1f3b73", "#6b8e23", "#bab0ac"}

// seriesPatterns are the fills past the palette: solid, white diagonal
// stripes, white dots.
const seriesPatterns = 3

// seriesFill is the fill of series i: a palette colour, or past the
// palette a pattern defined once in the page (patternDefs).
func seriesFill(i int) string {
	i %= len(palette) * seriesPatterns
	if i < len(palette) {
		return palette[i]
	}
	return fmt.Sprintf("url(#pat-%d)", i)
}

// patternDefs is a zero-size SVG holding the patterns seriesFill refers to;
// an element in the page may use an inline SVG's pattern by its id. It is
// not display:none, which would stop Chromium drawing the patterns.
func patternDefs() string {
	var b strings.Builder
	b.WriteString(`<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>`)
	for i := len(palette); i < len(palette)*seriesPatterns; i++ {
		c := palette[i%len(palette)]
		fmt.Fprintf(&b, `<pattern id="pat-%d" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="%s"/>`, i, c)
		if i/len(palette) == 1 {
			b.WriteString(`<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="#fff" stroke-width="1.4"/>`)
		} else {
			b.WriteString(`<circle cx="3" cy="3" r="1.3" fill="#fff"/>`)
		}
		b.WriteString(`</pattern>`)
	}
	b.WriteString(`</defs></svg>`)
	return b.String()
}

// textWidth estimates the rendered width of s at 13px: CJK characters are
// about one em, Latin ones a little over half.
func textWidth(s string) float64 {
	var w float64
	for _, r := range s {
		if r >= 0x2E80 {
			w += 13
		} else {
			w += 7.2
		}
	}
	return w
}

// clip shortens a label to at most n characters. A path keeps its end
// (the file name and the folders nearest it), cut at a slash where one is
// near, since the start of a path is the part every label shares.
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	if strings.ContainsRune(s, '/') {
		tail := rs[len(rs)-(n-1):]
		if i := slices.Index(tail, '/'); i >= 0 && i < len(tail)/2 {
			tail = tail[i:]
		}
		return "…" + string(tail)
	}
	return string(rs[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }

// num renders a count with thousands separators.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return humanize.Comma(int64(v))
	}
	return humanize.CommafWithDigits(v, 2)
}

// barItem is one bar of a horizontal bar chart.
type barItem struct {
	label string
	value float64
}

// hbarChart draws labelled horizontal bars scaled to the largest value.
func hbarChart(title string, items []barItem) string {
	if len(items) == 0 {
		return emptyChart(title)
	}
	const rowH, barH, maxWidth = 24, 16, 720
	labelW := 80.0
	for _, it := range items {
		labelW = math.Max(labelW, textWidth(clip(it.label, 44))+12)
	}
	labelW = math.Min(labelW, 360)
	maxV := 0.0
	for _, it := range items {
		maxV = math.Max(maxV, it.value)
	}
	width := math.Min(maxWidth, labelW+470) // short labels leave room for a second chart beside
	plotW := width - labelW - 90
	h := 30 + rowH*len(items) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="%.0f" height="%d" viewBox="0 0 %.0f %d" role="img" aria-label="%s">`,
		width, h, width, h, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="16" class="title">%s</text>`, esc(title))
	for i, it := range items {
		y := 30 + i*rowH
		w := 0.0
		if maxV > 0 {
			w = math.Max(it.value/maxV*plotW, 1)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="label" text-anchor="end">%s<title>%s</title></text>`,
			labelW-6, y+barH-3, esc(clip(it.label, 44)), esc(it.label))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`,
			labelW, y, w, barH, palette[0], esc(it.label), num(it.value))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="value">%s</text>`, labelW+w+5, y+barH-3, num(it.value))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// stackRow is one bar of a stacked chart: a value per series.
type stackRow struct {
	label  string
	values []float64
}

// stackedChart draws one horizontal bar per row, split into coloured
// segments per series, with a legend.
func stackedChart(title string, series []string, rows []stackRow) string {
	if len(rows) == 0 || len(series) == 0 {
		return emptyChart(title)
	}
	const rowH, barH, width = 28, 18, 900
	labelW := 110.0
	maxV := 0.0
	for _, r := range rows {
		var sum float64
		for _, v := range r.values {
			sum += v
		}
		maxV = math.Max(maxV, sum)
		labelW = math.Max(labelW, textWidth(r.label)+12)
	}
	plotW := width - labelW - 100
	// Legend rows wrap at the chart width.
	var legend strings.Builder
	lx, ly := 0.0, 0
	for i, s := range series {
		w := textWidth(clip(s, 30)) + 30
		if lx+w > width {
			lx, ly = 0, ly+20
		}
		fmt.Fprintf(&legend, `<rect x="%.0f" y="%d" width="12" height="12" fill="%s" stroke="#fff"/><text x="%.0f" y="%d" class="label">%s</text>`,
			lx, 26+ly, seriesFill(i), lx+16, 36+ly, esc(clip(s, 30)))
		lx += w
	}
	top := 26 + ly + 26
	h := top + rowH*len(rows) + 6
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		width, h, width, h, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="16" class="title">%s</text>`, esc(title))
	b.WriteString(legend.String())
	for i, r := range rows {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="label" text-anchor="end">%s</text>`, labelW-6, y+barH-4, esc(r.label))
		x := labelW
		var sum float64
		for j, v := range r.values {
			sum += v
			if v <= 0 || maxV == 0 {
				continue
			}
			w := v / maxV * plotW
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="#fff" stroke-width="0.5"><title>%s · %s: %s</title></rect>`,
				x, y, w, barH, seriesFill(j), esc(r.label), esc(series[j]), num(v))
			// Past a few series, colours alone are hard to match to the
			// legend: a segment wide enough carries its series' name.
			if name := clip(series[j], 16); len(series) > 4 && w >= textWidth(name)*0.85+8 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="seg">%s</text>`, x+4, y+barH-5, esc(name))
			}
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="value">%s</text>`, x+5, y+barH-4, num(sum))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// histChart draws a histogram as vertical bars, one per bin: a y axis of
// counts (yLabel: what is counted) with ticks and grid lines, the bin
// labels below and xLabel under them (what is binned), the count above
// each bar.
func histChart(title, xLabel, yLabel string, h *Histogram) string {
	if h == nil || h.N == 0 {
		return emptyChart(title)
	}
	return histChartSub(title, fmt.Sprintf("n=%s · mean %.1f · p50≈%.0f · p90≈%.0f · max %s",
		num(float64(h.N)), h.Mean(), h.Quantile(0.5), h.Quantile(0.9), num(float64(h.Max))), xLabel, yLabel, h)
}

// histChartSub is histChart with its own subtitle, for values the bins
// only approximate (perplexities, binned as whole numbers).
func histChartSub(title, sub, xLabel, yLabel string, h *Histogram) string {
	if h == nil || h.N == 0 {
		return emptyChart(title)
	}
	const width, plotH, barGap, left = 470, 130, 4, 58
	top := 52 // room for the subtitle and the tallest bar's count
	// Bins past the largest value are left out, so short fields get wide bars.
	bins := h.Bins
	for len(bins) > 4 && bins[len(bins)-1].Count == 0 && bins[len(bins)-2].Count == 0 {
		bins = bins[:len(bins)-1]
	}
	n := len(bins)
	slot := float64(width-left-6) / float64(n)
	var maxC int64
	for _, bn := range bins {
		maxC = max(maxC, bn.Count)
	}
	scale := niceCeil(maxC)
	base := top + plotH
	total := base + 64
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart hist" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		width, total, width, total, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="16" class="title">%s</text>`, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="32" class="sub">%s</text>`, esc(sub))
	for _, t := range []int64{0, scale / 2, scale} {
		y := float64(base) - float64(t)/float64(scale)*plotH
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/>`, left, width-4, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="tiny" text-anchor="end">%s</text>`, left-5, y+3.5, compact(t))
	}
	fmt.Fprintf(&b, `<text class="axislabel" text-anchor="middle" transform="translate(12 %d) rotate(-90)">%s</text>`, top+plotH/2, esc(yLabel))
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" class="axis"/>`, left, left, top, base)
	for i, bn := range bins {
		x := float64(left) + float64(i)*slot
		bh := 0.0
		if bn.Count > 0 {
			bh = math.Max(float64(bn.Count)/float64(scale)*plotH, 1)
		}
		y := float64(base) - bh
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s %s</title></rect>`,
			x+barGap/2, y, slot-barGap, bh, palette[0], esc(bn.Label), esc(h.Unit), num(float64(bn.Count)), esc(yLabel))
		if bn.Count > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tiny" text-anchor="middle">%s</text>`, x+slot/2, y-3, compact(bn.Count))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tiny" text-anchor="end" transform="rotate(-35 %.1f %d)">%s</text>`,
			x+slot/2+3, base+12, x+slot/2+3, base+12, esc(bn.Label))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" class="axis"/>`, left, width-4, base, base)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="axislabel" text-anchor="middle">%s</text>`, left+(width-left)/2, total-4, esc(xLabel))
	b.WriteString(`</svg>`)
	return b.String()
}

// niceCeil rounds a count up to 1, 2 or 5 times a power of ten (at least
// 2, so the middle tick is whole): the top of a y axis.
func niceCeil(v int64) int64 {
	if v <= 2 {
		return 2
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

// compact writes a count in at most five characters (1234 → 1.2k).
func compact(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fG", float64(n)/1e9)
}

func emptyChart(title string) string {
	return fmt.Sprintf(`<svg class="chart" width="440" height="44" viewBox="0 0 440 44" role="img" aria-label="%s">`+
		`<text x="0" y="16" class="title">%s</text><text x="0" y="36" class="sub">no data</text></svg>`, esc(title), esc(title))
}
