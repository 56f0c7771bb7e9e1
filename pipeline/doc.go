// Package pipeline holds chimed's steps, the order `chimed run` runs them
// in, and the rules every step obeys, whoever starts it.
//
// # The step graph
//
// A Step names the workspace paths it reads and writes and the steps whose
// outputs it reads (Needs; Uses for those it reads only when they exist):
//
//	step           reads from (when there)                   writes
//	demo           –                                         chimed.yaml, raw/, demo-truth.json
//	ingest         chimed.yaml, raw/                         normalized/, quarantine/, reports/ingest.json
//	clean          ingest                                    clean/, removed/, reports/clean.json
//	build-stages   clean                                     stages/<S>/ for each stage S, stages/eval/, stages/lineage/, stages/manifest.json
//	stats          ingest (clean, build-stages)              reports/stats.{html,md,json}
//	export-F       build-stages                              export/F/, reports/export-F.json
//	train-dcpt     build-stages                              runs/dcpt/
//	train-sft      build-stages, train-dcpt                  runs/sft/
//	dpo-negatives  build-stages, train-sft                   stages/dpo/negatives.parquet
//	train-dpo      build-stages, train-sft (dpo-negatives)   runs/dpo/
//	train-adapt    build-stages, train-sft                   runs/adapt/ (none when there are no exam training rows)
//	eval           build-stages (every train-S)              reports/eval.{json,md}, reports/eval-timing.json
//
// F is an export format (export.Names()); S is a stage of
// schemas.StageTable, whose train-S step needs its parent stage's.
//
// Graph lists the steps of `chimed run` in that order (ingest, clean,
// build-stages, stats, the exports of RunFormats, then a train-S per stage
// in the table's order and eval, unless --no-train); each chimed command is
// one step or, for `train --stage all`, one per stage. Plan (plan.go) runs
// the same graph as phases on an engine, with ingest split into shards
// (IngestShard, then IngestMerge) and clean into four phases (CleanShard,
// CleanDedup, CleanFilter, CleanMerge).
//
// # Completion records
//
// Exec runs steps under the workspace lock (TakeLock: one writer per
// workspace, released by the OS when the process dies). A step removes its
// completion record (Record, .chimed/steps/<step>.json) as it starts and
// writes it last: "ok", or "failed" with the error. Before a step starts,
// Check follows its Needs and Uses back to ingest and refuses, naming the
// step and the command to run, when a record is missing (the step never
// finished, e.g. it was killed), failed, or stale: the step's outputs
// changed after it finished, an input changed after it ran, or the
// chimed.yaml keys it reads changed. --force skips the check.
//
// `chimed run` (Run) also skips a step whose own record is "ok" and still
// matches chimed.yaml, its flags, and the fingerprints of its inputs and
// outputs (Fingerprint: names, sizes and modification times).
//
// # Scaling out
//
// Phases cuts `chimed run` into jobs for an engine: ingest as n array tasks
// (IngestShard, each with its own record ingest-shard-IIII-of-NNNN and the
// workspace lock held shared), IngestMerge, whose record is ingest's;
// clean as n scan tasks (CleanShard: clean-shard-IIII-of-NNNN), the dedup
// task (CleanDedup), n filter tasks (CleanFilter) and CleanMerge, whose
// record is clean's (CleanPhases; clean.ShuffleDir says what each does);
// then every other step as one task. Plan writes them as Slurm sbatch scripts
// chained by afterok dependencies or as Kubernetes Jobs (an Indexed Job for
// the shards); RunLocal runs them here as processes.
package pipeline
