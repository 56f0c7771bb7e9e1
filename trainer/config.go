// Package trainer trains a small decoder-only transformer with gomlx through
// DCPT, SFT and DPO on the stage files (the Qilin-Med recipe), saves each
// stage's run under runs/<stage>/, and serves the trained model to
// evaluation: log-likelihoods, continuation scores and generation.
package trainer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// Config is the `train:` section of chimed.yaml. Zero values take the
// preset's defaults.
type Config struct {
	// Preset names the model size: tiny (tests), small (the demo) or ref
	// (the benchmark model: vocab 6000, context 128, d 256, 4 layers, 4 heads).
	Preset string `yaml:"preset"`
	// Seed fixes initial weights, data order and sampling.
	Seed uint64 `yaml:"seed"`
	// MinCharFreq is the tokenizer's frequency floor: rarer characters are
	// spelled as UTF-8 bytes.
	MinCharFreq int `yaml:"min_char_freq"`
	// CheckpointEvery saves a checkpoint every this many steps (and at the end).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// KeepCheckpoints is how many checkpoints each run keeps.
	KeepCheckpoints int `yaml:"keep_checkpoints"`
	// LogEvery writes a metrics.jsonl line every this many steps.
	LogEvery int `yaml:"log_every"`
	// ShuffleBuffer is how many training examples the shuffle buffer holds
	// while the stage file streams: larger mixes the data more, memory
	// grows with it and not with the data.
	ShuffleBuffer int `yaml:"shuffle_buffer"`

	DCPT StageConfig `yaml:"dcpt"`
	SFT  StageConfig `yaml:"sft"`
	DPO  DPOConfig   `yaml:"dpo"`
	// Adapt is the task-adaptation stage's schedule (exam questions, from
	// the SFT model).
	Adapt StageConfig `yaml:"adapt"`

	// Generate is how the trained model decodes (evaluation, dpo-negatives
	// use Negatives instead).
	Generate SamplingConfig `yaml:"generate"`
	// Negatives configures `chimed dpo-negatives`.
	Negatives NegativesConfig `yaml:"dpo_negatives"`
}

// StageConfig is one training stage's schedule: a fixed number of Steps, or
// Epochs over the stage's training data (each sequence seen that many times
// on average), which keeps "how often is each fact read" fixed as the data
// grows. Steps wins when both are set.
type StageConfig struct {
	Steps  int     `yaml:"steps"`
	Epochs float64 `yaml:"epochs"`
	Batch  int     `yaml:"batch"`
	LR     float64 `yaml:"lr"`
	// Schedule is the learning rate's course: constant, or cosine (annealed
	// from lr down to lr/20 over the stage's steps, gomlx's
	// cosineschedule). Unset takes the preset's.
	Schedule string `yaml:"schedule"`
}

// The learning-rate schedules of StageConfig.Schedule.
const (
	ScheduleConstant = "constant"
	ScheduleCosine   = "cosine"
)

// cosineFloor is where a cosine schedule ends, as a share of lr.
const cosineFloor = 1.0 / 20

// lrAt is the learning rate of the step after `done` steps, as the
// schedule sets it (for metrics.jsonl).
func (s StageConfig) lrAt(done int) float64 {
	if s.Schedule != ScheduleCosine || s.Steps <= 0 {
		return s.LR
	}
	frac := float64(done) / float64(s.Steps)
	frac -= math.Floor(frac)
	lo := s.LR * cosineFloor
	return lo + (s.LR-lo)*(1+math.Cos(math.Pi*frac))/2
}

// The preference losses of train.dpo.loss, named as LLaMA-Factory's
// pref_loss and TRL's loss_type name them.
const (
	LossSigmoid = "sigmoid" // DPO (Rafailov et al.), with optional cDPO label smoothing
	LossIPO     = "ipo"     // IPO (Azar et al.): squared distance to a margin of 1/(2β)
	LossSimPO   = "simpo"   // SimPO (Meng et al.): reference-free, length-normalised, margin γ
	LossORPO    = "orpo"    // ORPO (Hong et al.): reference-free, SFT loss plus β·odds-ratio loss
)

var dpoLosses = []string{LossSigmoid, LossIPO, LossSimPO, LossORPO}

// DPOConfig is the `train.dpo:` section: the stage's schedule plus the
// preference objective, with the keys and meanings users know from
// LLaMA-Factory (pref_beta, pref_loss, pref_ftx, dpo_label_smoothing,
// simpo_gamma) and TRL's DPOTrainer, so a recipe carries over.
type DPOConfig struct {
	StageConfig `yaml:",inline"`
	// Beta is β: for sigmoid and ipo the strength of the pull towards the
	// reference (SFT) model, for simpo the reward scale, for orpo the
	// weight λ of the odds-ratio term. Default 0.1.
	Beta float64 `yaml:"beta"`
	// Loss is the preference objective: sigmoid (default: DPO), ipo, simpo
	// or orpo. ipo, simpo and orpo compare per-token mean log-probs, not
	// sums, as both libraries do; simpo and orpo are reference-free and skip
	// the reference model's pass.
	Loss string `yaml:"loss"`
	// LabelSmoothing is cDPO's ε in [0, 0.5): the assumed share of pairs
	// whose preference label is flipped (sigmoid only). Default 0.
	LabelSmoothing float64 `yaml:"label_smoothing"`
	// FTX weighs the SFT loss (mean NLL per token of the chosen response)
	// added to the preference loss: the usual fix when DPO pushes the chosen
	// answers' likelihood down with the rejected ones. Default 0.
	FTX float64 `yaml:"ftx"`
	// SimPOGamma is SimPO's target reward margin γ (simpo only); unset means
	// 0.5, LLaMA-Factory's and TRL's default. A pointer so that 0 (no
	// margin) can be asked for.
	SimPOGamma *float64 `yaml:"simpo_gamma"`
}

// defaultSimPOGamma is simpo_gamma when unset, as in LLaMA-Factory and TRL.
const defaultSimPOGamma = 0.5

// referenceFree tells whether the loss needs no reference model.
func (d DPOConfig) referenceFree() bool { return d.Loss == LossSimPO || d.Loss == LossORPO }

// meanLogps tells whether the loss compares per-token mean log-probs
// rather than sums (LLaMA-Factory's concatenated_forward, TRL's ipo).
func (d DPOConfig) meanLogps() bool { return d.Loss != LossSigmoid }

// gamma is SimPO's margin with its default.
func (d DPOConfig) gamma() float64 {
	if d.SimPOGamma == nil {
		return defaultSimPOGamma
	}
	return *d.SimPOGamma
}

// SamplingConfig chooses the decoding: greedy when TopK is 0 and TopP is 0
// (or Temperature is 0), else sampling from the top-k / top-p candidates.
type SamplingConfig struct {
	MaxTokens   int     `yaml:"max_tokens"`
	Temperature float64 `yaml:"temperature"`
	TopK        int     `yaml:"top_k"`
	TopP        float64 `yaml:"top_p"`
}

// NegativesConfig configures model-generated rejections for DPO.
type NegativesConfig struct {
	// MaxPairs caps how many prompts are sampled (0: all).
	MaxPairs int            `yaml:"max_pairs"`
	Sampling SamplingConfig `yaml:"sampling"`
}

// Arch is the shape of the transformer, fixed by the preset and the
// tokenizer; it is saved with every run as model.json.
type Arch struct {
	Vocab   int `json:"vocab"`
	Context int `json:"context"`
	Dim     int `json:"dim"`
	Layers  int `json:"layers"`
	Heads   int `json:"heads"`
	FF      int `json:"ff"`
}

type preset struct {
	arch     Arch // Vocab here is the cap on the tokenizer; ref pads up to it
	fixVocab bool // the model's vocab is exactly arch.Vocab (ref: benchmark parity)
	stages   map[string]StageConfig
	beta     float64 // DPO's β
}

var presets = map[string]preset{
	"tiny": {
		arch: Arch{Vocab: 1200, Context: 48, Dim: 48, Layers: 1, Heads: 2, FF: 128},
		stages: map[string]StageConfig{
			"dcpt":  {Steps: 60, Batch: 8, LR: 3e-3},
			"sft":   {Steps: 40, Batch: 8, LR: 2e-3},
			"dpo":   {Steps: 20, Batch: 4, LR: 5e-4},
			"adapt": {Steps: 20, Batch: 8, LR: 1e-3},
		},
		beta: 0.1,
	},
	"small": {
		// Sized for the e2e demo's budget: a step takes about 0.1 CPU-s with
		// the patched executors (internal/gomlxpatch), so the demo's
		// three DCPT epochs (about 1,500 steps), SFT and DPO take a few
		// CPU-minutes. A 128-token context parts fewer facts from their
		// disease name at the edges of packed DCPT windows and fits every
		// demo exam prompt whole (64 cut 8 of the 178 cloze questions).
		arch: Arch{Vocab: 2000, Context: 128, Dim: 64, Layers: 2, Heads: 4, FF: 192},
		stages: map[string]StageConfig{
			// Epochs, not steps, so that every fact is read as often
			// however large the corpus: three lets the small model answer
			// the demo's knowledge exam, and more gained nothing measurable.
			// The cosine decay lets the last epoch settle what the
			// first ones read (knowledge exam +4 points, see the
			// commit that set it). Batch 8 at context 128 keeps the
			// updates per epoch of batch 16 at 64: with half as many the
			// demo's cloze exam fell by 12 points.
			"dcpt": {Epochs: 3, Batch: 8, LR: 2e-3, Schedule: ScheduleCosine},
			"sft":  {Steps: 150, Batch: 16, LR: 1e-3},
			"dpo":  {Steps: 50, Batch: 8, LR: 2e-4},
			// A few epochs over the exam training questions.
			"adapt": {Epochs: 3, Batch: 16, LR: 1e-3},
		},
		beta: 0.1,
	},
	"ref": {
		arch:     Arch{Vocab: 6000, Context: 128, Dim: 256, Layers: 4, Heads: 4, FF: 1024},
		fixVocab: true,
		stages: map[string]StageConfig{
			"dcpt":  {Steps: 1000, Batch: 16, LR: 1e-3},
			"sft":   {Steps: 500, Batch: 16, LR: 5e-4},
			"dpo":   {Steps: 200, Batch: 8, LR: 1e-4},
			"adapt": {Epochs: 3, Batch: 16, LR: 5e-4},
		},
		beta: 0.1,
	},
}

// WithDefaults returns the configuration with every zero value filled from
// the preset.
func (c Config) WithDefaults() Config {
	if c.Preset == "" {
		c.Preset = "small"
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MinCharFreq == 0 {
		c.MinCharFreq = 2
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 100
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = 2
	}
	if c.LogEvery == 0 {
		c.LogEvery = 10
	}
	if c.ShuffleBuffer == 0 {
		c.ShuffleBuffer = 4096
	}
	p := presets[c.Preset]
	fill := func(s *StageConfig, name string) {
		d := p.stages[name]
		if s.Steps == 0 && s.Epochs == 0 {
			s.Steps, s.Epochs = d.Steps, d.Epochs
		}
		if s.Batch == 0 {
			s.Batch = d.Batch
		}
		if s.LR == 0 {
			s.LR = d.LR
		}
		if s.Schedule == "" {
			s.Schedule = cmp.Or(d.Schedule, ScheduleConstant)
		}
	}
	fill(&c.DCPT, "dcpt")
	fill(&c.SFT, "sft")
	fill(&c.DPO.StageConfig, "dpo")
	fill(&c.Adapt, "adapt")
	if c.DPO.Beta == 0 {
		c.DPO.Beta = p.beta
	}
	if c.DPO.Loss == "" {
		c.DPO.Loss = LossSigmoid
	}
	if c.Generate.MaxTokens == 0 {
		c.Generate.MaxTokens = 64
	}
	if c.Negatives.Sampling == (SamplingConfig{}) {
		c.Negatives.Sampling = SamplingConfig{Temperature: 1, TopK: 20, TopP: 0.95}
	}
	if c.Negatives.Sampling.MaxTokens == 0 {
		c.Negatives.Sampling.MaxTokens = 48
	}
	return c
}

// Stage returns the schedule of a stage by name. A stage of the table
// without its own section trains on its parent's schedule.
func (c Config) Stage(name string) StageConfig {
	switch name {
	case "dcpt":
		return c.DCPT
	case "sft":
		return c.SFT
	case "dpo":
		return c.DPO.StageConfig
	case "adapt":
		return c.Adapt
	}
	if sp, ok := schemas.Spec(schemas.Stage(name)); ok && sp.Parent != "" {
		return c.Stage(string(sp.Parent))
	}
	return c.DCPT
}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error {
	if c.Preset != "" {
		if _, ok := presets[c.Preset]; !ok {
			return fmt.Errorf("preset: %q is not one of tiny, small, ref", c.Preset)
		}
	}
	// Keys are checked in a fixed order, so of two mistakes the same one
	// is always reported.
	counts := []struct {
		key string
		v   int
	}{
		{"min_char_freq", c.MinCharFreq}, {"checkpoint_every", c.CheckpointEvery},
		{"keep_checkpoints", c.KeepCheckpoints}, {"log_every", c.LogEvery}, {"shuffle_buffer", c.ShuffleBuffer},
		{"generate.max_tokens", c.Generate.MaxTokens}, {"generate.top_k", c.Generate.TopK},
		{"dpo_negatives.max_pairs", c.Negatives.MaxPairs},
		{"dpo_negatives.sampling.max_tokens", c.Negatives.Sampling.MaxTokens},
		{"dpo_negatives.sampling.top_k", c.Negatives.Sampling.TopK},
	}
	for _, n := range counts {
		if n.v < 0 {
			return fmt.Errorf("%s: %d must not be negative", n.key, n.v)
		}
	}
	stageConfigs := []struct {
		name string
		s    StageConfig
	}{{"dcpt", c.DCPT}, {"sft", c.SFT}, {"dpo", c.DPO.StageConfig}, {"adapt", c.Adapt}}
	for _, st := range stageConfigs {
		s := st.s
		if s.Steps < 0 || s.Epochs < 0 || s.Batch < 0 || s.LR < 0 {
			return fmt.Errorf("%s: steps, epochs, batch and lr must not be negative", st.name)
		}
		if s.Schedule != "" && s.Schedule != ScheduleConstant && s.Schedule != ScheduleCosine {
			return fmt.Errorf("%s.schedule: %q is not one of %s, %s", st.name, s.Schedule, ScheduleConstant, ScheduleCosine)
		}
	}
	if err := c.DPO.validate(); err != nil {
		return fmt.Errorf("dpo.%w", err)
	}
	samplings := []struct {
		key string
		s   SamplingConfig
	}{{"generate", c.Generate}, {"dpo_negatives.sampling", c.Negatives.Sampling}}
	for _, sc := range samplings {
		if s := sc.s; s.TopP < 0 || s.TopP > 1 {
			return fmt.Errorf("%s.top_p: %g is not in [0, 1]", sc.key, s.TopP)
		}
		if sc.s.Temperature < 0 {
			return fmt.Errorf("%s.temperature: %g must not be negative", sc.key, sc.s.Temperature)
		}
	}
	return nil
}

// validate checks the preference keys; errors start with the key's name
// within dpo.
func (d DPOConfig) validate() error {
	if d.Beta < 0 || math.IsNaN(d.Beta) || math.IsInf(d.Beta, 0) {
		return fmt.Errorf("beta: %g must be a non-negative number (0: the default)", d.Beta)
	}
	if d.Loss != "" && !slices.Contains(dpoLosses, d.Loss) {
		return fmt.Errorf("loss: %q is not one of %s", d.Loss, strings.Join(dpoLosses, ", "))
	}
	loss := cmp.Or(d.Loss, LossSigmoid)
	if !(d.LabelSmoothing >= 0 && d.LabelSmoothing < 0.5) {
		return fmt.Errorf("label_smoothing: %g is not in [0, 0.5)", d.LabelSmoothing)
	}
	if d.LabelSmoothing > 0 && loss != LossSigmoid {
		return fmt.Errorf("label_smoothing: applies to loss sigmoid only, not %s", loss)
	}
	if !(d.FTX >= 0) || math.IsInf(d.FTX, 0) {
		return fmt.Errorf("ftx: %g must be a non-negative number", d.FTX)
	}
	if d.SimPOGamma != nil {
		if g := *d.SimPOGamma; !(g >= 0) || math.IsInf(g, 0) {
			return fmt.Errorf("simpo_gamma: %g must be a non-negative number", g)
		}
		if loss != LossSimPO {
			return fmt.Errorf("simpo_gamma: applies to loss simpo only, not %s", loss)
		}
	}
	return nil
}

// archFor is the model shape for a preset and a tokenizer size.
func archFor(presetName string, vocab int) Arch {
	p := presets[presetName]
	a := p.arch
	if !p.fixVocab || vocab > a.Vocab {
		a.Vocab = vocab
	}
	return a
}
