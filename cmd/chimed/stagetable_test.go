package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// TestToyStageThroughTheTable adds a fifth stage through the stage table
// alone — a row, a builder, an existing objective — and sees every step
// take it: build-stages writes and counts it, train runs it from its
// parent, eval scores it, every export format writes it, and stats shows
// it.
func TestToyStageThroughTheTable(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run skipped in -short mode")
	}
	const toy = schemas.Stage("toy")
	removeStage, err := schemas.AddStage(schemas.StageSpec{Name: toy, Title: "Toy", Parent: schemas.StageSFT,
		Shape: schemas.ShapeChat, Objective: schemas.ObjectiveLM, Description: "Questions asked back: a test's stage."})
	if err != nil {
		t.Fatal(err)
	}
	defer removeStage()
	removeBuilder, err := stages.AddBuilder(stages.Builder{Stage: toy, Kind: schemas.KindQA, Rows: func(rec any) []any {
		q := rec.(*schemas.QA)
		return []any{schemas.SFTRow{Messages: []schemas.Turn{
			{Role: schemas.RoleUser, Content: "请复述问题：" + q.Question},
			{Role: schemas.RoleAssistant, Content: q.Question},
		}}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer removeBuilder()

	ws := tinyDemo(t)
	chimed(t, "-q", "-w", ws, "run")

	var manifest struct {
		Stages map[string]map[string]struct{ Rows int64 }
	}
	readJSON(t, filepath.Join(ws, "stages", "manifest.json"), &manifest)
	if manifest.Stages["toy"]["train"].Rows == 0 {
		t.Errorf("build-stages wrote no toy rows: %v", manifest.Stages["toy"])
	}
	var run struct{ Parent string }
	readJSON(t, filepath.Join(ws, "runs", "toy", "model.json"), &run)
	if filepath.Base(run.Parent) != "sft" {
		t.Errorf("toy trained from %q, want the sft run", run.Parent)
	}
	for _, p := range []string{"runs/toy/done.json", "runs/toy/metrics.jsonl",
		"export/trl/toy/train.parquet", "export/llamafactory/chimed_toy_train.jsonl",
		"export/medicalgpt/toy/train/sft.jsonl", "export/hf/toy/train/state.json"} {
		if _, err := os.Stat(filepath.Join(ws, p)); err != nil {
			t.Errorf("missing: %v", err)
		}
	}
	var eval struct{ Stages map[string]map[string]any }
	readJSON(t, filepath.Join(ws, "reports", "eval.json"), &eval)
	if eval.Stages["toy"]["ppl"] == nil {
		t.Errorf("eval.json has no toy row: %v", eval.Stages["toy"])
	}
	md, _ := os.ReadFile(filepath.Join(ws, "reports", "eval.md"))
	if !strings.Contains(string(md), "| Toy |") {
		t.Error("eval.md has no Toy row")
	}
	var st struct{ Stages []struct{ Name string } }
	readJSON(t, filepath.Join(ws, "reports", "stats.json"), &st)
	found := false
	for _, s := range st.Stages {
		found = found || s.Name == "toy"
	}
	if !found {
		t.Errorf("stats.json shows no toy stage: %v", st.Stages)
	}
	for _, p := range []string{"export/llamafactory/dataset_info.json", "export/hf/README.md", "reports/stats.md"} {
		b, _ := os.ReadFile(filepath.Join(ws, p))
		if !strings.Contains(string(b), "toy") {
			t.Errorf("%s does not name the toy stage", p)
		}
	}
}

// TestUnknownShapeFailsLoudly: a stage whose rows no step can read stops
// build-stages with an error naming it, rather than being skipped.
func TestUnknownShapeFailsLoudly(t *testing.T) {
	remove, err := schemas.AddStage(schemas.StageSpec{Name: "tree", Title: "Tree", Parent: schemas.StageSFT,
		Shape: "tree", Objective: schemas.ObjectiveLM})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	ws := t.TempDir()
	chimed(t, "-q", "-w", ws, "demo")
	_, err = runCLI("-q", "-w", ws, "run", "--no-train")
	if err == nil || !strings.Contains(err.Error(), "tree") {
		t.Errorf("err = %v, want one naming the tree stage", err)
	}
}
