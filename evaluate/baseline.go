package evaluate

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/cloudflare/ahocorasick"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Baselines are the exam accuracies that need no model, so that a stage's
// exam accuracy reads as a gain over what priors alone give. Each is the
// expected accuracy on the same questions the stages are scored on, a tie
// counting as the share of the tied options that are right.
type Baselines struct {
	// Chance is uniform guessing: 1/k on a single-answer question with k
	// options, 1/(2^k − 1) on a multiple-answer one (every non-empty set).
	Chance *float64 `json:"chance"`
	// MajorityLetter always answers the most frequent gold answer of the
	// scored questions themselves, so it is an upper bound for any constant
	// answer; MajorityAnswer names it.
	MajorityLetter *float64 `json:"majority_letter"`
	MajorityAnswer string   `json:"majority_answer,omitempty"`
	// ClozeChance is Chance over the single-answer questions cloze scores.
	ClozeChance *float64 `json:"cloze_chance"`
	// FreqPrior picks, among a single-answer question's options, the one
	// whose text occurs in the most documents of stages/dcpt/train: what a
	// model that knew only how common each answer is would pick.
	FreqPrior *float64 `json:"freq_prior"`
	// FreqPriorDocs is how many training documents FreqPrior counted in.
	FreqPriorDocs int `json:"freq_prior_docs"`
	// GoldLetters counts the gold answers of the scored questions.
	GoldLetters map[string]int `json:"gold_letters"`
}

// baselines computes every baseline over the sampled exam questions; optDF
// holds each question's option document frequencies (nil when stages/dcpt/
// train is missing).
func baselines(cases []*examCase, optDF [][]int, docs int) *Baselines {
	if len(cases) == 0 {
		return nil
	}
	b := &Baselines{GoldLetters: map[string]int{}}
	var chance, cchance, prior float64
	single := 0
	for i, c := range cases {
		b.GoldLetters[c.gold]++
		k := len(c.labels)
		if isMulti(c.q) {
			chance += 1 / float64(uint64(1)<<min(k, 62)-1)
			continue
		}
		single++
		chance += 1 / float64(k)
		cchance += 1 / float64(k)
		if optDF != nil {
			prior += tieShare(optDF[i], slices.Index(c.labels, c.gold))
		}
	}
	n := float64(len(cases))
	b.Chance = ptr(chance / n)
	var top string
	for _, l := range sortedKeys(b.GoldLetters) {
		if top == "" || b.GoldLetters[l] > b.GoldLetters[top] {
			top = l
		}
	}
	b.MajorityAnswer = top
	b.MajorityLetter = ptr(float64(b.GoldLetters[top]) / n)
	if single > 0 {
		b.ClozeChance = ptr(cchance / float64(single))
		if optDF != nil {
			b.FreqPrior = ptr(prior / float64(single))
			b.FreqPriorDocs = docs
		}
	}
	return b
}

// tieShare is the expected accuracy of picking the largest count among
// scores when gold is the right index: 1/t when gold is among t tied
// maxima, else 0.
func tieShare(scores []int, gold int) float64 {
	if gold < 0 || len(scores) == 0 {
		return 0
	}
	best := slices.Max(scores)
	if scores[gold] != best {
		return 0
	}
	t := 0
	for _, s := range scores {
		if s == best {
			t++
		}
	}
	return 1 / float64(t)
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// optionDocFreq counts, for every option of every question, how many
// documents of stages/dcpt/train contain its text. It streams the file once
// through an Aho–Corasick automaton of all option texts (the cloudflare
// matcher reports each pattern at most once per document, which is the
// document frequency we want). A missing file gives nil and no error.
func optionDocFreq(ws workspace.Dir, cases []*examCase) (df [][]int, docs int, err error) {
	path := ws.StageFile(schemas.StageDCPT, "train")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	index := map[string]int{}
	var patterns []string
	for _, c := range cases {
		for _, o := range c.q.Options {
			t := strings.TrimSpace(o.Text)
			if _, ok := index[t]; !ok && t != "" {
				index[t] = len(patterns)
				patterns = append(patterns, t)
			}
		}
	}
	counts := make([]int, len(patterns))
	if len(patterns) > 0 {
		m := ahocorasick.NewStringMatcher(patterns)
		for row, err := range schemas.ReadFile[schemas.DCPTRow](path) {
			if err != nil {
				return nil, 0, fmt.Errorf("frequency prior: %w", err)
			}
			docs++
			for _, p := range m.Match([]byte(row.Text)) {
				counts[p]++
			}
		}
	}
	df = make([][]int, len(cases))
	for i, c := range cases {
		df[i] = make([]int, len(c.q.Options))
		for k, o := range c.q.Options {
			if j, ok := index[strings.TrimSpace(o.Text)]; ok {
				df[i][k] = counts[j]
			}
		}
	}
	return df, docs, nil
}
