package evaluate_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chimed/chimed/evaluate"
	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/trainer"
)

func write[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.WriteFile(path, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
}

// sized passes the model's context to evaluation, as chimed eval does.
type sized struct{ *trainer.Model }

func (m sized) ContextTokens() int { return m.Info.Arch.Context }

func (m sized) CountTokens(s string) int { return len(m.Tok.Encode(s)) }

// TestWithTrainerModel wires evaluation to the real gomlx model: the
// untrained `tiny` model of trainer.InitModel on tiny stage files. An
// untrained model predicts nearly uniformly, so its perplexity must sit near
// its vocabulary size; a stage without a run is skipped.
func TestWithTrainerModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a gomlx model")
	}
	if _, err := segment.Jieba(); err != nil {
		t.Skipf("gojieba dictionaries unavailable: %v", err)
	}
	ws := workspace.Dir(t.TempDir())
	facts := []string{"高血压的典型表现为头晕、头痛。", "糖尿病的典型表现为多饮、多尿。", "肺炎的典型表现为发热、咳嗽。", "痛风的典型表现为关节红肿疼痛。"}
	var dcpt []schemas.DCPTRow
	for i := range 12 {
		dcpt = append(dcpt, schemas.DCPTRow{ID: fmt.Sprint("d", i), Source: "f", Kind: "text", Text: facts[i%len(facts)]})
	}
	write(t, ws.StageFile(schemas.StageDCPT, "train"), dcpt)
	write(t, ws.StageFile(schemas.StageDCPT, "valid"), dcpt[:4])
	write(t, ws.EvalFile("exam"), []schemas.ExamQuestion{
		{ID: "e0", Question: "糖尿病的典型表现为", Answer: "B", Options: []schemas.Option{{Label: "A", Text: "咳嗽"}, {Label: "B", Text: "多尿"}}},
		{ID: "e1", Question: "肺炎的典型表现为", Answer: "AB", Options: []schemas.Option{{Label: "A", Text: "发热"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}}},
	})
	write(t, ws.EvalFile("qa"), []schemas.EvalQA{{ID: "q0", Question: "高血压有什么表现？", Answer: "头晕、头痛。"}})
	write(t, ws.StageFile(schemas.StageDPO, "test"), []schemas.DPORow{{ID: "p0", Prompt: "痛风有什么表现？", Chosen: "关节红肿疼痛。", Rejected: "不知道。"}})
	write(t, filepath.Join(ws.Clean(schemas.KindText), "part-00000.parquet"), []schemas.Text{{ID: "t0", Text: facts[1]}})

	var vocab int
	load := func(row string) (evaluate.Model, error) {
		if row != evaluate.RowInit {
			m, err := trainer.LoadModel(ws.Runs(schemas.Stage(row)))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", evaluate.ErrNoRun, err)
			}
			return m, nil
		}
		m, err := trainer.InitModel(ws, trainer.Config{Preset: "tiny", Seed: 1})
		if err != nil {
			return nil, err
		}
		vocab = m.Info.Arch.Vocab
		return sized{m}, nil
	}
	rep, err := evaluate.Run(ws, []string{evaluate.RowInit, evaluate.RowDCPT}, load, evaluate.Options{Seed: 1, QATokens: 8, ExamTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped[evaluate.RowDCPT] == "" {
		t.Errorf("dcpt has no run but was not skipped: %+v", rep.Skipped)
	}
	r := rep.Stages[evaluate.RowInit]
	if r == nil {
		t.Fatal("no init row")
	}
	if ppl := *r.PPL; math.IsNaN(ppl) || ppl < float64(vocab)/4 || ppl > float64(vocab)*4 {
		t.Errorf("untrained perplexity %.1f is not near the vocabulary size %d", ppl, vocab)
	}
	for name, v := range map[string]*float64{"exam_acc": r.ExamAcc, "exam_acc_rag": r.ExamAccRAG, "exam_acc_gen": r.ExamAccGen,
		"exam_acc_voc": r.ExamAccVoC, "bleu1": r.BLEU1, "rouge1": r.Rouge1, "pref_acc": r.PrefAcc} {
		if v == nil || *v < 0 || *v > 1 {
			t.Errorf("%s = %v, want a fraction", name, v)
		}
	}
	if r.N.Exam != 2 || r.N.ExamMulti != 1 || r.N.QA != 1 || r.N.Pref != 1 || r.N.PPLDocs != 4 {
		t.Errorf("counts %+v", r.N)
	}
	t.Logf("init row on the tiny model (vocab %d): ppl %.1f in %.1fs", vocab, *r.PPL, r.Seconds)
}
