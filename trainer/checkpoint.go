package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/metrics"

	"github.com/chimed/chimed/internal/atomicfile"
)

// A run folder runs/<stage>/ holds:
//
//	model.json          RunInfo: stage, preset, seed, architecture
//	tokenizer.json      the tokenizer the run was trained with
//	checkpoints/step-N/ gomlx checkpoints, one folder each, newest last:
//	                    checkpoint-n0000000-step-N.{json,bin} and metric-state.json
//	checkpoints/skipped-step-N/ a checkpoint --resume could not load, set aside
//	metrics.jsonl       one JSON line per logged step
//	timing.jsonl        the same steps' wall time and tokens/s
//
// Every name is the step's alone (gomlx stamps the wall clock into its file
// names; saveCheckpoint renames them), so two identical runs write the
// same names.
const (
	modelFile       = "model.json"
	doneFile        = "done.json"
	checkpointsDir  = "checkpoints"
	metricsFile     = "metrics.jsonl"
	timingFile      = "timing.jsonl"
	stepPrefix      = "step-"
	skippedPrefix   = "skipped-"
	metricStateFile = "metric-state.json"
)

// RunInfo describes a run; it is written to model.json.
type RunInfo struct {
	Stage  string `json:"stage"`
	Preset string `json:"preset"`
	Seed   uint64 `json:"seed"`
	Arch   Arch   `json:"arch"`
	// Parent is the run this one started from ("" for DCPT).
	Parent string `json:"parent,omitempty"`
}

// ErrUnfinished is returned (wrapped) for a run whose training did not end:
// killed, stopped early, or still running.
var ErrUnfinished = errors.New("training did not finish")

// runDone is done.json, written last by a run that reached its final step;
// a run folder without it holds a half-trained model.
type runDone struct {
	Steps int `json:"steps"`
}

// checkDone fails, naming the command that finishes the run, unless runDir
// holds a finished run.
func checkDone(runDir string) error {
	if _, err := os.Stat(filepath.Join(runDir, doneFile)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(filepath.Join(runDir, modelFile)); errors.Is(err, os.ErrNotExist) {
		return err // no run at all: callers treat it as missing
	}
	return fmt.Errorf("%s: %w (no %s): run chimed train --stage %s --resume", runDir, ErrUnfinished, doneFile, filepath.Base(runDir))
}

func writeJSON(path string, v any) error { return atomicfile.WriteJSON(path, v) }

func readRunInfo(runDir string) (*RunInfo, error) {
	data, err := os.ReadFile(filepath.Join(runDir, modelFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a trained run: %w", runDir, err)
	}
	var ri RunInfo
	if err := json.Unmarshal(data, &ri); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(runDir, modelFile), err)
	}
	return &ri, nil
}

// latestCheckpoint is the newest complete checkpoint folder of a run, or ""
// when there is none. Folders appear under their final name only once
// written, so any step-N folder is complete.
func latestCheckpoint(runDir string) (string, error) {
	all, err := listCheckpoints(runDir)
	if err != nil || len(all) == 0 {
		return "", err
	}
	return all[len(all)-1], nil
}

func listCheckpoints(runDir string) ([]string, error) {
	dir := filepath.Join(runDir, checkpointsDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), stepPrefix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out) // zero-padded step numbers sort in step order
	return out, nil
}

// saveCheckpoint writes every variable of ctx (weights, optimizer moments,
// global step, metric state) as a gomlx checkpoint. gomlx writes its files in
// place, so the checkpoint goes to a temporary folder that is renamed to
// step-N only when complete: a kill leaves the previous checkpoint intact.
// Older checkpoints beyond keep are removed.
func saveCheckpoint(ctx *context.Context, runDir string, step int64, keep int) error {
	dir := filepath.Join(runDir, checkpointsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, atomicfile.TempPrefix+stepPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	state, vars, err := metricState(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	h, err := checkpoints.Build(ctx).Dir(tmp).ExcludeVars(vars...).Done()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := h.Save(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := nameByStep(tmp, step); err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := writeJSON(filepath.Join(tmp, metricStateFile), state); err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	final := filepath.Join(dir, fmt.Sprintf("%s%08d", stepPrefix, step))
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	all, err := listCheckpoints(runDir)
	if err != nil {
		return err
	}
	for len(all) > max(keep, 1) {
		if err := os.RemoveAll(all[0]); err != nil {
			return err
		}
		all = all[1:]
	}
	return nil
}

// sweepTemps removes what a killed run left half-written in runDir and
// its checkpoints folder: a checkpoint folder not yet renamed to step-N,
// or a file not yet renamed to its name. Only the workspace lock's holder
// trains, so none of them is being written.
func sweepTemps(runDir string) error {
	for _, dir := range []string{runDir, filepath.Join(runDir, checkpointsDir)} {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), atomicfile.TempPrefix) {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range files {
		if e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// nameByStep renames the files gomlx wrote into dir
// (checkpoint-n0000000-<date>-<time>-step-N.json and .bin) to
// checkpoint-n0000000-step-N.*: gomlx's own loader still lists them, and
// the name no longer depends on when the run happened.
func nameByStep(dir string, step int64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	base := fmt.Sprintf("checkpoint-n0000000-%s%08d", stepPrefix, step)
	n := 0
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if !strings.HasPrefix(name, "checkpoint-") || (ext != checkpoints.JsonNameSuffix && ext != checkpoints.BinDataSuffix) {
			continue
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, base+ext)); err != nil {
			return err
		}
		n++
	}
	if n != 2 {
		return fmt.Errorf("gomlx wrote %d checkpoint files, want a .json and a .bin", n)
	}
	return nil
}

// metricScope is where gomlx keeps train metrics' running state:
// /metrics/<name>_uuid_<random>/. The random part differs in every
// process, so a resumed run would not find its metrics' state and its
// loss_avg would start over.
const metricScope = "/" + metrics.Scope + "/"

// metricValue is one saved variable of a metric's state.
type metricValue struct {
	DType string  `json:"dtype"`
	Value float64 `json:"value"`
}

// metricState returns the metric variables of ctx, keyed by metric name and
// variable name without the random part ("Moving Average Loss/mean"), and
// the variables themselves, which the gomlx checkpoint leaves out.
func metricState(ctx *context.Context) (map[string]metricValue, []*context.Variable, error) {
	state := map[string]metricValue{}
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), metricScope) {
			continue
		}
		vars = append(vars, v)
		metric, _, ok := strings.Cut(strings.TrimPrefix(v.Scope(), metricScope), "_uuid_")
		if !ok {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, nil, fmt.Errorf("metric %s: %w", v.ParameterName(), err)
		}
		switch x := t.Value().(type) {
		case float32:
			state[metric+"/"+v.Name()] = metricValue{DType: "float32", Value: float64(x)}
		case float64:
			state[metric+"/"+v.Name()] = metricValue{DType: "float64", Value: x}
		default:
			return nil, nil, fmt.Errorf("metric %s: a %T is not a scalar float", v.ParameterName(), x)
		}
	}
	return state, vars, nil
}

// restoreMetricState gives the metrics of a new trainer the state a
// checkpoint saved for the metrics of the same names, so loss_avg after a
// resume goes on as in the uninterrupted run. A checkpoint without
// metric-state.json (written before it existed) restores nothing.
func restoreMetricState(ctx *context.Context, tr *train.Trainer, dir string) error {
	state, err := readMetricState(dir)
	if err != nil || state == nil {
		return err
	}
	for _, m := range tr.TrainMetrics() {
		for key, v := range state {
			name, ok := strings.CutPrefix(key, context.EscapeScopeName(m.Name())+"/")
			if !ok || strings.Contains(name, "/") {
				continue
			}
			var value any = v.Value
			if v.DType == "float32" {
				value = float32(v.Value)
			}
			ctx.Checked(false).InAbsPath(metricScope+m.ScopeName()).VariableWithValue(name, value).SetTrainable(false)
		}
	}
	return nil
}

// resumeCheckpoint loads into ctx the newest checkpoint of runDir that
// loads whole. A checkpoint that does not (a truncated file, a disk that
// lost a write) is set aside as skipped-step-N — never deleted — with a
// warning naming it and why, and the one before it is tried. It returns the
// folder loaded, or an error naming every checkpoint tried.
func resumeCheckpoint(ctx *context.Context, runDir string, log *slog.Logger) (string, error) {
	all, err := listCheckpoints(runDir)
	if err != nil {
		return "", err
	}
	var failed []error
	for i := len(all) - 1; i >= 0; i-- {
		dir := all[i]
		err := checkMetricState(dir)
		if err == nil {
			err = loadCheckpoint(ctx, dir) // reads it all before setting a variable
		}
		if err == nil {
			return dir, nil
		}
		failed = append(failed, err)
		aside := filepath.Join(filepath.Dir(dir), skippedPrefix+filepath.Base(dir))
		if rerr := os.RemoveAll(aside); rerr != nil {
			return "", rerr
		}
		if rerr := os.Rename(dir, aside); rerr != nil {
			return "", rerr
		}
		log.Warn("resume: checkpoint does not load, skipped", "checkpoint", dir, "moved_to", aside, "err", err)
	}
	return "", fmt.Errorf("resume %s: no checkpoint loads: %w", runDir, errors.Join(failed...))
}

// checkMetricState fails when a checkpoint's metric-state.json is there but
// unreadable, so resumeCheckpoint skips the checkpoint before loading it.
func checkMetricState(dir string) error {
	if _, err := readMetricState(dir); err != nil {
		return fmt.Errorf("load checkpoint %w", err)
	}
	return nil
}

// readMetricState reads a checkpoint's metric-state.json; nil and no error
// when the checkpoint has none.
func readMetricState(dir string) (map[string]metricValue, error) {
	path := filepath.Join(dir, metricStateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var state map[string]metricValue
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return state, nil
}

// loadCheckpoint loads every variable of a checkpoint folder into ctx.
func loadCheckpoint(ctx *context.Context, dir string) error {
	_, err := copyCheckpoint(ctx, dir, func(string) bool { return true })
	return err
}

// loadWeights copies only the transformer's weights of a checkpoint into ctx:
// a stage starts from the previous stage's model with fresh optimizer state
// and step count.
func loadWeights(ctx *context.Context, dir string) error {
	n, err := copyCheckpoint(ctx, dir, func(scope string) bool {
		return scope == "/"+modelScope || strings.HasPrefix(scope, "/"+modelScope+"/")
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("load checkpoint %s: no model weights in it", dir)
	}
	return nil
}

// copyCheckpoint reads a checkpoint whole into a scratch context, then
// creates in ctx each variable whose scope keep accepts, in the order the
// checkpoint lists them. gomlx's own immediate load creates them in map
// order, and a context saves its variables in creation order: a run
// started from a checkpoint would then save its own in a different order
// every time, and two identical runs would differ. Listed in the
// checkpoint's order, a resumed run's variables are in the order the
// uninterrupted run created them. It returns how many were copied.
func copyCheckpoint(ctx *context.Context, dir string, keep func(scope string) bool) (int, error) {
	order, err := checkpointOrder(dir)
	if err != nil {
		return 0, fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	src := context.New()
	if _, err := checkpoints.Build(src).Dir(dir).Immediate().Done(); err != nil {
		return 0, fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	loaded := map[string]*context.Variable{}
	for v := range src.IterVariables() {
		loaded[v.ParameterName()] = v
	}
	n := 0
	for _, name := range order {
		v := loaded[name]
		if v == nil || !keep(v.Scope()) {
			continue
		}
		value, err := v.Value()
		if err != nil {
			return 0, fmt.Errorf("load checkpoint %s: %s: %w", dir, name, err)
		}
		ctx.InAbsPath(v.Scope()).Checked(false).VariableWithValue(v.Name(), value)
		n++
	}
	return n, nil
}

// checkpointOrder lists the variables of a checkpoint folder's JSON file
// in the order it holds them.
func checkpointOrder(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "checkpoint-*"+checkpoints.JsonNameSuffix))
	if err != nil {
		return nil, err
	}
	if len(paths) != 1 {
		return nil, fmt.Errorf("%d checkpoint JSON files, want 1", len(paths))
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		return nil, err
	}
	var meta struct {
		Variables []struct{ ParameterName string }
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", paths[0], err)
	}
	order := make([]string, len(meta.Variables))
	for i, v := range meta.Variables {
		order[i] = v.ParameterName
	}
	return order, nil
}
