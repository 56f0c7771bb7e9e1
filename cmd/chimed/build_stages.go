package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newBuildStagesCmd(a *app) *cobra.Command {
	var o pipeline.BuildStagesOptions
	var force bool
	c := &cobra.Command{
		Use:   "build-stages",
		Short: "clean/ → stages/{dcpt,sft,dpo}/{train,valid,test}.parquet, stages/eval/, stages/manifest.json",
		Long: `build-stages turns clean records into the three training stages (DCPT: text and
verbalised KG; SFT: QA, KG→QA, dialogues, exam questions; DPO: preference pairs and
exam-derived pairs) split deterministically into train/valid/test by hashing each
record's near-duplicate cluster (else its canonical question or text) with the seed,
and writes the held-out eval sets from sources with role: eval. stages/manifest.json
lists every file with rows, bytes and sha256 and follows every clean record of every
source into the stages (used, or not used with a reason); stages/kg_stats.json holds
the knowledge-graph statistics; stages/lineage/ traces each row to its clean records.
An independent leakage check runs last unless --no-check; when it fails, no stage
file is left.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.exec(cmd, force, pipeline.BuildStages(o))
		},
	}
	c.Flags().BoolVar(&o.NoCheck, "no-check", false, "skip the independent leakage check (it re-reads every stage file)")
	c.Flags().Int64Var(&o.Seed, "seed", -1, "override chimed.yaml's seed (the split changes, nothing else)")
	forceFlag(c, &force)
	return c
}
