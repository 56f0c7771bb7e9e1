package trainer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/train/metrics"

	"github.com/chimed/chimed/schemas"
)

func TestFitResponseRoom(t *testing.T) {
	ids := func(from, n int) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(from + i)
		}
		return out
	}
	for _, c := range []struct {
		name                   string
		T, prompt, resp, keep  int
		wantPrompt, wantLearnt int
	}{
		{"fits", 16, 5, 5, 4, 5, 5},
		{"long prompt loses its beginning", 16, 40, 3, 4, 14, 3},
		{"long answer cut to its room", 16, 40, 30, 4, 13, 4},
		{"short prompt leaves the answer more", 16, 3, 30, 4, 3, 14},
		{"half room is fitPromptResponse", 16, 40, 30, 17 - 17/2, 8, 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, r := ids(100, c.prompt), ids(500, c.resp)
			got, learn := fitResponseRoom(c.T, p, r, c.keep)
			if len(got) > c.T+1 {
				t.Fatalf("%d ids for T=%d", len(got), c.T)
			}
			np := slices.Index(learn, true)
			if np < 0 {
				np = len(learn)
			}
			if np != c.wantPrompt || len(got)-np != c.wantLearnt {
				t.Errorf("prompt %d, response %d ids; want %d, %d", np, len(got)-np, c.wantPrompt, c.wantLearnt)
			}
			if np > 0 && got[np-1] != p[len(p)-1] {
				t.Errorf("the prompt lost its end: %v", got[:np])
			}
			if np < len(got) && got[np] != r[0] {
				t.Errorf("the response lost its start: %v", got[np:])
			}
		})
	}
	// fitPromptResponse (SFT eval and DPO) is unchanged: the half rule.
	a, la := fitPromptResponse(16, ids(100, 40), ids(500, 30))
	b, lb := fitResponseRoom(16, ids(100, 40), ids(500, 30), 17-17/2)
	if !slices.Equal(a, b) || !slices.Equal(la, lb) {
		t.Error("fitPromptResponse changed")
	}
}

// TestAnswerFirstKeepsTheAnswer: an exam chat longer than the context
// keeps its answer letter as a target, right after the prompt's end
// ("…E. option", end, assistant marker), where sftSequences cuts it off.
func TestAnswerFirstKeepsTheAnswer(t *testing.T) {
	rows := fixtureAdapt(10)
	var texts []string
	for _, r := range rows {
		texts = append(texts, r.Messages[0].Content, r.Messages[1].Content)
	}
	tok, err := BuildTokenizer(docsOf(texts), 1, 2000)
	if err != nil {
		t.Fatal(err)
	}
	const T = 48
	chats := func(yield func([]schemas.Turn, error) bool) {
		for _, r := range rows {
			if !yield(r.Messages, nil) {
				return
			}
		}
	}
	n := 0
	for s, err := range answerFirstSequences(tok, T, chats) {
		if err != nil {
			t.Fatal(err)
		}
		r := rows[n]
		first := slices.Index(s.weights, 1)
		if first < 1 || s.tokens[first] != AssistantID {
			t.Fatalf("row %d: the first target does not follow the assistant marker", n)
		}
		want := tok.Encode(r.Messages[1].Content)
		for i := range 4 { // 答 案 ： X
			if s.targets[first+i] != want[i] {
				t.Fatalf("row %d: target %d is %d, want %d", n, i, s.targets[first+i], want[i])
			}
		}
		n++
	}
	if n != len(rows) {
		t.Errorf("%d sequences of %d chats", n, len(rows))
	}
	cut, err := count(sftSequences(tok, T, chats))
	if err != nil {
		t.Fatal(err)
	}
	if cut != 0 { // the reason for answer-first: head-first fitting loses every answer here
		t.Errorf("sftSequences kept %d of %d chats longer than the context", cut, len(rows))
	}
}

func TestMetricsLineByName(t *testing.T) {
	m := func(short string) metrics.Interface {
		return metrics.NewBaseMetric(short, short, "test", nil, nil)
	}
	ms := []metrics.Interface{m("loss+"), m("~loss+"), m("~loss"), m("rewards/margins"), m("sft_loss")}
	out := []*tensors.Tensor{tensors.FromValue(float32(2)), tensors.FromValue(float32(3)), tensors.FromValue(float32(9)),
		tensors.FromValue(float32(0.5)), tensors.FromValue(float32(1.5))}
	l := metricsLine(ms, out)
	if l.Loss != 2 || l.LossAvg != 3 || l.RewardsMargins == nil || *l.RewardsMargins != 0.5 || l.SFTLoss == nil || *l.SFTLoss != 1.5 {
		t.Errorf("line %+v", l)
	}
	if l.RewardsChosen != nil {
		t.Error("a metric not logged was set")
	}
}

func TestObjectiveMustFitShape(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	for _, c := range []struct {
		name string
		spec schemas.StageSpec
		err  string
	}{
		{"lm over pairs", schemas.StageSpec{Name: "dpo", Shape: schemas.ShapePair, Objective: schemas.ObjectiveLM}, "no \"lm\" objective"},
		{"preference over chats", schemas.StageSpec{Name: "sft", Shape: schemas.ShapeChat, Objective: schemas.ObjectivePreference}, "no \"preference\" objective"},
		{"unknown shape", schemas.StageSpec{Name: "sft", Shape: "tree", Objective: schemas.ObjectiveLM}, "\"tree\""},
		{"no rows", schemas.StageSpec{Name: "empty", Shape: schemas.ShapeChat, Objective: schemas.ObjectiveLM}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.spec.Name == "empty" {
				writeStage(t, ws.StageFile("empty", "train"), []schemas.SFTRow{})
			}
			tok, err := BuildTokenizer(docsOf([]string{"问答"}), 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := newObjective(ws, cfg, c.spec, tok, archFor("tiny", tok.Size()), nil)
			if err == nil {
				obj.close()
				t.Fatal("no error")
			}
			if c.err == "" && !errors.Is(err, ErrNoData) {
				t.Errorf("err = %v, want ErrNoData", err)
			}
			if c.err != "" && !strings.Contains(err.Error(), c.err) {
				t.Errorf("err = %v, want %q", err, c.err)
			}
		})
	}
}
