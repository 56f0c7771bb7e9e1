package stats

import (
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
)

// TestCorpusFixture checks what the clean/ and removed/ pass finds in the
// fixture, where every number is known by construction.
func TestCorpusFixture(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	r, err := Collect(ws, Options{NoWords: true})
	if err != nil {
		t.Fatal(err)
	}
	cs := r.Corpus
	if cs == nil {
		t.Fatal("no corpus stats")
	}
	matrix := func(reason string) *DupMatrix {
		for i := range cs.Matrices {
			if cs.Matrices[i].Reason == reason {
				return &cs.Matrices[i]
			}
		}
		t.Fatalf("no %s matrix in %+v", reason, cs.Matrices)
		return nil
	}
	cell := func(m *DupMatrix, from, to string) int64 {
		for i, f := range m.Removed {
			for j, c := range m.Matched {
				if f == from && c == to {
					return m.Counts[i][j]
				}
			}
		}
		return 0
	}
	dup := matrix("duplicate")
	if cell(dup, "huatuo", "faq") != 1 || cell(dup, "textbook", "textbook") != 1 || dup.Unresolved != 1 {
		t.Errorf("duplicate matrix %+v", dup)
	}
	if m := matrix("near_duplicate"); cell(m, "huatuo", "faq") != 1 {
		t.Errorf("near_duplicate matrix %+v", m)
	}
	if m := matrix("contaminated"); cell(m, "textbook", "cmexam-test") != 1 {
		t.Errorf("contaminated matrix %+v", m)
	}
	// faq-root's cluster: itself, a kept member and a removed near duplicate.
	if cs.NearClusters.N != 1 || cs.NearClusters.Bins[1].Label != "3" || cs.NearClusters.Bins[1].Count != 1 {
		t.Errorf("near clusters %+v", cs.NearClusters)
	}
	if cs.ExactGroups.N != 3 || cs.ExactGroups.Bins[0].Count != 3 {
		t.Errorf("exact groups %+v", cs.ExactGroups)
	}
	if len(cs.Largest) != 1 || cs.Largest[0].Root != "faq-root" || cs.Largest[0].Source != "faq" || cs.Largest[0].Size != 3 ||
		cs.Largest[0].Kept != 2 || !equalCounts(cs.Largest[0].Removed, []NameCount{{"huatuo", 1}}) {
		t.Errorf("largest clusters %+v", cs.Largest)
	}

	reasons := map[string]ReasonSamples{}
	for _, rs := range cs.Removed {
		reasons[rs.Reason] = rs
	}
	d := reasons["duplicate"]
	if d.Count != 3 || len(d.Samples) != 3 {
		t.Fatalf("duplicate samples %+v", d)
	}
	var masked *Sample
	for i := range d.Samples {
		if d.Samples[i].ID == "hq-dup" {
			masked = &d.Samples[i]
		}
	}
	if masked == nil || len(masked.Fields) == 0 || masked.Fields[0].Text != "高血压吃什么药？请回电[PHONE]" {
		t.Errorf("removed sample not masked: %+v", masked)
	}
	if masked != nil && (masked.Matched == nil || masked.Matched.Source != "faq" || masked.Matched.ID != "faq-root") {
		t.Errorf("duplicate sample does not show the row it matched: %+v", masked.Matched)
	}
	if s := reasons["too_short"].Samples; len(s) != 1 || s[0].Fields[0].Name != "record" || s[0].Fields[0].Text != "not json" {
		t.Errorf("an undecodable record is not shown raw: %+v", s)
	}
	if s := reasons["contaminated"].Samples; len(s) != 1 || s[0].Matched == nil || s[0].Matched.Source != "cmexam-test" {
		t.Errorf("contaminated sample %+v", s)
	}

	cov := map[string]Coverage{}
	for _, c := range cs.Coverage {
		cov[c.Kind] = c
	}
	if c := cov["qa"]; c.Rows != 3 || c.Labelled != 2 || !equalCounts(c.Top, []NameCount{{"心内科", 1}, {"骨科", 1}}) {
		t.Errorf("qa coverage %+v", c)
	}
	if c := cov["exam"]; c.Labelled != 1 || c.Top[0].Name != "内分泌科" || strings.Join(c.Fields, ",") != "Clinical Department" {
		t.Errorf("exam coverage from meta %+v", c)
	}
	for _, q := range cs.Kinds {
		if q.Kind == "qa" && (q.Rows != 3 || q.Length.N != 3 || q.CJK.N != 3 || q.Unjudged != 3) {
			t.Errorf("qa quality %+v", q)
		}
	}

	if len(r.Sources) != 2 || r.Sources[0].License != "cc-by-4.0" || r.Sources[0].URL != "https://example.org/textbook" ||
		r.Sources[1].License != "" || r.Sources[1].Role != "train" {
		t.Errorf("sources %+v", r.Sources)
	}
	if !containsNote(r, "1 of 2 sources state no licence or URL") {
		t.Errorf("notes %q", r.Notes)
	}
	for _, st := range r.Stages {
		if len(st.Samples) == 0 || len(st.Samples) > samplesPer {
			t.Errorf("%s: %d samples", st.Name, len(st.Samples))
		}
	}
}

func TestQualityMeasures(t *testing.T) {
	cjk := []struct {
		s            string
		han, letters int
	}{
		{"糖尿病 diabetes 2型", 4, 13},
		{"，。！", 0, 0},
		{"ｄ", 0, 1},
	}
	for _, tc := range cjk {
		if h, l := cjkShare(tc.s); h != tc.han || l != tc.letters {
			t.Errorf("cjkShare(%q) = %d, %d; want %d, %d", tc.s, h, l, tc.han, tc.letters)
		}
	}
	sentence := "患者应当按时服药并定期复查血糖水平。" // 18 characters
	distinct := []rune{}
	for r := rune(0x4e00); len(distinct) < 150; r += 7 {
		distinct = append(distinct, r)
	}
	rep := []struct {
		s    string
		want float64
		ok   bool
	}{
		{"短文本", 0, false},
		{strings.Repeat(sentence, 8), 1, true},
		{string(distinct), 0, true},
		// 20 distinct, a 20-character block twice, 80 distinct: 40 of 140 covered.
		{string(distinct[:20]) + string(distinct[100:120]) + string(distinct[100:120]) + string(distinct[20:100]), 40.0 / 140, true},
	}
	var sc repScratch
	for _, tc := range rep {
		got, ok := repeatedShare(tc.s, &sc)
		if ok != tc.ok || (ok && (got < tc.want-1e-9 || got > tc.want+1e-9)) {
			t.Errorf("repeatedShare(%d runes) = %v, %v; want %v, %v", len([]rune(tc.s)), got, ok, tc.want, tc.ok)
		}
	}
}

func TestSpreadAndSampler(t *testing.T) {
	bySource := map[string]*sampler{}
	for _, src := range []string{"big", "small"} {
		bySource[src] = &sampler{k: samplesPer}
	}
	for i := range 100 {
		id := "big-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		bySource["big"].add(Sample{ID: id, Source: "big", hash: hashID(id)})
	}
	bySource["small"].add(Sample{ID: "s1", Source: "small", hash: hashID("s1")})
	got := spread(bySource, samplesPer)
	small := 0
	for _, s := range got {
		if s.Source == "small" {
			small++
		}
	}
	if len(got) != samplesPer || small != 1 {
		t.Errorf("spread = %d rows, %d from the small source", len(got), small)
	}
	rows := bySource["big"].rows
	for i := 1; i < len(rows); i++ {
		if rows[i-1].hash > rows[i].hash {
			t.Errorf("sampler rows out of hash order")
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"raw/dialogue/Chinese-medical-dialogue-data/Data_数据/IM_内科/内科5000-33000.csv", 30, "…/IM_内科/内科5000-33000.csv"},
		{"一个很长很长的科室名称标签", 6, "一个很长很…"},
	}
	for _, tc := range tests {
		if got := clip(tc.s, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// runeTokens is a stand-in tokenizer: one id per character.
type runeTokens struct{}

func (runeTokens) Encode(s string) []int32 { return make([]int32, len([]rune(s))) }

// TestTokens: tokens are counted with the tokenizer given, on every row,
// with two chat markers per SFT message, and the page names the tokenizer.
func TestTokens(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	r, err := Collect(ws, Options{NoWords: true, Tokenizer: runeTokens{}, TokenizerFrom: "test tokenizer"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tokenizer != "test tokenizer" {
		t.Errorf("tokenizer %q", r.Tokenizer)
	}
	dcpt, sft := stage(t, r, "dcpt"), stage(t, r, "sft")
	if dcpt.Tokens != dcpt.Chars {
		t.Errorf("dcpt tokens %d, want %d (one per character)", dcpt.Tokens, dcpt.Chars)
	}
	if want := sft.Chars + 2*sft.Turns.Sum; sft.Tokens != want {
		t.Errorf("sft tokens %d, want %d", sft.Tokens, want)
	}
	html := r.HTML()
	if !strings.Contains(html, "Trainer tokens per stage") || !strings.Contains(html, "test tokenizer") || strings.Contains(html, "Tokens (jieba") {
		t.Error("the page does not chart trainer tokens, or still calls jieba words tokens")
	}
	r2, err := Collect(ws, Options{NoWords: true, TokenizerFrom: "stages/dcpt/train.parquet is missing"})
	if err != nil {
		t.Fatal(err)
	}
	if !containsNote(r2, "trainer tokens were not counted: stages/dcpt/train.parquet is missing") {
		t.Errorf("notes %q", r2.Notes)
	}
}
