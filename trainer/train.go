package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // gomlx idiom
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

// MetricsLine is one line of runs/<stage>/metrics.jsonl.
type MetricsLine struct {
	Step      int      `json:"step"`
	Loss      float64  `json:"loss"`
	LossAvg   float64  `json:"loss_avg"`
	LR        float64  `json:"lr"`
	Tokens    int64    `json:"tokens"`
	TokensSec float64  `json:"tokens_per_s"`
	RewardAcc *float64 `json:"reward_acc,omitempty"`
	Margin    *float64 `json:"margin,omitempty"`
	Chosen    *float64 `json:"chosen_reward,omitempty"`
	Rejected  *float64 `json:"rejected_reward,omitempty"`
}

var parentStage = map[schemas.Stage]schemas.Stage{schemas.StageSFT: schemas.StageDCPT, schemas.StageDPO: schemas.StageSFT}

// Train runs one stage: DCPT from random weights, SFT from the DCPT run,
// DPO from the SFT run, writing runs/<stage>/.
func Train(ws workspace.Dir, cfg Config, stage schemas.Stage, opt Options) (*Result, error) {
	cfg = cfg.WithDefaults()
	sc := cfg.Stage(string(stage))
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runDir := ws.Runs(stage)
	if !opt.Resume {
		if err := os.RemoveAll(runDir); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	latest, err := latestCheckpoint(runDir)
	if err != nil {
		return nil, err
	}

	// Tokenizer and architecture: a resumed run keeps its own; a new DCPT run
	// builds them; SFT and DPO inherit their parent's.
	var tok *Tokenizer
	var info *RunInfo
	parentDir := ""
	if p, ok := parentStage[stage]; ok {
		parentDir = ws.Runs(p)
	}
	switch {
	case latest != "":
		if tok, err = LoadTokenizer(filepath.Join(runDir, TokenizerFile)); err != nil {
			return nil, err
		}
		if info, err = readRunInfo(runDir); err != nil {
			return nil, err
		}
	case stage == schemas.StageDCPT:
		path := ws.StageFile(schemas.StageDCPT, "train")
		if tok, err = BuildTokenizer(readDCPTTexts(path), cfg.MinCharFreq, presets[cfg.Preset].arch.Vocab); err != nil {
			return nil, err
		}
		info = &RunInfo{Stage: string(stage), Preset: cfg.Preset, Seed: cfg.Seed, Arch: archFor(cfg.Preset, tok.Size())}
	default:
		if tok, err = LoadTokenizer(filepath.Join(parentDir, TokenizerFile)); err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
		pi, err := readRunInfo(parentDir)
		if err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
		info = &RunInfo{Stage: string(stage), Preset: pi.Preset, Seed: cfg.Seed, Arch: pi.Arch, Parent: parentDir}
	}
	if latest == "" {
		if err := tok.Save(filepath.Join(runDir, TokenizerFile)); err != nil {
			return nil, err
		}
		if err := writeJSON(filepath.Join(runDir, modelFile), info); err != nil {
			return nil, err
		}
	}
	arch := info.Arch

	ctx := newContext(info.Seed)
	switch {
	case latest != "":
		if err := loadCheckpoint(ctx, latest); err != nil {
			return nil, err
		}
		log.Info("resuming", "stage", stage, "checkpoint", latest)
	case parentDir != "":
		pc, err := latestCheckpoint(parentDir)
		if err != nil {
			return nil, err
		}
		if pc == "" {
			return nil, fmt.Errorf("%s starts from %s, which has no checkpoint: train %s first", stage, parentDir, parentStage[stage])
		}
		if err := loadWeights(ctx, pc); err != nil {
			return nil, err
		}
	}

	s, err := newStageRun(ws, cfg, stage, tok, arch, log)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if sc.Steps == 0 {
		sc.Steps = epochSteps(sc.Epochs, s.examples, sc.Batch)
		log.Info("schedule", "stage", stage, "epochs", sc.Epochs, "examples", s.examples, "steps", sc.Steps)
	}
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	tr := train.NewTrainer(backend, ctx, s.modelFn, s.lossFn,
		optimizers.Adam().LearningRate(sc.LR).Done(), s.metrics, nil)

	step := int(optimizers.GetGlobalStep(ctx))
	if err := trimMetrics(filepath.Join(runDir, metricsFile), step); err != nil {
		return nil, err
	}
	mf, err := os.OpenFile(filepath.Join(runDir, metricsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer mf.Close()

	res := &Result{Stage: stage, Steps: step}
	bar := opt.Bars.Start("train "+string(stage), int64(sc.Steps), false).Unit("steps")
	bar.Add(int64(step))
	defer bar.Finish()
	if err := s.seek(step * sc.Batch); err != nil {
		return nil, err
	}
	start := time.Now()
	taken := 0
	for step < sc.Steps {
		if opt.StopAfter > 0 && taken == opt.StopAfter {
			return res, nil
		}
		inputs, labels, positions, err := s.nextBatch(sc.Batch)
		if err != nil {
			return nil, fmt.Errorf("%s step %d: %w", stage, step+1, err)
		}
		out, err := tr.TrainStep(nil, inputs, labels)
		if err != nil {
			return nil, fmt.Errorf("%s step %d: %w", stage, step+1, err)
		}
		step++
		taken++
		res.Tokens += positions
		res.Steps = step
		res.Loss = scalar(out[0])
		if math.IsNaN(res.Loss) {
			return nil, fmt.Errorf("%s step %d: loss is NaN (lower train.%s.lr)", stage, step, stage)
		}
		bar.Add(1)
		res.Seconds = time.Since(start).Seconds()
		res.TokensSec = float64(res.Tokens) / res.Seconds
		if step%cfg.LogEvery == 0 || step == sc.Steps {
			line := MetricsLine{Step: step, Loss: res.Loss, LossAvg: scalar(out[1]), LR: sc.LR,
				Tokens: int64(step) * positions, TokensSec: res.TokensSec}
			if n := len(s.metrics); n == 4 {
				// gomlx puts its three loss metrics first, then ours.
				d := out[len(out)-n:]
				acc, mar, ch, rj := scalar(d[0]), scalar(d[1]), scalar(d[2]), scalar(d[3])
				line.RewardAcc, line.Margin, line.Chosen, line.Rejected = &acc, &mar, &ch, &rj
			}
			if err := appendLine(mf, line); err != nil {
				return nil, err
			}
			log.Info("step", "stage", stage, "step", step, "loss", fmt.Sprintf("%.4f", res.Loss),
				"tokens/s", fmt.Sprintf("%.0f", res.TokensSec))
		}
		if step%cfg.CheckpointEvery == 0 || step == sc.Steps {
			if err := saveCheckpoint(ctx, runDir, int64(step), cfg.KeepCheckpoints); err != nil {
				return nil, err
			}
		}
	}
	if latest, _ := latestCheckpoint(runDir); latest == "" {
		// steps: 0 — keep the starting weights as the run's model.
		if err := saveCheckpoint(ctx, runDir, int64(step), cfg.KeepCheckpoints); err != nil {
			return nil, err
		}
	}
	return res, nil
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

// stageRun is what differs between stages: the data, the graph's inputs and
// the loss.
type stageRun struct {
	arch      Arch
	beta      float64
	seqs      *exampleStream[sequence] // DCPT, SFT: streamed from the stage file
	pairs     []preferencePair         // DPO
	pairOrder *exampleStream[int]      // DPO: the order of pairs
	refLogp   [][2]float32             // DPO: reference log-probs of (chosen, rejected)
	examples  int
	metrics   []metrics.Interface
}

func newStageRun(ws workspace.Dir, cfg Config, stage schemas.Stage, tok *Tokenizer, arch Arch, log *slog.Logger) (*stageRun, error) {
	s := &stageRun{arch: arch, beta: cfg.DPO.Beta}
	T := arch.Context
	path := ws.StageFile(stage, "train")
	seed := cfg.Seed ^ uint64(len(stage))<<32
	var err error
	switch stage {
	case schemas.StageDCPT:
		// The sequences stream from the file each epoch; a first pass counts
		// them from the token count, so epochs convert to steps up front.
		pass := func(r *rand.Rand) iter.Seq2[sequence, error] { return packDocuments(tok, T, readDCPTTextsIn(path, r)) }
		s.examples, err = packedCount(tok, T, readDCPTTexts(path))
		s.seqs = newExampleStream(path, s.examples, cfg.ShuffleBuffer, seed, pass)
	case schemas.StageSFT:
		pass := func(r *rand.Rand) iter.Seq2[sequence, error] { return sftSequences(tok, T, readSFTChats(path, r)) }
		s.examples, err = count(pass(nil))
		s.seqs = newExampleStream(path, s.examples, cfg.ShuffleBuffer, seed, pass)
	case schemas.StageDPO:
		if s.pairs, err = dpoPairs(tok, T, readDPORows(ws)); err != nil {
			return nil, err
		}
		s.examples = len(s.pairs)
		s.pairOrder = newExampleStream(path, s.examples, cfg.ShuffleBuffer, seed, indexes(s.examples))
		if s.examples > 0 {
			ref, err := LoadModel(ws.Runs(schemas.StageSFT))
			if err != nil {
				return nil, fmt.Errorf("dpo reference: %w", err)
			}
			log.Info("reference log-probs", "pairs", len(s.pairs))
			if s.refLogp, err = ref.pairLogProbs(s.pairs); err != nil {
				return nil, err
			}
		}
		s.metrics = s.dpoMetrics()
	default:
		return nil, fmt.Errorf("unknown stage %q (want dcpt, sft or dpo)", stage)
	}
	if err != nil {
		return nil, err
	}
	if s.examples == 0 {
		return nil, errNoData(string(stage), path)
	}
	return s, nil
}

// seek positions the run's data at example k (step × batch), as an
// uninterrupted run would have reached it.
func (s *stageRun) seek(k int) error {
	if s.seqs != nil {
		return s.seqs.seek(k)
	}
	return s.pairOrder.seek(k)
}

// close releases the open stage file.
func (s *stageRun) close() {
	if s.seqs != nil {
		s.seqs.close()
	}
	if s.pairOrder != nil {
		s.pairOrder.close()
	}
}

// nextBatch takes the next size examples of the run's data order and
// assembles the tensors of one step.
func (s *stageRun) nextBatch(size int) (inputs, labels []*tensors.Tensor, positions int64, err error) {
	if s.seqs != nil {
		seqs, err := s.seqs.batch(size)
		if err != nil {
			return nil, nil, 0, err
		}
		tok, tgt, w := batchTensors(seqs)
		return []*tensors.Tensor{tok, tgt, w}, []*tensors.Tensor{w}, int64(len(seqs) * s.arch.Context), nil
	}
	idx, err := s.pairOrder.batch(size)
	if err != nil {
		return nil, nil, 0, err
	}
	inputs, labels, positions = s.pairBatch(idx)
	return inputs, labels, positions, nil
}

// pairBatch assembles the tensors of a DPO step and counts its positions.
func (s *stageRun) pairBatch(idx []int) (inputs, labels []*tensors.Tensor, positions int64) {
	// DPO: the chosen sequences, then the rejected ones, as one batch.
	seqs := make([]sequence, 2*len(idx))
	ref := make([]float32, 2*len(idx))
	for i, k := range idx {
		seqs[i], seqs[len(idx)+i] = s.pairs[k].chosen, s.pairs[k].rejected
		ref[i], ref[len(idx)+i] = s.refLogp[k][0], s.refLogp[k][1]
	}
	tok, tgt, w := batchTensors(seqs)
	return []*tensors.Tensor{tok, tgt, w}, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(ref, len(ref))},
		int64(len(seqs) * s.arch.Context)
}

// modelFn is the train.ModelFn: inputs are tokens, targets, weights [B, T].
// Causal LM stages predict per-position target log-probs [B, T]; DPO
// predicts each sequence's summed response log-prob [B].
func (s *stageRun) modelFn(ctx *context.Context, _ any, inputs []*Node) []*Node {
	tlp := tokenLogProbs(ctx, s.arch, inputs[0], inputs[1])
	if s.pairs == nil {
		return []*Node{tlp}
	}
	return []*Node{ReduceSum(Mul(tlp, inputs[2]), -1)}
}

// lossFn: the masked mean NLL for DCPT and SFT (labels = [weights]); the DPO
// loss −log σ(β((πc−rc) − (πr−rr))) for DPO (labels = [reference log-probs]).
func (s *stageRun) lossFn(labels, predictions []*Node) *Node {
	if s.pairs == nil {
		return maskedMeanNLL(predictions[0], labels[0])
	}
	return ReduceAllMean(Softplus(Neg(s.dpoLogits(labels, predictions, 1, -1))))
}

// dpoLogits is β·(wc·(πc−rc) + wr·(πr−rr)) per pair.
func (s *stageRun) dpoLogits(labels, predictions []*Node, wc, wr float64) *Node {
	d := Sub(predictions[0], labels[0]) // [2B]: policy − reference
	B := d.Shape().Dimensions[0] / 2
	d = Reshape(d, 2, B)
	// Chosen and rejected are combined by a weighted sum over the first axis
	// rather than sliced apart, since simplego cannot differentiate Slice.
	w := Const(d.Graph(), [][]float32{{float32(wc)}, {float32(wr)}})
	return MulScalar(ReduceSum(Mul(d, w), 0), s.beta)
}

func (s *stageRun) dpoMetrics() []metrics.Interface {
	mean := func(name string, fn func(labels, predictions []*Node) *Node) metrics.Interface {
		return metrics.NewBaseMetric(name, name, "dpo", func(_ *context.Context, labels, predictions []*Node) *Node {
			return fn(labels, predictions)
		}, nil)
	}
	return []metrics.Interface{
		mean("reward_acc", func(l, p []*Node) *Node {
			return ReduceAllMean(ConvertDType(GreaterThan(s.dpoLogits(l, p, 1, -1), ScalarZero(p[0].Graph(), dtypes.Float32)), dtypes.Float32))
		}),
		mean("margin", func(l, p []*Node) *Node { return ReduceAllMean(s.dpoLogits(l, p, 1, -1)) }),
		mean("chosen_reward", func(l, p []*Node) *Node { return ReduceAllMean(s.dpoLogits(l, p, 1, 0)) }),
		mean("rejected_reward", func(l, p []*Node) *Node { return ReduceAllMean(s.dpoLogits(l, p, 0, 1)) }),
	}
}
