package clean

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func build(t *testing.T, name string, with map[string]any) any {
	t.Helper()
	c, err := registry[name].build(decoderFor("test", with))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFilters(t *testing.T) {
	long := strings.Repeat("高血压是一种常见的慢性病，需要长期管理。", 3)
	rep := strings.Repeat("重复的一行内容在这里，重复的一行内容在这里\n", 8)
	cases := []struct {
		name       string
		filter     string
		with       map[string]any
		rec        schemas.Record
		reason     string
		wantDetail string
	}{
		{"short question", "length", nil, &schemas.QA{Question: "痛", Answer: "多休息"}, "too_short", "question"},
		{"ok qa", "length", nil, &schemas.QA{Question: "头痛怎么办", Answer: "多休息"}, "", ""},
		{"short text", "length", nil, &schemas.Text{Text: "太短了"}, "too_short", "text"},
		{"configured min", "length", map[string]any{"min": map[string]any{"answer": 5}}, &schemas.QA{Question: "头痛怎么办", Answer: "多休息"}, "too_short", "answer"},
		{"configured max", "length", map[string]any{"max": map[string]any{"*": 5}}, &schemas.QA{Question: "头痛怎么办", Answer: "多休息"}, "too_long", "*"},
		{"long head", "length", nil, &schemas.Triple{Head: strings.Repeat("病", 201), Relation: "症状", Tail: "痛"}, "too_long", "head"},
		{"english", "cjk_ratio", nil, &schemas.QA{Question: "What is hypertension?", Answer: "High blood pressure."}, "low_cjk", ""},
		{"chinese with units", "cjk_ratio", nil, &schemas.QA{Question: "CT检查发现肺结节5mm怎么办", Answer: "定期复查低剂量CT"}, "", ""},
		{"too few letters to judge", "cjk_ratio", nil, &schemas.QA{Question: "CT?", Answer: "ok"}, "", ""},
		{"strict ratio", "cjk_ratio", map[string]any{"min_ratio": 0.99}, &schemas.QA{Question: "CT检查发现肺结节5mm怎么办", Answer: "定期复查低剂量CT"}, "low_cjk", ""},
		{"repeated lines", "repetition", nil, &schemas.Text{Text: rep}, "repeated_lines", "text"},
		{"repeated ngrams", "repetition", nil, &schemas.Text{Text: strings.Repeat("多喝热水多休息", 20)}, "repeated_ngrams", "text"},
		{"normal text", "repetition", nil, &schemas.Text{Text: long[:len(long)/3] + "治疗包括生活方式干预和药物治疗，常用药物有利尿剂、钙通道阻滞剂等多种类别。"}, "", ""},
		{"short answer", "answer_ratio", nil, &schemas.QA{Question: strings.Repeat("我最近头痛发热，", 10), Answer: "吃药"}, "short_answer", ""},
		{"short but enough", "answer_ratio", nil, &schemas.QA{Question: "头痛怎么办", Answer: "休息"}, "", ""},
		{"no assistant", "dialogue_roles", nil, &schemas.Dialogue{Turns: []schemas.Turn{{Role: "user", Content: "你好"}}}, "missing_role", "assistant"},
		{"empty assistant", "dialogue_roles", nil, &schemas.Dialogue{Turns: []schemas.Turn{{Role: "user", Content: "你好"}, {Role: "assistant", Content: " "}}}, "missing_role", "assistant"},
		{"no user", "dialogue_roles", nil, &schemas.Dialogue{Turns: []schemas.Turn{{Role: "assistant", Content: "你好"}}}, "missing_role", "user"},
		{"both roles", "dialogue_roles", nil, &schemas.Dialogue{Turns: []schemas.Turn{{Role: "user", Content: "你好"}, {Role: "assistant", Content: "请讲"}}}, "", ""},
		{"answer not an option", "exam_answer", nil, &schemas.ExamQuestion{Answer: "E", Options: []schemas.Option{{Label: "A"}, {Label: "B"}}}, "bad_answer_label", "E"},
		{"empty answer", "exam_answer", nil, &schemas.ExamQuestion{Answer: "", Options: []schemas.Option{{Label: "A"}}}, "bad_answer_label", ""},
		{"multi answer", "exam_answer", nil, &schemas.ExamQuestion{Answer: "ABD", Options: []schemas.Option{{Label: "A"}, {Label: "B"}, {Label: "C"}, {Label: "D"}}}, "", ""},
		{"lower-case answer", "exam_answer", nil, &schemas.ExamQuestion{Answer: "b", Options: []schemas.Option{{Label: "A"}, {Label: "B"}}}, "", ""},
	}
	for _, c := range cases {
		f := build(t, c.filter, c.with).(Filter)
		reason, detail := f.Check(c.rec)
		if reason != c.reason || detail != c.wantDetail {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, reason, detail, c.reason, c.wantDetail)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	f := false
	cases := []struct {
		name string
		cfg  Config
		bad  string // substring of the error, "" for valid
	}{
		{"empty", Config{}, ""},
		{"unknown step", Config{Steps: []Step{{Use: "nope"}}}, "clean.steps[0].use"},
		{"bad kind", Config{Steps: []Step{{Use: "html", Kinds: []schemas.Kind{"pdf"}}}}, "clean.steps[0].kinds"},
		{"misspelt setting", Config{Steps: []Step{{Use: "cjk_ratio", With: map[string]any{"min_ratoi": 0.5}}}}, "clean.steps[0].with"},
		{"bad shingle", Config{Near: NearConfig{Shingle: "byte"}}, "near_dedup.shingle"},
		{"bad threshold", Config{Near: NearConfig{Threshold: 1.5}}, "near_dedup.threshold"},
		{"cluster above threshold", Config{Near: NearConfig{Threshold: 0.7, ClusterThreshold: 0.9}}, "cluster_threshold"},
		{"bad ngram", Config{Decontaminate: DecontamConfig{NGram: 2}}, "decontaminate.ngram"},
		{"off", Config{Near: NearConfig{Enabled: &f}, Exact: ExactConfig{Enabled: &f}}, ""},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.bad)
		}
	}
}

// TestDupNGramFrac compares the hash-table measure with a plain map count
// of every window, on texts with and without planted repeats.
func TestDupNGramFrac(t *testing.T) {
	naive := func(rs []rune, n int) float64 {
		if len(rs) < 2*n {
			return 0
		}
		count := map[string]int{}
		for i := 0; i+n <= len(rs); i++ {
			count[string(rs[i:i+n])]++
		}
		covered := make([]bool, len(rs))
		for i := 0; i+n <= len(rs); i++ {
			if count[string(rs[i:i+n])] > 1 {
				for j := i; j < i+n; j++ {
					covered[j] = true
				}
			}
		}
		c := 0
		for _, b := range covered {
			if b {
				c++
			}
		}
		return float64(c) / float64(len(rs))
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("肺炎高血压糖尿病患者建议检查治疗每次一日服用")
	var sc repetitionScratch // reused across cases, as the pool does
	for i := range 200 {
		n := 2 + r.IntN(20)
		rs := make([]rune, 0, 400)
		for len(rs) < 40+r.IntN(360) {
			if len(rs) > n && r.IntN(4) == 0 { // copy an earlier stretch
				from := r.IntN(len(rs))
				to := min(len(rs), from+r.IntN(3*n))
				rs = append(rs, rs[from:to]...)
				continue
			}
			rs = append(rs, alphabet[r.IntN(len(alphabet))])
		}
		if got, want := dupNGramFrac(rs, n, &sc), naive(rs, n); got != want {
			t.Fatalf("case %d (n %d, %d runes): %.4f, want %.4f", i, n, len(rs), got, want)
		}
	}
}

// appendRunes must read every string as ranging over it does, invalid
// bytes, surrogates and overlong forms included.
func TestAppendRunesMatchesRange(t *testing.T) {
	for _, s := range []string{
		"", "abc", "高血压，每次10mg。", "\xff\xfe", "\xe9\xab", "高\xe9\xab", "\xed\xa0\x80", "\xe0\x80\x80",
		"\xef\xbf\xbd", "𠀀😀a", "\xf0\x9f\x98", "\xc3\xa9\xc3", "\xe4\xb8\xad\x80\x80",
	} {
		if got, want := appendRunes([]rune{'x'}, s), append([]rune{'x'}, []rune(s)...); !slices.Equal(got, want) {
			t.Errorf("appendRunes(%q) = %q, want %q", s, got, want)
		}
	}
}

// The filter decides the same from a record's Profiles as from the record.
func TestRepetitionCheckProfiledMatchesCheck(t *testing.T) {
	f := &repetitionFilter{MaxDupLineFrac: 0.3, MaxDupNGramFrac: 0.5, NGram: 20, MinChars: 100}
	long := strings.Repeat("高血压患者应低盐饮食，", 12)
	for _, rec := range []schemas.Record{
		&schemas.QA{Question: long, Answer: "多休息"},
		&schemas.QA{Question: "头痛", Answer: strings.Repeat("a", 99) + "\n" + strings.Repeat("多喝热水多休息", 20)},
		&schemas.Text{Text: strings.Repeat("一行\n", 60)},
		&schemas.Text{Text: strings.Repeat("é", 60)}, // 120 bytes, 60 characters: not judged
	} {
		fields := rec.TextFields()
		var profiles []Profile
		for _, fl := range fields {
			profiles = append(profiles, ProfileText(*fl.Value))
		}
		r1, d1 := f.Check(rec)
		r2, d2 := f.CheckProfiled(fields, profiles)
		if r1 != r2 || d1 != d2 {
			t.Errorf("%T: Check = %q %q, CheckProfiled = %q %q", rec, r1, d1, r2, d2)
		}
	}
}
