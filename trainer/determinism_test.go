package trainer

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// runFiles reads every file under ws/runs but the timing files, by
// workspace-relative path.
func runFiles(t *testing.T, ws workspace.Dir) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := ws.Path("runs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == timingFile {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(string(ws), p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyStages gives a new workspace the stage files of ws.
func copyStages(t *testing.T, ws workspace.Dir) workspace.Dir {
	t.Helper()
	ws2 := workspace.Dir(t.TempDir())
	for _, st := range []schemas.Stage{schemas.StageDCPT, schemas.StageSFT, schemas.StageDPO} {
		for _, sp := range schemas.Splits {
			data, err := os.ReadFile(ws.StageFile(st, sp))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(ws2.StageFile(st, sp)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(ws2.StageFile(st, sp), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ws2
}

// TestTwoRunsSameBytes: DCPT → SFT → DPO trained twice in two workspaces
// (different folders), and a third time with every stage stopped part way
// and resumed, give the same bytes in every file under runs/ —
// checkpoints, metrics.jsonl, model.json — but timing.jsonl, which holds
// the wall clock. Before, a stage started from another's checkpoint saved
// its variables in map order, and model.json named the parent by its
// path outside the workspace.
func TestTwoRunsSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three stages three times")
	}
	cfg := tinyConfig()
	cfg.DCPT.Steps, cfg.SFT.Steps, cfg.DPO.Steps = 12, 12, 12
	cfg.CheckpointEvery, cfg.LogEvery, cfg.KeepCheckpoints = 4, 2, 3
	stages := []schemas.Stage{schemas.StageDCPT, schemas.StageSFT, schemas.StageDPO}
	first := fixtureWorkspace(t)
	second, resumed := copyStages(t, first), copyStages(t, first)
	for _, st := range stages {
		for _, ws := range []workspace.Dir{first, second} {
			if _, err := Train(ws, cfg, st, Options{}); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
		if _, err := Train(resumed, cfg, st, Options{StopAfter: 6}); err != nil {
			t.Fatalf("%s stopped: %v", st, err)
		}
		if _, err := Train(resumed, cfg, st, Options{Resume: true}); err != nil {
			t.Fatalf("%s resumed: %v", st, err)
		}
	}
	want := runFiles(t, first)
	if len(want) < 3*(3*3+4) {
		t.Fatalf("only %d run files: %v", len(want), slices.Sorted(maps.Keys(want)))
	}
	for name, ws := range map[string]workspace.Dir{"second run": second, "resumed run": resumed} {
		got := runFiles(t, ws)
		for _, f := range slices.Sorted(maps.Keys(want)) {
			if g, ok := got[f]; !ok {
				t.Errorf("%s has no %s", name, f)
			} else if !bytes.Equal(g, want[f]) {
				t.Errorf("%s: %s differs", name, f)
			}
		}
		for f := range got {
			if _, ok := want[f]; !ok {
				t.Errorf("%s has an extra %s", name, f)
			}
		}
		for _, st := range stages {
			if _, err := os.Stat(filepath.Join(ws.Runs(st), timingFile)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestResumeSweepsKilledCheckpoint: a checkpoint folder a kill left
// before its rename to step-N (gomlx's files, named by the clock) and a
// half-written file are gone after --resume, so the run folder ends as an
// uninterrupted run's.
func TestResumeSweepsKilledCheckpoint(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT.Steps = 10
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{StopAfter: 5}); err != nil {
		t.Fatal(err)
	}
	runDir := ws.Runs(schemas.StageDCPT)
	left := []string{
		filepath.Join(runDir, checkpointsDir, ".tmp-step-905631947", "checkpoint-n0000000-20261203-155507-step-00000010.bin"),
		filepath.Join(runDir, ".tmp-done.json-123"),
	}
	for _, p := range left {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{Resume: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range left {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after --resume (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, checkpointsDir, ".tmp-step-905631947")); !os.IsNotExist(err) {
		t.Errorf("the killed checkpoint folder is still there (%v)", err)
	}
}
