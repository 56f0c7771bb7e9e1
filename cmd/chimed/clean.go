package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newCleanCmd(a *app) *cobra.Command {
	var o pipeline.CleanOptions
	var force bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "normalized/ → clean/: normalise, mask PII, filter, dedup, decontaminate",
		Long: `clean normalises every normalized row (HTML, invisible characters, width, NFC,
whitespace, wrappers, sign-offs), masks PII, applies the quality filters, removes
exact and near duplicates and rows that overlap the eval sets, and writes
clean/<kind>/*.parquet, removed/*.parquet (each row with its reason) and
reports/clean.json. chimed.yaml's clean: section chooses the steps.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.exec(cmd, force, pipeline.Clean(o))
		},
	}
	cmd.Flags().BoolVar(&o.NoNearDedup, "no-near-dedup", false, "skip MinHash near-dedup (overrides clean.near_dedup.enabled)")
	cmd.Flags().IntVar(&o.Workers, "workers", 0, "worker goroutines (default: clean.workers or GOMAXPROCS)")
	forceFlag(cmd, &force)
	return cmd
}
