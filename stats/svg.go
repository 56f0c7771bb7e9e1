package stats

import (
	"fmt"
	"html"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
)

// The charts are hand-written SVG, inline in the HTML page (no xmlns: the
// page must hold no URL at all): no chart library writes self-contained
// SVG from Go without pulling in a browser-side runtime, and these three
// shapes (bars, stacked bars, histograms) need little code.

// palette colours the series of stacked charts: twenty distinct colours
// (matplotlib's tab20, strong shades first) so a corpus of twenty sources
// still tells them apart.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
	"#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"}

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

// clip shortens a label to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
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
	const rowH, barH, width = 24, 16, 640
	labelW := 80.0
	for _, it := range items {
		labelW = math.Max(labelW, textWidth(clip(it.label, 40))+12)
	}
	labelW = math.Min(labelW, 320)
	maxV := 0.0
	for _, it := range items {
		maxV = math.Max(maxV, it.value)
	}
	plotW := width - labelW - 90
	h := 30 + rowH*len(items) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		width, h, width, h, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="16" class="title">%s</text>`, esc(title))
	for i, it := range items {
		y := 30 + i*rowH
		w := 0.0
		if maxV > 0 {
			w = math.Max(it.value/maxV*plotW, 1)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="label" text-anchor="end">%s</text>`, labelW-6, y+barH-3, esc(clip(it.label, 40)))
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
		fmt.Fprintf(&legend, `<rect x="%.0f" y="%d" width="12" height="12" fill="%s"/><text x="%.0f" y="%d" class="label">%s</text>`,
			lx, 26+ly, palette[i%len(palette)], lx+16, 36+ly, esc(clip(s, 30)))
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
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s · %s: %s</title></rect>`,
				x, y, w, barH, palette[j%len(palette)], esc(r.label), esc(series[j]), num(v))
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="value">%s</text>`, x+5, y+barH-4, num(sum))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// histChart draws a histogram as vertical bars, one per bin, with the bin
// labels below and the counts above.
func histChart(title string, h *Histogram) string {
	if h == nil || h.N == 0 {
		return emptyChart(title)
	}
	const width, plotH, barGap = 440, 120, 4
	top := 52 // room for the subtitle and the tallest bar's count
	// Bins past the largest value are left out, so short fields get wide bars.
	bins := h.Bins
	for len(bins) > 4 && bins[len(bins)-1].Count == 0 && bins[len(bins)-2].Count == 0 {
		bins = bins[:len(bins)-1]
	}
	n := len(bins)
	slot := float64(width-10) / float64(n)
	var maxC int64
	for _, bn := range bins {
		maxC = max(maxC, bn.Count)
	}
	total := top + plotH + 44
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart hist" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		width, total, width, total, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="16" class="title">%s</text>`, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="32" class="sub">n=%s · mean %.1f · p50≈%.0f · p90≈%.0f · max %s</text>`,
		num(float64(h.N)), h.Mean(), h.Quantile(0.5), h.Quantile(0.9), num(float64(h.Max)))
	for i, bn := range bins {
		x := 5 + float64(i)*slot
		bh := 0.0
		if maxC > 0 && bn.Count > 0 {
			bh = math.Max(float64(bn.Count)/float64(maxC)*plotH, 1)
		}
		y := float64(top+plotH) - bh
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
			x+barGap/2, y, slot-barGap, bh, palette[0], esc(bn.Label), esc(h.Unit), num(float64(bn.Count)))
		if bn.Count > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tiny" text-anchor="middle">%s</text>`, x+slot/2, y-3, compact(bn.Count))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tiny" text-anchor="end" transform="rotate(-35 %.1f %d)">%s</text>`,
			x+slot/2+3, top+plotH+12, x+slot/2+3, top+plotH+12, esc(bn.Label))
	}
	fmt.Fprintf(&b, `<line x1="5" x2="%d" y1="%d" y2="%d" class="axis"/>`, width-5, top+plotH, top+plotH)
	b.WriteString(`</svg>`)
	return b.String()
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
