package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// heldout is an eval question long enough for the leakage check's windows.
const heldout = "头痛发热三天了，体温最高三十九度，伴有咽痛和全身乏力，请问需要吃什么药？"

// tinyConfig has one training QA source and one eval QA source.
const tinyConfig = `version: 1
seed: 7
sources:
  - {name: faq, kind: qa, preset: alpaca, paths: [raw/faq.jsonl]}
  - {name: heldout, kind: qa, role: eval, paths: [raw/heldout.tsv], map: {fields: {question: 问题, answer: 回答}}}
`

var tinyFiles = map[string]string{
	"raw/faq.jsonl": `{"instruction":"头痛怎么办？","input":"","output":"注意休息，必要时就医检查。"}
{"instruction":"发烧怎么办？","input":"","output":"多喝水，体温过高时服用退烧药。"}
{"instruction":"咳嗽有痰怎么办？","input":"","output":"多饮温水，痰多时可以用化痰药，持续不好要就医。"}
`,
	"raw/heldout.tsv": "问题\t回答\n" + heldout + "\t可以服用对乙酰氨基酚退热，多休息多喝水，症状加重请就医。\n",
}

// tinyWorkspace writes chimed.yaml (config) and the raw files into a new
// workspace.
func tinyWorkspace(t *testing.T, config string) workspace.Dir {
	t.Helper()
	ws := t.TempDir()
	files := map[string]string{"chimed.yaml": config}
	for k, v := range tinyFiles {
		files[k] = v
	}
	for name, body := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return workspace.Dir(ws)
}

func execSteps(ws workspace.Dir, force bool, steps ...Step) error {
	return Exec(context.Background(), Env{Workspace: ws, Quiet: true}, ExecOptions{Command: "test", Force: force}, steps...)
}

// mustRun runs steps and fails the test on an error.
func mustRun(t *testing.T, ws workspace.Dir, steps ...Step) {
	t.Helper()
	if err := execSteps(ws, false, steps...); err != nil {
		t.Fatal(err)
	}
}

var (
	ingestStep = Ingest(IngestOptions{})
	cleanStep  = Clean(CleanOptions{})
	buildStep  = BuildStages(BuildStagesOptions{Seed: -1})
	statsStep  = Stats(StatsDefaults)
	exportStep = Export(ExportOptions{Format: "trl", TRLDPO: "conversational"})
)

func remove(t *testing.T, ws workspace.Dir, rel ...string) {
	t.Helper()
	for _, r := range rel {
		if err := os.RemoveAll(ws.Path(filepath.FromSlash(r))); err != nil {
			t.Fatal(err)
		}
	}
}

// touch moves a file's modification time, as a rewrite would.
func touch(t *testing.T, path string) {
	t.Helper()
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func firstPart(t *testing.T, dir string) string {
	t.Helper()
	files, err := schemas.PartFiles(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("no part file in %s: %v", dir, err)
	}
	return files[0]
}

// TestStepRefusesUnfinishedInputs: a step whose inputs' completion records
// are missing, failed or stale refuses to start, naming the step wanting
// and the command to run; --force starts it anyway.
func TestStepRefusesUnfinishedInputs(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, ws workspace.Dir)
		step  Step
		want  string
		// noForce: forcing the step would train a model; the refusal is
		// what is tested.
		noForce bool
	}{
		{name: "clean after an ingest killed part-way", step: cleanStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep)
				remove(t, ws, ".chimed/steps/ingest.json") // normalized/ is there, the record never came
			},
			want: "`chimed ingest` did not finish: reports/ingest.json, normalized"},
		{name: "clean before any ingest report", step: cleanStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep)
				remove(t, ws, ".chimed/steps/ingest.json", "reports/ingest.json")
			},
			want: "reports/ingest.json is missing (run `chimed ingest` first)"},
		{name: "build-stages after a failed clean", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				// An answer too short to keep: clean removes the eval source's only row.
				if err := os.WriteFile(ws.Path("raw", "heldout.tsv"), []byte("问题\t回答\n"+heldout+"\t好\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				mustRun(t, ws, ingestStep)
				if err := execSteps(ws, false, cleanStep); err == nil {
					t.Fatal("clean did not fail with every eval row filtered")
				}
			},
			want: "`chimed clean` failed: eval sets left empty (reports/clean.json is written): sources[heldout]: role eval, but clean removed all 1 of its rows"},
		{name: "build-stages after a clean without a record", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep)
				remove(t, ws, ".chimed/steps/clean.json")
			},
			want: "`chimed clean` did not finish"},
		{name: "build-stages on clean output changed after clean", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep)
				touch(t, firstPart(t, ws.Clean(schemas.KindQA)))
			},
			want: "clean changed after `chimed clean` finished (run `chimed clean` first"},
		{name: "build-stages on a clean made from older normalized rows", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep)
				remove(t, ws, ".chimed/steps/ingest.json")
				mustRun(t, ws, ingestStep) // ingest again: normalized/ is newer than clean
			},
			want: "the outputs of `chimed clean` are stale: its input normalized changed after it ran (run `chimed clean` first"},
		{name: "build-stages after chimed.yaml's clean section changed", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep)
				appendConfig(t, ws, "clean: {workers: 1}\n")
			},
			want: "the outputs of `chimed clean` are stale: chimed.yaml's sources or clean section changed"},
		{name: "build-stages after a raw file changed under ingest", step: buildStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep)
				touch(t, ws.Path("raw", "faq.jsonl"))
			},
			want: "`chimed ingest` are stale: its input raw/faq.jsonl changed after it ran (run `chimed ingest` first"},
		{name: "stats on stage files without a record", step: statsStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep, buildStep)
				remove(t, ws, ".chimed/steps/build-stages.json")
			},
			want: "`chimed build-stages` did not finish"},
		{name: "export on stage files without a manifest", step: exportStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep, buildStep)
				remove(t, ws, ".chimed/steps/build-stages.json", "stages/manifest.json")
			},
			want: "stages/manifest.json is missing (run `chimed build-stages` first)"},
		{name: "export on stage files without a record", step: exportStep,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep, buildStep)
				remove(t, ws, ".chimed/steps/build-stages.json")
			},
			want: "`chimed build-stages` did not finish"},
		{name: "train on stage files without a record", step: Train(TrainOptions{Stage: schemas.StageDCPT}), noForce: true,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep, buildStep)
				remove(t, ws, ".chimed/steps/build-stages.json")
			},
			want: "`chimed build-stages` did not finish"},
		{name: "train on a stage file changed after build-stages", step: Train(TrainOptions{Stage: schemas.StageDCPT}), noForce: true,
			setup: func(t *testing.T, ws workspace.Dir) {
				mustRun(t, ws, ingestStep, cleanStep, buildStep)
				touch(t, ws.StageFile(schemas.StageDCPT, "train"))
			},
			want: "stages/dcpt/train.parquet changed after `chimed build-stages` finished"},
		{name: "sft before dcpt", step: Train(TrainOptions{Stage: schemas.StageSFT}), noForce: true,
			setup: func(t *testing.T, ws workspace.Dir) { mustRun(t, ws, ingestStep, cleanStep, buildStep) },
			want:  "runs/dcpt/model.json is missing (run `chimed train --stage dcpt` first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := tinyWorkspace(t, tinyConfig)
			tt.setup(t, ws)
			err := execSteps(ws, false, tt.step)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: err = %v, want %q", tt.step.Name, err, tt.want)
			}
			if _, rerr := ReadRecord(ws, tt.step.Name); !errors.Is(rerr, fs.ErrNotExist) {
				t.Errorf("a refused %s wrote a record (%v)", tt.step.Name, rerr)
			}
			if tt.noForce {
				return
			}
			if err := execSteps(ws, true, tt.step); err != nil && strings.Contains(err.Error(), "--force") {
				t.Errorf("--force still refused: %v", err)
			}
			if rec, err := ReadRecord(ws, tt.step.Name); err != nil {
				t.Errorf("the forced %s left no record: %v", tt.step.Name, err)
			} else if rec.Step != tt.step.Name {
				t.Errorf("record of %q", rec.Step)
			}
		})
	}
}

func appendConfig(t *testing.T, ws workspace.Dir, yaml string) {
	t.Helper()
	f, err := os.OpenFile(ws.Config(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(yaml); err != nil {
		t.Fatal(err)
	}
}

// TestRecordsFollowTheSteps: every step ran in order leaves an "ok" record
// with its counts, a setting another step reads leaves a step current, and
// a step that fails leaves a "failed" record with its error.
func TestRecordsFollowTheSteps(t *testing.T) {
	ws := tinyWorkspace(t, tinyConfig)
	mustRun(t, ws, ingestStep, cleanStep, buildStep, statsStep, exportStep)
	for _, name := range []string{"ingest", "clean", "build-stages", "stats", "export-trl"} {
		rec, err := ReadRecord(ws, name)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != StatusOK || rec.Version == "" && rec.ConfigSHA256 == "" || len(rec.Outputs) == 0 {
			t.Errorf("%s: record %+v", name, rec)
		}
	}
	rec, _ := ReadRecord(ws, "ingest")
	if rec.Rows["written"] != 4 {
		t.Errorf("ingest record counts %v, want 4 written", rec.Rows)
	}
	rec, _ = ReadRecord(ws, "build-stages")
	if rec.Rows["eval/qa"] != 1 {
		t.Errorf("build-stages record counts %v, want eval/qa 1", rec.Rows)
	}

	// train: is read by no data step, so editing it leaves them current.
	appendConfig(t, ws, "train: {preset: tiny}\n")
	if err := Check(ws, exportStep); err != nil {
		t.Errorf("a train: edit made export refuse: %v", err)
	}

	appendConfig(t, ws, "bogus: 1\n")
	if err := execSteps(ws, false, cleanStep); err == nil {
		t.Fatal("clean ran on an invalid chimed.yaml")
	}
	rec, err := ReadRecord(ws, "clean")
	if err != nil || rec.Status != StatusFailed || !strings.Contains(rec.Error, "bogus") {
		t.Errorf("failed clean's record %+v, %v", rec, err)
	}
}

// TestFailedLeakageCheckLeavesNoStageFile: the leakage check reads the
// stage files back after they are committed; when it finds a leak (here a
// dpo-negatives file that quotes an eval question), build-stages fails
// and no stage file, and no manifest, is left under its final name.
func TestFailedLeakageCheckLeavesNoStageFile(t *testing.T) {
	ws := tinyWorkspace(t, tinyConfig)
	mustRun(t, ws, ingestStep, cleanStep, buildStep)
	leak := schemas.DPORow{ID: "neg-1", Source: "faq", Kind: "qa", Prompt: heldout, Chosen: "多休息。", Rejected: "不知道。"}
	if _, err := schemas.WriteFile(stages.NegativesPath(ws), slices.Values([]schemas.DPORow{leak})); err != nil {
		t.Fatal(err)
	}
	err := execSteps(ws, false, buildStep)
	if !errors.Is(err, stages.ErrLeak) {
		t.Fatalf("build-stages with a leaking negatives file: %v, want a leak", err)
	}
	for _, rel := range stageOutputs() {
		if _, err := os.Stat(ws.Path(filepath.FromSlash(rel))); err == nil {
			t.Errorf("a failed leakage check left %s", rel)
		}
	}
	if err := execSteps(ws, false, exportStep); err == nil {
		t.Error("export ran after a failed build-stages")
	}
}

// TestKilledCleanStagingIsSwept: a clean killed while writing its staging
// file leaves clean/.staging/, parts of clean/ and no record or report.
// No step reads that as clean output, and the next clean removes the
// staging folder as it starts, even when it does not get further.
func TestKilledCleanStagingIsSwept(t *testing.T) {
	ws := tinyWorkspace(t, tinyConfig)
	mustRun(t, ws, ingestStep, cleanStep)
	stage := ws.Path("clean", ".staging", "qa", "stage.bin")
	kill := func() {
		remove(t, ws, ".chimed/steps/clean.json", "reports/clean.json")
		if err := os.MkdirAll(filepath.Dir(stage), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stage, []byte("half a frame"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kill()
	for _, s := range []Step{buildStep, statsStep} {
		if err := execSteps(ws, false, s); err == nil || !strings.Contains(err.Error(), "chimed clean") {
			t.Errorf("%s after a killed clean: %v, want a refusal naming clean", s.Name, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Exec(ctx, Env{Workspace: ws, Quiet: true}, ExecOptions{Command: "test"}, cleanStep)
	t.Logf("clean with a cancelled context: %v", err)
	if b, err := os.ReadFile(stage); err == nil && string(b) == "half a frame" {
		t.Error("clean did not sweep clean/.staging as it started")
	}

	kill()
	mustRun(t, ws, cleanStep, buildStep, statsStep)
	if _, err := os.Stat(ws.Path("clean", ".staging")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("clean left clean/.staging: %v", err)
	}
	b, err := os.ReadFile(ws.Report("stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), ".staging") || strings.Contains(string(b), "stage.bin") {
		t.Error("stats describes the staging folder")
	}
}

// TestRunSkipsUpToDate: run redoes nothing the second time, redoes a step
// whose flags differ, and --force redoes everything.
func TestRunSkipsUpToDate(t *testing.T) {
	ws := tinyWorkspace(t, tinyConfig)
	env := Env{Workspace: ws, Quiet: true}
	ctx := context.Background()
	if err := Run(ctx, env, RunOptions{NoTrain: true}); err != nil {
		t.Fatal(err)
	}
	mtime := func(rel string) time.Time {
		st, err := os.Stat(ws.Path(rel))
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	manifest, clean := mtime("stages/manifest.json"), mtime("reports/clean.json")
	if err := Run(ctx, env, RunOptions{NoTrain: true}); err != nil {
		t.Fatal(err)
	}
	if !mtime("stages/manifest.json").Equal(manifest) || !mtime("reports/clean.json").Equal(clean) {
		t.Error("a second run redid steps that were up to date")
	}
	if err := execSteps(ws, false, BuildStages(BuildStagesOptions{Seed: 99})); err != nil {
		t.Fatal(err)
	}
	manifest = mtime("stages/manifest.json")
	if err := Run(ctx, env, RunOptions{NoTrain: true}); err != nil {
		t.Fatal(err)
	}
	if mtime("stages/manifest.json").Equal(manifest) {
		t.Error("run kept stages built with --seed 99 as up to date")
	}
	if !mtime("reports/clean.json").Equal(clean) {
		t.Error("run redid clean")
	}
	if err := Run(ctx, env, RunOptions{NoTrain: true, Force: true}); err != nil {
		t.Fatal(err)
	}
	if mtime("reports/clean.json").Equal(clean) {
		t.Error("run --force skipped clean")
	}
}

// TestLookupKnowsEveryNeed: every step a step needs or uses is one Lookup
// finds, so Check never meets an unknown name.
func TestLookupKnowsEveryNeed(t *testing.T) {
	steps := append(Graph(RunOptions{}), DPONegatives(), Train(TrainOptions{Stage: schemas.StageDPO}))
	for _, s := range steps {
		for _, n := range append(slices.Clone(s.Needs), s.Uses...) {
			dep, ok := Lookup(n)
			if !ok {
				t.Errorf("%s needs %q, which Lookup does not know", s.Name, n)
				continue
			}
			if dep.Mark == "" || dep.Command == "" || !slices.Contains(dep.Outputs, dep.Mark) && !strings.HasPrefix(dep.Mark, dep.Outputs[0]+"/") {
				t.Errorf("%s: mark %q, command %q, outputs %v", n, dep.Mark, dep.Command, dep.Outputs)
			}
		}
	}
}
