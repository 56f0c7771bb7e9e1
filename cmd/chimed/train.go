package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/trainer"
)

func newTrainCmd(a *app) *cobra.Command {
	var (
		stage  string
		resume bool
		bench  int
		torch  float64
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
			cfg, err := a.config()
			if err != nil {
				return err
			}
			tc := cfg.Train
			if bench > 0 {
				res, err := trainer.Bench(a.dir(), tc, bench, a.log)
				if err != nil {
					return err
				}
				res.PyTorchTokensSec = torch
				fmt.Println(res)
				return nil
			}
			todo := schemas.Stages
			if stage != "all" {
				if _, ok := schemas.Spec(schemas.Stage(stage)); !ok {
					return fmt.Errorf("--stage %q: want one of %s or all", stage, stageNames())
				}
				todo = []schemas.Stage{schemas.Stage(stage)}
			}
			if err := a.dir().Require("build-stages", "stages/manifest.json", "stages/"+string(todo[0])+"/train.parquet"); err != nil {
				return err
			}
			if sp, _ := schemas.Spec(todo[0]); sp.Parent != "" && !resume {
				if err := a.dir().Require("train --stage "+string(sp.Parent), "runs/"+string(sp.Parent)+"/model.json"); err != nil {
					return err
				}
			}
			for _, st := range todo {
				res, err := trainer.Train(a.dir(), tc, st, trainer.Options{Resume: resume, Log: a.log, Bars: a.bars()})
				if sp, _ := schemas.Spec(st); errors.Is(err, trainer.ErrNoData) && sp.Optional && len(todo) > 1 {
					a.log.Warn("optional stage skipped", "stage", st, "why", err)
					continue
				}
				if err != nil {
					return err
				}
				a.log.Info("trained", "stage", st, "steps", res.Steps, "loss", fmt.Sprintf("%.4f", res.Loss),
					"tokens/s", fmt.Sprintf("%.0f", res.TokensSec), "run", a.dir().Runs(st))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "all", stageNames()+" or all")
	cmd.Flags().BoolVar(&resume, "resume", false, "continue from the last checkpoint instead of starting over")
	cmd.Flags().IntVar(&bench, "bench", 0, "time this many DCPT steps of the ref preset on random tokens (writes nothing) and print tokens/s")
	cmd.Flags().Float64Var(&torch, "torch-tokens-per-sec", 0, "with --bench: the same model's tokens/s in PyTorch measured on this machine, to print the ratio to")
	return cmd
}

// stageNames lists the stage table's names for flag help and errors.
func stageNames() string {
	names := make([]string, len(schemas.Stages))
	for i, st := range schemas.Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}
