package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func needJieba(t *testing.T) {
	t.Helper()
	if _, err := segment.Jieba(); err != nil {
		t.Skipf("jieba dictionaries missing: %v", err)
	}
}

func stage(t *testing.T, r *Report, name string) StageStats {
	t.Helper()
	for _, st := range r.Stages {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no stage %s in %v", name, r.Stages)
	return StageStats{}
}

// wordsOf counts jieba words the way the report should, independently.
func wordsOf(t *testing.T, texts ...string) int64 {
	var n int64
	for _, s := range texts {
		ws, err := segment.Words(s)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(len(ws))
	}
	return n
}

func TestCollectFixture(t *testing.T) {
	needJieba(t)
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	r, err := Collect(ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dcpt := stage(t, r, "dcpt")
	texts := []string{"糖尿病是一组以高血糖为特征的代谢性疾病。", "高血压是常见的慢性病。", "感冒的症状有发热、咳嗽。", "肺炎需要就医。"}
	var chars int64
	for _, s := range texts {
		chars += int64(len([]rune(s)))
	}
	if dcpt.Rows != 4 || dcpt.Chars != chars || dcpt.Words != wordsOf(t, texts...) || dcpt.Estimated {
		t.Errorf("dcpt = rows %d chars %d words %d est %v, want 4 %d %d false", dcpt.Rows, dcpt.Chars, dcpt.Words, dcpt.Estimated, chars, wordsOf(t, texts...))
	}
	if len(dcpt.Sources) != 2 || dcpt.Sources[0].Source != "kg" || dcpt.Sources[0].Rows != 2 ||
		dcpt.Sources[0].SplitRows["train"] != 1 || dcpt.Sources[0].SplitRows["valid"] != 1 {
		t.Errorf("dcpt sources = %+v", dcpt.Sources)
	}
	if len(dcpt.Files) != 2 {
		t.Errorf("dcpt files = %v (test.parquet is missing)", dcpt.Files)
	}
	sft := stage(t, r, "sft")
	if sft.Rows != 3 || sft.Turns == nil || sft.Turns.N != 3 || sft.Turns.Sum != 9 {
		t.Errorf("sft rows %d turns %+v", sft.Rows, sft.Turns)
	}
	var fields []string
	for _, h := range sft.Histograms {
		fields = append(fields, h.Field+"/"+h.Unit)
	}
	if got := strings.Join(fields, " "); got != "messages.system/chars messages.user/chars messages.assistant/chars messages.system/words messages.user/words messages.assistant/words" {
		t.Errorf("sft histograms %s", got)
	}
	if exam := stage(t, r, "eval/exam"); exam.Rows != 1 || exam.Chars != int64(len([]rune("下列哪项是糖尿病的症状？多饮\n脱发"))) {
		t.Errorf("eval/exam = %+v", exam)
	}
	if want := len(schemas.Stages) + 2; len(r.Stages) != want { // the stage table's, eval/exam, eval/qa
		t.Errorf("%d stages, want %d", len(r.Stages), want)
	}
	if adapt := stage(t, r, "adapt"); adapt.Rows != 1 || adapt.Turns == nil {
		t.Errorf("adapt = %+v", adapt)
	}
	// Step reports read through their own types.
	if r.Ingest == nil || strings.Join(r.Ingest.Columns, ",") != "read,written,quarantined,bytes,files,lookup,meta_capped,records_ok" ||
		len(r.Ingest.Rows) != 4 || r.Ingest.Rows[3].Name != "totals" || r.Ingest.Rows[3].Values[0] != 18 || r.Ingest.Rows[1].Values[5] != 4 {
		t.Errorf("ingest = %+v", r.Ingest)
	}
	if c := r.Clean; c == nil || len(c.Reasons) != 3 || c.Reasons[0] != (NameCount{"duplicate", 2}) {
		t.Errorf("clean reasons = %+v", c)
	}
	wantDedup := []NameCount{{"removed: duplicate", 2}, {"removed: near_duplicate", 1},
		{"near_dedup.candidates", 3}, {"near_dedup.cluster_pairs", 2}, {"near_dedup.duplicate_pairs", 1}, {"near_dedup.indexed", 15}}
	if got := r.Clean.Dedup; !equalCounts(got, wantDedup) {
		t.Errorf("dedup = %v, want %v", got, wantDedup)
	}
	if got := r.Clean.PII; !equalCounts(got, []NameCount{{"email", 1}, {"phone", 4}}) {
		t.Errorf("pii = %v", got)
	}
	if got := r.Quarantine; !equalCounts(got, []NameCount{{"raw/a.txt", 2}, {"raw/b.csv", 1}}) {
		t.Errorf("quarantine = %v", got)
	}
	if r.KG == nil || r.KG.Triples != 5 || r.KG.Top[0] != (NameCount{"症状", 3}) || r.KG.From != "stages/kg_stats.json" {
		t.Errorf("kg = %+v", r.KG)
	}
	if d := r.Dialogue; d == nil || d.Dialogues != 2 || d.Turns != 6 || d.PerDialog.Bins[2].Count != 1 || d.PerDialog.Bins[4].Count != 1 {
		t.Errorf("dialogue = %+v", d)
	}
	if r.Manifest == nil || r.Manifest.Seed != 7 || len(r.Manifest.Files) != 1 || r.Flow == nil || strings.Join(r.Flow.Columns, ",") != "in,used,unused" {
		t.Errorf("manifest = %+v flow = %+v", r.Manifest, r.Flow)
	}
	if a := r.Manifest.RowsAgree; a == nil || *a || !containsNote(r, "stages/manifest.json says stages/dcpt/valid.parquet has 2 rows; stats read 1") ||
		containsNote(r, "train.parquet has") || containsNote(r, "eval/exam.parquet has") {
		t.Errorf("manifest row check: agree %v, notes %q", a, r.Notes)
	}
	if !containsNote(r, "stages/dcpt/test.parquet is missing") {
		t.Errorf("notes = %q", r.Notes)
	}
}

func equalCounts(a, b []NameCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsNote(r *Report, sub string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// TestSampling: past the cap only rows whose id hashes to 0 are segmented,
// and word totals are scaled from them.
func TestSampling(t *testing.T) {
	needJieba(t)
	ws := workspace.Dir(t.TempDir())
	const n = 200
	bigStage(t, ws, n)
	tests := []struct {
		name        string
		opts        Options
		wantSampled int64
	}{
		{"all under cap", Options{WordCap: 1000}, n},
		{"cap 10 stride 4", Options{WordCap: 10, WordStride: 4}, 10 + countHashed(10, n, 4)},
		{"cap 1 stride 50", Options{WordCap: 1, WordStride: 50}, 1 + countHashed(1, n, 50)},
	}
	perRow := wordsOf(t, "糖尿病患者应当控制饮食并规律运动。")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Collect(ws, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			st := stage(t, r, "dcpt")
			if st.SampledRows != tc.wantSampled {
				t.Errorf("sampled %d rows, want %d", st.SampledRows, tc.wantSampled)
			}
			if st.Estimated != (tc.wantSampled < n) {
				t.Errorf("estimated = %v", st.Estimated)
			}
			// Every row is the same text, so the estimate is exact.
			if st.Words != perRow*n {
				t.Errorf("words %d, want %d", st.Words, perRow*n)
			}
			if st.Estimated && !containsNote(r, "dcpt: words counted with jieba on") {
				t.Errorf("no sampling note: %q", r.Notes)
			}
			var wordsHist *Histogram
			for i := range st.Histograms {
				if st.Histograms[i].Unit == "words" {
					wordsHist = &st.Histograms[i]
				}
			}
			if wordsHist == nil || wordsHist.N != tc.wantSampled {
				t.Errorf("words histogram %+v", wordsHist)
			}
		})
	}
}

// countHashed counts rows cap..n-1 whose id the sampler picks.
func countHashed(cap, n int, stride uint64) int64 {
	var c int64
	for i := cap; i < n; i++ {
		if hashID("row-"+strconv.Itoa(i))%stride == 0 {
			c++
		}
	}
	return c
}

// externalRef finds whatever could make the page load something: an
// element that fetches (script, link, img, iframe, object, embed), a src
// or href that is not a fragment, a CSS import or url() that is not a
// fragment. A URL shown as text (a source's url: key) fetches nothing.
var externalRef = regexp.MustCompile(`(?i)(<script|<link|<iframe|<img|<object|<embed|<video|<audio|<source|@import|url\(\s*['"]?[^#'"\s]|\bsrc\s*=|href\s*=\s*['"]?[^#'"\s])`)

// checkSelfContained fails when the page could reach outside itself or
// lacks a section.
func checkSelfContained(t *testing.T, html string) {
	t.Helper()
	if m := externalRef.FindString(html); m != "" {
		i := strings.Index(html, m)
		t.Errorf("page is not self-contained: %q near %q", m, html[max(0, i-60):min(len(html), i+60)])
	}
	for _, s := range Sections {
		if !strings.Contains(html, `<section id="`+s.ID+`">`) {
			t.Errorf("section %s missing", s.ID)
		}
	}
	if !strings.Contains(html, `"Noto Sans CJK SC"`) || !strings.Contains(html, "sans-serif") {
		t.Error("font-family lacks the CJK system font list")
	}
	if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.HasSuffix(html, "</html>\n") {
		t.Error("not a whole HTML page")
	}
}

func TestRunWritesSelfContainedReports(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	if _, err := Run(ws, Options{}); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(ws.Report("stats.html"))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(html))
	for _, want := range []string{"<svg", "Top relations", "症状", "PII masked", "Removed rows by reason", "messages per row", "turns per dialogue"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("stats.html lacks %q", want)
		}
	}
	md, err := os.ReadFile(ws.Report("stats.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Sections {
		if !strings.Contains(string(md), "## "+s.Title+"\n") {
			t.Errorf("stats.md lacks section %q", s.Title)
		}
	}
	if _, err := os.Stat(ws.Report("stats.json")); err != nil {
		t.Error(err)
	}
}

// TestGoldenMarkdown pins stats.md and stats.json for the fixture
// (go test ./stats -run Golden -update rewrites them).
func TestGoldenMarkdown(t *testing.T) {
	needJieba(t)
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	r, err := Collect(ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Workspace = "WS"
	jsPath := filepath.Join(t.TempDir(), "stats.json") // written as Run writes it
	if err := atomicfile.WriteJSON(jsPath, r); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(jsPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"fixture.md": []byte(r.Markdown()), "fixture.json": js} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", name, got)
		}
	}
}

// TestMissingInputs: a workspace with only some inputs gives a report of
// notes, every empty section saying it has no data, and no error; one with
// none at all is an error naming the first step to run.
func TestMissingInputs(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	_, err := Run(ws, Options{NoWords: true})
	var me *workspace.MissingError
	if !errors.As(err, &me) || me.Step != "ingest" || strings.Contains(err.Error(), "\n") {
		t.Fatalf("empty workspace: err = %v, want one line naming `chimed ingest`", err)
	}
	if _, err := os.Stat(ws.Report("stats.html")); err == nil {
		t.Error("an empty workspace got a stats page")
	}
	if err := os.MkdirAll(ws.Quarantine(), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.WriteFile(filepath.Join(ws.Quarantine(), "part-00000.parquet"),
		slices.Values([]schemas.QuarantineRow{{Source: "s", File: "raw/a.txt", Error: "bad"}})); err != nil {
		t.Fatal(err)
	}
	r, err := Run(ws, Options{NoWords: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reports/ingest.json is missing", "reports/clean.json is missing", "stages/manifest.json is missing",
		"stages/sft/train.parquet is missing", "no knowledge-graph statistics"} {
		if !containsNote(r, want) {
			t.Errorf("no note %q in %q", want, r.Notes)
		}
	}
	html, _ := os.ReadFile(ws.Report("stats.html"))
	checkSelfContained(t, string(html))
	if !strings.Contains(string(html), "no data") {
		t.Error("empty sections do not say so")
	}
}

// TestBrokenReport: a step report that is not valid JSON, or whose values
// are not of its type, is a note naming the file and the place, and only
// its own sections go missing.
func TestBrokenReport(t *testing.T) {
	cases := []struct {
		name, file, body, wantNote string
		gone                       func(r *Report) bool
	}{
		{"ingest.json not JSON", "reports/ingest.json", `{"sources": {"a": {"read": 1,}}}`,
			"reports/ingest.json: not valid JSON at byte 30", func(r *Report) bool { return r.Ingest == nil }},
		{"clean.json of the wrong types", "reports/clean.json", `{"sources": {"a": {"in": "many", "removed": ["x"]}}, "totals": 3}`,
			"reports/clean.json: json: cannot unmarshal", func(r *Report) bool { return r.Clean == nil }},
		{"manifest of the wrong types", "stages/manifest.json", `{"seed": "seven"}`,
			"stages/manifest.json: json: cannot unmarshal", func(r *Report) bool { return r.Manifest == nil && r.Flow == nil }},
		{"kg statistics of the wrong types falls back to clean/kg", "stages/kg_stats.json", `{"triples": []}`,
			"stages/kg_stats.json: json: cannot unmarshal", func(r *Report) bool { return r.KG == nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			writeStepReports(t, ws)
			if err := os.WriteFile(ws.Path(filepath.FromSlash(c.file)), []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Collect(ws, Options{NoWords: true})
			if err != nil {
				t.Fatal(err)
			}
			if !containsNote(r, c.wantNote) {
				t.Errorf("no note %q in %q", c.wantNote, r.Notes)
			}
			if !c.gone(r) {
				t.Errorf("the broken report's section is still there")
			}
			if n := nonEmptyReportSections(r); n != 4-1 {
				t.Errorf("%d of the other three report sections are left", n)
			}
		})
	}
}

// nonEmptyReportSections counts the sections read from step reports
// (ingest, clean, manifest, kg statistics) that hold something.
func nonEmptyReportSections(r *Report) int {
	n := 0
	for _, ok := range []bool{r.Ingest != nil, r.Clean != nil, r.Manifest != nil, r.KG != nil && r.KG.From == "stages/kg_stats.json"} {
		if ok {
			n++
		}
	}
	return n
}

// TestReportsReadBack writes every step report with its owner's type and
// writer, reads it back, and checks that every section and column the page
// shows from it holds a number: a field renamed or dropped on either side
// leaves one empty and fails here.
func TestReportsReadBack(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeStepReports(t, ws)
	r, err := Collect(ws, Options{NoWords: true})
	if err != nil {
		t.Fatal(err)
	}
	tables := []struct {
		name string
		t    *Table
	}{{"ingest", r.Ingest}, {"flow", r.Flow}}
	if r.Clean != nil {
		tables = append(tables, struct {
			name string
			t    *Table
		}{"clean", r.Clean.Sources}, struct {
			name string
			t    *Table
		}{"clean reasons by source", r.Clean.ReasonsBySource})
	}
	for _, tb := range tables {
		if tb.t == nil || len(tb.t.Columns) == 0 || len(tb.t.Rows) == 0 {
			t.Errorf("%s: empty table %+v", tb.name, tb.t)
			continue
		}
		for i, col := range tb.t.Columns {
			if !slices.ContainsFunc(tb.t.Rows, func(row TableRow) bool { return row.Values[i] != 0 }) {
				t.Errorf("%s: column %s is 0 in every row", tb.name, col)
			}
		}
	}
	lists := map[string]int{}
	if c := r.Clean; c != nil {
		lists["clean reasons"], lists["clean dedup"], lists["clean pii"] = len(c.Reasons), len(c.Dedup), len(c.PII)
		for _, n := range c.Counters {
			if n.Value == 0 {
				t.Errorf("clean counter %s is 0", n.Name)
			}
		}
		lists["clean counters"] = len(c.Counters)
	}
	if m := r.Manifest; m != nil {
		lists["manifest files"] = len(m.Files)
		if m.Version == "" || m.Seed == 0 || m.ConfigSHA256 == "" || m.LeakageCheck == "" || m.RowsAgree == nil {
			t.Errorf("manifest = %+v", m)
		}
	}
	if k := r.KG; k != nil {
		lists["kg top relations"], lists["kg degree"], lists["kg dropped"] = len(k.Top), len(k.Degree), len(k.Dropped)
		if k.Triples == 0 || k.Entities == 0 || k.Relations == 0 || k.From != "stages/kg_stats.json" {
			t.Errorf("kg = %+v", k)
		}
	}
	for _, name := range []string{"clean reasons", "clean dedup", "clean pii", "clean counters", "manifest files", "kg top relations", "kg degree", "kg dropped"} {
		if lists[name] == 0 {
			t.Errorf("%s: empty", name)
		}
	}
	for _, n := range r.Notes {
		if strings.Contains(n, ".json") && !strings.Contains(n, "manifest.json says") {
			t.Errorf("note on a report: %s", n)
		}
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		values []int64
		bins   map[string]int64
		mean   float64
		p50    float64
	}{
		{nil, map[string]int64{}, 0, 0},
		{[]int64{0, 15, 16, 100000}, map[string]int64{"0–15": 2, "16–31": 1, "≥8192": 1}, 25007.75, 16},
		{[]int64{20, 20, 20, 20}, map[string]int64{"16–31": 4}, 20, 18.5},
	}
	for _, tc := range tests {
		h := newHistogram("f", "chars", lengthEdges)
		for _, v := range tc.values {
			h.Add(v)
		}
		got := map[string]int64{}
		for _, b := range h.Bins {
			if b.Count > 0 {
				got[b.Label] = b.Count
			}
		}
		if len(got) != len(tc.bins) {
			t.Errorf("%v: bins %v, want %v", tc.values, got, tc.bins)
		}
		for k, v := range tc.bins {
			if got[k] != v {
				t.Errorf("%v: bin %s = %d, want %d", tc.values, k, got[k], v)
			}
		}
		if h.Mean() != tc.mean || h.Quantile(0.5) != tc.p50 {
			t.Errorf("%v: mean %v p50 %v, want %v %v", tc.values, h.Mean(), h.Quantile(0.5), tc.mean, tc.p50)
		}
	}
}

// FuzzReports feeds arbitrary bytes as ingest.json and clean.json: the
// report must come out (with notes) and render, never panic.
func FuzzReports(f *testing.F) {
	f.Add([]byte(`{"sources": {"a": {"read": 1, "written": 1}}, "totals": {"read": 1}}`))
	f.Add([]byte(`{"sources": {"a": {"in": 2, "kept": 1, "removed": {"dup": 1}}}, "rewrites": {"pii": {"phone": 2}}}`))
	f.Add([]byte(`{"sources": [1, 2], "totals": null}`))
	f.Add([]byte(`not json`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		ws := workspace.Dir(dir)
		os.MkdirAll(ws.Reports(), 0o755)
		os.WriteFile(ws.Report("ingest.json"), data, 0o644)
		os.WriteFile(ws.Report("clean.json"), data, 0o644)
		r, err := Collect(ws, Options{NoWords: true})
		var me *workspace.MissingError
		if errors.As(err, &me) {
			return // neither report could be read: nothing to describe
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Markdown()
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
		if m := externalRef.FindString(r.HTML()); m != "" && !bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(m))) {
			t.Fatalf("HTML gained %q", m)
		}
	})
}

// TestEveryCountShown: each number a step report type holds has its
// column or counter on the page (or is left out on purpose), so a count
// added to a report is not silently missing from stats.
func TestEveryCountShown(t *testing.T) {
	names := func(cols []string, prefix string) map[string]bool {
		m := map[string]bool{}
		for _, c := range cols {
			m[strings.TrimPrefix(c, prefix)] = true
		}
		return m
	}
	colNames := func(n int, name func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = name(i)
		}
		return out
	}
	var near []string
	for _, c := range nearDedupCounters(&clean.NearStats{}) {
		near = append(near, c.name)
	}
	ingestCols := ingestColumns(true)
	cases := []struct {
		name  string
		typ   reflect.Type
		shown map[string]bool
		// omitted are keys the page leaves out, and why.
		omitted map[string]string
	}{
		{"ingest.Counts", reflect.TypeFor[ingest.Counts](),
			names(colNames(len(ingestCols), func(i int) string { return ingestCols[i].name }), ""), nil},
		{"clean.SourceCounts", reflect.TypeFor[clean.SourceCounts](),
			names(colNames(len(cleanColumns), func(i int) string { return cleanColumns[i].name }), ""), nil},
		{"clean.NearStats", reflect.TypeFor[clean.NearStats](), names(near, "near_dedup."),
			map[string]string{"shingle": "a word, not a number"}},
		{"stages.SourceCount", reflect.TypeFor[stages.SourceCount](),
			names(colNames(len(flowColumns), func(i int) string { return flowColumns[i].name }), ""),
			map[string]string{"kind": "not a number", "eval": "not a number", "rows": "the stage sections show rows per file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for f := range c.typ.Fields() {
				key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if key == "" || key == "-" {
					continue
				}
				if !c.shown[key] && c.omitted[key] == "" {
					t.Errorf("%s.%s (%q) is not shown on the stats page", c.name, f.Name, key)
				}
			}
		})
	}
}
