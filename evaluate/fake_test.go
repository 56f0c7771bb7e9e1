package evaluate

import (
	"math"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// bigramLM is a character bigram model with add-one smoothing: a real
// probability model small enough for tests, so a model trained on the right
// answers can be checked to score higher than one trained on wrong ones.
type bigramLM struct {
	counts map[rune]map[rune]int
	totals map[rune]int
	vocab  []rune
}

const (
	bos = '\x02' // start of a training text
	eot = '\x03' // end of turn
)

func newBigram(texts ...string) *bigramLM {
	m := &bigramLM{counts: map[rune]map[rune]int{}, totals: map[rune]int{}}
	seen := map[rune]bool{eot: true}
	m.vocab = append(m.vocab, eot)
	for _, t := range texts {
		prev := bos
		for _, r := range t + string(eot) {
			if m.counts[prev] == nil {
				m.counts[prev] = map[rune]int{}
			}
			m.counts[prev][r]++
			m.totals[prev]++
			if !seen[r] {
				seen[r] = true
				m.vocab = append(m.vocab, r)
			}
			prev = r
		}
	}
	return m
}

func (m *bigramLM) logp(prev, r rune) float64 {
	v := float64(len(m.vocab) + 1) // +1: any unseen character
	return math.Log((float64(m.counts[prev][r]) + 1) / (float64(m.totals[prev]) + v))
}

func (m *bigramLM) NLL(texts []string) ([]float64, []int, error) {
	nll, tok := make([]float64, len(texts)), make([]int, len(texts))
	for i, t := range texts {
		rs := []rune(t)
		for j := 1; j < len(rs); j++ {
			nll[i] -= m.logp(rs[j-1], rs[j])
			tok[i]++
		}
	}
	return nll, tok, nil
}

func (m *bigramLM) ContinuationLogProb(prompts, conts []string) ([]float64, []int, error) {
	lp, tok := make([]float64, len(prompts)), make([]int, len(prompts))
	for i := range prompts {
		prev := bos
		if rs := []rune(prompts[i]); len(rs) > 0 {
			prev = rs[len(rs)-1]
		}
		for _, r := range conts[i] {
			lp[i] += m.logp(prev, r)
			tok[i]++
			prev = r
		}
	}
	return lp, tok, nil
}

func (m *bigramLM) Generate(prompts []string, maxTokens int) ([]string, error) {
	out := make([]string, len(prompts))
	for i, p := range prompts {
		prev := bos
		if rs := []rune(p); len(rs) > 0 {
			prev = rs[len(rs)-1]
		}
		var b strings.Builder
		for range maxTokens {
			best, bestN := eot, -1
			for _, r := range m.vocab { // first-seen order breaks ties
				if n := m.counts[prev][r]; n > bestN {
					best, bestN = r, n
				}
			}
			if best == eot {
				break
			}
			b.WriteRune(best)
			prev = best
		}
		out[i] = b.String()
	}
	return out, nil
}

func (m *bigramLM) ChatPrompt(msgs []schemas.Turn) string {
	var b strings.Builder
	for _, t := range msgs {
		b.WriteString(t.Role + "：" + t.Content + "\n")
	}
	return b.String() + "assistant："
}

var _ Model = (*bigramLM)(nil)
