package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/ingest"
)

// CleanOptions are `chimed clean`'s flags.
type CleanOptions struct {
	// NoNearDedup skips MinHash near-dedup (overrides clean.near_dedup.enabled).
	NoNearDedup bool
	// Workers is the number of worker goroutines (0: clean.workers or GOMAXPROCS).
	Workers int
	// Shard makes the step one scan task of a sharded clean (CleanShard),
	// or with Filter one filter task (CleanFilter); Dedup and Merge make
	// it the dedup task (CleanDedup) or the merge (CleanMerge).
	Shard                ingest.Shard
	Dedup, Filter, Merge bool
}

// Clean turns normalized/ into clean/, removed/ and reports/clean.json
// (clean.Run). clean.Run removes the outputs of an earlier run first,
// clean/.staging/ of a killed one included.
func Clean(o CleanOptions) Step {
	switch {
	case o.Shard.Sharded() && o.Filter:
		return CleanFilter(o)
	case o.Shard.Sharded():
		return CleanShard(o)
	case o.Dedup:
		return CleanDedup(o)
	case o.Merge:
		return CleanMerge(o)
	}
	s := Step{
		Name: "clean", Command: "clean", Mark: "reports/clean.json",
		Needs:    []string{"ingest"},
		Settings: []string{"sources", "clean"},
		Inputs:   paths("normalized"),
		Outputs:  []string{"reports/clean.json", "clean", "removed"},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runClean(ctx, env, o)
		},
	}
	if o.NoNearDedup {
		s.Flags = []string{"--no-near-dedup"}
	}
	return s
}

// paths is an Inputs func of fixed workspace paths.
func paths(rel ...string) func(Env) ([]string, error) {
	return func(Env) ([]string, error) { return rel, nil }
}

func runClean(ctx context.Context, env Env, o CleanOptions) (Counts, error) {
	// A whole clean starts over: a sharded one before it is gone.
	if err := forgetCleanShards(env.Workspace); err != nil {
		return nil, err
	}
	opts, err := cleanOptions(env, o)
	if err != nil {
		return nil, err
	}
	rep, err := clean.Run(ctx, opts)
	if rep == nil {
		return nil, err
	}
	return cleanDone(env, rep, err)
}

// cleanOptions are clean's options from chimed.yaml and the flags.
func cleanOptions(env Env, o CleanOptions) (clean.Options, error) {
	cfg, err := env.Config()
	if err != nil {
		return clean.Options{}, err
	}
	cc := cfg.Clean
	if o.NoNearDedup {
		off := false
		cc.Near.Enabled = &off
	}
	if o.Workers > 0 {
		cc.Workers = o.Workers
	}
	var sources []clean.Source
	for _, s := range cfg.Sources {
		sources = append(sources, clean.Source{Name: s.Name, Eval: s.IsEval()})
	}
	return clean.Options{Workspace: env.Workspace, Sources: sources, Config: cc, Log: env.Log, Bars: env.Bars(),
		Memory: env.MemoryBudget()}, nil
}

// cleanDone logs and prints a clean report's totals and returns its counts
// for the completion record, with err: an eval set left empty is an error
// whose report is written.
func cleanDone(env Env, rep *clean.Report, err error) (Counts, error) {
	env.Log.Info("clean done", "in", rep.Totals.In, "kept", rep.Totals.Kept, "report", env.Workspace.Report("clean.json"))
	if !env.Quiet {
		b, _ := json.Marshal(rep.Totals)
		fmt.Fprintln(os.Stderr, string(b))
	}
	return Counts{"in": rep.Totals.In, "kept": rep.Totals.Kept}, err
}
