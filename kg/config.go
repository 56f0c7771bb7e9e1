// Package kg turns clean knowledge-graph triples into training text:
// canonical relations, graph statistics, verbalised paragraphs for DCPT and
// question–answer pairs for SFT.
package kg

import (
	"fmt"
	"sort"
)

// Config is the `kg:` section of chimed.yaml.
type Config struct {
	// Relations adds aliases to the built-in relation table: a raw relation
	// name (any case) → a canonical name, e.g. {"临床症状": "症状"}. A
	// canonical name outside the table is allowed; it is verbalised with the
	// generic templates.
	Relations map[string]string `yaml:"relations"`
	// MaxAnswerTails caps how many tails a KG→QA answer lists (default 20);
	// a paragraph lists them all.
	MaxAnswerTails int `yaml:"max_answer_tails"`
	// NoQA turns KG→QA pairs for SFT off.
	NoQA bool `yaml:"no_qa"`
	// NoVerbalize turns verbalised paragraphs for DCPT off.
	NoVerbalize bool `yaml:"no_verbalize"`
	// Renderings is how many paragraphs DCPT gets per head, each in other
	// wordings and another fact order (default DefaultRenderings).
	Renderings int `yaml:"renderings"`
	// NoDCPTQA keeps the KG→QA pairs out of DCPT. By default DCPT also
	// reads them as plain "问：…\n答：…" text, every question wording of
	// each relation (Graph.QATexts), so pre-training sees facts asked for,
	// in several ways, as well as stated.
	NoDCPTQA bool `yaml:"no_dcpt_qa"`
}

// DefaultMaxAnswerTails is MaxAnswerTails when chimed.yaml leaves it out.
const DefaultMaxAnswerTails = 20

// DefaultRenderings is Renderings when chimed.yaml leaves it out: a fact
// read in one wording is memorised but not found when asked in others, and
// eight wordings with the QA text raised exam accuracy after DCPT most on
// the demo (the figures are in the commit that set it).
const DefaultRenderings = 8

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error {
	if c.Renderings < 0 {
		return fmt.Errorf("renderings: %d is negative", c.Renderings)
	}
	if c.MaxAnswerTails < 0 {
		return fmt.Errorf("max_answer_tails: %d is negative", c.MaxAnswerTails)
	}
	keys := make([]string, 0, len(c.Relations))
	for k := range c.Relations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if normRelation(k) == "" {
			return fmt.Errorf("relations: an empty relation name is mapped to %q", c.Relations[k])
		}
		if normRelation(c.Relations[k]) == "" {
			return fmt.Errorf("relations[%s]: maps to an empty name", k)
		}
	}
	return nil
}

// RenderingsOrDefault is Renderings, or DefaultRenderings when unset.
func (c *Config) RenderingsOrDefault() int {
	if c.Renderings == 0 {
		return DefaultRenderings
	}
	return c.Renderings
}

func (c *Config) maxAnswerTails() int {
	if c.MaxAnswerTails == 0 {
		return DefaultMaxAnswerTails
	}
	return c.MaxAnswerTails
}
