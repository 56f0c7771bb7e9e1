package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/evaluate"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/trainer"
)

func newEvalCmd(a *app) *cobra.Command {
	var (
		stages string
		opts   evaluate.Options
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "score each stage's model (init, DCPT, SFT, DPO, adapt) → reports/eval.json, reports/eval.md",
		Long: "eval loads the model of each requested stage from runs/<stage>/ (init is the untrained\n" +
			"model DCPT starts from), scores it on the held-out sets — perplexity on stages/dcpt/valid,\n" +
			"exam accuracy on stages/eval/exam (option likelihood, RAG, generated answer,\n" +
			"verification of choice), BLEU/ROUGE on stages/eval/qa, preference accuracy on\n" +
			"stages/dpo/test — and writes reports/eval.json and reports/eval.md. A stage without\n" +
			"a run is skipped with a note.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			ws := a.dir()
			if err := ws.Require("build-stages", "stages/manifest.json"); err != nil {
				return err
			}
			opts.Seed = cfg.Seed
			opts.Bars = a.bars()
			opts.Log = a.log
			load := func(row string) (evaluate.Model, error) {
				var m *trainer.Model
				var err error
				if row == evaluate.RowInit {
					m, err = trainer.InitModel(ws, cfg.Train)
				} else {
					m, err = trainer.LoadModel(ws.Runs(schemas.Stage(row)))
				}
				if errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("%w: %w", evaluate.ErrNoRun, err)
				}
				if err != nil {
					return nil, err
				}
				return sizedModel{m}, nil
			}
			rep, err := evaluate.Run(ws, evalStageList(stages), load, opts)
			if err != nil {
				return err
			}
			if err := evaluate.WriteReports(ws, rep); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), rep.Table())
			for row, why := range rep.Skipped {
				a.log.Warn("stage skipped", "stage", row, "why", why)
			}
			a.log.Info("eval: wrote reports", "json", ws.Report("eval.json"), "md", ws.Report("eval.md"))
			return noTrainedRow(evalStageList(stages), rep.Skipped)
		},
	}
	f := cmd.Flags()
	f.StringVar(&stages, "stages", strings.Join(evaluate.Rows(), ","), "rows to evaluate, in order")
	f.IntVar(&opts.MaxN, "max-n", evaluate.DefaultMaxN, "score a deterministic sample of at most N rows of each set (-1: all)")
	f.IntVar(&opts.Batch, "batch", evaluate.DefaultBatch, "sequences per model call")
	f.IntVar(&opts.QATokens, "qa-tokens", evaluate.DefaultQATokens, "longest generated open-QA answer, in tokens")
	f.IntVar(&opts.RAGTopK, "rag-k", evaluate.DefaultRAGTopK, "passages prepended in the RAG exam variant (-1: no RAG)")
	return cmd
}

// sizedModel tells evaluation the trainer model's context length
// and token counts (evaluate.ContextWindow), so RAG passages are cut to fit
// beside the prompt.
type sizedModel struct{ *trainer.Model }

func (m sizedModel) ContextTokens() int { return m.Info.Arch.Context }

func (m sizedModel) CountTokens(s string) int { return len(m.Tok.Encode(s)) }

// noTrainedRow is the error of an eval that asked for trained stages and
// found none of their runs: a workspace where `chimed train` has not run.
// One trained stage is enough (train --stage dcpt, then eval, is a normal
// way to work); the others are skipped with a warning and a note.
func noTrainedRow(rows []string, skipped map[string]string) error {
	var asked, missing []string
	for _, row := range rows {
		if row == evaluate.RowInit {
			continue
		}
		asked = append(asked, row)
		if _, ok := skipped[row]; ok {
			missing = append(missing, "runs/"+row)
		}
	}
	if len(asked) == 0 || len(missing) < len(asked) {
		return nil
	}
	return fmt.Errorf("no trained model to evaluate: %s missing (run `chimed train` first, or pass --stages init)", strings.Join(missing, ", "))
}

// evalStageList parses a comma-separated flag value.
func evalStageList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
