package stats

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
)

// Section is one part of the report: its HTML anchor, its title, and how
// each rendering draws it. Both renderings walk Sections, so a section is
// added, moved or dropped in one place.
type Section struct {
	ID, Title string
	html      func(r *Report, b *strings.Builder)
	markdown  func(r *Report, b *strings.Builder)
}

// Sections lists every section of the report, in the order both the HTML
// and the Markdown rendering show it.
var Sections = []Section{
	{"overview", "Overview", (*Report).htmlOverview, (*Report).mdOverview},
	{"sources", "Sources: licence and provenance", (*Report).htmlSources, (*Report).mdSources},
	{"ingest", "Ingest: records read, written and quarantined", (*Report).htmlIngest, (*Report).mdIngest},
	{"quarantine", "Quarantine by raw file", (*Report).htmlQuarantine, (*Report).mdQuarantine},
	{"layers", "Rows per kind: normalized → clean", (*Report).htmlLayers, (*Report).mdLayers},
	{"clean", "Clean: removal reasons", (*Report).htmlClean, (*Report).mdClean},
	{"removed-samples", "Removed rows: samples per reason", (*Report).htmlRemovedSamples, (*Report).mdRemovedSamples},
	{"duplicates", "Duplicates: clusters and which source duplicates which", (*Report).htmlDuplicates, (*Report).mdDuplicates},
	{"pii", "PII masking", (*Report).htmlPii, (*Report).mdPii},
	{"quality", "Quality distributions of clean rows", (*Report).htmlQuality, (*Report).mdQuality},
	{"perplexity", "Perplexity under a small reference model", (*Report).htmlPerplexity, (*Report).mdPerplexity},
	{"coverage", "Coverage by category and department", (*Report).htmlCoverage, (*Report).mdCoverage},
	{"stages", "Stages: rows and trainer tokens per stage and source", (*Report).htmlStages, (*Report).mdStages},
	{"stage-samples", "Stage samples", (*Report).htmlStageSamples, (*Report).mdStageSamples},
	{"lengths", "Length histograms per stage and field", (*Report).htmlLengths, (*Report).mdLengths},
	{"kg", "Knowledge graph: relation distribution", (*Report).htmlKg, (*Report).mdKg},
	{"dialogue", "Dialogues: turn counts", (*Report).htmlDialogue, (*Report).mdDialogue},
	{"manifest", "Stage manifest", (*Report).htmlManifest, (*Report).mdManifest},
	{"notes", "Notes", (*Report).htmlNotes, (*Report).mdNotes},
}

func (r *Report) htmlOverview(b *strings.Builder) {
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
}

func (r *Report) mdOverview(b *strings.Builder) {
	var rows [][]string
	for _, st := range r.Stages {
		words := num(float64(st.Words))
		if st.Estimated {
			words = "≈" + words
		}
		rows = append(rows, []string{st.Name, num(float64(st.Rows)), num(float64(st.Chars)), num(float64(st.Tokens)), words})
	}
	mdTable(b, []string{"stage", "rows", "characters", "trainer tokens", "jieba words"}, rows)
	if r.Tokenizer != "" {
		fmt.Fprintf(b, "\nTrainer tokens: the tokenizer %s.\n", r.Tokenizer)
	}
	if r.Sampling.Segmenter == "" {
		b.WriteString("\nWords were not counted (no jieba).\n")
	}
}

func (r *Report) mdSources(b *strings.Builder) {
	var rows [][]string
	for _, s := range r.Sources {
		rows = append(rows, []string{s.Name, s.Kind, s.Role, cmp.Or(s.Preset, s.Format, "auto"), strings.Join(s.Paths, " "),
			cmp.Or(s.License, "not stated"), cmp.Or(s.URL, "not stated")})
	}
	mdTable(b, []string{"source", "kind", "role", "preset / format", "files", "licence", "URL"}, rows)
}

func (r *Report) htmlIngest(b *strings.Builder) {
	if r.Ingest == nil {
		noData(b, "reports/ingest.json")
		return
	}
	series, rows := tableStack(r.Ingest, "written", "quarantined")
	b.WriteString(stackedChart("Records per source: written and quarantined", series, rows))
	htmlGrid(b, "source", r.Ingest)
}

func (r *Report) mdIngest(b *strings.Builder) {
	mdGrid(b, "source", r.Ingest)
}

func (r *Report) htmlQuarantine(b *strings.Builder) {
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
}

func (r *Report) mdQuarantine(b *strings.Builder) {
	mdCounts(b, "raw file", r.Quarantine)
}

func (r *Report) htmlLayers(b *strings.Builder) {
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
}

func (r *Report) mdLayers(b *strings.Builder) {
	var rows [][]string
	for _, l := range r.Layers {
		rows = append(rows, []string{l.Layer + "/" + l.Kind, fmt.Sprint(l.Files), num(float64(l.Rows))})
	}
	mdTable(b, []string{"layer/kind", "files", "rows"}, rows)
}

func (r *Report) htmlClean(b *strings.Builder) {
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
}

func (r *Report) mdClean(b *strings.Builder) {
	if r.Clean == nil {
		b.WriteString("_no data_\n")
		return
	}
	mdGrid(b, "source", r.Clean.Sources)
	b.WriteString("\n")
	mdCounts(b, "removal reason", r.Clean.Reasons)
}

func (r *Report) htmlRemovedSamples(b *strings.Builder) {
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
}

func (r *Report) mdRemovedSamples(b *strings.Builder) {
	if r.Corpus == nil || len(r.Corpus.Removed) == 0 {
		b.WriteString("_no data_\n")
		return
	}
	for _, rs := range r.Corpus.Removed {
		fmt.Fprintf(b, "### %s (%s rows)\n\n", rs.Reason, num(float64(rs.Count)))
		mdSamples(b, rs.Samples)
	}
}

func (r *Report) mdDuplicates(b *strings.Builder) {
	if r.Clean != nil {
		mdCounts(b, "dedup counter", r.Clean.Dedup)
		b.WriteString("\n")
		var rows [][]string
		for _, c := range r.Clean.Counters {
			rows = append(rows, []string{c.Name, num(c.Value)})
		}
		mdTable(b, []string{"clean counter", "value"}, rows)
	}
	if cs := r.Corpus; cs != nil {
		b.WriteString("\nNear-duplicate cluster sizes:\n\n")
		mdCounts(b, "rows per cluster", histToBars(&cs.NearClusters))
		b.WriteString("\nExact-duplicate group sizes:\n\n")
		mdCounts(b, "rows per group", histToBars(&cs.ExactGroups))
		for _, m := range cs.Matrices {
			fmt.Fprintf(b, "\n%s (row: removed from; column: matched in):\n\n", m.Reason)
			var rows [][]string
			for i, name := range m.Removed {
				row := []string{name}
				for _, v := range m.Counts[i] {
					row = append(row, num(float64(v)))
				}
				rows = append(rows, row)
			}
			mdTable(b, append([]string{"removed from"}, m.Matched...), rows)
		}
	} else if r.Clean == nil {
		b.WriteString("_no data_\n")
	}
}

func (r *Report) htmlPii(b *strings.Builder) {
	if r.Clean == nil {
		noData(b, "reports/clean.json")
		return
	}
	b.WriteString(hbarChart("PII masked, by type", countsToBars(r.Clean.PII)))
}

func (r *Report) mdPii(b *strings.Builder) {
	if r.Clean == nil {
		b.WriteString("_no data_\n")
		return
	}
	mdCounts(b, "PII type masked", r.Clean.PII)
}

func (r *Report) htmlQuality(b *strings.Builder) {
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
}

func (r *Report) mdQuality(b *strings.Builder) {
	if r.Corpus == nil {
		b.WriteString("_no data_\n")
		return
	}
	var hs []Histogram
	for _, q := range r.Corpus.Kinds {
		for _, h := range []Histogram{q.Length, q.CJK, q.Repetition} {
			h.Field = q.Kind + " " + h.Field
			hs = append(hs, h)
		}
	}
	mdHistograms(b, hs)
}

func (r *Report) htmlPerplexity(b *strings.Builder) {
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
}

func (r *Report) mdPerplexity(b *strings.Builder) {
	if r.Corpus == nil || r.Corpus.Perplexity == nil {
		b.WriteString("_no data_ (no clean/ row was sampled to train the reference model)\n")
		return
	}
	p := r.Corpus.Perplexity
	b.WriteString(p.intro() + "\n\n")
	head, rows := p.percentileRows()
	mdTable(b, head, rows)
	if len(p.Removed) > 0 {
		b.WriteString("\nRemoved rows by reason, under the same model:\n\n")
		head, rows := p.removedRows()
		mdTable(b, head, rows)
	}
	for _, k := range p.Kinds {
		fmt.Fprintf(b, "\n### clean/%s: highest perplexity\n\n", k.Kind)
		mdSamples(b, k.Highest)
		fmt.Fprintf(b, "### clean/%s: lowest perplexity\n\n", k.Kind)
		mdSamples(b, k.Lowest)
	}
}

func (r *Report) htmlCoverage(b *strings.Builder) {
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
}

func (r *Report) mdCoverage(b *strings.Builder) {
	if r.Corpus == nil {
		b.WriteString("_no data_\n")
		return
	}
	for _, cv := range r.Corpus.Coverage {
		if cv.Labelled == 0 {
			continue
		}
		fmt.Fprintf(b, "### %s (%s of %s rows labelled, %s categories, from %s)\n\n", cv.Kind, num(float64(cv.Labelled)),
			num(float64(cv.Rows)), num(float64(cv.Distinct)), strings.Join(cv.Fields, ", "))
		mdCounts(b, "category", cv.Top)
		b.WriteString("\n")
	}
}

func (r *Report) htmlStages(b *strings.Builder) {
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
}

func (r *Report) mdStages(b *strings.Builder) {
	var rows [][]string
	for _, st := range r.Stages {
		for _, s := range st.Sources {
			var splits []string
			for _, f := range st.Files {
				name := strings.TrimSuffix(f.Name, ".parquet")
				if n := s.SplitRows[name]; n > 0 {
					splits = append(splits, fmt.Sprintf("%s %s", name, humanize.Comma(n)))
				}
			}
			rows = append(rows, []string{st.Name, s.Source, num(float64(s.Rows)), strings.Join(splits, ", "),
				num(float64(s.Chars)), num(float64(s.Tokens)), num(float64(s.Words))})
		}
	}
	mdTable(b, []string{"stage", "source", "rows", "by split", "characters", "trainer tokens", "jieba words"}, rows)
	if r.Flow != nil {
		b.WriteString("\nClean records per source into the stages (stages/manifest.json):\n\n")
		mdGrid(b, "source", r.Flow)
	}
}

func (r *Report) htmlStageSamples(b *strings.Builder) {
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
}

func (r *Report) mdStageSamples(b *strings.Builder) {
	if len(r.Stages) == 0 {
		b.WriteString("_no data_\n")
	}
	for _, st := range r.Stages {
		fmt.Fprintf(b, "### %s\n\n", st.Name)
		mdSamples(b, st.Samples)
	}
}

func (r *Report) htmlLengths(b *strings.Builder) {
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
}

func (r *Report) mdLengths(b *strings.Builder) {
	if len(r.Stages) == 0 {
		b.WriteString("_no data_\n")
	}
	for _, st := range r.Stages {
		fmt.Fprintf(b, "### %s\n\n", st.Name)
		hs := st.Histograms
		if st.Turns != nil {
			hs = append(append([]Histogram{}, hs...), *st.Turns)
		}
		mdHistograms(b, hs)
		b.WriteString("\n")
	}
}

func (r *Report) htmlKg(b *strings.Builder) {
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
}

func (r *Report) mdKg(b *strings.Builder) {
	if r.KG == nil {
		b.WriteString("_no data_\n")
		return
	}
	fmt.Fprintf(b, "From %s: %s triples, %s relations", r.KG.From, num(float64(r.KG.Triples)), num(float64(r.KG.Relations)))
	if r.KG.Entities > 0 {
		fmt.Fprintf(b, ", %s entities", num(float64(r.KG.Entities)))
	}
	b.WriteString(".\n\n")
	mdCounts(b, "relation", r.KG.Top)
	if len(r.KG.Degree) > 0 {
		b.WriteString("\n")
		mdCounts(b, "entity degree", r.KG.Degree)
	}
}

func (r *Report) htmlDialogue(b *strings.Builder) {
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
}

func (r *Report) mdDialogue(b *strings.Builder) {
	if r.Dialogue == nil {
		b.WriteString("_no data_\n")
	} else {
		fmt.Fprintf(b, "%s dialogues, %s turns in clean/dialogue.\n\n", num(float64(r.Dialogue.Dialogues)), num(float64(r.Dialogue.Turns)))
		mdCounts(b, "turns per dialogue", histToBars(&r.Dialogue.PerDialog))
		b.WriteString("\n")
		mdCounts(b, "role", r.Dialogue.Roles)
	}
	for _, st := range r.Stages {
		if st.Turns != nil {
			fmt.Fprintf(b, "\nMessages per %s row:\n\n", st.Name)
			mdCounts(b, "messages", histToBars(st.Turns))
		}
	}
}

func (r *Report) htmlManifest(b *strings.Builder) {
	if r.Manifest == nil {
		noData(b, "stages/manifest.json")
		return
	}
	m := r.Manifest
	fmt.Fprintf(b, "<p>version %s · seed %d · leakage check: <b>%s</b> · rows match the stage files: <b>%s</b><br><span class=\"muted\">chimed.yaml sha256 %s</span></p>\n",
		esc(m.Version), m.Seed, esc(m.LeakageCheck), agreeWord(m.RowsAgree), esc(m.ConfigSHA256))
	htmlTable(b, manifestHeader, manifestRows(m))
}

func (r *Report) mdManifest(b *strings.Builder) {
	if r.Manifest == nil {
		b.WriteString("_no data_\n")
		return
	}
	m := r.Manifest
	fmt.Fprintf(b, "version %s · seed %d · chimed.yaml sha256 `%s` · leakage check: %s · rows match the stage files: %s\n\n",
		m.Version, m.Seed, m.ConfigSHA256, m.LeakageCheck, agreeWord(m.RowsAgree))
	mdTable(b, manifestHeader, manifestRows(m))
}

func (r *Report) htmlNotes(b *strings.Builder) {
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

func (r *Report) mdNotes(b *strings.Builder) {
	if len(r.Notes) == 0 {
		b.WriteString("_none_\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
}
