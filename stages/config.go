// Package stages builds the DCPT, SFT and DPO stage files and the held-out
// evaluation sets from clean records, with deterministic, leak-free splits.
//
// What goes where:
//   - DCPT: text documents, one verbalised paragraph per KG head entity and,
//     with dcpt.qa_as_text, QA pairs as text.
//   - SFT: QA pairs, KG→QA pairs, shaped dialogues (package dialogue) and
//     train-role exam questions in a CMExam-style template with answer and
//     explanation.
//   - DPO: preference sources, and exam-derived pairs (chosen: the correct
//     option with its explanation; rejected: a wrong option with a
//     plausible wrong explanation). Model-generated rejections are the
//     trainer's: `chimed dpo-negatives` writes stages/dpo/negatives.parquet
//     from stages/sft/train prompts only, so they never leave the train
//     split; build-stages scans that file in its leakage check, lists it in
//     the manifest, and deletes it when the SFT train split it was made
//     from has changed.
//   - eval/exam.parquet and eval/qa.parquet: exam and QA records (and the
//     first exchange of each dialogue) of sources whose role is eval. No
//     eval-source record ever reaches a training stage.
//
// Memory: text, QA, dialogue, exam and preference rows stream from clean/
// to the split files; the KG is held in memory to group facts by head (see
// kg.Graph for the bound); the eval n-gram index grows with the eval sets
// only. Kinds are built side by side; rows a kind built ahead holds for a
// file, and the check's view of every group and cluster, spill to
// ws/.chimed/tmp past their share of Options.Memory.
//
// Leakage is checked twice: the builder drops rows that touch the eval
// sets, and a check folded into the build reads every row as written with
// code of its own (rowCheck) and fails the build on a leak; CheckLeakage,
// behind Options.Check, re-reads the written files.
//
// Splits hash a group key with the seed: the near-duplicate cluster id clean
// set, else a canonical key (normalised question or text, KG head), so
// duplicates never straddle train/valid/test and a different seed moves rows
// between splits without changing which rows are used.
package stages

import (
	"fmt"
	"math"
	"sort"

	"github.com/chimed/chimed/schemas"
)

// Config is the `stages:` section of chimed.yaml.
type Config struct {
	// Splits are the fractions of train, valid and test (default 0.9/0.05/0.05).
	Splits SplitFractions `yaml:"splits"`
	// Tokens says how budgets count tokens: "chars" (default; Unicode
	// characters, which for Chinese is close to a character-level
	// tokenizer) or "words" (jieba words via internal/segment, slower).
	Tokens string `yaml:"tokens"`
	// NGram is the window, in characters, of the eval-leakage filter and
	// check (default 13): a training row sharing any NGram-character window
	// with an eval question is not used.
	NGram int         `yaml:"ngram"`
	DCPT  StageConfig `yaml:"dcpt"`
	SFT   StageConfig `yaml:"sft"`
	DPO   StageConfig `yaml:"dpo"`
	// Adapt limits the task-adaptation stage (exam training questions).
	Adapt StageConfig `yaml:"adapt"`
}

// SplitFractions are the shares of train, valid and test; they must sum to 1.
type SplitFractions struct {
	Train float64 `yaml:"train" json:"train"`
	Valid float64 `yaml:"valid" json:"valid"`
	Test  float64 `yaml:"test" json:"test"`
}

// DefaultSplits is used when chimed.yaml leaves splits out.
var DefaultSplits = SplitFractions{Train: 0.9, Valid: 0.05, Test: 0.05}

// StageConfig limits what one stage takes.
type StageConfig struct {
	// Budget caps the stage's tokens over all splits (0: no cap). Rows are
	// taken in the fixed reading order (kinds as schemas.Kinds, files and
	// rows in order); a row that would exceed the budget is not used, a
	// smaller later one still may be.
	Budget int64 `yaml:"budget"`
	// Sources sets per-source weights and caps, keyed by source name.
	Sources map[string]SourceLimit `yaml:"sources"`
	// QAAsText also puts QA pairs into DCPT as "question\nanswer" text
	// (dcpt only).
	QAAsText bool `yaml:"qa_as_text"`
	// NoExamPairs turns exam-derived DPO pairs off (dpo only).
	NoExamPairs bool `yaml:"no_exam_pairs"`
}

// SourceLimit weights and caps one source in one stage.
type SourceLimit struct {
	// Weight multiplies the source's rows (default 1): 2 repeats every row
	// twice, 0.5 keeps a hashed half, 0 leaves the source out of the stage.
	Weight *float64 `yaml:"weight"`
	// Cap is the most rows the source may give the stage (0: no cap);
	// rows past it, in reading order, are not used.
	Cap int64 `yaml:"cap"`
}

// Defaults for keys chimed.yaml leaves out.
const (
	DefaultNGram    = 13
	TokensChars     = "chars"
	TokensWords     = "words"
	maxSourceWeight = 100
)

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error {
	if c.Splits != (SplitFractions{}) {
		f := c.Splits
		if f.Train < 0 || f.Valid < 0 || f.Test < 0 || math.Abs(f.Train+f.Valid+f.Test-1) > 1e-9 {
			return fmt.Errorf("splits: train %g + valid %g + test %g must be non-negative and sum to 1", f.Train, f.Valid, f.Test)
		}
	}
	switch c.Tokens {
	case "", TokensChars, TokensWords:
	default:
		return fmt.Errorf("tokens: %q is not chars or words", c.Tokens)
	}
	if c.NGram < 0 || (c.NGram > 0 && c.NGram < 5) {
		return fmt.Errorf("ngram: %d is too small (want at least 5, or 0 for the default %d)", c.NGram, DefaultNGram)
	}
	for _, s := range []struct {
		name string
		cfg  *StageConfig
	}{{"dcpt", &c.DCPT}, {"sft", &c.SFT}, {"dpo", &c.DPO}, {"adapt", &c.Adapt}} {
		if s.cfg.Budget < 0 {
			return fmt.Errorf("%s.budget: %d is negative", s.name, s.cfg.Budget)
		}
		if s.cfg.QAAsText && s.name != "dcpt" {
			return fmt.Errorf("%s.qa_as_text: only dcpt takes QA as text", s.name)
		}
		if s.cfg.NoExamPairs && s.name != "dpo" {
			return fmt.Errorf("%s.no_exam_pairs: only dpo has exam pairs", s.name)
		}
		names := make([]string, 0, len(s.cfg.Sources))
		for n := range s.cfg.Sources {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l := s.cfg.Sources[n]
			if l.Weight != nil && (*l.Weight < 0 || *l.Weight > maxSourceWeight || math.IsNaN(*l.Weight)) {
				return fmt.Errorf("%s.sources[%s].weight: %g is outside 0..%d", s.name, n, *l.Weight, maxSourceWeight)
			}
			if l.Cap < 0 {
				return fmt.Errorf("%s.sources[%s].cap: %d is negative", s.name, n, l.Cap)
			}
		}
	}
	return nil
}

func (c *Config) splits() SplitFractions {
	if c.Splits == (SplitFractions{}) {
		return DefaultSplits
	}
	return c.Splits
}

func (c *Config) ngram() int {
	if c.NGram == 0 {
		return DefaultNGram
	}
	return c.NGram
}

// stage is a stage's limits; a stage chimed.yaml has no section for has none.
func (c *Config) stage(s schemas.Stage) *StageConfig {
	switch s {
	case schemas.StageDCPT:
		return &c.DCPT
	case schemas.StageSFT:
		return &c.SFT
	case schemas.StageDPO:
		return &c.DPO
	case schemas.StageAdapt:
		return &c.Adapt
	}
	return &StageConfig{}
}
