package trainer

import (
	"errors"
	"iter"
	"log/slog"
	"os"
	"strings"

	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// NegativesSplit is the DPO stage file that holds model-generated pairs:
// stages/dpo/negatives.parquet, read by DPO training next to train.parquet.
const NegativesSplit = "negatives"

// readPairRows streams a preference stage's training pairs: its
// train.parquet and, when `chimed dpo-negatives` wrote one, its
// negatives.parquet.
func readPairRows(ws workspace.Dir, stage schemas.Stage) iter.Seq2[schemas.DPORow, error] {
	return func(yield func(schemas.DPORow, error) bool) {
		for _, split := range []string{"train", NegativesSplit} {
			path := ws.StageFile(stage, split)
			if _, err := os.Stat(path); split == NegativesSplit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			for r, err := range schemas.ReadFile[schemas.DPORow](path) {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

// NegativesResult counts what DPONegatives did.
type NegativesResult struct {
	Prompts int    // single-turn QA/exam prompts sampled
	Written int    // pairs written
	Same    int    // samples identical to the gold answer (no pair)
	Path    string // the file written
}

// DPONegatives builds DPO pairs the Qilin-Med way: the SFT model answers the
// single-turn QA and exam prompts of stages/sft/train, and each gold answer
// becomes "chosen" against the model's own sample as "rejected". It writes
// stages/dpo/negatives.parquet.
func DPONegatives(ws workspace.Dir, cfg Config, log *slog.Logger, bars *progress.Bars) (*NegativesResult, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := LoadModel(ws.Runs(schemas.StageSFT))
	if err != nil {
		return nil, err
	}
	m.Sampling = cfg.Negatives.Sampling

	type gold struct {
		row            schemas.SFTRow
		prompt, answer string
	}
	var golds []gold
	path := ws.StageFile(schemas.StageSFT, "train")
	for r, err := range schemas.ReadFile[schemas.SFTRow](path) {
		if err != nil {
			return nil, err
		}
		if r.Kind != string(schemas.KindQA) && r.Kind != string(schemas.KindExam) {
			continue
		}
		p, a, ok := singleTurn(r.Messages)
		if !ok {
			continue
		}
		golds = append(golds, gold{r, p, a})
		if cfg.Negatives.MaxPairs > 0 && len(golds) == cfg.Negatives.MaxPairs {
			break
		}
	}
	if len(golds) == 0 {
		return nil, errNoData("dpo-negatives", path+" (no single-turn qa/exam rows)")
	}
	res := &NegativesResult{Prompts: len(golds), Path: ws.StageFile(schemas.StageDPO, NegativesSplit)}
	var rows []schemas.DPORow
	bar := bars.Start("dpo-negatives", int64(len(golds)), false).Unit("prompts")
	defer bar.Finish()
	for start := 0; start < len(golds); start += m.batch {
		group := golds[start:min(start+m.batch, len(golds))]
		prompts := make([]string, len(group))
		for i, g := range group {
			prompts[i] = ChatPrompt([]schemas.Turn{{Role: schemas.RoleUser, Content: g.prompt}})
		}
		samples, err := m.Generate(prompts, cfg.Negatives.Sampling.MaxTokens)
		if err != nil {
			return nil, err
		}
		for i, g := range group {
			s := strings.TrimSpace(samples[i])
			if s == "" || s == strings.TrimSpace(g.answer) {
				res.Same++
				continue
			}
			rows = append(rows, schemas.DPORow{
				ID: schemas.StableID("dpo-negative", g.row.ID), Source: g.row.Source, Kind: g.row.Kind,
				Prompt: g.prompt, Chosen: g.answer, Rejected: s,
			})
		}
		bar.Add(int64(len(group)))
	}
	n, err := schemas.WriteFile(res.Path, func(yield func(schemas.DPORow) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	res.Written = int(n)
	log.Info("dpo-negatives", "prompts", res.Prompts, "written", res.Written, "same_as_gold", res.Same, "file", res.Path)
	return res, nil
}

// singleTurn is the user prompt and assistant answer of a one-question chat
// (an optional system turn first is dropped, as DPO prompts are rendered
// without one).
func singleTurn(ms []schemas.Turn) (prompt, answer string, ok bool) {
	if len(ms) > 0 && ms[0].Role == schemas.RoleSystem {
		ms = ms[1:]
	}
	if len(ms) != 2 || ms[0].Role != schemas.RoleUser || ms[1].Role != schemas.RoleAssistant {
		return "", "", false
	}
	return ms[0].Content, ms[1].Content, true
}
