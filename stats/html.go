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
			extra := ""
			if r.Tokenizer != "" {
				extra = " · " + compact(st.Tokens) + " tokens"
			}
			card(b, humanize.Comma(st.Rows), st.Name+" rows · "+compact(st.Chars)+" chars"+extra)
		}
		if r.Ingest != nil {
			for _, row := range r.Ingest.Rows {
				if row.Name == "totals" {
					for i, c := range r.Ingest.Columns {
						v := num(row.Values[i])
						if c == "bytes" {
							v = humanize.Bytes(uint64(max(row.Values[i], 0)))
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
		if r.Tokenizer != "" {
			fmt.Fprintf(b, "<p class=\"muted\">Tokens are the trainer's tokens (one per frequent character, UTF-8 bytes for the rest, plus chat markers), counted on every row with the tokenizer %s.</p>\n", esc(r.Tokenizer))
		} else {
			b.WriteString("<p class=\"muted\">Trainer tokens were not counted (see the notes).</p>\n")
		}
	case "sources":
		r.htmlSources(b)
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
		var rows [][]string
		for _, q := range r.Quarantine {
			rows = append(rows, []string{q.Name, num(float64(q.Count))})
		}
		htmlTable(b, []string{"raw file", "quarantined records"}, rows)
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
		if t := r.Clean.ReasonsBySource; len(t.Columns) > 0 {
			series, rows := tableStack(t, t.Columns...)
			b.WriteString(stackedChart("Removed rows per source, by reason", series, rows))
		}
		htmlGrid(b, "source", r.Clean.Sources)
		if len(r.Clean.ReasonsBySource.Columns) > 0 {
			b.WriteString("<h3>Removal reasons per source</h3>\n")
			htmlGrid(b, "source", r.Clean.ReasonsBySource)
		}
	case "removed-samples":
		if r.Corpus == nil || len(r.Corpus.Removed) == 0 {
			noData(b, "removed/ holds no rows")
			return
		}
		fmt.Fprintf(b, "<p class=\"muted\">Up to %d rows per reason, chosen by id hash, as ingest wrote them with personal data masked; text past %d characters is cut and counted. A duplicate shows the row it matched.</p>\n", samplesPer, sampleChars)
		for _, rs := range r.Corpus.Removed {
			fmt.Fprintf(b, "<h3>%s · %s rows</h3>\n", esc(rs.Reason), num(float64(rs.Count)))
			for i := range rs.Samples {
				htmlSample(b, &rs.Samples[i])
			}
		}
	case "duplicates":
		r.htmlDuplicates(b)
	case "pii":
		if r.Clean == nil {
			noData(b, "reports/clean.json")
			return
		}
		b.WriteString(hbarChart("PII masked, by type", countsToBars(r.Clean.PII)))
	case "quality":
		if r.Corpus == nil || len(r.Corpus.Kinds) == 0 {
			noData(b, "clean/ holds no text rows")
			return
		}
		b.WriteString("<p class=\"muted\">The measures clean's filters judge by, over every kept row: length in characters; the Han share of letters and digits (cjk_ratio); the share of a field's characters inside character 20-grams that occur more than once (repetition, judged on fields of 100 characters or more).</p>\n")
		for _, q := range r.Corpus.Kinds {
			fmt.Fprintf(b, "<h3>clean/%s · %s rows</h3>\n<div class=\"grid\">", esc(q.Kind), num(float64(q.Rows)))
			b.WriteString(histChart(q.Kind+": length", "characters per row", "rows", &q.Length))
			b.WriteString(histChart(q.Kind+": CJK ratio", "Han share of letters and digits (%)", "rows", &q.CJK))
			b.WriteString(histChart(fmt.Sprintf("%s: repetition (%s rows too short to judge)", q.Kind, num(float64(q.Unjudged))),
				"share of characters in repeated 20-grams (%)", "rows", &q.Repetition))
			b.WriteString("</div>\n")
		}
	case "perplexity":
		if r.Corpus == nil || r.Corpus.Perplexity == nil {
			noData(b, "no clean/ row was sampled to train the reference model")
			return
		}
		p := r.Corpus.Perplexity
		fmt.Fprintf(b, "<p class=\"muted\">%s</p>\n", esc(p.intro()))
		head, rows := p.percentileRows()
		htmlTable(b, head, rows)
		if len(p.Removed) > 0 {
			b.WriteString("<h3>Removed rows by reason, under the same model</h3>\n")
			head, rows := p.removedRows()
			htmlTable(b, head, rows)
		}
		for _, k := range p.Kinds {
			fmt.Fprintf(b, "<h3>clean/%s · %s rows scored · %s held in</h3>\n", esc(k.Kind), num(float64(k.Scored)), num(float64(k.HeldIn)))
			b.WriteString(histChartSub(fmt.Sprintf("%s: perplexity under the %d-gram model", k.Kind, p.Order), k.summary(),
				"perplexity per character", "rows", &k.Perplexity))
			for _, part := range []struct {
				what string
				rows []Sample
			}{{"highest", k.Highest}, {"lowest", k.Lowest}} {
				fmt.Fprintf(b, "<div class=\"muted\">%d %s-perplexity rows</div>\n", len(part.rows), part.what)
				for i := range part.rows {
					htmlSample(b, &part.rows[i])
				}
			}
		}
	case "coverage":
		if r.Corpus == nil || len(r.Corpus.Coverage) == 0 {
			noData(b, "clean/")
			return
		}
		shown := false
		b.WriteString("<div class=\"grid\">")
		var rows [][]string
		for _, cv := range r.Corpus.Coverage {
			rows = append(rows, []string{cv.Kind, num(float64(cv.Rows)), num(float64(cv.Labelled)), num(float64(cv.Distinct)), strings.Join(cv.Fields, ", ")})
			if cv.Labelled == 0 {
				continue
			}
			shown = true
			title := fmt.Sprintf("clean/%s rows per category (%s of %s labelled)", cv.Kind, num(float64(cv.Labelled)), num(float64(cv.Rows)))
			if cv.Distinct > int64(len(cv.Top)) {
				title = fmt.Sprintf("clean/%s: the %d largest of %s categories", cv.Kind, len(cv.Top), num(float64(cv.Distinct)))
			}
			b.WriteString(hbarChart(title, countsToBars(cv.Top)))
		}
		b.WriteString("</div>\n")
		if !shown {
			noData(b, "no clean row has a category column or a department / 科室 / category key in its meta")
		}
		htmlTable(b, []string{"kind", "rows", "with a category", "categories", "taken from"}, rows)
	case "stages":
		if len(r.Stages) == 0 {
			noData(b, "stages/ (run `chimed build-stages`)")
			return
		}
		series, rows := r.stageStack(func(s SourceStats) float64 { return float64(s.Rows) })
		b.WriteString(stackedChart("Rows per stage, by source", series, rows))
		if r.Tokenizer != "" {
			series, rows = r.stageStack(func(s SourceStats) float64 { return float64(s.Tokens) })
			b.WriteString(stackedChart("Trainer tokens per stage, by source", series, rows))
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
					num(float64(s.Chars)), num(float64(s.Tokens)), num(float64(s.Words)), num(float64(s.SampledRows))})
			}
		}
		htmlTable(b, []string{"stage · source", "rows", "by split", "characters", "trainer tokens", "jieba words", "rows segmented"}, trows)
		if r.Sampling.Segmenter != "" {
			fmt.Fprintf(b, "<p class=\"muted\">jieba words are words, not tokens: per stage the first %s rows are segmented, then 1 row in %d chosen by id hash, and totals are scaled from that sample by character counts.</p>\n",
				humanize.Comma(r.Sampling.Cap), r.Sampling.Stride)
		}
		if r.Flow != nil {
			b.WriteString("<h3>Clean records per source into the stages (stages/manifest.json)</h3>\n")
			htmlGrid(b, "source", r.Flow)
		}
	case "stage-samples":
		if len(r.Stages) == 0 {
			noData(b, "stages/")
			return
		}
		fmt.Fprintf(b, "<p class=\"muted\">Up to %d rows per stage, chosen by id hash, as the stage files hold them (personal data was masked by clean); text past %d characters is cut and counted.</p>\n", samplesPer, sampleChars)
		for _, st := range r.Stages {
			fmt.Fprintf(b, "<h3>%s</h3>\n", esc(st.Name))
			for i := range st.Samples {
				htmlSample(b, &st.Samples[i])
			}
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
				unit := map[string]string{"chars": "characters", "words": "jieba words"}[h.Unit]
				b.WriteString(histChart(fmt.Sprintf("%s · %s (%s)", st.Name, h.Field, unit), unit+" per value", "rows", h))
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
				compact(r.Dialogue.Dialogues), compact(r.Dialogue.Turns)), "turns per dialogue", "dialogues", &r.Dialogue.PerDialog))
			b.WriteString(hbarChart("clean/dialogue: turns by role", countsToBars(r.Dialogue.Roles)))
		}
		shown := r.Dialogue != nil
		for _, st := range r.Stages {
			if st.Turns != nil {
				b.WriteString(histChart(st.Name+": messages per row", "messages per row", "rows", st.Turns))
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
