package pipeline

import (
	"context"

	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/evaluate"
	"github.com/chimed/chimed/export"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stats"
)

// RunOptions are `chimed run`'s flags.
type RunOptions struct {
	// Force runs every step, up to date or not.
	Force bool
	// NoTrain stops after the data steps (no train, no eval).
	NoTrain bool
	// KeepGoing is ingest's --keep-going.
	KeepGoing bool
}

// RunFormats are the export formats `chimed run` writes.
var RunFormats = []string{"trl", "llamafactory", "medicalgpt", "hf"}

// StatsDefaults are `chimed stats`' default options, which run uses.
var StatsDefaults = stats.Options{WordCap: 20_000, WordStride: 16}

// EvalDefaults are `chimed eval`'s default options, which run uses: every
// row of the stage table as it is when called.
func EvalDefaults() EvalOptions {
	return EvalOptions{Rows: evaluate.Rows(), Options: evaluate.Options{
		MaxN: evaluate.DefaultMaxN, Batch: evaluate.DefaultBatch, QATokens: evaluate.DefaultQATokens, RAGTopK: evaluate.DefaultRAGTopK}}
}

// Graph is every step of `chimed run`, in the order it runs them.
func Graph(o RunOptions) []Step {
	steps := []Step{
		Ingest(IngestOptions{KeepGoing: o.KeepGoing}),
		Clean(CleanOptions{}),
		BuildStages(BuildStagesOptions{Seed: -1, Check: CheckByDefault()}),
		Stats(StatsDefaults),
	}
	for _, f := range RunFormats {
		steps = append(steps, Export(ExportOptions{Format: f, TRLDPO: export.TRLConversational}))
	}
	if !o.NoTrain {
		for _, st := range schemas.Stages {
			steps = append(steps, Train(TrainOptions{Stage: st, SkipEmpty: true}))
		}
		steps = append(steps, Eval(EvalDefaults()))
	}
	return steps
}

// Run is `chimed run`: every step of Graph in order under one lock,
// skipping those whose outputs are up to date unless o.Force.
func Run(ctx context.Context, env Env, o RunOptions) error {
	return Exec(ctx, env, ExecOptions{Command: "run", Force: o.Force, SkipUpToDate: true, NameErrors: true}, Graph(o)...)
}

// Lookup finds a step by name as its default options make it: what Check
// needs to know of the steps a step reads from.
func Lookup(name string) (Step, bool) {
	all := append(Graph(RunOptions{}), DPONegatives(), Demo(demo.Options{}))
	for _, f := range export.Names() {
		all = append(all, Export(ExportOptions{Format: f}))
	}
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}
