package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/chimed/chimed/clean"
)

// CleanOptions are `chimed clean`'s flags.
type CleanOptions struct {
	// NoNearDedup skips MinHash near-dedup (overrides clean.near_dedup.enabled).
	NoNearDedup bool
	// Workers is the number of worker goroutines (0: clean.workers or GOMAXPROCS).
	Workers int
}

// Clean turns normalized/ into clean/, removed/ and reports/clean.json
// (clean.Run). clean.Run removes the outputs of an earlier run first,
// clean/.staging/ of a killed one included.
func Clean(o CleanOptions) Step {
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
	cfg, err := env.Config()
	if err != nil {
		return nil, err
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
	rep, err := clean.Run(ctx, clean.Options{
		Workspace: env.Workspace, Sources: sources, Config: cc, Log: env.Log, Bars: env.Bars(),
	})
	if rep == nil {
		return nil, err
	}
	env.Log.Info("clean done", "in", rep.Totals.In, "kept", rep.Totals.Kept, "report", env.Workspace.Report("clean.json"))
	if !env.Quiet {
		b, _ := json.Marshal(rep.Totals)
		fmt.Fprintln(os.Stderr, string(b))
	}
	return Counts{"in": rep.Totals.In, "kept": rep.Totals.Kept}, err // an eval set left empty: the report is written
}
