package trainer

import (
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // gomlx idiom
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/metrics"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers/cosineschedule"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// objective is what differs between stages as they train: the examples,
// the graph's outputs, the loss and the metrics logged beside it. A stage's
// schemas.Objective picks one; its schemas.Shape says how its rows become
// examples.
type objective interface {
	// examples is how many examples one epoch holds.
	examples() int
	// seek positions the data at example k (step × batch), as an
	// uninterrupted run would have reached it.
	seek(k int) error
	// nextBatch takes the next size examples and assembles one step's
	// tensors, and counts its positions.
	nextBatch(size int) (inputs, labels []*tensors.Tensor, positions int64, err error)
	modelFn(ctx *context.Context, spec any, inputs []*Node) []*Node
	lossFn(labels, predictions []*Node) *Node
	// metrics are logged under their ShortName (see MetricsLine.set).
	metrics() []metrics.Interface
	close()
}

// newObjective opens a stage's training data under its objective.
func newObjective(ws workspace.Dir, cfg Config, spec schemas.StageSpec, tok *Tokenizer, arch Arch, log *slog.Logger) (objective, error) {
	path := ws.StageFile(spec.Name, "train")
	seed := cfg.Seed ^ uint64(len(spec.Name))<<32
	var (
		obj objective
		err error
	)
	switch {
	case spec.Objective == schemas.ObjectiveLM && spec.Shape != schemas.ShapePair:
		obj, err = newLMObjective(path, cfg, spec, tok, arch, seed)
	case spec.Objective == schemas.ObjectivePreference && spec.Shape == schemas.ShapePair:
		obj, err = newPreferenceObjective(ws, cfg, spec, tok, arch, seed, log)
	default:
		return nil, fmt.Errorf("stage %s: no %q objective over %q rows", spec.Name, spec.Objective, spec.Shape)
	}
	if err != nil {
		return nil, err
	}
	if obj.examples() == 0 {
		obj.close()
		return nil, fmt.Errorf("%w: %w", ErrNoData, errNoData(string(spec.Name), path))
	}
	return obj, nil
}

// lmObjective is the language-model loss (DCPT, SFT, adapt): the masked
// mean NLL of the tokens a sequence teaches, over sequences streamed from
// the stage file each epoch.
type lmObjective struct {
	arch Arch
	seqs *exampleStream[sequence]
	n    int
}

func newLMObjective(path string, cfg Config, spec schemas.StageSpec, tok *Tokenizer, arch Arch, seed uint64) (*lmObjective, error) {
	T := arch.Context
	o := &lmObjective{arch: arch}
	var pass func(r *rand.Rand) iter.Seq2[sequence, error]
	var err error
	switch spec.Shape {
	case schemas.ShapeText:
		// The sequences stream from the file each epoch; a first pass counts
		// them from the token count, so epochs convert to steps up front.
		pass = func(r *rand.Rand) iter.Seq2[sequence, error] { return packDocuments(tok, T, readDCPTTextsIn(path, r)) }
		o.n, err = packedCount(tok, T, readDCPTTexts(path))
	case schemas.ShapeChat:
		fit := sftSequences
		if spec.AnswerFirst {
			fit = answerFirstSequences
		}
		pass = func(r *rand.Rand) iter.Seq2[sequence, error] { return fit(tok, T, readSFTChats(path, r)) }
		o.n, err = count(pass(nil))
	default:
		return nil, fmt.Errorf("stage %s: no language-model data from %q rows", spec.Name, spec.Shape)
	}
	if err != nil {
		return nil, err
	}
	o.seqs = newExampleStream(path, o.n, cfg.ShuffleBuffer, seed, pass)
	return o, nil
}

func (o *lmObjective) examples() int                  { return o.n }
func (o *lmObjective) seek(k int) error               { return o.seqs.seek(k) }
func (o *lmObjective) metrics() []metrics.Interface   { return nil }
func (o *lmObjective) close()                         { o.seqs.close() }
func (o *lmObjective) lossFn(labels, p []*Node) *Node { return maskedMeanNLL(p[0], labels[0]) }

func (o *lmObjective) nextBatch(size int) (inputs, labels []*tensors.Tensor, positions int64, err error) {
	seqs, err := o.seqs.batch(size)
	if err != nil {
		return nil, nil, 0, err
	}
	tok, tgt, w := batchTensors(seqs)
	return []*tensors.Tensor{tok, tgt, w}, []*tensors.Tensor{w}, int64(len(seqs) * o.arch.Context), nil
}

// modelFn: inputs are tokens, targets, weights [B, T]; the prediction is
// the per-position target log-prob [B, T] (labels = [weights]).
func (o *lmObjective) modelFn(ctx *context.Context, _ any, inputs []*Node) []*Node {
	return []*Node{tokenLogProbs(ctx, o.arch, inputs[0], inputs[1])}
}

// preferenceObjective is the train.dpo.loss objective over preference
// pairs, held in memory since their reference log-probabilities (the
// parent stage's model) are computed up front.
type preferenceObjective struct {
	arch      Arch
	dpo       DPOConfig
	pairs     []preferencePair
	pairOrder *exampleStream[int]
	refLogp   [][2]float32 // reference log-probs of (chosen, rejected); nil if reference-free
	ms        []metrics.Interface
}

func newPreferenceObjective(ws workspace.Dir, cfg Config, spec schemas.StageSpec, tok *Tokenizer, arch Arch, seed uint64, log *slog.Logger) (*preferenceObjective, error) {
	o := &preferenceObjective{arch: arch, dpo: cfg.DPO}
	var err error
	if o.pairs, err = dpoPairs(tok, arch.Context, readPairRows(ws, spec.Name)); err != nil {
		return nil, err
	}
	o.pairOrder = newExampleStream(ws.StageFile(spec.Name, "train"), len(o.pairs), cfg.ShuffleBuffer, seed, indexes(len(o.pairs)))
	if o.dpo.referenceFree() {
		log.Info("reference-free loss: no reference pass", "loss", o.dpo.Loss)
	} else if len(o.pairs) > 0 {
		if spec.Parent == "" {
			return nil, fmt.Errorf("stage %s: the %s loss needs a reference model, and the stage has no parent", spec.Name, o.dpo.Loss)
		}
		ref, err := LoadModel(ws.Runs(spec.Parent))
		if err != nil {
			return nil, fmt.Errorf("%s reference: %w", spec.Name, err)
		}
		log.Info("reference log-probs", "pairs", len(o.pairs))
		if o.refLogp, err = ref.pairLogProbs(o.pairs); err != nil {
			return nil, err
		}
	}
	o.ms = o.dpoMetrics()
	return o, nil
}

func (o *preferenceObjective) examples() int                { return len(o.pairs) }
func (o *preferenceObjective) seek(k int) error             { return o.pairOrder.seek(k) }
func (o *preferenceObjective) metrics() []metrics.Interface { return o.ms }
func (o *preferenceObjective) close()                       { o.pairOrder.close() }

func (o *preferenceObjective) nextBatch(size int) (inputs, labels []*tensors.Tensor, positions int64, err error) {
	idx, err := o.pairOrder.batch(size)
	if err != nil {
		return nil, nil, 0, err
	}
	inputs, labels, positions = o.pairBatch(idx)
	return inputs, labels, positions, nil
}

// pairBatch assembles the tensors of a DPO step and counts its positions.
func (o *preferenceObjective) pairBatch(idx []int) (inputs, labels []*tensors.Tensor, positions int64) {
	// The chosen sequences, then the rejected ones, as one batch.
	seqs := make([]sequence, 2*len(idx))
	ref := make([]float32, 2*len(idx))
	for i, k := range idx {
		seqs[i], seqs[len(idx)+i] = o.pairs[k].chosen, o.pairs[k].rejected
		if o.refLogp != nil {
			ref[i], ref[len(idx)+i] = o.refLogp[k][0], o.refLogp[k][1]
		}
	}
	tok, tgt, w := batchTensors(seqs)
	return []*tensors.Tensor{tok, tgt, w}, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(ref, len(ref))},
		int64(len(seqs) * o.arch.Context)
}

// modelFn predicts each sequence's summed response log-prob [B], and its
// response length [B] when the loss needs per-token means.
func (o *preferenceObjective) modelFn(ctx *context.Context, _ any, inputs []*Node) []*Node {
	tlp := tokenLogProbs(ctx, o.arch, inputs[0], inputs[1])
	sum := ReduceSum(Mul(tlp, inputs[2]), -1)
	if !o.needsLength() {
		return []*Node{sum}
	}
	n := StopGradient(ReduceSum(inputs[2], -1))
	return []*Node{sum, Max(n, ScalarOne(n.Graph(), n.DType()))}
}

// needsLength tells whether the DPO loss or its metrics use per-token means.
func (o *preferenceObjective) needsLength() bool {
	return o.dpo.meanLogps() || o.dpo.FTX > 0
}

// lossFn is the train.dpo.loss objective (labels = [reference log-probs]).
func (o *preferenceObjective) lossFn(labels, predictions []*Node) *Node {
	var chosenMean *Node
	if o.dpo.FTX > 0 {
		chosenMean = pairCombine(o.policyMeans(predictions), 1, 0)
	}
	return dpoObjective(o.dpo, o.dpoRatios(labels, predictions), chosenMean)
}

// policyLogps is each response's policy log-prob [2B] as the loss compares
// them: per-token means for ipo, simpo and orpo, sums for sigmoid.
func (o *preferenceObjective) policyLogps(predictions []*Node) *Node {
	if o.dpo.meanLogps() {
		return Div(predictions[0], predictions[1])
	}
	return predictions[0]
}

// policyMeans is each response's per-token mean policy log-prob [2B].
func (o *preferenceObjective) policyMeans(predictions []*Node) *Node {
	return Div(predictions[0], predictions[1])
}

// dpoRatios is what the rewards are β times, per response [2B]: log π −
// log π_ref for the losses with a reference, log π for the reference-free
// ones.
func (o *preferenceObjective) dpoRatios(labels, predictions []*Node) *Node {
	if o.dpo.referenceFree() {
		return o.policyLogps(predictions)
	}
	d := Sub(predictions[0], labels[0]) // policy − reference, summed
	if o.dpo.meanLogps() {
		d = Div(d, predictions[1])
	}
	return d
}

// dpoMetrics are the step's DPO metrics under TRL's names (see MetricsLine).
func (o *preferenceObjective) dpoMetrics() []metrics.Interface {
	mean := func(name string, fn func(labels, predictions []*Node) *Node) metrics.Interface {
		return metrics.NewBaseMetric(name, name, "dpo", func(_ *context.Context, labels, predictions []*Node) *Node {
			return fn(labels, predictions)
		}, nil)
	}
	beta := o.dpo.Beta
	reward := func(wc, wr float64) func(l, p []*Node) *Node {
		return func(l, p []*Node) *Node {
			return ReduceAllMean(MulScalar(pairCombine(o.dpoRatios(l, p), wc, wr), beta))
		}
	}
	logps := func(wc, wr float64) func(l, p []*Node) *Node {
		return func(_, p []*Node) *Node { return ReduceAllMean(pairCombine(o.policyLogps(p), wc, wr)) }
	}
	ms := []metrics.Interface{
		mean("rewards/accuracies", func(l, p []*Node) *Node {
			margin := MulScalar(pairCombine(o.dpoRatios(l, p), 1, -1), beta)
			return ReduceAllMean(ConvertDType(GreaterThan(margin, ScalarZero(p[0].Graph(), dtypes.Float32)), dtypes.Float32))
		}),
		mean("rewards/margins", reward(1, -1)),
		mean("rewards/chosen", reward(1, 0)),
		mean("rewards/rejected", reward(0, 1)),
		mean("logps/chosen", logps(1, 0)),
		mean("logps/rejected", logps(0, 1)),
	}
	if o.dpo.FTX > 0 || o.dpo.Loss == LossORPO {
		ms = append(ms, mean("sft_loss", func(_, p []*Node) *Node {
			return Neg(ReduceAllMean(pairCombine(o.policyMeans(p), 1, 0)))
		}))
	}
	return ms
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

// scheduled adds the stage's learning-rate schedule to a model graph: with
// train.<stage>.schedule cosine, gomlx's cosineschedule sets the optimizer's
// rate each step, falling from lr to lr·cosineFloor over the stage's steps
// (steps resolved). Its step counter lives outside the model's scope, so a
// child stage starting from these weights starts its own schedule.
func scheduled(modelFn train.ModelFn, sc StageConfig) train.ModelFn {
	if sc.Schedule != ScheduleCosine {
		return modelFn
	}
	return func(ctx *context.Context, spec any, inputs []*Node) []*Node {
		cosineschedule.New(ctx, inputs[0].Graph(), dtypes.Float32).LearningRate(sc.LR).
			MinLearningRate(sc.LR * cosineFloor).PeriodSteps(sc.Steps).Done()
		return modelFn(ctx, spec, inputs)
	}
}
