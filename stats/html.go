package stats

import (
	"fmt"
	"strings"

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
svg .axis{stroke:#999;stroke-width:1}
svg text{font-family:inherit}
`

// HTML renders the report as one self-contained page: inline CSS, inline
// SVG, no script and no link to anything outside the file.
func (r *Report) HTML() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>chimed stats</title>\n")
	fmt.Fprintf(&b, "<style>%s</style>\n</head>\n<body>\n", pageStyle)
	fmt.Fprintf(&b, "<h1>chimed stats</h1>\n<p class=\"muted\">workspace %s</p>\n<nav>", esc(r.Workspace))
	for _, s := range Sections {
		fmt.Fprintf(&b, `<a href="#%s">%s</a>`, s.ID, esc(strings.SplitN(s.Title, ":", 2)[0]))
	}
	b.WriteString("</nav>\n")
	for _, s := range Sections {
		fmt.Fprintf(&b, "<section id=\"%s\">\n<h2>%s</h2>\n", s.ID, esc(s.Title))
		r.htmlSection(&b, s.ID)
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

func (r *Report) htmlSection(b *strings.Builder, id string) {
	switch id {
	case "overview":
		b.WriteString("<div class=\"cards\">")
		for _, st := range r.Stages {
			words := ""
			if r.Sampling.Segmenter != "" {
				words = " · " + compact(st.Words) + " words"
				if st.Estimated {
					words = " · ≈" + compact(st.Words) + " words"
				}
			}
			card(b, humanize.Comma(st.Rows), st.Name+" rows · "+compact(st.Chars)+" chars"+words)
		}
		if r.Ingest != nil {
			for _, row := range r.Ingest.Rows {
				if row.Name == "totals" {
					for i, c := range r.Ingest.Columns {
						v := num(row.Values[i])
						if c == "bytes" {
							v = humanize.IBytes(uint64(max(row.Values[i], 0)))
						}
						card(b, v, "ingest "+c)
					}
				}
			}
		}
		b.WriteString("</div>\n")
		if len(r.Stages) == 0 {
			noData(b, "no stage files yet (run `chimed build-stages`)")
		}
		if r.Sampling.Segmenter != "" {
			fmt.Fprintf(b, "<p class=\"muted\">Words are jieba words. Per stage the first %s rows are segmented, then 1 row in %d chosen by id hash; totals marked ≈ are scaled from that sample by character counts.</p>\n",
				humanize.Comma(r.Sampling.Cap), r.Sampling.Stride)
		}
	case "ingest":
		if r.Ingest == nil {
			noData(b, "reports/ingest.json")
			return
		}
		series, rows := tableStack(r.Ingest, "written", "quarantined")
		b.WriteString(stackedChart("Records per source: written and quarantined", series, rows))
		htmlGrid(b, "source", r.Ingest)
	case "quarantine":
		if len(r.Quarantine) == 0 {
			noData(b, "quarantine/ holds no rows")
			return
		}
		top := r.Quarantine[:min(len(r.Quarantine), maxBars)]
		title := "Quarantined records per raw file"
		if len(r.Quarantine) > maxBars {
			title = fmt.Sprintf("Quarantined records: the %d raw files with most (of %d)", maxBars, len(r.Quarantine))
		}
		b.WriteString(hbarChart(title, countsToBars(top)))
	case "layers":
		if len(r.Layers) == 0 {
			noData(b, "normalized/ and clean/")
			return
		}
		byKind := map[string][]float64{}
		var kinds []string
		for _, l := range r.Layers {
			if _, ok := byKind[l.Kind]; !ok {
				byKind[l.Kind] = make([]float64, 2)
				kinds = append(kinds, l.Kind)
			}
			if l.Layer == "normalized" {
				byKind[l.Kind][0] = float64(l.Rows)
			} else {
				byKind[l.Kind][1] = float64(l.Rows)
			}
		}
		var rows [][]string
		var nbars, cbars []barItem
		for _, k := range kinds {
			rows = append(rows, []string{k, num(byKind[k][0]), num(byKind[k][1])})
			nbars = append(nbars, barItem{k, byKind[k][0]})
			cbars = append(cbars, barItem{k, byKind[k][1]})
		}
		b.WriteString("<div class=\"grid\">")
		b.WriteString(hbarChart("normalized/ rows per kind", nbars))
		b.WriteString(hbarChart("clean/ rows per kind", cbars))
		b.WriteString("</div>\n")
		htmlTable(b, []string{"kind", "normalized rows", "clean rows"}, rows)
	case "clean":
		if r.Clean == nil {
			noData(b, "reports/clean.json")
			return
		}
		series, rows := tableStack(r.Clean.Sources, "kept", "removed")
		b.WriteString(stackedChart("Rows per source: kept and removed", series, rows))
		b.WriteString(hbarChart("Removed rows by reason (all sources)", countsToBars(r.Clean.Reasons)))
		htmlGrid(b, "source", r.Clean.Sources)
		if len(r.Clean.ReasonsBySource.Columns) > 0 {
			b.WriteString("<h3>Removal reasons per source</h3>\n")
			htmlGrid(b, "source", r.Clean.ReasonsBySource)
		}
	case "dedup-pii":
		if r.Clean == nil {
			noData(b, "reports/clean.json")
			return
		}
		b.WriteString("<div class=\"grid\">")
		b.WriteString(hbarChart("Deduplication", countsToBars(r.Clean.Dedup)))
		b.WriteString(hbarChart("PII masked, by type", countsToBars(r.Clean.PII)))
		b.WriteString("</div>\n")
		var other []NameValue
		for _, c := range r.Clean.Counters {
			if !strings.Contains(strings.ToLower(c.Name), "pii") {
				other = append(other, c)
			}
		}
		if len(other) > 0 {
			b.WriteString("<h3>Other clean counters and parameters</h3>\n")
			var rows [][]string
			for _, c := range other {
				rows = append(rows, []string{c.Name, num(c.Value)})
			}
			htmlTable(b, []string{"counter", "value"}, rows)
		}
	case "stages":
		if len(r.Stages) == 0 {
			noData(b, "stages/ (run `chimed build-stages`)")
			return
		}
		series, rows := r.stageStack(func(s SourceStats) float64 { return float64(s.Rows) })
		b.WriteString(stackedChart("Rows per stage, by source", series, rows))
		if r.Sampling.Segmenter != "" {
			series, rows = r.stageStack(func(s SourceStats) float64 { return float64(s.Words) })
			b.WriteString(stackedChart("Tokens (jieba words) per stage, by source", series, rows))
		}
		series, rows = r.stageStack(func(s SourceStats) float64 { return float64(s.Chars) })
		b.WriteString(stackedChart("Characters per stage, by source", series, rows))
		var trows [][]string
		for _, st := range r.Stages {
			for _, s := range st.Sources {
				var splits []string
				for _, f := range st.Files {
					name := strings.TrimSuffix(f.Name, ".parquet")
					if n := s.SplitRows[name]; n > 0 {
						splits = append(splits, name+" "+humanize.Comma(n))
					}
				}
				trows = append(trows, []string{st.Name + " · " + s.Source, num(float64(s.Rows)), strings.Join(splits, ", "),
					num(float64(s.Chars)), num(float64(s.Words)), num(float64(s.SampledRows))})
			}
		}
		htmlTable(b, []string{"stage · source", "rows", "by split", "characters", "jieba words", "rows segmented"}, trows)
		if r.Flow != nil {
			b.WriteString("<h3>Clean records per source into the stages (stages/manifest.json)</h3>\n")
			htmlGrid(b, "source", r.Flow)
		}
	case "lengths":
		if len(r.Stages) == 0 {
			noData(b, "stages/")
			return
		}
		for _, st := range r.Stages {
			fmt.Fprintf(b, "<h3>%s</h3>\n<div class=\"grid\">", esc(st.Name))
			for i := range st.Histograms {
				h := &st.Histograms[i]
				b.WriteString(histChart(fmt.Sprintf("%s · %s (%s)", st.Name, h.Field, h.Unit), h))
			}
			b.WriteString("</div>\n")
		}
	case "kg":
		if r.KG == nil {
			noData(b, "stages/kg_stats.json or clean/kg")
			return
		}
		fmt.Fprintf(b, "<p>From %s: <b>%s</b> triples, <b>%s</b> relations", esc(r.KG.From), num(float64(r.KG.Triples)), num(float64(r.KG.Relations)))
		if r.KG.Entities > 0 {
			fmt.Fprintf(b, ", <b>%s</b> entities", num(float64(r.KG.Entities)))
		}
		b.WriteString(".</p>\n<div class=\"grid\">")
		b.WriteString(hbarChart("Top relations", countsToBars(r.KG.Top)))
		if len(r.KG.Degree) > 0 {
			b.WriteString(hbarChart("Entities by degree (in + out)", countsToBars(r.KG.Degree)))
		}
		if len(r.KG.Dropped) > 0 {
			b.WriteString(hbarChart("Triples dropped by the kg step", countsToBars(r.KG.Dropped)))
		}
		b.WriteString("</div>\n")
	case "dialogue":
		b.WriteString("<div class=\"grid\">")
		if r.Dialogue != nil {
			b.WriteString(histChart(fmt.Sprintf("clean/dialogue: turns per dialogue (%s dialogues, %s turns)",
				compact(r.Dialogue.Dialogues), compact(r.Dialogue.Turns)), &r.Dialogue.PerDialog))
			b.WriteString(hbarChart("clean/dialogue: turns by role", countsToBars(r.Dialogue.Roles)))
		}
		shown := r.Dialogue != nil
		for _, st := range r.Stages {
			if st.Turns != nil {
				b.WriteString(histChart(st.Name+": messages per row", st.Turns))
				shown = true
			}
		}
		b.WriteString("</div>\n")
		if !shown {
			noData(b, "clean/dialogue and stages/sft")
		}
	case "manifest":
		if r.Manifest == nil {
			noData(b, "stages/manifest.json")
			return
		}
		m := r.Manifest
		fmt.Fprintf(b, "<p>version %s · seed %d · leakage check: <b>%s</b> · rows match the stage files: <b>%s</b><br><span class=\"muted\">chimed.yaml sha256 %s</span></p>\n",
			esc(m.Version), m.Seed, esc(m.LeakageCheck), agreeWord(m.RowsAgree), esc(m.ConfigSHA256))
		htmlTable(b, manifestHeader, manifestRows(m))
	case "notes":
		if len(r.Notes) == 0 {
			b.WriteString("<p class=\"muted\">none</p>\n")
			return
		}
		b.WriteString("<ul>")
		for _, n := range r.Notes {
			fmt.Fprintf(b, "<li>%s</li>", esc(n))
		}
		b.WriteString("</ul>\n")
	}
}
