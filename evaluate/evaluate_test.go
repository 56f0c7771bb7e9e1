package evaluate

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

// oracleLM is a bigram model whose Generate answers from a table, so tests
// can check the generation metrics against known texts.
type oracleLM struct {
	*bigramLM
	answers map[string]string
}

func (m *oracleLM) Generate(prompts []string, maxTokens int) ([]string, error) {
	out := make([]string, len(prompts))
	for i, p := range prompts {
		out[i] = m.answers[p]
	}
	return out, nil
}

// fixture is a tiny workspace with every input eval reads.
type fixture struct {
	ws    workspace.Dir
	valid []schemas.DCPTRow
	exam  []schemas.ExamQuestion
	qa    []schemas.EvalQA
	pref  []schemas.DPORow
}

func writeRows[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.WriteFile(path, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ws: workspace.Dir(t.TempDir())}
	for i, s := range []string{
		"糖尿病是一种以高血糖为特征的代谢性疾病。",
		"高血压患者应低盐饮食，规律服用降压药物。",
		"肺炎常见症状有发热、咳嗽、咳痰。",
		"糖尿病患者应控制饮食，监测血糖。",
	} {
		f.valid = append(f.valid, schemas.DCPTRow{ID: fmt.Sprintf("v%d", i), Source: "t", Kind: "text", Text: s})
	}
	opts := []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}, {Label: "D", Text: "皮疹"}}
	for i, q := range []struct{ q, a string }{
		{"肺炎的常见症状是", "B"},
		{"支气管炎的主要症状是", "B"},
		{"上呼吸道感染常见", "B"},
		{"糖尿病的症状有", "AC"},
	} {
		f.exam = append(f.exam, schemas.ExamQuestion{ID: fmt.Sprintf("e%d", i), Source: "exam", Question: q.q, Options: opts, Answer: q.a})
	}
	for i, q := range []struct{ q, a string }{
		{"糖尿病有什么症状？", "糖尿病的典型症状是多饮、多尿、多食和体重下降。"},
		{"高血压怎么办？", "高血压患者应低盐饮食并规律服药。"},
		{"咳嗽发热是什么病？", "可能是肺炎，建议就医检查。"},
	} {
		f.qa = append(f.qa, schemas.EvalQA{ID: fmt.Sprintf("q%d", i), Source: "qa", Question: q.q, Answer: q.a})
	}
	for i, p := range []struct{ p, c, r string }{
		{"口渴多尿怎么办？", "应检查血糖，排除糖尿病。", "多喝水就好了，不用管。"},
		{"血压高要注意什么？", "应低盐饮食，规律服用降压药。", "随便吃，不用管。"},
		{"咳嗽一周不好？", "应就医检查，排除肺炎。", "忍一忍就好了，不用管。"},
	} {
		f.pref = append(f.pref, schemas.DPORow{ID: fmt.Sprintf("p%d", i), Source: "pref", Kind: "preference", Prompt: p.p, Chosen: p.c, Rejected: p.r})
	}
	writeRows(t, f.ws.StageFile(schemas.StageDCPT, "valid"), f.valid)
	writeRows(t, f.ws.EvalFile("exam"), f.exam)
	writeRows(t, f.ws.EvalFile("qa"), f.qa)
	writeRows(t, f.ws.StageFile(schemas.StageDPO, "test"), f.pref)
	writeRows(t, filepath.Join(f.ws.Clean(schemas.KindText), "part-00000.parquet"), []schemas.Text{
		{ID: "t0", Source: "t", Title: "肺炎", Text: "肺炎常见症状有发热、咳嗽、咳痰，严重者出现呼吸困难。"},
	})
	writeRows(t, filepath.Join(f.ws.Clean(schemas.KindKG), "part-00000.parquet"), []schemas.Triple{
		{ID: "k0", Source: "kg", Head: "糖尿病", Relation: "症状", Tail: "多饮"},
		{ID: "k1", Source: "kg", Head: "糖尿病", Relation: "症状", Tail: "多尿"},
	})
	return f
}

// model trains a bigram model on the fixture as a model that learned the
// right answers (good) or the wrong ones would have seen it.
func (f *fixture) model(good bool) *oracleLM {
	tmpl := newBigram()
	var texts []string
	answers := map[string]string{}
	if good {
		for _, r := range f.valid {
			texts = append(texts, r.Text)
		}
	} else {
		texts = append(texts, "今天天气很好，我们去公园散步吧。", "股票市场今日上涨。")
	}
	for _, q := range f.exam {
		ans := q.Answer
		if !good {
			ans = "D"
		}
		texts = append(texts, examTrainingText(tmpl, &q, ans))
		answers[tmpl.ChatPrompt(userTurn(ExamBlock(&q, nil)))] = answerLead + ans
		for _, o := range q.Options {
			verdict := "错误"
			if strings.Contains(ans, o.Label) {
				verdict = "正确"
			}
			texts = append(texts, "选项"+o.Label+verdict)
		}
	}
	for _, q := range f.qa {
		if good {
			answers[tmpl.ChatPrompt(userTurn(q.Question))] = q.Answer
		} else {
			answers[tmpl.ChatPrompt(userTurn(q.Question))] = "我不知道。"
		}
	}
	for _, p := range f.pref {
		resp := p.Chosen
		if !good {
			resp = p.Rejected
		}
		texts = append(texts, tmpl.ChatPrompt(userTurn(p.Prompt))+resp)
	}
	return &oracleLM{newBigram(texts...), answers}
}

func TestEvaluateModelGoodBeatsBad(t *testing.T) {
	needJieba(t)
	f := newFixture(t)
	d, err := LoadData(f.ws, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PPLTexts) != 4 || len(d.Exam) != 4 || len(d.QA) != 3 || len(d.Pref) != 3 || d.Passages != 2 {
		t.Fatalf("loaded %d/%d/%d/%d items and %d passages", len(d.PPLTexts), len(d.Exam), len(d.QA), len(d.Pref), d.Passages)
	}
	good, err := EvaluateModel(f.model(true), d, Options{Seed: 1, Batch: 5})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := EvaluateModel(f.model(false), d, Options{Seed: 1, Batch: 5})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		good, bad float64
		wantGood  float64 // exact where the fixture pins it; -1 = only compare
	}{
		{"ppl (lower)", -*good.PPL, -*bad.PPL, -1},
		{"exam_acc_stated", *good.ExamAccStated, *bad.ExamAccStated, 1}, // bigram: 咳嗽 then "B" after "（"; "A" then "C" after "答案："
		{"exam_acc", *good.ExamAcc, *bad.ExamAcc, 0.25},                 // the label alone: only the multiple-choice "AC" is read right
		{"exam_acc_rag", *good.ExamAccRAG, *bad.ExamAccRAG, 1},
		{"exam_acc_gen", *good.ExamAccGen, *bad.ExamAccGen, 1},
		{"exam_acc_voc", *good.ExamAccVoC, *bad.ExamAccVoC, -1},
		{"bleu1", *good.BLEU1, *bad.BLEU1, 1},
		{"rouge1", *good.Rouge1, *bad.Rouge1, 1},
		{"rougeL", *good.RougeL, *bad.RougeL, 1},
		{"pref_acc", *good.PrefAcc, *bad.PrefAcc, 1},
	}
	for _, c := range checks {
		if !(c.good > c.bad) {
			t.Errorf("%s: good model %.4f does not beat bad model %.4f", c.name, c.good, c.bad)
		}
		if c.wantGood >= 0 && c.good != c.wantGood {
			t.Errorf("%s: good model %.4f, want %.4f", c.name, c.good, c.wantGood)
		}
	}
	// A bigram model sees only the prompt's last character, so cloze tells
	// options apart by their own text alone: the good model has read 咳嗽 in
	// its documents, so raw sums pick it on the three single-answer questions.
	if got := good.ExamAccClozeBy[ClozeRaw]; got != 1 || good.ExamAccCloze == nil {
		t.Errorf("good model: cloze raw %v (headline %v), want 1", got, good.ExamAccCloze)
	}
	if *bad.ExamAcc != 0 || *bad.PrefAcc != 0 {
		t.Errorf("bad model: exam_acc %v pref_acc %v, want 0", *bad.ExamAcc, *bad.PrefAcc)
	}
	if good.N != (Counts{PPLDocs: 4, PPLTokens: good.N.PPLTokens, Exam: 4, ExamMulti: 1, ExamRAG: 4, ExamCloze: 3, QA: 3, Pref: 3}) {
		t.Errorf("counts %+v", good.N)
	}
	for _, key := range []string{"ppl", "exam_acc", "exam_acc_rag", "bleu1", "rouge1", "pref_acc"} {
		if _, ok := good.CI[key]; !ok {
			t.Errorf("no interval for %s", key)
		}
	}
	if ci := good.CI["ppl"]; !(ci.Lo <= *good.PPL && *good.PPL <= ci.Hi) {
		t.Errorf("ppl %v outside its interval %v", *good.PPL, ci)
	}
}

func TestRunReportsGolden(t *testing.T) {
	needJieba(t)
	f := newFixture(t)
	load := func(row string) (Model, error) {
		switch row {
		case RowInit:
			return f.model(false), nil
		case RowSFT:
			return nil, fmt.Errorf("runs/sft: %w", ErrNoRun)
		}
		return f.model(true), nil
	}
	rep, err := Run(f.ws, []string{RowInit, RowDCPT, RowSFT, RowDPO}, load, Options{Seed: 3, MaxN: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stages) != 3 || rep.Skipped[RowSFT] == "" {
		t.Fatalf("stages %v skipped %v", rep.Stages, rep.Skipped)
	}
	if err := WriteReports(f.ws, rep); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(f.ws.Report("eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Stages map[string]map[string]any `json:"stages"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ppl", "exam_acc", "exam_acc_rag", "bleu1", "rouge1", "pref_acc", "n"} {
		if _, ok := back.Stages["dcpt"][key]; !ok {
			t.Errorf("eval.json stages.dcpt has no %q", key)
		}
	}
	if n := back.Stages["dcpt"]["n"].(map[string]any)["exam"]; n != 3.0 {
		t.Errorf("--max-n 3 scored %v exam questions", n)
	}
	// Wall time, which varies between runs, is in eval-timing.json alone.
	for _, key := range []string{"seconds", "phase_seconds"} {
		if _, ok := back.Stages["dcpt"][key]; ok {
			t.Errorf("eval.json stages.dcpt has %q", key)
		}
	}
	var timing struct {
		Stages map[string]StageTiming `json:"stages"`
	}
	readJSONFile(t, f.ws.Report("eval-timing.json"), &timing)
	if got := timing.Stages["dcpt"]; len(got.PhaseSeconds) == 0 || got.Seconds != rep.Stages["dcpt"].Seconds {
		t.Errorf("eval-timing.json stages.dcpt = %+v, want the run's %v s by phase", got, rep.Stages["dcpt"].Seconds)
	}
	md, err := os.ReadFile(f.ws.Report("eval.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "eval.md")
	if *update {
		if err := os.WriteFile(golden, md, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(md) != strings.ReplaceAll(string(want), "\r\n", "\n") {
		t.Errorf("eval.md differs from %s (run with -update and review the diff):\n%s", golden, md)
	}
}

func TestRunErrors(t *testing.T) {
	f := newFixture(t)
	if _, err := Run(f.ws, []string{"sft2"}, nil, Options{}); err == nil || !strings.Contains(err.Error(), "sft2") {
		t.Errorf("unknown stage: %v", err)
	}
	broken := errors.New("checkpoint truncated")
	needJieba(t)
	_, err := Run(f.ws, []string{RowDCPT}, func(string) (Model, error) { return nil, broken }, Options{})
	if !errors.Is(err, broken) {
		t.Errorf("a loader failure became %v", err)
	}
	// A corrupt input names its file.
	if err := os.WriteFile(f.ws.EvalFile("qa"), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadData(f.ws, Options{})
	if err == nil || !strings.Contains(err.Error(), "qa.parquet") {
		t.Errorf("corrupt qa.parquet: %v", err)
	}
}

func TestLoadDataMissingInputs(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	d, err := LoadData(ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Notes) != 4 {
		t.Errorf("notes %q, want one per missing file", d.Notes)
	}
	r, err := EvaluateModel(newBigram("x"), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.PPL != nil || r.ExamAcc != nil || r.Rouge1 != nil || r.PrefAcc != nil {
		t.Errorf("metrics without inputs: %+v", r)
	}
	js, err := json.Marshal(&Report{Stages: map[string]*StageResult{"init": r}})
	if err != nil || !strings.Contains(string(js), `"ppl":null`) {
		t.Errorf("missing metrics must be null in eval.json: %s %v", js, err)
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
