package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"

	"github.com/chimed/chimed/internal/atomicfile"
)

// A run folder runs/<stage>/ holds:
//
//	model.json          RunInfo: stage, preset, seed, architecture
//	tokenizer.json      the tokenizer the run was trained with
//	checkpoints/step-N/ gomlx checkpoints, one folder each, newest last
//	metrics.jsonl       one JSON line per logged step
const (
	modelFile      = "model.json"
	checkpointsDir = "checkpoints"
	metricsFile    = "metrics.jsonl"
	stepPrefix     = "step-"
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

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

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
	h, err := checkpoints.Build(ctx).Dir(tmp).Done()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := h.Save(); err != nil {
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

// loadCheckpoint loads every variable of a checkpoint folder into ctx.
func loadCheckpoint(ctx *context.Context, dir string) error {
	if _, err := checkpoints.Build(ctx).Dir(dir).Immediate().Done(); err != nil {
		return fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	return nil
}

// loadWeights copies only the transformer's weights of a checkpoint into ctx:
// a stage starts from the previous stage's model with fresh optimizer state
// and step count.
func loadWeights(ctx *context.Context, dir string) error {
	src := context.New()
	if err := loadCheckpoint(src, dir); err != nil {
		return err
	}
	n := 0
	for v := range src.IterVariables() {
		if v.Scope() != "/"+modelScope && !strings.HasPrefix(v.Scope(), "/"+modelScope+"/") {
			continue
		}
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("load checkpoint %s: %s: %w", dir, v.ParameterName(), err)
		}
		ctx.InAbsPath(v.Scope()).Checked(false).VariableWithValue(v.Name(), value)
		n++
	}
	if n == 0 {
		return fmt.Errorf("load checkpoint %s: no model weights in it", dir)
	}
	return nil
}
