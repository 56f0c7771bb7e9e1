package pipeline

import (
	"context"
	"strconv"

	"github.com/chimed/chimed/export"
	"github.com/chimed/chimed/stats"
	"github.com/chimed/chimed/trainer"
)

// Stats describes the workspace in reports/stats.{html,md,json}
// (stats.Run). It needs ingest's report; clean's and build-stages'
// outputs, where there are some, must be finished and current.
func Stats(o stats.Options) Step {
	return Step{
		Name: "stats", Command: "stats", Mark: "reports/stats.json",
		Needs:    []string{"ingest"},
		Uses:     []string{"clean", "build-stages"},
		Settings: []string{"sources", "train"},
		Inputs:   paths("reports/ingest.json", "reports/clean.json", "clean", "removed", "stages"),
		Outputs:  []string{"reports/stats.html", "reports/stats.md", "reports/stats.json"},
		Flags: []string{"--word-cap=" + strconv.FormatInt(o.WordCap, 10), "--word-stride=" + strconv.FormatInt(o.WordStride, 10),
			"--no-words=" + strconv.FormatBool(o.NoWords)},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runStats(env, o)
		},
	}
}

func runStats(env Env, opts stats.Options) (Counts, error) {
	var train trainer.Config // chimed.yaml's train: settings, or the defaults without one
	if cfg, err := env.Config(); err == nil {
		train = cfg.Train
	}
	ws := env.Workspace
	if tok, from, err := trainer.StageTokenizer(ws, train); err == nil {
		opts.Tokenizer, opts.TokenizerFrom = tok, from
	} else {
		opts.TokenizerFrom = err.Error()
	}
	rep, err := stats.Run(ws, opts)
	if err != nil {
		return nil, err
	}
	for _, n := range rep.Notes {
		env.Log.Debug("stats", "note", n)
	}
	env.Log.Info("stats done", "html", ws.Report("stats.html"), "stages", len(rep.Stages),
		"notes", len(rep.Notes), "notes_in", ws.Report("stats.md"))
	return Counts{"stages": int64(len(rep.Stages)), "notes": int64(len(rep.Notes))}, nil
}

// ExportOptions are `chimed export`'s flags.
type ExportOptions struct {
	// Format is the layout (export.Names()).
	Format string
	// TRLDPO is the TRL DPO row form.
	TRLDPO export.TRLDPOForm
}

// Export writes the stage files in one trainer's layout under
// export/<format>/ and reports/export-<format>.json (export.Run).
func Export(o ExportOptions) Step {
	return Step{
		Name: "export-" + o.Format, Command: "export --format " + o.Format, Mark: "reports/export-" + o.Format + ".json",
		Needs:    []string{"build-stages"},
		Settings: []string{"sources"},
		Inputs:   paths("stages"),
		Outputs:  []string{"reports/export-" + o.Format + ".json", "export/" + o.Format},
		Flags:    []string{"--format=" + o.Format, "--trl-dpo=" + string(o.TRLDPO)},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runExport(env, o)
		},
	}
}

func runExport(env Env, o ExportOptions) (Counts, error) {
	opts := export.Options{TRLDPO: o.TRLDPO}
	if o.Format == "hf" { // the dataset card names each source's licence and address
		cfg, err := env.Config()
		if err != nil {
			return nil, err
		}
		opts.Sources = cfg.Sources
	}
	ws := env.Workspace
	rep, err := export.Run(ws, o.Format, opts)
	if err != nil {
		return nil, err
	}
	var rows, skipped int64
	for _, f := range rep.Files {
		rows += f.Rows
		for _, n := range f.Skipped {
			skipped += n
		}
	}
	for _, n := range rep.Notes {
		env.Log.Warn("export", "note", n)
	}
	env.Log.Info("export done", "format", o.Format, "dir", ws.Export(o.Format),
		"files", len(rep.Files), "rows", rows, "skipped", skipped,
		"report", ws.Report("export-"+o.Format+".json"))
	return Counts{"files": int64(len(rep.Files)), "rows": rows, "skipped": skipped}, nil
}
