package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newTrainCmd(a *app) *cobra.Command {
	var (
		stage  string
		resume bool
		bench  int
		torch  float64
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "train the model: DCPT → SFT → DPO, adapt on stages/ → runs/<stage>/",
		Long: "train runs one stage (or all in order): DCPT from random weights on\n" +
			"stages/dcpt/train, SFT from the DCPT run on stages/sft/train (loss on assistant\n" +
			"tokens only), DPO from the SFT run on stages/dpo/train (+ negatives.parquet from\n" +
			"`chimed dpo-negatives`), adapt from the SFT run on stages/adapt/train (exam\n" +
			"questions; skipped by --stage all when there are none). Each run writes runs/<stage>/ checkpoints, tokenizer.json,\n" +
			"model.json and metrics.jsonl. --resume continues a killed run from its last\n" +
			"checkpoint with the same data order. --bench N times N DCPT steps of the ref\n" +
			"preset and prints tokens/s, and the ratio to --torch-tokens-per-sec when given\n" +
			"(task bench-train measures bench/torch_ref.py first and passes its figure).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if bench > 0 {
				return a.exec(cmd, force, pipeline.TrainBench(bench, torch))
			}
			steps, err := pipeline.TrainStages(stage, resume)
			if err != nil {
				return err
			}
			return a.exec(cmd, force, steps...)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "all", pipeline.StageNames()+" or all")
	cmd.Flags().BoolVar(&resume, "resume", false, "continue from the last checkpoint instead of starting over")
	cmd.Flags().IntVar(&bench, "bench", 0, "time this many DCPT steps of the ref preset on random tokens (writes nothing) and print tokens/s")
	cmd.Flags().Float64Var(&torch, "torch-tokens-per-sec", 0, "with --bench: the same model's tokens/s in PyTorch measured on this machine, to print the ratio to")
	forceFlag(cmd, &force)
	return cmd
}
