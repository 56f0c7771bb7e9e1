package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/pipeline"
)

func newIngestCmd(a *app) *cobra.Command {
	var o pipeline.IngestOptions
	var force bool
	var shard string
	c := &cobra.Command{
		Use:   "ingest",
		Short: "raw sources of chimed.yaml → normalized/<kind>/, quarantine/, reports/ingest.json",
		Long: "ingest reads every source named in chimed.yaml (or only those given with --source),\n" +
			"maps each raw record to its canonical kind and writes normalized/<kind>/<source>-NNNNN.parquet;\n" +
			"records it cannot read or map go to quarantine/<source>-NNNNN.parquet with the file, place and\n" +
			"error. reports/ingest.json counts read, written, quarantined and bytes per source.\n" +
			"A source that quarantines more than its max_quarantine (default 5%) fails ingest, naming\n" +
			"its first errors, once every output is written; --keep-going makes that a warning.\n" +
			"--shard i/n ingests one array task's share of the raw files (also taken from\n" +
			"SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with CHIMED_SHARDS);\n" +
			"--merge then writes reports/ingest.json from every shard's counts. `chimed plan` writes both.\n" +
			"Presets: " + fmt.Sprint(ingest.PresetNames()),
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
			return pipeline.RunIngest(cmd.Context(), env, o, force)
		},
	}
	c.Flags().StringSliceVar(&o.Only, "source", nil, "ingest only these sources (repeat or comma-separate); others keep their outputs")
	c.Flags().IntVar(&o.Parallel, "parallel", 0, "sources ingested at once (default: number of CPUs)")
	c.Flags().BoolVar(&o.KeepGoing, "keep-going", false, "warn of sources that quarantine more than their max_quarantine, and exit 0")
	c.Flags().StringVar(&shard, "shard", "", "ingest only shard i of n (i/n, 0-based); a relaunch skips a shard that finished")
	c.Flags().BoolVar(&o.Merge, "merge", false, "end a sharded ingest: add up the shards' counts into reports/ingest.json")
	forceFlag(c, &force)
	return c
}
