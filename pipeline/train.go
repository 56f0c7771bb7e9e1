package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/chimed/chimed/evaluate"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/trainer"
)

// TrainOptions are `chimed train`'s flags for one stage.
type TrainOptions struct {
	// Stage is the stage to train.
	Stage schemas.Stage
	// Resume continues from the last checkpoint that loads; the parent
	// stage's run is then not required.
	Resume bool
	// SkipEmpty lets an optional stage (schemas.StageSpec.Optional) with
	// no training rows finish with a warning and no run, as `train
	// --stage all` and `chimed run` do; asked for alone, it is an error.
	SkipEmpty bool
}

// Train trains one stage into runs/<stage>/ (trainer.Train) from the stage
// files and, past DCPT, from the parent stage's run.
func Train(o TrainOptions) Step {
	st := string(o.Stage)
	s := Step{
		Name: "train-" + st, Command: "train --stage " + st, Mark: "runs/" + st + "/model.json",
		Needs:    []string{"build-stages"},
		Settings: []string{"seed", "train"},
		Outputs:  []string{"runs/" + st},
		Flags:    []string{"--stage=" + st},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runTrain(env, o)
		},
	}
	in := stageOutputs()
	if sp, _ := schemas.Spec(o.Stage); sp.Parent != "" {
		parent := sp.Parent
		if !o.Resume {
			s.Needs = []string{"train-" + string(parent), "build-stages"}
		}
		in = append(in, "runs/"+string(parent))
	}
	if o.Stage == schemas.StageDPO {
		s.Uses = []string{"dpo-negatives"}
		in = append(in, "stages/dpo/negatives.parquet")
	}
	s.Inputs = paths(in...)
	return s
}

// TrainStages are the steps of `chimed train --stage STAGE`: one stage of
// the stage table, or every stage in the table's order for "all".
func TrainStages(stage string, resume bool) ([]Step, error) {
	if stage == "all" {
		var steps []Step
		for _, st := range schemas.Stages {
			steps = append(steps, Train(TrainOptions{Stage: st, Resume: resume, SkipEmpty: true}))
		}
		return steps, nil
	}
	if _, ok := schemas.Spec(schemas.Stage(stage)); !ok {
		return nil, fmt.Errorf("--stage %q: want one of %s or all", stage, StageNames())
	}
	return []Step{Train(TrainOptions{Stage: schemas.Stage(stage), Resume: resume})}, nil
}

// StageNames lists the stage table's names, for flag help and errors.
func StageNames() string {
	names := make([]string, len(schemas.Stages))
	for i, st := range schemas.Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

func runTrain(env Env, o TrainOptions) (Counts, error) {
	cfg, err := env.Config()
	if err != nil {
		return nil, err
	}
	res, err := trainer.Train(env.Workspace, cfg.Train, o.Stage, trainer.Options{Resume: o.Resume, Log: env.Log, Bars: env.Bars()})
	if sp, _ := schemas.Spec(o.Stage); errors.Is(err, trainer.ErrNoData) && sp.Optional && o.SkipEmpty {
		env.Log.Warn("optional stage skipped", "stage", o.Stage, "why", err)
		return Counts{"steps": 0}, nil
	}
	if err != nil {
		return nil, err
	}
	env.Log.Info("trained", "stage", o.Stage, "steps", res.Steps, "loss", fmt.Sprintf("%.4f", res.Loss),
		"tokens/s", fmt.Sprintf("%.0f", res.TokensSec), "run", env.Workspace.Runs(o.Stage))
	return Counts{"steps": int64(res.Steps)}, nil
}

// TrainBench times steps DCPT steps of the ref preset on random tokens and
// prints tokens/s, and the ratio to torchTokensSec when given (trainer.Bench).
// It writes nothing and leaves no record. It reads nothing from the
// workspace but chimed.yaml's train settings, and runs on their defaults
// in a folder without one.
func TrainBench(steps int, torchTokensSec float64) Step {
	return Step{
		Name: "train-bench", Command: "train --bench", NoRecord: true,
		Run: func(ctx context.Context, env Env) (Counts, error) {
			var tc trainer.Config
			cfg, err := env.Config()
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return nil, err
			default:
				tc = cfg.Train
			}
			res, err := trainer.Bench(env.Workspace, tc, steps, env.Log)
			if err != nil {
				return nil, err
			}
			res.PyTorchTokensSec = torchTokensSec
			fmt.Fprintln(env.Out, res)
			return nil, nil
		},
	}
}

// DPONegatives samples the SFT model on training prompts into
// stages/dpo/negatives.parquet (trainer.DPONegatives).
func DPONegatives() Step {
	return Step{
		Name: "dpo-negatives", Command: "dpo-negatives", Mark: "stages/dpo/negatives.parquet",
		Needs:    []string{"train-sft", "build-stages"},
		Settings: []string{"seed", "train"},
		Inputs:   paths("runs/sft", "stages/sft/train.parquet"),
		Outputs:  []string{"stages/dpo/negatives.parquet"},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			cfg, err := env.Config()
			if err != nil {
				return nil, err
			}
			res, err := trainer.DPONegatives(env.Workspace, cfg.Train, env.Log, env.Bars())
			if err != nil {
				return nil, err
			}
			return Counts{"prompts": int64(res.Prompts), "written": int64(res.Written), "same": int64(res.Same)}, nil
		},
	}
}

// EvalOptions are `chimed eval`'s flags.
type EvalOptions struct {
	// Rows are the models to score, in order (evaluate.Rows).
	Rows []string
	// Options are evaluate's; Seed, Bars and Log are filled in.
	Options evaluate.Options
}

// Eval scores each requested stage's model into reports/eval.{json,md}
// (evaluate.Run). The runs it finds must be finished and current.
func Eval(o EvalOptions) Step {
	var uses []string
	for _, st := range schemas.Stages {
		uses = append(uses, "train-"+string(st))
	}
	e := o.Options
	return Step{
		Name: "eval", Command: "eval", Mark: "reports/eval.json",
		Needs:    []string{"build-stages"},
		Uses:     uses,
		Settings: []string{"seed", "train"},
		Inputs:   paths("runs", "stages"),
		Outputs:  []string{"reports/eval.json", "reports/eval.md"},
		Flags: []string{"--stages=" + strings.Join(o.Rows, ","), fmt.Sprintf("--max-n=%d", e.MaxN), fmt.Sprintf("--batch=%d", e.Batch),
			fmt.Sprintf("--qa-tokens=%d", e.QATokens), fmt.Sprintf("--rag-k=%d", e.RAGTopK)},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runEval(env, o)
		},
	}
}

func runEval(env Env, o EvalOptions) (Counts, error) {
	cfg, err := env.Config()
	if err != nil {
		return nil, err
	}
	ws := env.Workspace
	opts := o.Options
	opts.Seed = cfg.Seed
	opts.Bars = env.Bars()
	opts.Log = env.Log
	load := func(row string) (evaluate.Model, error) {
		var m *trainer.Model
		var err error
		if row == evaluate.RowInit {
			m, err = trainer.InitModel(ws, cfg.Train)
		} else {
			m, err = trainer.LoadModel(ws.Runs(schemas.Stage(row)))
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", evaluate.ErrNoRun, err)
		}
		if err != nil {
			return nil, err
		}
		return sizedModel{m}, nil
	}
	rep, err := evaluate.Run(ws, o.Rows, load, opts)
	if err != nil {
		return nil, err
	}
	if err := evaluate.WriteReports(ws, rep); err != nil {
		return nil, err
	}
	fmt.Fprint(env.Out, rep.Table())
	for _, row := range o.Rows {
		if why, ok := rep.Skipped[row]; ok {
			env.Log.Warn("stage skipped", "stage", row, "why", why)
		}
	}
	env.Log.Info("eval: wrote reports", "json", ws.Report("eval.json"), "md", ws.Report("eval.md"))
	return Counts{"rows": int64(len(o.Rows) - len(rep.Skipped))}, noTrainedRow(o.Rows, rep.Skipped)
}

// sizedModel tells evaluation the trainer model's context length
// and token counts (evaluate.ContextWindow), so RAG passages are cut to fit
// beside the prompt.
type sizedModel struct{ *trainer.Model }

func (m sizedModel) ContextTokens() int { return m.Info.Arch.Context }

func (m sizedModel) CountTokens(s string) int { return len(m.Tok.Encode(s)) }

// noTrainedRow is the error of an eval that asked for trained stages and
// found none of their runs: a workspace where `chimed train` has not run.
// One trained stage is enough (train --stage dcpt, then eval, is a normal
// way to work); the others are skipped with a warning and a note.
func noTrainedRow(rows []string, skipped map[string]string) error {
	var asked, missing []string
	for _, row := range rows {
		if row == evaluate.RowInit {
			continue
		}
		asked = append(asked, row)
		if _, ok := skipped[row]; ok {
			missing = append(missing, "runs/"+row)
		}
	}
	if len(asked) == 0 || len(missing) < len(asked) {
		return nil
	}
	return fmt.Errorf("no trained model to evaluate: %s missing (run `chimed train` first, or pass --stages init)", strings.Join(missing, ", "))
}
