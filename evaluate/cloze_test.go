package evaluate

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// tableLM answers ContinuationLogProb from a table keyed by prompt and
// continuation, with a token count per continuation, so each cloze
// normalisation can be driven to a known pick.
type tableLM struct {
	bigramLM
	lp  map[[2]string]float64
	tok map[string]int
}

func (m *tableLM) ContinuationLogProb(prompts, conts []string) ([]float64, []int, error) {
	lp, tok := make([]float64, len(prompts)), make([]int, len(prompts))
	for i := range prompts {
		v, ok := m.lp[[2]string{prompts[i], conts[i]}]
		if !ok {
			return nil, nil, fmt.Errorf("no score for %q after %q", conts[i], prompts[i])
		}
		lp[i], tok[i] = v, m.tok[conts[i]]
	}
	return lp, tok, nil
}

func TestClozeNormalisations(t *testing.T) {
	q := &schemas.ExamQuestion{ID: "q", Question: "糖尿病首选哪种检查", Answer: "B", Options: []schemas.Option{
		{Label: "A", Text: "血常规"},       // 3 chars, 3 tokens
		{Label: "B", Text: "口服葡萄糖耐量试验"}, // 9 chars, 2 tokens
		{Label: "C", Text: "尿"},         // 1 char, 1 token
	}}
	p := ClozePrompt(q.Question)
	m := &tableLM{
		lp: map[[2]string]float64{
			{p, "血常规"}: -3.0, {p, "口服葡萄糖耐量试验"}: -8.1, {p, "尿"}: -2.5,
			{clozeUncondPrompt, "血常规"}: -2.0, {clozeUncondPrompt, "口服葡萄糖耐量试验"}: -12.0, {clozeUncondPrompt, "尿"}: -1.0,
		},
		tok: map[string]int{"血常规": 3, "口服葡萄糖耐量试验": 2, "尿": 1},
	}
	// raw: C (−2.5); char: B (−0.9 a char); token: A (−1.0 a token, B −4.05,
	// C −2.5); pmi: B (+3.9 against −1.0 and −1.5).
	want := map[string]string{ClozeRaw: "C", ClozeChar: "B", ClozeToken: "A", ClozePMI: "B"}
	multi := &schemas.ExamQuestion{ID: "m", Question: "多选", Answer: "AB", Options: q.Options}
	cases := []*examCase{
		{q: multi, labels: labelsOf(multi), gold: "AB"},
		{q: q, labels: labelsOf(q), gold: "B"},
	}
	s := &scorer{m: m, batch: 2}
	scored, picks, err := clozeScores(s, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(scored) != 1 || scored[0] != 1 {
		t.Fatalf("scored %v, want only the single-answer question [1]", scored)
	}
	for norm, label := range want {
		if got := picks[norm][0]; got != label {
			t.Errorf("%s picked %s, want %s", norm, got, label)
		}
	}
	r := &StageResult{CI: map[string]Interval{}}
	if err := cloze(s, cases, r); err != nil {
		t.Fatal(err)
	}
	if r.N.ExamCloze != 1 || r.ExamAccCloze == nil || *r.ExamAccCloze != 1 {
		t.Fatalf("cloze result %+v", r)
	}
	if r.ExamAccClozeBy[ClozeRaw] != 0 || r.ExamAccClozeBy[ClozeChar] != 1 || r.ExamAccClozeBy[ClozeToken] != 0 || r.ExamAccClozeBy[ClozePMI] != 1 {
		t.Errorf("variants %v", r.ExamAccClozeBy)
	}
	for _, norm := range ClozeNorms {
		if _, ok := r.CI["exam_acc_cloze_"+norm]; !ok {
			t.Errorf("no interval for %s", norm)
		}
	}
}

func TestTieShare(t *testing.T) {
	for _, c := range []struct {
		scores []int
		gold   int
		want   float64
	}{
		{[]int{1, 5, 2}, 1, 1},
		{[]int{1, 5, 2}, 0, 0},
		{[]int{5, 5, 2, 5}, 1, 1.0 / 3},
		{[]int{0, 0, 0, 0}, 2, 0.25},
		{[]int{3}, -1, 0},
	} {
		if got := tieShare(c.scores, c.gold); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("tieShare(%v, %d) = %v, want %v", c.scores, c.gold, got, c.want)
		}
	}
}

func TestBaselines(t *testing.T) {
	opts := func(texts ...string) []schemas.Option {
		var o []schemas.Option
		for i, t := range texts {
			o = append(o, schemas.Option{Label: string(rune('A' + i)), Text: t})
		}
		return o
	}
	qs := []schemas.ExamQuestion{
		{ID: "1", Question: "a", Options: opts("咳嗽", "皮疹", "多尿", "发热"), Answer: "A"},
		{ID: "2", Question: "b", Options: opts("咳嗽", "皮疹", "多尿", "发热"), Answer: "C"},
		{ID: "3", Question: "c", Options: opts("咳嗽", "皮疹"), Answer: "A"},
		{ID: "4", Question: "d", Options: opts("咳嗽", "皮疹", "多尿"), Answer: "AB"},
	}
	var cases []*examCase
	for i := range qs {
		cases = append(cases, &examCase{q: &qs[i], labels: labelsOf(&qs[i]), gold: qs[i].Answer})
	}
	ws := workspace.Dir(t.TempDir())
	// 咳嗽 in 3 documents (twice in one), 多尿 in 2, 发热 in 2, 皮疹 in none;
	// "尿" alone must not count as 多尿.
	writeRows(t, ws.StageFile(schemas.StageDCPT, "train"), []schemas.DCPTRow{
		{ID: "d1", Text: "肺炎咳嗽，咳嗽发热"},
		{ID: "d2", Text: "咳嗽多尿"},
		{ID: "d3", Text: "咳嗽。糖尿病多尿"},
		{ID: "d4", Text: "发热，尿频"},
	})
	df, docs, err := optionDocFreq(ws, cases)
	if err != nil {
		t.Fatal(err)
	}
	if docs != 4 || fmt.Sprint(df[0]) != "[3 0 2 2]" || fmt.Sprint(df[2]) != "[3 0]" {
		t.Fatalf("doc freq %v over %d docs", df, docs)
	}
	b := baselines(cases, df, docs)
	// chance: (1/4 + 1/4 + 1/2 + 1/7) / 4; cloze chance over the three
	// single-answer questions; the prior picks 咳嗽: right on 1 and 3.
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("chance", b.Chance, (0.25+0.25+0.5+1.0/7)/4)
	near("cloze chance", b.ClozeChance, (0.25+0.25+0.5)/3)
	near("freq prior", b.FreqPrior, 2.0/3)
	near("majority", b.MajorityLetter, 0.5)
	if b.MajorityAnswer != "A" || b.FreqPriorDocs != 4 || b.GoldLetters["AB"] != 1 {
		t.Errorf("baselines %+v", b)
	}

	// Without stages/dcpt/train the prior is left out, not zero.
	empty := workspace.Dir(filepath.Join(t.TempDir(), "none"))
	df, _, err = optionDocFreq(empty, cases)
	if err != nil || df != nil {
		t.Fatalf("missing train file: %v, %v", df, err)
	}
	if b := baselines(cases, nil, 0); b.FreqPrior != nil || b.Chance == nil {
		t.Errorf("without a prior: %+v", b)
	}
}
