package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/metrics"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Options tune one call of Train.
type Options struct {
	// Resume continues from the run's latest checkpoint (same data order,
	// same optimizer state); without it the run folder is started afresh.
	Resume bool
	// StopAfter ends the call after this many steps without a final
	// checkpoint, as a kill would (tests); 0 runs to the end.
	StopAfter int
	// Log receives progress lines; nil logs nothing.
	Log  *slog.Logger
	Bars *progress.Bars
}

// epochSteps is how many steps of batch examples read n examples epochs
// times over, at least one.
func epochSteps(epochs float64, n, batch int) int {
	return max(1, int(math.Ceil(epochs*float64(n)/float64(max(1, batch)))))
}

// Result sums up a finished (or stopped) call of Train.
type Result struct {
	Stage     schemas.Stage
	Steps     int     // global step reached
	Loss      float64 // loss of the last step
	Tokens    int64   // positions processed in this call
	Seconds   float64 // wall time of the steps in this call
	TokensSec float64
}

// TimingLine is one line of runs/<stage>/timing.jsonl, written beside each
// metrics.jsonl line: how long the steps took, which differs from run to
// run, so metrics.jsonl holds only what the same inputs always give.
// Seconds count from the start of this process's part of the run.
type TimingLine struct {
	Step      int     `json:"step"`
	Seconds   float64 `json:"seconds"`
	TokensSec float64 `json:"tokens_per_s"`
}

// MetricsLine is one line of runs/<stage>/metrics.jsonl.
type MetricsLine struct {
	Step    int     `json:"step"`
	Loss    float64 `json:"loss"`
	LossAvg float64 `json:"loss_avg"`
	LR      float64 `json:"lr"`
	Tokens  int64   `json:"tokens"`

	// DPO only, named and defined as TRL and LLaMA-Factory log them: the
	// rewards are β·(log π − log π_ref) per response (β·log π for the
	// reference-free losses), and every value is the mean over the step's
	// pairs. Log-probs are per-token means for ipo, simpo and orpo, sums
	// for sigmoid, as the loss sees them.
	RewardsChosen     *float64 `json:"rewards/chosen,omitempty"`
	RewardsRejected   *float64 `json:"rewards/rejected,omitempty"`
	RewardsMargins    *float64 `json:"rewards/margins,omitempty"`
	RewardsAccuracies *float64 `json:"rewards/accuracies,omitempty"`
	LogpsChosen       *float64 `json:"logps/chosen,omitempty"`
	LogpsRejected     *float64 `json:"logps/rejected,omitempty"`
	// SFTLoss is the chosen responses' mean NLL per token, logged when
	// train.dpo.ftx mixes it into the loss or the loss is orpo.
	SFTLoss *float64 `json:"sft_loss,omitempty"`
}

// set stores the DPO metric of that name.
func (l *MetricsLine) set(name string, v float64) {
	dst := map[string]**float64{
		"rewards/chosen": &l.RewardsChosen, "rewards/rejected": &l.RewardsRejected,
		"rewards/margins": &l.RewardsMargins, "rewards/accuracies": &l.RewardsAccuracies,
		"logps/chosen": &l.LogpsChosen, "logps/rejected": &l.LogpsRejected, "sft_loss": &l.SFTLoss,
	}[name]
	if dst != nil {
		*dst = &v
	}
}

// ErrNoData is returned (wrapped) by Train for a stage whose training file
// has no usable rows; a caller may skip a schemas.StageSpec.Optional stage
// on it.
var ErrNoData = errors.New("no usable training rows")

// run is one stage's run folder as Train finds and prepares it.
type run struct {
	spec   schemas.StageSpec
	dir    string
	latest string // newest checkpoint to resume from, "" for a fresh run
	tok    *Tokenizer
	info   *RunInfo
}

// Train runs one stage of the stage table, writing runs/<stage>/: a stage
// without a parent from random weights (building the tokenizer), the others
// from their parent's run, under the stage's objective.
func Train(ws workspace.Dir, cfg Config, stage schemas.Stage, opt Options) (*Result, error) {
	cfg = cfg.WithDefaults()
	spec, ok := schemas.Spec(stage)
	if !ok {
		return nil, fmt.Errorf("unknown stage %q (want one of %v)", stage, schemas.Stages)
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := openRun(ws, cfg, spec, opt.Resume)
	if err != nil {
		return nil, err
	}
	ctx := newContext(r.info.Seed)
	if err := r.initWeights(ws, ctx, log); err != nil {
		return nil, err
	}
	obj, err := newObjective(ws, cfg, spec, r.tok, r.info.Arch, log)
	if errors.Is(err, ErrNoData) && !opt.Resume {
		_ = os.RemoveAll(r.dir) // no run, rather than one that never trained
	}
	if err != nil {
		return nil, err
	}
	defer obj.close()
	sc := cfg.Stage(string(stage))
	if sc.Steps == 0 {
		sc.Steps = epochSteps(sc.Epochs, obj.examples(), sc.Batch)
		log.Info("schedule", "stage", stage, "epochs", sc.Epochs, "examples", obj.examples(), "steps", sc.Steps)
	}
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	tr := train.NewTrainer(backend, ctx, scheduled(obj.modelFn, sc), obj.lossFn,
		optimizers.Adam().LearningRate(sc.LR).Done(), obj.metrics(), nil)
	if r.latest != "" {
		// Loaded only now: NewTrainer deletes the learning-rate variable,
		// which the first step would then make again after every other,
		// and a checkpoint lists variables in the order they were made.
		// Loaded after it, every variable keeps the place it had in the
		// uninterrupted run, and so do the bytes of later checkpoints.
		if r.latest, err = resumeCheckpoint(ctx, r.dir, log); err != nil {
			return nil, err
		}
		log.Info("resuming", "stage", stage, "checkpoint", r.latest)
		if err := restoreMetricState(ctx, tr, r.latest); err != nil {
			return nil, err
		}
	}
	return r.steps(ctx, tr, obj, cfg, sc, opt, log)
}

// openRun clears the run folder (unless resuming) and settles its
// tokenizer and architecture: a resumed run keeps its own, a stage without
// a parent builds them, any other inherits its parent's.
func openRun(ws workspace.Dir, cfg Config, spec schemas.StageSpec, resume bool) (*run, error) {
	r := &run{spec: spec, dir: ws.Runs(spec.Name)}
	if !resume {
		if err := os.RemoveAll(r.dir); err != nil {
			return nil, err
		}
	}
	if err := sweepTemps(r.dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	// Until the last step is saved the run is unfinished, resumed or not.
	if err := os.Remove(filepath.Join(r.dir, doneFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var err error
	if r.latest, err = latestCheckpoint(r.dir); err != nil {
		return nil, err
	}
	stage := spec.Name
	switch {
	case r.latest != "":
		if r.tok, err = LoadTokenizer(filepath.Join(r.dir, TokenizerFile)); err != nil {
			return nil, err
		}
		if r.info, err = readRunInfo(r.dir); err != nil {
			return nil, err
		}
		return r, nil
	case spec.Parent == "":
		path := ws.StageFile(stage, "train")
		if r.tok, err = BuildTokenizer(readDCPTTexts(path), cfg.MinCharFreq, presets[cfg.Preset].arch.Vocab); err != nil {
			return nil, err
		}
		r.info = &RunInfo{Stage: string(stage), Preset: cfg.Preset, Seed: cfg.Seed, Arch: archFor(cfg.Preset, r.tok.Size())}
	default:
		parentDir := ws.Runs(spec.Parent)
		if err := checkDone(parentDir); err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
		if r.tok, err = LoadTokenizer(filepath.Join(parentDir, TokenizerFile)); err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
		pi, err := readRunInfo(parentDir)
		if err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
		// The parent is named inside the workspace, so where the workspace
		// lies does not change model.json.
		r.info = &RunInfo{Stage: string(stage), Preset: pi.Preset, Seed: cfg.Seed, Arch: pi.Arch, Parent: filepath.ToSlash(filepath.Join("runs", string(spec.Parent)))}
	}
	if err := r.tok.Save(filepath.Join(r.dir, TokenizerFile)); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(r.dir, modelFile), r.info); err != nil {
		return nil, err
	}
	return r, nil
}

// initWeights loads the weights a fresh run starts from: its parent's; a
// stage without a parent keeps the context's random initialisation. A
// resumed run's own checkpoint is loaded by Train after NewTrainer.
func (r *run) initWeights(ws workspace.Dir, ctx *context.Context, log *slog.Logger) error {
	switch {
	case r.latest != "":
	case r.spec.Parent != "":
		parentDir := ws.Runs(r.spec.Parent)
		pc, err := latestCheckpoint(parentDir)
		if err != nil {
			return err
		}
		if pc == "" {
			return fmt.Errorf("%s starts from %s, which has no checkpoint: train %s first", r.spec.Name, parentDir, r.spec.Parent)
		}
		return loadWeights(ctx, pc)
	}
	return nil
}

// steps trains from the global step the context holds to sc.Steps,
// appending metrics.jsonl lines and saving checkpoints, and marks the run
// done after its last step is saved.
func (r *run) steps(ctx *context.Context, tr *train.Trainer, obj objective, cfg Config, sc StageConfig, opt Options, log *slog.Logger) (*Result, error) {
	stage := r.spec.Name
	step := int(optimizers.GetGlobalStep(ctx))
	var mf, tf *os.File
	for _, f := range []struct {
		name string
		file **os.File
	}{{metricsFile, &mf}, {timingFile, &tf}} {
		path := filepath.Join(r.dir, f.name)
		if err := trimMetrics(path, step); err != nil {
			return nil, err
		}
		var err error
		if *f.file, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return nil, err
		}
		defer (*f.file).Close()
	}

	res := &Result{Stage: stage, Steps: step}
	bar := opt.Bars.Start("train "+string(stage), int64(sc.Steps), false).Unit("steps")
	bar.Add(int64(step))
	defer bar.Finish()
	if err := obj.seek(step * sc.Batch); err != nil {
		return nil, err
	}
	start := time.Now()
	for taken := 0; step < sc.Steps; taken++ {
		if opt.StopAfter > 0 && taken == opt.StopAfter {
			return res, nil
		}
		inputs, labels, positions, err := obj.nextBatch(sc.Batch)
		if err != nil {
			return nil, fmt.Errorf("%s step %d: %w", stage, step+1, err)
		}
		out, err := tr.TrainStep(nil, inputs, labels)
		if err != nil {
			return nil, fmt.Errorf("%s step %d: %w", stage, step+1, err)
		}
		step++
		line := metricsLine(tr.TrainMetrics(), out)
		res.Tokens += positions
		res.Steps = step
		res.Loss = line.Loss
		if math.IsNaN(res.Loss) {
			return nil, fmt.Errorf("%s step %d: loss is NaN (lower train.%s.lr)", stage, step, stage)
		}
		bar.Add(1)
		res.Seconds = time.Since(start).Seconds()
		res.TokensSec = float64(res.Tokens) / res.Seconds
		if step%cfg.LogEvery == 0 || step == sc.Steps {
			line.Step, line.LR, line.Tokens = step, sc.lrAt(step-1), int64(step)*positions
			if err := appendLine(mf, line); err != nil {
				return nil, err
			}
			if err := appendLine(tf, TimingLine{Step: step, Seconds: res.Seconds, TokensSec: res.TokensSec}); err != nil {
				return nil, err
			}
			log.Info("step", "stage", stage, "step", step, "loss", fmt.Sprintf("%.4f", res.Loss),
				"tokens/s", fmt.Sprintf("%.0f", res.TokensSec))
		}
		if step%cfg.CheckpointEvery == 0 || step == sc.Steps {
			if err := saveCheckpoint(ctx, r.dir, int64(step), cfg.KeepCheckpoints); err != nil {
				return nil, err
			}
		}
	}
	if latest, _ := latestCheckpoint(r.dir); latest == "" {
		// steps: 0 — keep the starting weights as the run's model.
		if err := saveCheckpoint(ctx, r.dir, int64(step), cfg.KeepCheckpoints); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(r.dir, doneFile), runDone{Steps: step}); err != nil {
		return nil, err
	}
	return res, nil
}

// metricsLine reads a train step's outputs by the names of the trainer's
// metrics: gomlx's batch loss ("loss+") and its moving average ("~loss+"),
// then the objective's own metrics.
func metricsLine(ms []metrics.Interface, out []*tensors.Tensor) MetricsLine {
	var l MetricsLine
	for i, m := range ms {
		if i >= len(out) {
			break
		}
		switch v := scalar(out[i]); m.ShortName() {
		case "loss+":
			l.Loss = v
		case "~loss+":
			l.LossAvg = v
		default:
			l.set(m.ShortName(), v)
		}
	}
	return l
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

func appendLine(f *os.File, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	return err
}

// trimMetrics drops lines past step, which a killed run logged after its
// last checkpoint, so a resumed run's metrics.jsonl reads as one curve.
func trimMetrics(path string, step int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l MetricsLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Step <= step {
			keep.Write(sc.Bytes())
			keep.WriteByte('\n')
		}
	}
	return os.WriteFile(path, keep.Bytes(), 0o644)
}
