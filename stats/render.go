package stats

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
)

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
		sec.markdown(r, &b)
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
