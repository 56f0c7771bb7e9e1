package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newEvalCmd(a *app) *cobra.Command {
	var (
		stages string
		force  bool
	)
	o := pipeline.EvalDefaults()
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
			o.Rows = evalStageList(stages)
			return a.exec(cmd, force, pipeline.Eval(o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&stages, "stages", strings.Join(o.Rows, ","), "rows to evaluate, in order")
	f.IntVar(&o.Options.MaxN, "max-n", o.Options.MaxN, "score a deterministic sample of at most N rows of each set (-1: all)")
	f.IntVar(&o.Options.Batch, "batch", o.Options.Batch, "sequences per model call")
	f.IntVar(&o.Options.QATokens, "qa-tokens", o.Options.QATokens, "longest generated open-QA answer, in tokens")
	f.IntVar(&o.Options.RAGTopK, "rag-k", o.Options.RAGTopK, "passages prepended in the RAG exam variant (-1: no RAG)")
	forceFlag(cmd, &force)
	return cmd
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
