package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chimed runs the CLI in-process, as a user would from the shell.
func chimed(t *testing.T, args ...string) {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("chimed %s: %v", strings.Join(args, " "), err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// tinyDemo writes the demo workspace into a temporary folder with the
// tiny training preset, so a test can run every step in seconds.
func tinyDemo(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	chimed(t, "-q", "-w", ws, "demo")
	f, err := os.OpenFile(filepath.Join(ws, "chimed.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\ntrain:\n  preset: tiny\n"); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestEndToEndOnDemo runs the whole job on the demo workspace with the tiny
// model and checks what users rely on: every step's report adds up, the
// stage files and reports exist, a second run skips every step, and the
// evaluation has a row per stage.
func TestEndToEndOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run skipped in -short mode")
	}
	ws := tinyDemo(t)
	chimed(t, "-q", "-w", ws, "run")

	var ingest struct {
		Sources map[string]struct {
			Read, Written, Quarantined int
			RecordsOK                  int `json:"records_ok"`
		}
	}
	readJSON(t, filepath.Join(ws, "reports", "ingest.json"), &ingest)
	if len(ingest.Sources) == 0 {
		t.Fatal("ingest.json names no source")
	}
	for name, s := range ingest.Sources {
		if s.Read != s.RecordsOK+s.Quarantined {
			t.Errorf("ingest %s: read %d != ok %d + quarantined %d", name, s.Read, s.RecordsOK, s.Quarantined)
		}
	}
	var clean struct {
		Sources map[string]struct {
			In, Kept int
			Removed  map[string]int
		}
	}
	readJSON(t, filepath.Join(ws, "reports", "clean.json"), &clean)
	for name, s := range clean.Sources {
		sum := s.Kept
		for _, n := range s.Removed {
			sum += n
		}
		if s.In != sum {
			t.Errorf("clean %s: in %d != kept + removed %d", name, s.In, sum)
		}
		if s.In != ingest.Sources[name].Written {
			t.Errorf("clean %s: in %d but ingest wrote %d", name, s.In, ingest.Sources[name].Written)
		}
	}
	for _, p := range []string{
		"stages/dcpt/train.parquet", "stages/sft/train.parquet", "stages/dpo/train.parquet",
		"stages/eval/exam.parquet", "stages/eval/qa.parquet", "stages/manifest.json",
		"reports/stats.html", "reports/stats.md", "reports/stats.json",
		"export/trl", "export/llamafactory/dataset_info.json", "export/medicalgpt", "export/hf/README.md",
		"reports/eval.json", "reports/eval.md",
	} {
		if _, err := os.Stat(filepath.Join(ws, p)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	var eval struct {
		Stages map[string]map[string]any
	}
	readJSON(t, filepath.Join(ws, "reports", "eval.json"), &eval)
	for _, st := range []string{"init", "dcpt", "sft", "dpo", "adapt"} {
		if _, ok := eval.Stages[st]; !ok {
			t.Errorf("eval.json has no %s row", st)
		}
	}

	// A second run finds everything up to date and changes nothing.
	before, _ := os.ReadFile(filepath.Join(ws, "stages", "manifest.json"))
	stamp, _ := os.Stat(filepath.Join(ws, "reports", "eval.json"))
	chimed(t, "-q", "-w", ws, "run")
	after, _ := os.ReadFile(filepath.Join(ws, "stages", "manifest.json"))
	stamp2, _ := os.Stat(filepath.Join(ws, "reports", "eval.json"))
	if string(before) != string(after) || !stamp.ModTime().Equal(stamp2.ModTime()) {
		t.Error("a second run redid steps whose outputs were up to date")
	}
}
