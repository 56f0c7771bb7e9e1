package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newDPONegativesCmd(a *app) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "dpo-negatives",
		Short: "sample the SFT model on QA/exam training prompts → stages/dpo/negatives.parquet",
		Long: "dpo-negatives builds DPO pairs the way Qilin-Med did: the SFT model (runs/sft)\n" +
			"answers the single-turn QA and exam prompts of stages/sft/train, and each gold\n" +
			"answer is paired as chosen against the model's sample as rejected. The pairs go\n" +
			"to stages/dpo/negatives.parquet, which `chimed train --stage dpo` reads next to\n" +
			"stages/dpo/train.parquet. Sampling is set by train.dpo_negatives in chimed.yaml.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.exec(cmd, force, pipeline.DPONegatives())
		},
	}
	forceFlag(c, &force)
	return c
}
