package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/pipeline"
)

func newCleanCmd(a *app) *cobra.Command {
	var o pipeline.CleanOptions
	var force bool
	var shard string
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "normalized/ → clean/: normalise, mask PII, filter, dedup, decontaminate",
		Long: `clean normalises every normalized row (HTML, invisible characters, width, NFC,
whitespace, wrappers, sign-offs), masks PII, applies the quality filters, removes
exact and near duplicates and rows that overlap the eval sets, and writes
clean/<kind>/*.parquet, removed/*.parquet (each row with its reason) and
reports/clean.json. chimed.yaml's clean: section chooses the steps.

A sharded clean is four phases, each task on its own (chimed plan writes them):
--shard i/n (scan: pass 1 over task i's share of normalized/ into the shuffle
folder; also from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or
JOB_COMPLETION_INDEX with CHIMED_SHARDS), --dedup (exact and near dedup over
every task's files), --filter --shard i/n (the clean/ and removed/ parts of
task i's sources) and --merge (reports/clean.json). The files are the bytes
one process writes; a relaunched task that finished is skipped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if shard != "" {
				sh, err := ingest.ParseShard(shard)
				if err != nil {
					return err
				}
				o.Shard = sh
			}
			env := pipeline.Env{Workspace: a.dir(), Log: a.log, Quiet: a.quiet, Out: cmd.OutOrStdout(), Version: version, Memory: a.memory}
			return pipeline.RunClean(cmd.Context(), env, o, force)
		},
	}
	cmd.Flags().StringVar(&shard, "shard", "", "sharded clean: scan (or with --filter, filter) only task i of n (i/n, 0-based)")
	cmd.Flags().BoolVar(&o.Dedup, "dedup", false, "sharded clean: exact and near dedup over every scan task's shuffle files")
	cmd.Flags().BoolVar(&o.Filter, "filter", false, "sharded clean: with --shard i/n, write the clean/ and removed/ parts of task i's sources")
	cmd.Flags().BoolVar(&o.Merge, "merge", false, "end a sharded clean: add up every task's counts into reports/clean.json")
	cmd.Flags().BoolVar(&o.NoNearDedup, "no-near-dedup", false, "skip MinHash near-dedup (overrides clean.near_dedup.enabled)")
	cmd.Flags().IntVar(&o.Workers, "workers", 0, "worker goroutines (default: clean.workers or GOMAXPROCS)")
	forceFlag(cmd, &force)
	return cmd
}
