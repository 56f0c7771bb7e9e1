package stats

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
)

// maxBars bounds the bars of a chart whose items grow with the corpus.
const maxBars = 30

// pageStyle is the page's only styling, inline: system fonts with CJK
// coverage first, so Chinese labels render without any download.
const pageStyle = `
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
 margin:24px 32px;color:#222;background:#fff;max-width:1320px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;margin:32px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px;color:#444}
nav a{margin-right:14px;font-size:13px;color:#0072B2;text-decoration:none}
table{border-collapse:collapse;font-size:13px;margin:8px 0 14px}
th,td{border:1px solid #ddd;padding:3px 8px} th{background:#f4f6f8;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:22px} .card span{font-size:12px;color:#666}
.grid{display:flex;flex-wrap:wrap;gap:8px 20px}
.muted{color:#777;font-size:13px}
svg.chart{display:block;margin:6px 0 12px;overflow:visible}
svg .title{font-size:14px;font-weight:bold;fill:#222}
svg .label{font-size:13px;fill:#333} svg .value{font-size:12px;fill:#555}
svg .sub{font-size:12px;fill:#666} svg .tiny{font-size:10.5px;fill:#555}
svg .axis{stroke:#999;stroke-width:1} svg .grid{stroke:#eee;stroke-width:1}
svg .axislabel{font-size:11.5px;fill:#444} svg .seg{font-size:11px;fill:#fff;font-weight:bold;pointer-events:none;paint-order:stroke;stroke:rgba(0,0,0,.5);stroke-width:2.2px}
.sample{border:1px solid #e3e3e3;border-radius:5px;padding:6px 10px;margin:6px 0;font-size:13px;max-width:1240px}
.sample .meta{color:#666;font-size:12px;margin-bottom:3px} .sample .f{margin:2px 0;white-space:pre-wrap;word-break:break-all}
.sample .f b{color:#0b5394;font-weight:normal;margin-right:6px} .sample .f.s{display:inline-block;margin-right:18px} .sample .cut{color:#999;font-size:11px}
.sample .matched{margin:4px 0 0 18px;padding-left:8px;border-left:3px solid #f28e2b}
td.heat{text-align:right;font-variant-numeric:tabular-nums} td.zero{color:#ccc}
code{font-size:12px;background:#f6f6f6;padding:0 3px;word-break:break-all}
svg text{font-family:inherit}
`

// HTML renders the report as one self-contained page: inline CSS, inline
// SVG, no script and no link to anything outside the file.
func (r *Report) HTML() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>chimed stats</title>\n")
	fmt.Fprintf(&b, "<style>%s</style>\n</head>\n<body>\n%s\n", pageStyle, patternDefs())
	b.WriteString("<h1>chimed stats</h1>\n<nav>")
	for _, s := range Sections {
		fmt.Fprintf(&b, `<a href="#%s">%s</a>`, s.ID, esc(strings.SplitN(s.Title, ":", 2)[0]))
	}
	b.WriteString("</nav>\n")
	for _, s := range Sections {
		fmt.Fprintf(&b, "<section id=\"%s\">\n<h2>%s</h2>\n", s.ID, esc(s.Title))
		s.html(r, &b)
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

// agreeWord renders Manifest.RowsAgree.
func agreeWord(b *bool) string {
	switch {
	case b == nil:
		return "not checked"
	case *b:
		return "yes"
	}
	return "no (see notes)"
}

func noData(b *strings.Builder, what string) {
	fmt.Fprintf(b, "<p class=\"muted\">no data: %s</p>\n", esc(what))
}

func htmlTable(b *strings.Builder, head []string, rows [][]string) {
	b.WriteString("<table><tr>")
	for _, h := range head {
		fmt.Fprintf(b, "<th>%s</th>", esc(h))
	}
	b.WriteString("</tr>\n")
	for _, row := range rows {
		b.WriteString("<tr>")
		for i, c := range row {
			if i == 0 {
				fmt.Fprintf(b, "<td>%s</td>", esc(c))
			} else {
				fmt.Fprintf(b, "<td class=\"n\">%s</td>", esc(c))
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

func htmlGrid(b *strings.Builder, first string, t *Table) {
	htmlTable(b, append([]string{first}, t.Columns...), t.cells())
}

// column returns a Table column as bars, one per source, without the totals row.
func column(t *Table, col string) []barItem {
	var out []barItem
	for i, c := range t.Columns {
		if c != col {
			continue
		}
		for _, r := range t.Rows {
			if r.Name != "totals" {
				out = append(out, barItem{r.Name, r.Values[i]})
			}
		}
	}
	return out
}

// tableStack stacks the given columns of a Table per source.
func tableStack(t *Table, cols ...string) ([]string, []stackRow) {
	var series []string
	var idx []int
	for _, c := range cols {
		for i, tc := range t.Columns {
			if tc == c {
				series = append(series, c)
				idx = append(idx, i)
			}
		}
	}
	var rows []stackRow
	for _, r := range t.Rows {
		if r.Name == "totals" {
			continue
		}
		row := stackRow{label: r.Name}
		for _, i := range idx {
			row.values = append(row.values, r.Values[i])
		}
		rows = append(rows, row)
	}
	return series, rows
}

func card(b *strings.Builder, value, label string) {
	fmt.Fprintf(b, "<div class=\"card\"><b>%s</b><span>%s</span></div>", esc(value), esc(label))
}

// htmlSample writes one sample row: where it is from, its fields, and for
// a duplicate the row it matched.
func htmlSample(b *strings.Builder, s *Sample) {
	b.WriteString(`<div class="sample"><div class="meta">`)
	parts := []string{"source <b>" + esc(s.Source) + "</b>"}
	if s.Kind != "" {
		parts = append(parts, "kind "+esc(s.Kind))
	}
	if s.Split != "" {
		parts = append(parts, "split "+esc(s.Split))
	}
	parts = append(parts, "id <code>"+esc(s.ID)+"</code>")
	if s.Perplexity > 0 {
		parts = append(parts, fmt.Sprintf("perplexity <b>%.1f</b>", s.Perplexity))
	}
	if s.Detail != "" {
		what := "detail"
		if slices.Contains(matchReasons, s.Reason) {
			what = "matched"
		}
		parts = append(parts, what+" <code>"+esc(s.Detail)+"</code>")
	}
	b.WriteString(strings.Join(parts, " · "))
	b.WriteString("</div>")
	sampleFields(b, s.Fields)
	if m := s.Matched; m != nil {
		fmt.Fprintf(b, `<div class="matched"><div class="meta">matched row: source <b>%s</b> · id <code>%s</code></div>`, esc(m.Source), esc(m.ID))
		sampleFields(b, m.Fields)
		b.WriteString("</div>")
	}
	b.WriteString("</div>\n")
}

func sampleFields(b *strings.Builder, fs []SampleField) {
	if len(fs) == 0 {
		b.WriteString(`<div class="f muted">(no text)</div>`)
	}
	for _, f := range fs {
		class := "f"
		if f.Cut == 0 && utf8.RuneCountInString(f.Text) <= 24 && !strings.Contains(f.Text, "\n") {
			class = "f s" // short fields (a triple's parts, exam options) sit side by side
		}
		fmt.Fprintf(b, `<div class="%s"><b>%s</b>%s`, class, esc(f.Name), esc(f.Text))
		if f.Cut > 0 {
			fmt.Fprintf(b, ` <span class="cut">… %s more characters</span>`, num(float64(f.Cut)))
		}
		b.WriteString("</div>")
	}
}

// htmlSources is the dataset-card table: every source of chimed.yaml with
// its licence and provenance and its rows through each step.
func (r *Report) htmlSources(b *strings.Builder) {
	if len(r.Sources) == 0 {
		noData(b, "chimed.yaml lists no sources")
		return
	}
	pick := func(t *Table, name, col string) string {
		if t == nil {
			return ""
		}
		i := slices.Index(t.Columns, col)
		for _, row := range t.Rows {
			if row.Name == name && i >= 0 {
				return num(row.Values[i])
			}
		}
		return ""
	}
	var clean *Table
	if r.Clean != nil {
		clean = r.Clean.Sources
	}
	b.WriteString("<table><tr><th>source</th><th>kind</th><th>role</th><th>preset / format</th><th>files</th><th>licence</th><th>URL</th>" +
		"<th>read</th><th>quarantined</th><th>kept by clean</th><th>used in stages</th></tr>\n")
	for _, s := range r.Sources {
		shape := s.Preset
		if shape == "" {
			shape = cmp.Or(s.Format, "auto")
		}
		lic, url := esc(s.License), "<code>"+esc(s.URL)+"</code>"
		if s.License == "" {
			lic = `<span class="muted">not stated</span>`
		}
		if s.URL == "" {
			url = `<span class="muted">not stated</span>`
		}
		var paths []string
		for _, p := range s.Paths {
			paths = append(paths, "<code>"+esc(p)+"</code>")
		}
		fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"+
			"<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
			esc(s.Name), esc(s.Kind), esc(s.Role), esc(shape), strings.Join(paths, " "), lic, url,
			pick(r.Ingest, s.Name, "read"), pick(r.Ingest, s.Name, "quarantined"), pick(clean, s.Name, "kept"), pick(r.Flow, s.Name, "used"))
	}
	b.WriteString("</table>\n<p class=\"muted\">Licence and URL come from each source's <code>license:</code> and <code>url:</code> keys in chimed.yaml.</p>\n")
}

// htmlDuplicates shows what clean removed as copies and of what: counts by
// reason on their own scale, cluster sizes, the largest clusters and one
// source × source table per reason.
func (r *Report) htmlDuplicates(b *strings.Builder) {
	if r.Clean == nil && r.Corpus == nil {
		noData(b, "reports/clean.json and clean/")
		return
	}
	if r.Clean != nil {
		var removed []NameCount
		var other []NameValue
		for _, d := range r.Clean.Dedup {
			if strings.HasPrefix(d.Name, "removed: ") {
				removed = append(removed, NameCount{strings.TrimPrefix(d.Name, "removed: "), d.Count})
			}
		}
		for _, c := range r.Clean.Counters {
			if !strings.Contains(strings.ToLower(c.Name), "pii") {
				other = append(other, c)
			}
		}
		b.WriteString(hbarChart("Rows removed as copies, by reason", countsToBars(removed)))
		if len(other) > 0 {
			b.WriteString("<h3>Near-dedup counters and parameters, other clean counters</h3>\n")
			var rows [][]string
			for _, c := range other {
				rows = append(rows, []string{c.Name, num(c.Value)})
			}
			htmlTable(b, []string{"counter", "value"}, rows)
		}
	}
	cs := r.Corpus
	if cs == nil {
		return
	}
	b.WriteString("<div class=\"grid\">")
	b.WriteString(histChart(fmt.Sprintf("Near-duplicate cluster sizes (%s clusters)", num(float64(cs.NearClusters.N))), "rows per cluster (kept + removed)", "clusters", &cs.NearClusters))
	b.WriteString(histChart(fmt.Sprintf("Exact-duplicate group sizes (%s groups)", num(float64(cs.ExactGroups.N))), "rows per group (kept + removed copies)", "groups", &cs.ExactGroups))
	b.WriteString("</div>\n")
	if len(cs.Largest) > 0 {
		b.WriteString("<h3>Largest near-duplicate clusters</h3>\n")
		var rows [][]string
		for _, c := range cs.Largest {
			var rm []string
			for _, n := range c.Removed {
				rm = append(rm, fmt.Sprintf("%s %s", n.Name, humanize.Comma(n.Count)))
			}
			rows = append(rows, []string{c.Root, c.Source, num(float64(c.Size)), num(float64(c.Kept)), strings.Join(rm, ", ")})
		}
		htmlTable(b, []string{"root row", "root source", "rows", "kept", "removed, by source"}, rows)
	}
	for _, m := range cs.Matrices {
		fmt.Fprintf(b, "<h3>%s: rows of the source on the left removed as matching a row of the source above</h3>\n", esc(m.Reason))
		htmlMatrix(b, m)
	}
}

// htmlMatrix writes a source × source count table shaded by count.
func htmlMatrix(b *strings.Builder, m DupMatrix) {
	var peak int64
	for _, row := range m.Counts {
		for _, v := range row {
			peak = max(peak, v)
		}
	}
	b.WriteString("<table><tr><th>removed from ↓ · matched in →</th>")
	for _, c := range m.Matched {
		fmt.Fprintf(b, "<th>%s</th>", esc(c))
	}
	b.WriteString("<th>total</th></tr>\n")
	for i, name := range m.Removed {
		fmt.Fprintf(b, "<tr><td>%s</td>", esc(name))
		var sum int64
		for j, v := range m.Counts[i] {
			sum += v
			if v == 0 {
				b.WriteString(`<td class="heat zero">0</td>`)
				continue
			}
			a := 0.12 + 0.75*float64(v)/float64(max(peak, 1))
			fg := "#222"
			if a > 0.55 {
				fg = "#fff"
			}
			fmt.Fprintf(b, `<td class="heat" style="background:rgba(225,87,89,%.2f);color:%s" title="%s → %s: %s">%s</td>`,
				a, fg, esc(name), esc(m.Matched[j]), num(float64(v)), num(float64(v)))
		}
		fmt.Fprintf(b, "<td class=\"n\"><b>%s</b></td></tr>\n", num(float64(sum)))
	}
	b.WriteString("</table>\n")
	if m.Unresolved > 0 {
		fmt.Fprintf(b, "<p class=\"muted\">%s rows name a matched row found in neither clean/ nor removed/.</p>\n", num(float64(m.Unresolved)))
	}
}
