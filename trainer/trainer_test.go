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
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// The method set evaluation codes against (evaluate.Model).
var _ interface {
	NLL(texts []string) (nll []float64, tokens []int, err error)
	ContinuationLogProb(prompts, continuations []string) (logp []float64, tokens []int, err error)
	Generate(prompts []string, maxTokens int) ([]string, error)
	ChatPrompt(messages []schemas.Turn) string
} = (*Model)(nil)

func readMetrics(t *testing.T, runDir string) []MetricsLine {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, metricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []MetricsLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l MetricsLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("metrics.jsonl: %v", err)
		}
		out = append(out, l)
	}
	return out
}

func meanPPL(t *testing.T, m *Model, texts []string) float64 {
	t.Helper()
	nll, n, err := m.NLL(texts)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	var c int
	for i := range nll {
		s += nll[i]
		c += n[i]
	}
	return math.Exp(s / float64(c))
}

// TestStages trains the tiny preset through DCPT, SFT and DPO on the fixture
// and checks each stage moves the number it exists for.
func TestStages(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	var valid []string
	for _, r := range fixtureDCPT(40) {
		valid = append(valid, r.Text)
	}
	init, err := InitModel(ws, cfg)
	if err != nil {
		t.Fatal(err)
	}
	initPPL := meanPPL(t, init, valid)

	for _, st := range schemas.Stages {
		if _, err := Train(ws, cfg, st, Options{}); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	dcpt, err := LoadModel(ws.Runs(schemas.StageDCPT))
	if err != nil {
		t.Fatal(err)
	}
	if p := meanPPL(t, dcpt, valid); p > initPPL/3 {
		t.Errorf("DCPT perplexity %.1f, want well below init %.1f", p, initPPL)
	}
	ms := readMetrics(t, ws.Runs(schemas.StageDCPT))
	if len(ms) == 0 || ms[len(ms)-1].Loss >= ms[0].Loss {
		t.Errorf("DCPT loss did not fall: %+v", ms)
	}

	// SFT: the assistant's answer gets likelier than under DCPT.
	sft, err := LoadModel(ws.Runs(schemas.StageSFT))
	if err != nil {
		t.Fatal(err)
	}
	var prompts, answers []string
	for i := range 12 {
		q, a := fixtureQA(i)
		prompts = append(prompts, sft.ChatPrompt([]schemas.Turn{{Role: schemas.RoleUser, Content: q}}))
		answers = append(answers, a+TokenEnd)
	}
	lpD, _, err := dcpt.ContinuationLogProb(prompts, answers)
	if err != nil {
		t.Fatal(err)
	}
	lpS, nS, err := sft.ContinuationLogProb(prompts, answers)
	if err != nil {
		t.Fatal(err)
	}
	if sum(lpS) <= sum(lpD) || nS[0] == 0 {
		t.Errorf("SFT answer log-prob %.1f not above DCPT's %.1f", sum(lpS), sum(lpD))
	}
	gen, err := sft.Generate(prompts[:3], 24)
	if err != nil || len(gen) != 3 {
		t.Fatalf("Generate: %v %q", err, gen)
	}
	t.Logf("SFT generations: %q", gen)

	// The checkpoint loads in a fresh process to the same numbers.
	nllHere, _, err := sft.NLL(valid[:4])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLoadRun$", "-test.v")
	cmd.Env = append(os.Environ(), "CHIMED_LOAD_RUN="+ws.Runs(schemas.StageSFT), "CHIMED_LOAD_TEXTS="+strings.Join(valid[:4], "\n"))
	outp, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fresh process: %v\n%s", err, outp)
	}
	_, after, ok := strings.Cut(string(outp), "NLL=")
	var nllThere []float64
	if !ok || json.Unmarshal([]byte(strings.Fields(after)[0]), &nllThere) != nil || !slices.Equal(nllThere, nllHere) {
		t.Errorf("fresh process NLL %v, this process %v\n%s", nllThere, nllHere, outp)
	}

	// dpo-negatives: the SFT model's samples become rejected answers.
	neg, err := DPONegatives(ws, Config{Preset: "tiny", Seed: 7, Negatives: NegativesConfig{MaxPairs: 10}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var negRows []schemas.DPORow
	for r, err := range schemas.ReadFile[schemas.DPORow](neg.Path) {
		if err != nil {
			t.Fatal(err)
		}
		negRows = append(negRows, r)
	}
	if neg.Prompts != 10 || len(negRows) != neg.Written || neg.Written+neg.Same != 10 || neg.Written == 0 {
		t.Errorf("dpo-negatives: %+v, %d rows", neg, len(negRows))
	}
	for _, r := range negRows {
		if r.Chosen == r.Rejected || r.Prompt == "" {
			t.Errorf("bad negative pair %+v", r)
		}
	}
	t.Logf("negative pair: %+v", negRows[0])

	// DPO: logs reward accuracy and margins; the chosen answers end above
	// the rejected ones.
	dm := readMetrics(t, ws.Runs(schemas.StageDPO))
	last := dm[len(dm)-1]
	if last.RewardsAccuracies == nil || last.RewardsMargins == nil {
		t.Fatalf("DPO metrics lack reward accuracy / margin: %+v", last)
	}
	if *last.RewardsAccuracies <= 0.5 || *last.RewardsMargins <= 0 {
		t.Errorf("DPO reward accuracy %.2f, margin %.3f: want > 0.5 and > 0", *last.RewardsAccuracies, *last.RewardsMargins)
	}
}

// TestHelperLoadRun is run by TestStages in a fresh process: it loads a run
// and prints the NLL of some texts.
func TestHelperLoadRun(t *testing.T) {
	dir := os.Getenv("CHIMED_LOAD_RUN")
	if dir == "" {
		t.Skip("helper for TestStages")
	}
	m, err := LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	nll, _, err := m.NLL(strings.Split(os.Getenv("CHIMED_LOAD_TEXTS"), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(nll)
	fmt.Printf("NLL=%s\n", data)
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// TestResume stops a run after its checkpoint at step 10 (as a kill would),
// resumes it, and checks the loss curve equals an uninterrupted run's, for
// DCPT (packed as the file streams) and SFT. The shuffle buffer is smaller
// than an epoch and the 20 steps cross an epoch boundary, so the resumed run
// must re-read, re-shuffle and skip to its place. A second uninterrupted run
// shows training is deterministic.
func TestResume(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT.Steps, cfg.SFT.Steps = 20, 20
	cfg.DCPT.Schedule = ScheduleCosine // its step counter must resume too
	cfg.LogEvery = 1
	cfg.ShuffleBuffer = 16
	loss := func(ms []MetricsLine) (out []float64) {
		for _, m := range ms {
			out = append(out, m.Loss)
		}
		return out
	}
	for _, st := range []schemas.Stage{schemas.StageDCPT, schemas.StageSFT} {
		if _, err := Train(ws, cfg, st, Options{}); err != nil {
			t.Fatal(err)
		}
		ms := readMetrics(t, ws.Runs(st))
		want := loss(ms)
		if len(want) != 20 {
			t.Fatalf("%s: %d metrics lines, want 20", st, len(want))
		}
		if decays := ms[19].LR < ms[0].LR; decays != (st == schemas.StageDCPT) {
			t.Errorf("%s: lr %g at step 1, %g at step 20", st, ms[0].LR, ms[19].LR)
		}

		tok, err := LoadTokenizer(filepath.Join(ws.Runs(st), TokenizerFile))
		if err != nil {
			t.Fatal(err)
		}
		path := ws.StageFile(st, "train")
		n, err := packedCount(tok, 48, readDCPTTexts(path))
		if st == schemas.StageSFT {
			n, err = count(sftSequences(tok, 48, readSFTChats(path, nil)))
		}
		if err != nil || n >= 20*cfg.Stage(string(st)).Batch || n <= cfg.ShuffleBuffer {
			t.Fatalf("%s: %d examples (%v): the test wants more than the buffer and fewer than 20 batches", st, n, err)
		}

		if _, err := Train(ws, cfg, st, Options{}); err != nil {
			t.Fatal(err)
		}
		if again := loss(readMetrics(t, ws.Runs(st))); !slices.Equal(again, want) {
			t.Errorf("%s: a second run's loss curve\n%v\ndiffers from the first\n%v", st, again, want)
		}

		res, err := Train(ws, cfg, st, Options{StopAfter: 14})
		if err != nil || res.Steps != 14 {
			t.Fatalf("%s: stopped run: %v, steps %v", st, err, res)
		}
		if _, err := Train(ws, cfg, st, Options{Resume: true}); err != nil {
			t.Fatal(err)
		}
		if got := loss(readMetrics(t, ws.Runs(st))); !slices.Equal(got, want) {
			t.Errorf("%s: resumed loss curve\n%v\nwant\n%v", st, got, want)
		}
	}
}

// TestEpochs: with epochs instead of steps, the streamed stage's example
// count (counted before training) sets the number of steps.
func TestEpochs(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT = StageConfig{Epochs: 1.5, Batch: 8, LR: 3e-3}
	res, err := Train(ws, cfg, schemas.StageDCPT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := LoadTokenizer(filepath.Join(ws.Runs(schemas.StageDCPT), TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	seqs := 0
	for _, err := range packDocuments(tok, 48, readDCPTTexts(ws.StageFile(schemas.StageDCPT, "train"))) {
		if err != nil {
			t.Fatal(err)
		}
		seqs++
	}
	if want := int(math.Ceil(1.5 * float64(seqs) / 8)); res.Steps != want || seqs == 0 {
		t.Errorf("1.5 epochs of %d sequences in batches of 8: %d steps, want %d", seqs, res.Steps, want)
	}
}

// TestResumeKeepsLossAvgAndCheckpointNames: a resumed run's loss_avg curve
// equals the uninterrupted run's, and checkpoints are named by step alone,
// so two identical runs write the same files.
func TestResumeKeepsLossAvgAndCheckpointNames(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT.Steps = 20
	cfg.LogEvery = 1
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{}); err != nil {
		t.Fatal(err)
	}
	want := readMetrics(t, ws.Runs(schemas.StageDCPT))

	ws2 := workspace.Dir(t.TempDir())
	for _, sp := range schemas.Splits {
		data, err := os.ReadFile(ws.StageFile(schemas.StageDCPT, sp))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(ws2.StageFile(schemas.StageDCPT, sp)), 0o755)
		os.WriteFile(ws2.StageFile(schemas.StageDCPT, sp), data, 0o644)
	}
	res, err := Train(ws2, cfg, schemas.StageDCPT, Options{StopAfter: 14})
	if err != nil || res.Steps != 14 {
		t.Fatalf("stopped run: %v, steps %v", err, res)
	}
	if _, err := Train(ws2, cfg, schemas.StageDCPT, Options{Resume: true}); err != nil {
		t.Fatal(err)
	}
	got := readMetrics(t, ws2.Runs(schemas.StageDCPT))
	loss := func(ms []MetricsLine) (out []float64) {
		for _, m := range ms {
			out = append(out, m.Loss)
		}
		return out
	}
	if !slices.Equal(loss(got), loss(want)) {
		t.Errorf("resumed loss curve\n%v\nwant\n%v", loss(got), loss(want))
	}
	lossAvg := func(ms []MetricsLine) (out []float64) {
		for _, m := range ms {
			out = append(out, m.LossAvg)
		}
		return out
	}
	if !slices.Equal(lossAvg(got), lossAvg(want)) {
		t.Errorf("resumed loss_avg curve\n%v\nwant\n%v", lossAvg(got), lossAvg(want))
	}
	// Checkpoints are named by step alone (no clock in a name), so the two
	// runs' files agree by name, and the step-10 ones, each written by a run
	// not yet interrupted, byte for byte.
	want2 := []string{
		"step-00000010/checkpoint-n0000000-step-00000010.bin", "step-00000010/checkpoint-n0000000-step-00000010.json", "step-00000010/metric-state.json",
		"step-00000020/checkpoint-n0000000-step-00000020.bin", "step-00000020/checkpoint-n0000000-step-00000020.json", "step-00000020/metric-state.json",
	}
	a, b := checkpointFiles(t, ws.Runs(schemas.StageDCPT)), checkpointFiles(t, ws2.Runs(schemas.StageDCPT))
	if !slices.Equal(a, want2) || !slices.Equal(b, want2) {
		t.Errorf("checkpoint files\n%v\n%v\nwant\n%v", a, b, want2)
	}
	for _, f := range want2[:3] {
		x, _ := os.ReadFile(filepath.Join(ws.Runs(schemas.StageDCPT), checkpointsDir, f))
		y, _ := os.ReadFile(filepath.Join(ws2.Runs(schemas.StageDCPT), checkpointsDir, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two identical runs", f)
		}
	}
}

// checkpointFiles lists a run's checkpoint files, relative to its
// checkpoints folder, sorted.
func checkpointFiles(t *testing.T, runDir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(runDir, checkpointsDir)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestResumeSkipsBrokenCheckpoint: when the newest checkpoint is truncated
// (a disk that lost a write), --resume says which it skipped, sets it aside
// and resumes from the one before, and the metrics end as the
// uninterrupted run's; when no checkpoint loads, the error names them.
func TestResumeSkipsBrokenCheckpoint(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT.Steps = 20
	cfg.LogEvery = 1
	cfg.CheckpointEvery = 5
	cfg.KeepCheckpoints = 3
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{}); err != nil {
		t.Fatal(err)
	}
	want := readMetrics(t, ws.Runs(schemas.StageDCPT))

	for _, broken := range []string{"checkpoint-n0000000-step-00000010.bin", "checkpoint-n0000000-step-00000010.json", metricStateFile} {
		t.Run(broken, func(t *testing.T) {
			runDir := ws.Runs(schemas.StageDCPT)
			if _, err := Train(ws, cfg, schemas.StageDCPT, Options{StopAfter: 12}); err != nil {
				t.Fatal(err)
			}
			newest := filepath.Join(runDir, checkpointsDir, "step-00000010")
			path := filepath.Join(newest, broken)
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, st.Size()/2); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			if _, err := Train(ws, cfg, schemas.StageDCPT, Options{Resume: true, Log: log}); err != nil {
				t.Fatalf("resume with a broken newest checkpoint: %v", err)
			}
			if !strings.Contains(logs.String(), "skipped") || !strings.Contains(logs.String(), newest) ||
				!strings.Contains(logs.String(), "step-00000005") {
				t.Errorf("the log does not say which checkpoint was skipped and which was used:\n%s", logs.String())
			}
			if _, err := os.Stat(filepath.Join(runDir, checkpointsDir, skippedPrefix+"step-00000010")); err != nil {
				t.Errorf("the broken checkpoint was not set aside: %v", err)
			}
			got := readMetrics(t, runDir)
			if len(got) != len(want) {
				t.Fatalf("%d metrics lines, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Step != want[i].Step || got[i].Loss != want[i].Loss || got[i].LossAvg != want[i].LossAvg {
					t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}

	// Every checkpoint broken: an error naming them, not a fresh start.
	runDir := ws.Runs(schemas.StageDCPT)
	all, err := listCheckpoints(runDir)
	if err != nil || len(all) == 0 {
		t.Fatal(all, err)
	}
	for _, dir := range all {
		if err := os.Truncate(filepath.Join(dir, metricStateFile), 3); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Train(ws, cfg, schemas.StageDCPT, Options{Resume: true})
	if err == nil || !strings.Contains(err.Error(), "no checkpoint loads") || !strings.Contains(err.Error(), filepath.Base(all[0])) {
		t.Errorf("resume with no loadable checkpoint: %v", err)
	}
}

// TestUnfinishedRunIsRefused: a run stopped before its last step is no
// model: LoadModel and a child stage refuse it, naming the command that
// finishes it, until a resumed run reaches the end.
func TestUnfinishedRunIsRefused(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	cfg.DCPT.Steps = 12
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{StopAfter: 5}); err != nil {
		t.Fatal(err)
	}
	dir := ws.Runs(schemas.StageDCPT)
	if _, err := LoadModel(dir); !errors.Is(err, ErrUnfinished) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("LoadModel of a stopped run: %v, want ErrUnfinished naming --resume", err)
	}
	if _, err := Train(ws, cfg, schemas.StageSFT, Options{}); !errors.Is(err, ErrUnfinished) {
		t.Fatalf("SFT from an unfinished DCPT: %v, want ErrUnfinished", err)
	}
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(dir); err != nil {
		t.Fatalf("LoadModel after the resumed run finished: %v", err)
	}
	// No run at all is "missing", which evaluation skips, not "unfinished".
	if _, err := LoadModel(ws.Runs(schemas.StageDPO)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadModel of no run: %v, want not-exist", err)
	}
}
