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
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers/cosineschedule"

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
	Step      int     `json:"step"`
	Loss      float64 `json:"loss"`
	LossAvg   float64 `json:"loss_avg"`
	LR        float64 `json:"lr"`
	Tokens    int64   `json:"tokens"`
	TokensSec float64 `json:"tokens_per_s"`

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
	// Until the last step is saved the run is unfinished, resumed or not.
	if err := os.Remove(filepath.Join(runDir, doneFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
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
		if err := checkDone(parentDir); err != nil {
			return nil, fmt.Errorf("%s starts from %s: %w", stage, parentDir, err)
		}
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
		if latest, err = resumeCheckpoint(ctx, runDir, log); err != nil {
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
	s.sched = sc
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	tr := train.NewTrainer(backend, ctx, s.modelFn, s.lossFn,
		optimizers.Adam().LearningRate(sc.LR).Done(), s.metrics, nil)
	if latest != "" {
		if err := restoreMetricState(ctx, tr, latest); err != nil {
			return nil, err
		}
	}

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
			line := MetricsLine{Step: step, Loss: res.Loss, LossAvg: scalar(out[1]), LR: sc.lrAt(step - 1),
				Tokens: int64(step) * positions, TokensSec: res.TokensSec}
			// gomlx puts its loss metrics first, then ours.
			for i, m := range s.metrics {
				line.set(m.ShortName(), scalar(out[len(out)-len(s.metrics)+i]))
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
	if err := writeJSON(filepath.Join(runDir, doneFile), runDone{Steps: step}); err != nil {
		return nil, err
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
	dpo       DPOConfig
	seqs      *exampleStream[sequence] // DCPT, SFT: streamed from the stage file
	pairs     []preferencePair         // DPO
	pairOrder *exampleStream[int]      // DPO: the order of pairs
	refLogp   [][2]float32             // DPO: reference log-probs of (chosen, rejected); nil if reference-free
	examples  int
	metrics   []metrics.Interface
	sched     StageConfig // the stage's schedule, steps resolved
}

func newStageRun(ws workspace.Dir, cfg Config, stage schemas.Stage, tok *Tokenizer, arch Arch, log *slog.Logger) (*stageRun, error) {
	s := &stageRun{arch: arch, dpo: cfg.DPO}
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
		if s.dpo.referenceFree() {
			log.Info("reference-free loss: no reference pass", "loss", s.dpo.Loss)
		} else if s.examples > 0 {
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
		if s.refLogp != nil {
			ref[i], ref[len(idx)+i] = s.refLogp[k][0], s.refLogp[k][1]
		}
	}
	tok, tgt, w := batchTensors(seqs)
	return []*tensors.Tensor{tok, tgt, w}, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(ref, len(ref))},
		int64(len(seqs) * s.arch.Context)
}

// modelFn is the train.ModelFn: inputs are tokens, targets, weights [B, T].
// Causal LM stages predict per-position target log-probs [B, T]; DPO
// predicts each sequence's summed response log-prob [B], and its response
// length [B] when the loss needs per-token means.
func (s *stageRun) modelFn(ctx *context.Context, _ any, inputs []*Node) []*Node {
	if s.sched.Schedule == ScheduleCosine {
		cosineschedule.New(ctx, inputs[0].Graph(), dtypes.Float32).LearningRate(s.sched.LR).
			MinLearningRate(s.sched.LR * cosineFloor).PeriodSteps(s.sched.Steps).Done()
	}
	tlp := tokenLogProbs(ctx, s.arch, inputs[0], inputs[1])
	if s.pairs == nil {
		return []*Node{tlp}
	}
	sum := ReduceSum(Mul(tlp, inputs[2]), -1)
	if !s.needsLength() {
		return []*Node{sum}
	}
	n := StopGradient(ReduceSum(inputs[2], -1))
	return []*Node{sum, Max(n, ScalarOne(n.Graph(), n.DType()))}
}

// needsLength tells whether the DPO loss or its metrics use per-token means.
func (s *stageRun) needsLength() bool {
	return s.dpo.meanLogps() || s.dpo.FTX > 0
}

// lossFn: the masked mean NLL for DCPT and SFT (labels = [weights]); the
// train.dpo.loss objective for DPO (labels = [reference log-probs]).
func (s *stageRun) lossFn(labels, predictions []*Node) *Node {
	if s.pairs == nil {
		return maskedMeanNLL(predictions[0], labels[0])
	}
	var chosenMean *Node
	if s.dpo.FTX > 0 {
		chosenMean = pairCombine(s.policyMeans(predictions), 1, 0)
	}
	return dpoObjective(s.dpo, s.dpoRatios(labels, predictions), chosenMean)
}

// policyLogps is each response's policy log-prob [2B] as the loss compares
// them: per-token means for ipo, simpo and orpo, sums for sigmoid.
func (s *stageRun) policyLogps(predictions []*Node) *Node {
	if s.dpo.meanLogps() {
		return Div(predictions[0], predictions[1])
	}
	return predictions[0]
}

// policyMeans is each response's per-token mean policy log-prob [2B].
func (s *stageRun) policyMeans(predictions []*Node) *Node {
	return Div(predictions[0], predictions[1])
}

// dpoRatios is what the rewards are β times, per response [2B]: log π −
// log π_ref for the losses with a reference, log π for the reference-free
// ones.
func (s *stageRun) dpoRatios(labels, predictions []*Node) *Node {
	if s.dpo.referenceFree() {
		return s.policyLogps(predictions)
	}
	d := Sub(predictions[0], labels[0]) // policy − reference, summed
	if s.dpo.meanLogps() {
		d = Div(d, predictions[1])
	}
	return d
}

// pairCombine is wc·chosen + wr·rejected per pair, from x [2B] holding the
// chosen responses, then the rejected ones. Chosen and rejected are
// combined by a weighted sum over the first axis rather than sliced apart,
// since simplego cannot differentiate Slice.
func pairCombine(x *Node, wc, wr float64) *Node {
	B := x.Shape().Dimensions[0] / 2
	w := Const(x.Graph(), [][]float32{{float32(wc)}, {float32(wr)}})
	return ReduceSum(Mul(Reshape(x, 2, B), w), 0)
}

// orpoLogpCap keeps a per-token mean log-prob below 0 in ORPO's
// log(1 − p): a response the model is certain of would make it −∞.
const orpoLogpCap = -1e-5

// preferenceLoss is the mean over pairs of cfg.Loss, given ratios [2B]
// (chosen, then rejected) from dpoRatios. The formulas are TRL's dpo_loss
// and LLaMA-Factory's simpo_loss and odds_ratio_loss, with h = ratio of
// chosen − ratio of rejected:
//
//	sigmoid  (1−ε)·softplus(−β·h) + ε·softplus(β·h)
//	ipo      (h − 1/(2β))²
//	simpo    softplus(−(β·h − γ))
//	orpo     −log p_c + β·softplus(−(h − log(1−p_c) + log(1−p_r)))
func preferenceLoss(cfg DPOConfig, ratios *Node) *Node {
	h := pairCombine(ratios, 1, -1)
	switch cfg.Loss {
	case LossIPO:
		return ReduceAllMean(Square(AddScalar(h, -1/(2*cfg.Beta))))
	case LossSimPO:
		return ReduceAllMean(Softplus(Neg(AddScalar(MulScalar(h, cfg.Beta), -cfg.gamma()))))
	case LossORPO:
		capped := func(lp *Node) *Node { return Min(lp, Scalar(lp.Graph(), lp.DType(), orpoLogpCap)) }
		log1mp := func(lp *Node) *Node { return Log1p(Neg(Exp(capped(lp)))) }
		c, r := pairCombine(ratios, 1, 0), pairCombine(ratios, 0, 1)
		logOdds := Sub(h, Sub(log1mp(c), log1mp(r)))
		return ReduceAllMean(Add(Neg(c), MulScalar(Softplus(Neg(logOdds)), cfg.Beta)))
	}
	z := MulScalar(h, cfg.Beta)
	if cfg.LabelSmoothing == 0 {
		return ReduceAllMean(Softplus(Neg(z)))
	}
	eps := cfg.LabelSmoothing
	return ReduceAllMean(Add(MulScalar(Softplus(Neg(z)), 1-eps), MulScalar(Softplus(z), eps)))
}

// dpoObjective is the preference loss plus ftx times the SFT loss, the mean
// NLL per token of the chosen responses (chosenMeanLogp [B], used only
// when ftx > 0), as LLaMA-Factory's pref_ftx adds it.
func dpoObjective(cfg DPOConfig, ratios, chosenMeanLogp *Node) *Node {
	loss := preferenceLoss(cfg, ratios)
	if cfg.FTX > 0 {
		loss = Add(loss, MulScalar(Neg(ReduceAllMean(chosenMeanLogp)), cfg.FTX))
	}
	return loss
}

// dpoMetrics are the step's DPO metrics under TRL's names (see MetricsLine).
func (s *stageRun) dpoMetrics() []metrics.Interface {
	mean := func(name string, fn func(labels, predictions []*Node) *Node) metrics.Interface {
		return metrics.NewBaseMetric(name, name, "dpo", func(_ *context.Context, labels, predictions []*Node) *Node {
			return fn(labels, predictions)
		}, nil)
	}
	beta := s.dpo.Beta
	reward := func(wc, wr float64) func(l, p []*Node) *Node {
		return func(l, p []*Node) *Node {
			return ReduceAllMean(MulScalar(pairCombine(s.dpoRatios(l, p), wc, wr), beta))
		}
	}
	logps := func(wc, wr float64) func(l, p []*Node) *Node {
		return func(_, p []*Node) *Node { return ReduceAllMean(pairCombine(s.policyLogps(p), wc, wr)) }
	}
	ms := []metrics.Interface{
		mean("rewards/accuracies", func(l, p []*Node) *Node {
			margin := MulScalar(pairCombine(s.dpoRatios(l, p), 1, -1), beta)
			return ReduceAllMean(ConvertDType(GreaterThan(margin, ScalarZero(p[0].Graph(), dtypes.Float32)), dtypes.Float32))
		}),
		mean("rewards/margins", reward(1, -1)),
		mean("rewards/chosen", reward(1, 0)),
		mean("rewards/rejected", reward(0, 1)),
		mean("logps/chosen", logps(1, 0)),
		mean("logps/rejected", logps(0, 1)),
	}
	if s.dpo.FTX > 0 || s.dpo.Loss == LossORPO {
		ms = append(ms, mean("sft_loss", func(_, p []*Node) *Node {
			return Neg(ReduceAllMean(pairCombine(s.policyMeans(p), 1, 0)))
		}))
	}
	return ms
}
