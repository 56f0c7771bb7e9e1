package stats

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
)

// Section is one part of the report, in the order both the HTML and the
// Markdown rendering show it; ID is the HTML anchor.
type Section struct {
	ID, Title string
}

// Sections lists every section of the report.
var Sections = []Section{
	{"overview", "Overview"},
	{"sources", "Sources: licence and provenance"},
	{"ingest", "Ingest: records read, written and quarantined"},
	{"quarantine", "Quarantine by raw file"},
	{"layers", "Rows per kind: normalized → clean"},
	{"clean", "Clean: removal reasons"},
	{"removed-samples", "Removed rows: samples per reason"},
	{"duplicates", "Duplicates: clusters and which source duplicates which"},
	{"pii", "PII masking"},
	{"quality", "Quality distributions of clean rows"},
	{"perplexity", "Perplexity under a small reference model"},
	{"coverage", "Coverage by category and department"},
	{"stages", "Stages: rows and trainer tokens per stage and source"},
	{"stage-samples", "Stage samples"},
	{"lengths", "Length histograms per stage and field"},
	{"kg", "Knowledge graph: relation distribution"},
	{"dialogue", "Dialogues: turn counts"},
	{"manifest", "Stage manifest"},
	{"notes", "Notes"},
}

// stageNames are the series of the per-stage charts: every source in any
// stage, in name order.
func (r *Report) stageSources() []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range r.Stages {
		for _, s := range st.Sources {
			if !seen[s.Source] {
				seen[s.Source] = true
				out = append(out, s.Source)
			}
		}
	}
	sort.Strings(out)
	return out
}

// stageStack builds one stacked row per stage of value(source stats).
func (r *Report) stageStack(value func(SourceStats) float64) ([]string, []stackRow) {
	series := r.stageSources()
	idx := map[string]int{}
	for i, s := range series {
		idx[s] = i
	}
	var rows []stackRow
	for _, st := range r.Stages {
		row := stackRow{label: st.Name, values: make([]float64, len(series))}
		for _, s := range st.Sources {
			row.values[idx[s.Source]] = value(s)
		}
		rows = append(rows, row)
	}
	return series, rows
}

func countsToBars(ns []NameCount) []barItem {
	out := make([]barItem, len(ns))
	for i, n := range ns {
		out[i] = barItem{n.Name, float64(n.Count)}
	}
	return out
}

func histToBars(h *Histogram) []NameCount {
	out := make([]NameCount, len(h.Bins))
	for i, b := range h.Bins {
		out[i] = NameCount{b.Label, b.Count}
	}
	return out
}

// Markdown renders the report as GitHub-flavoured Markdown tables.
func (r *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# chimed stats\n\n")
	for _, sec := range Sections {
		fmt.Fprintf(&b, "## %s\n\n", sec.Title)
		r.markdownSection(&b, sec.ID)
		b.WriteString("\n")
	}
	return b.String()
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	if len(rows) == 0 {
		b.WriteString("_no data_\n")
		return
	}
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	b.WriteString("|")
	for _, h := range head {
		b.WriteString(" " + cell(h) + " |")
	}
	b.WriteString("\n|")
	for i := range head {
		if i > 0 && numericColumn(rows, i) {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + cell(c) + " |")
		}
		b.WriteString("\n")
	}
}

// numericColumn tells whether every cell of column i is a number (such
// columns are right-aligned).
func numericColumn(rows [][]string, i int) bool {
	for _, r := range rows {
		if i >= len(r) {
			return false
		}
		if r[i] == "–" { // no value: does not make the column text
			continue
		}
		c := strings.TrimPrefix(r[i], "≈")
		if c == "" || strings.IndexFunc(c, func(r rune) bool { return !strings.ContainsRune("0123456789,.-", r) }) >= 0 {
			return false
		}
	}
	return true
}

func mdGrid(b *strings.Builder, first string, t *Table) {
	if t == nil {
		b.WriteString("_no data_\n")
		return
	}
	mdTable(b, append([]string{first}, t.Columns...), t.cells())
}

// cells renders a Table's rows as text, name first: the body both the HTML
// and the Markdown renderings print.
func (t *Table) cells() [][]string {
	var rows [][]string
	for _, r := range t.Rows {
		row := []string{r.Name}
		for _, v := range r.Values {
			row = append(row, num(v))
		}
		rows = append(rows, row)
	}
	return rows
}

func mdCounts(b *strings.Builder, head string, ns []NameCount) {
	var rows [][]string
	for _, n := range ns {
		rows = append(rows, []string{n.Name, num(float64(n.Count))})
	}
	mdTable(b, []string{head, "count"}, rows)
}

func mdHistograms(b *strings.Builder, hs []Histogram) {
	var rows [][]string
	for _, h := range hs {
		rows = append(rows, []string{h.Field, h.Unit, num(float64(h.N)), fmt.Sprintf("%.1f", h.Mean()),
			fmt.Sprintf("%.0f", h.Quantile(0.5)), fmt.Sprintf("%.0f", h.Quantile(0.9)), num(float64(h.Max))})
	}
	mdTable(b, []string{"field", "unit", "n", "mean", "p50≈", "p90≈", "max"}, rows)
}

func (r *Report) markdownSection(b *strings.Builder, id string) {
	switch id {
	case "overview":
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
	case "ingest":
		mdGrid(b, "source", r.Ingest)
	case "quarantine":
		mdCounts(b, "raw file", r.Quarantine)
	case "layers":
		var rows [][]string
		for _, l := range r.Layers {
			rows = append(rows, []string{l.Layer + "/" + l.Kind, fmt.Sprint(l.Files), num(float64(l.Rows))})
		}
		mdTable(b, []string{"layer/kind", "files", "rows"}, rows)
	case "clean":
		if r.Clean == nil {
			b.WriteString("_no data_\n")
			return
		}
		mdGrid(b, "source", r.Clean.Sources)
		b.WriteString("\n")
		mdCounts(b, "removal reason", r.Clean.Reasons)
	case "sources":
		var rows [][]string
		for _, s := range r.Sources {
			rows = append(rows, []string{s.Name, s.Kind, s.Role, cmp.Or(s.Preset, s.Format, "auto"), strings.Join(s.Paths, " "),
				cmp.Or(s.License, "not stated"), cmp.Or(s.URL, "not stated")})
		}
		mdTable(b, []string{"source", "kind", "role", "preset / format", "files", "licence", "URL"}, rows)
	case "removed-samples":
		if r.Corpus == nil || len(r.Corpus.Removed) == 0 {
			b.WriteString("_no data_\n")
			return
		}
		for _, rs := range r.Corpus.Removed {
			fmt.Fprintf(b, "### %s (%s rows)\n\n", rs.Reason, num(float64(rs.Count)))
			mdSamples(b, rs.Samples)
		}
	case "duplicates":
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
	case "pii":
		if r.Clean == nil {
			b.WriteString("_no data_\n")
			return
		}
		mdCounts(b, "PII type masked", r.Clean.PII)
	case "quality":
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
	case "perplexity":
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
	case "coverage":
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
	case "stage-samples":
		if len(r.Stages) == 0 {
			b.WriteString("_no data_\n")
		}
		for _, st := range r.Stages {
			fmt.Fprintf(b, "### %s\n\n", st.Name)
			mdSamples(b, st.Samples)
		}
	case "stages":
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
	case "lengths":
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
	case "kg":
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
	case "dialogue":
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
	case "manifest":
		if r.Manifest == nil {
			b.WriteString("_no data_\n")
			return
		}
		m := r.Manifest
		fmt.Fprintf(b, "version %s · seed %d · chimed.yaml sha256 `%s` · leakage check: %s · rows match the stage files: %s\n\n",
			m.Version, m.Seed, m.ConfigSHA256, m.LeakageCheck, agreeWord(m.RowsAgree))
		mdTable(b, manifestHeader, manifestRows(m))
	case "notes":
		if len(r.Notes) == 0 {
			b.WriteString("_none_\n")
		}
		for _, n := range r.Notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
}

// mdSamples lists sample rows, one bullet each, fields on one line.
func mdSamples(b *strings.Builder, samples []Sample) {
	if len(samples) == 0 {
		b.WriteString("_none_\n\n")
		return
	}
	line := func(fs []SampleField) string {
		var parts []string
		for _, f := range fs {
			t := strings.ReplaceAll(f.Text, "\n", " ")
			if f.Cut > 0 {
				t += fmt.Sprintf(" … (%d more characters)", f.Cut)
			}
			parts = append(parts, "**"+f.Name+"** "+t)
		}
		return strings.Join(parts, " · ")
	}
	for _, s := range samples {
		where := s.Source
		if s.Split != "" {
			where += "/" + s.Split
		}
		fmt.Fprintf(b, "- `%s` (%s", s.ID, where)
		if s.Detail != "" {
			fmt.Fprintf(b, ", matched `%s`", s.Detail)
		}
		if s.Perplexity > 0 {
			fmt.Fprintf(b, ", perplexity %.1f", s.Perplexity)
		}
		fmt.Fprintf(b, "): %s\n", line(s.Fields))
		if m := s.Matched; m != nil {
			fmt.Fprintf(b, "  - matched row `%s` (%s): %s\n", m.ID, m.Source, line(m.Fields))
		}
	}
	b.WriteString("\n")
}

// manifestHeader and manifestRows are the stage-file table both renderings print.
var manifestHeader = []string{"file", "rows", "size", "sha256"}

func manifestRows(m *ManifestStats) [][]string {
	var rows [][]string
	for _, f := range m.Files {
		rows = append(rows, []string{f.Path, num(float64(f.Rows)), humanize.IBytes(uint64(max(f.Bytes, 0))), shortSum(f.SHA256)})
	}
	return rows
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
