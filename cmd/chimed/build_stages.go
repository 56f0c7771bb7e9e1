package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newBuildStagesCmd(a *app) *cobra.Command {
	var o pipeline.BuildStagesOptions
	var force, noCheck bool
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
A leakage check reads every training row as it is written, with its own code
rather than the builder's; --check (the default under CI and in tests) also
re-reads every written file and checks them again. When a check fails, no stage
file is left. Kinds are built side by side, one per CPU; rows held back for a kind
built ahead, and the check's split indexes, spill to .chimed/tmp past --memory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if noCheck {
				o.Check = false
			}
			return a.exec(cmd, force, pipeline.BuildStages(o))
		},
	}
	c.Flags().BoolVar(&o.Check, "check", pipeline.CheckByDefault(), "also re-read every written file with the independent leakage check (default on when CI is set, and in tests)")
	c.Flags().BoolVar(&noCheck, "no-check", false, "the same as --check=false")
	_ = c.Flags().MarkDeprecated("no-check", "the re-reading check is off unless --check (or CI) asks for it")
	c.Flags().Int64Var(&o.Seed, "seed", -1, "override chimed.yaml's seed (the split changes, nothing else)")
	forceFlag(c, &force)
	return c
}
