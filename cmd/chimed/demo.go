package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/pipeline"
)

func newDemoCmd(a *app) *cobra.Command {
	var seed uint64
	var scale string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "write a self-made demo corpus with planted trouble, its chimed.yaml and demo-truth.json",
		Long: "demo writes a generated Chinese medical corpus into the workspace: every kind of raw data in\n" +
			"the shapes of public corpora (JSONL, JSON arrays, GBK CSV, TSV, text, gzip, XLSX), with broken\n" +
			"records, duplicates, PII and eval questions planted on purpose and listed in demo-truth.json.\n" +
			"--scale grows it to about that many bytes (e.g. 1GB) for benchmarks, streaming.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := demo.Options{Seed: seed}
			if scale != "" {
				n, err := humanize.ParseBytes(scale)
				if err != nil {
					return fmt.Errorf("--scale: %q is not a size (try 200MB or 1GB)", scale)
				}
				opts.ScaleBytes = int64(n)
			}
			return a.exec(cmd, false, pipeline.Demo(opts))
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", demo.DefaultSeed, "random seed; the same seed writes byte-identical files")
	cmd.Flags().StringVar(&scale, "scale", "", "grow the corpus to about this size, e.g. 1GB (default: a few MB)")
	return cmd
}
