package clean

import (
	"fmt"
	"slices"

	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/schemas"
)

// Config is the `clean:` section of chimed.yaml. Every part is optional: an
// empty section runs DefaultSteps with their default settings, exact dedup,
// near-dedup and decontamination.
//
//	clean:
//	  steps:                      # normalisers and filters, in this order
//	    - use: html
//	    - use: length
//	      kinds: [qa]
//	      with: {min: {question: 4, answer: 2}}
//	  exact_dedup: {enabled: true}
//	  near_dedup: {shingle: char, ngram: 5, threshold: 0.8}
//	  decontaminate: {ngram: 13}
type Config struct {
	// Steps lists which normalisers and filters run, in order, and on which
	// kinds; when empty, DefaultSteps() runs.
	Steps []Step `yaml:"steps"`
	// Exact configures exact dedup on canonical keys.
	Exact ExactConfig `yaml:"exact_dedup"`
	// Near configures MinHash LSH near-dedup.
	Near NearConfig `yaml:"near_dedup"`
	// Decontaminate configures the n-gram overlap check against eval sets.
	Decontaminate DecontamConfig `yaml:"decontaminate"`
	// Workers is the number of goroutines that normalise, filter and hash
	// rows (default: GOMAXPROCS).
	Workers int `yaml:"workers"`
}

// Step names one registered normaliser or filter, the kinds it runs on
// (default: the component's own default kinds) and its settings.
type Step struct {
	Use   string         `yaml:"use"`
	Kinds []schemas.Kind `yaml:"kinds"`
	With  map[string]any `yaml:"with"`
}

// ExactConfig configures exact dedup.
type ExactConfig struct {
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
}

// NearConfig configures near-dedup; see the package doc for why the
// defaults are what they are.
type NearConfig struct {
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
	// Kinds near-dedup runs on (default: every kind but kg, whose rows are
	// three short names: "高血压 症状 头晕" and "高血压 症状 头痛" are different
	// facts, not near duplicates; exact dedup still covers kg).
	Kinds []schemas.Kind `yaml:"kinds"`
	// Shingle is "char" (character n-grams, the default) or "word" (n-grams
	// of jieba words).
	Shingle string `yaml:"shingle"`
	// NGram is the shingle length in characters or words (default 5 for
	// char, 2 for word).
	NGram int `yaml:"ngram"`
	// Bands and Rows shape the LSH index: Bands×Rows MinHash permutations
	// (default 16×6 = 96).
	Bands int `yaml:"bands"`
	Rows  int `yaml:"rows"`
	// Threshold is the exact Jaccard similarity at or above which a
	// candidate pair is a near duplicate and the later row is removed
	// (default 0.8).
	Threshold float64 `yaml:"threshold"`
	// ClusterThreshold is the Jaccard similarity at or above which rows are
	// put into one cluster (kept, but build-stages keeps them in one split);
	// default 0.6, at most Threshold.
	ClusterThreshold float64 `yaml:"cluster_threshold"`
}

// DecontamConfig configures decontamination against the eval sources.
type DecontamConfig struct {
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
	// NGram is the overlap length in characters (default 13).
	NGram int `yaml:"ngram"`
	// Answers also indexes the answers of eval QA pairs (default false: only
	// eval questions, exam and QA, are indexed; answers share long generic
	// phrases with ordinary medical text, and a model is never prompted
	// with them).
	Answers bool `yaml:"answers"`
}

func enabled(b *bool) bool { return b == nil || *b }

// WithDefaults returns a copy with every unset value filled in.
func (c Config) WithDefaults() Config {
	if len(c.Steps) == 0 {
		c.Steps = DefaultSteps()
	}
	n := &c.Near
	if len(n.Kinds) == 0 {
		n.Kinds = textKinds
	}
	if n.Shingle == "" {
		n.Shingle = dedup.ShingleChar
	}
	if n.NGram == 0 {
		n.NGram = 5
		if n.Shingle == dedup.ShingleWord {
			n.NGram = 2
		}
	}
	if n.Bands == 0 {
		n.Bands = 16
	}
	if n.Rows == 0 {
		n.Rows = 6
	}
	if n.Threshold == 0 {
		n.Threshold = 0.8
	}
	if n.ClusterThreshold == 0 {
		n.ClusterThreshold = min(0.6, n.Threshold)
	}
	if c.Decontaminate.NGram == 0 {
		c.Decontaminate.NGram = 13
	}
	return c
}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error {
	for i, s := range c.Steps {
		where := fmt.Sprintf("clean.steps[%d]", i)
		f, ok := registry[s.Use]
		if !ok {
			return fmt.Errorf("%s.use: unknown step %q (known: %s)", where, s.Use, registeredNames())
		}
		for _, k := range s.Kinds {
			if _, err := schemas.ParseKind(string(k)); err != nil {
				return fmt.Errorf("%s.kinds: %w", where, err)
			}
		}
		if _, err := f.build(decoderFor(where, s.With)); err != nil {
			return err
		}
	}
	d := c.WithDefaults()
	n := d.Near
	switch {
	case n.Shingle != dedup.ShingleChar && n.Shingle != dedup.ShingleWord:
		return fmt.Errorf("clean.near_dedup.shingle: %q is not char or word", n.Shingle)
	case n.NGram < 1 || n.NGram > 64:
		return fmt.Errorf("clean.near_dedup.ngram: %d is not within 1..64", n.NGram)
	case n.Bands < 1 || n.Rows < 1 || n.Bands*n.Rows > 1024:
		return fmt.Errorf("clean.near_dedup: bands×rows = %d×%d must be positive and at most 1024 permutations", n.Bands, n.Rows)
	case n.Threshold <= 0 || n.Threshold > 1:
		return fmt.Errorf("clean.near_dedup.threshold: %v is not within (0, 1]", n.Threshold)
	case n.ClusterThreshold <= 0 || n.ClusterThreshold > n.Threshold:
		return fmt.Errorf("clean.near_dedup.cluster_threshold: %v is not within (0, threshold]", n.ClusterThreshold)
	case d.Decontaminate.NGram < 4 || d.Decontaminate.NGram > 256:
		return fmt.Errorf("clean.decontaminate.ngram: %d is not within 4..256", d.Decontaminate.NGram)
	case !kindsValid(n.Kinds):
		return fmt.Errorf("clean.near_dedup.kinds: %v names an unknown kind", n.Kinds)
	case c.Workers < 0:
		return fmt.Errorf("clean.workers: %d is negative", c.Workers)
	}
	return nil
}

// decoderFor returns a function that decodes a step's `with:` settings into
// a typed struct, strictly, so a misspelt key is an error naming it.
func decoderFor(where string, with map[string]any) func(v any) error {
	return func(v any) error {
		if len(with) == 0 {
			return nil
		}
		b, err := yaml.Marshal(with)
		if err != nil {
			return fmt.Errorf("%s.with: %w", where, err)
		}
		if err := yaml.UnmarshalWithOptions(b, v, yaml.Strict()); err != nil {
			return fmt.Errorf("%s.with: %s", where, yaml.FormatError(err, false, false))
		}
		return nil
	}
}

func registeredNames() string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}

func kindsValid(ks []schemas.Kind) bool {
	for _, k := range ks {
		if _, err := schemas.ParseKind(string(k)); err != nil {
			return false
		}
	}
	return true
}
