// Package ngram is a small character n-gram language model with
// interpolated modified Kneser–Ney smoothing (Chen & Goodman 1998), the
// smoothing KenLM uses. stats scores rows with it to chart perplexity the
// way CCNet and data-juicer do, without downloaded weights or a network.
//
// It is written here because Go has no well-kept KenLM binding or n-gram
// library; the model is small enough to check by hand: every conditional
// distribution sums to one over the vocabulary (see the tests).
//
// A row is modelled as a start symbol, its characters (code points) and an
// end symbol; the end symbol is predicted like a character, so a row that
// stops where text never stops costs something. As in KenLM, n-grams that
// begin with the start symbol keep their raw counts at every order (they
// have no left context to count continuations of).
package ngram

import (
	"fmt"
	"math"
)

// MaxOrder is the largest order a Model supports.
const MaxOrder = 6

// Symbols outside Unicode mark a row's start and end.
const (
	bos rune = -1
	eos rune = -2
)

// An n-gram and its context (its first n-1 symbols) are keyed by 64-bit
// hashes, one map per order: a quarter of the memory of keeping the
// symbols, at odds of a collision near 10⁻⁷ for millions of n-grams. The
// context hash grows leftwards from the predicted symbol, so scoring builds
// every order's keys in one pass over the history.
func extend(ctx uint64, r rune) uint64 { return fmix(ctx ^ (uint64(uint32(r)) + 0x9e3779b97f4a7c15)) }

// gramKey is the key of the n-gram made of context ctx and symbol w.
func gramKey(ctx uint64, w rune) uint64 { return fmix(ctx ^ (uint64(uint32(w))<<32 | 0x5bd1e995)) }

// fmix is MurmurHash3's 64-bit finaliser: a bijection that spreads every
// input bit over the output.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// emptyContext is the key of the empty context (order 1).
const emptyContext uint64 = 0x243f6a8885a308d3

// context is what one order knows of a history: the sum of its n-gram
// counts and how many n-grams after it have count 1, 2 and 3 or more.
type context struct {
	total, n1, n2, n3 uint32
}

// Model is a trained character n-gram model. Build one with a Trainer;
// a Model is read-only and safe for concurrent use.
type Model struct {
	order int
	// counts[n-1] holds the adjusted counts of n-grams: raw counts at the
	// highest order and for n-grams starting a row, continuation counts
	// (distinct left neighbours) below.
	counts []map[uint64]uint32
	// contexts[n-1] is keyed by the n-gram's first n-1 symbols.
	contexts []map[uint64]context
	// discount[n-1] are D1, D2 and D3+ of order n.
	discount [][3]float64
	// vocab counts distinct predicted symbols (characters and the end
	// symbol) plus one for every unseen character.
	vocab   int
	symbols map[rune]bool
	chars   int64
	rows    int64
}

// Order is the model's n.
func (m *Model) Order() int { return m.order }

// TrainChars is how many characters the model was trained on.
func (m *Model) TrainChars() int64 { return m.chars }

// TrainRows is how many rows the model was trained on.
func (m *Model) TrainRows() int64 { return m.rows }

// Vocab is the size of the vocabulary the model spreads probability over:
// the characters seen in training, the end symbol, and one slot shared by
// every unseen character.
func (m *Model) Vocab() int { return m.vocab }

// Trainer counts n-grams of rows; Model turns the counts into a model.
type Trainer struct {
	m    *Model
	seq  []rune
	ctxs []uint64
}

// NewTrainer starts a model of the given order (2 to MaxOrder).
func NewTrainer(order int) (*Trainer, error) {
	if order < 2 || order > MaxOrder {
		return nil, fmt.Errorf("ngram: order %d is outside 2..%d", order, MaxOrder)
	}
	m := &Model{order: order, counts: make([]map[uint64]uint32, order), contexts: make([]map[uint64]context, order),
		discount: make([][3]float64, order), symbols: map[rune]bool{}}
	for i := range m.counts {
		m.counts[i] = map[uint64]uint32{}
		m.contexts[i] = map[uint64]context{}
	}
	return &Trainer{m: m, ctxs: make([]uint64, order)}, nil
}

// Add counts one row of text.
func (t *Trainer) Add(text string) {
	m := t.m
	t.seq = append(t.seq[:0], bos)
	for _, r := range text {
		t.seq = append(t.seq, r)
	}
	t.seq = append(t.seq, eos)
	m.chars += int64(len(t.seq) - 2)
	m.rows++
	s := t.seq
	for j := 1; j < len(s); j++ {
		m.symbols[s[j]] = true
		top := min(m.order, j+1)
		// ctxs[k] is the key of the k symbols before j.
		t.ctxs[0] = emptyContext
		for k := 1; k < top; k++ {
			t.ctxs[k] = extend(t.ctxs[k-1], s[j-k])
		}
		longerNew := false
		for n := top; n >= 1; n-- {
			// The highest order and n-grams starting the row keep raw
			// counts; lower ones count distinct left neighbours, which is
			// one more exactly when the n-gram one longer is new. When the
			// longer one was seen before, so was this one.
			if n == m.order || n == j+1 || longerNew {
				longerNew = m.count(n, t.ctxs[n-1], s[j])
			} else {
				longerNew = false
			}
		}
	}
}

// count adds one to an n-gram's count and keeps its context's statistics
// current; it reports whether the n-gram is new.
func (m *Model) count(n int, ctx uint64, w rune) bool {
	g := gramKey(ctx, w)
	c := m.counts[n-1][g]
	m.counts[n-1][g] = c + 1
	x := m.contexts[n-1][ctx]
	x.total++
	switch c {
	case 0:
		x.n1++
	case 1:
		x.n1, x.n2 = x.n1-1, x.n2+1
	case 2:
		x.n2, x.n3 = x.n2-1, x.n3+1
	}
	m.contexts[n-1][ctx] = x
	return c == 0
}

// Model estimates the discounts from the counts and returns the model.
// The Trainer must not be used afterwards: the model takes its maps.
func (t *Trainer) Model() *Model {
	m := t.m
	t.m = nil
	for n := 1; n <= m.order; n++ {
		var coc [5]float64 // count of counts 1..4
		for _, c := range m.counts[n-1] {
			if c <= 4 {
				coc[c]++
			}
		}
		m.discount[n-1] = discounts(coc)
	}
	m.vocab = len(m.symbols) + 1
	return m
}

// discounts are modified Kneser–Ney's D1, D2, D3+ from the count of
// counts n1..n4 (Chen & Goodman's estimates), each kept within [0, c] so
// every distribution still sums to one; with too few counts to estimate
// (a tiny corpus) they fall back to 0.5, 1 and 1.5.
func discounts(coc [5]float64) [3]float64 {
	n1, n2, n3, n4 := coc[1], coc[2], coc[3], coc[4]
	if n1 == 0 || n2 == 0 || n3 == 0 || n4 == 0 {
		return [3]float64{0.5, 1, 1.5}
	}
	y := n1 / (n1 + 2*n2)
	d := [3]float64{1 - 2*y*n2/n1, 2 - 3*y*n3/n2, 3 - 4*y*n4/n3}
	for i := range d {
		d[i] = math.Min(math.Max(d[i], 0), float64(i+1))
	}
	return d
}

// prob is P(w | history) with history the symbols before w (starting with
// the start symbol, or shorter than the order).
func (m *Model) prob(history []rune, w rune) float64 {
	p := 1 / float64(m.vocab)
	ctx := emptyContext
	for n := 1; n <= min(m.order, len(history)+1); n++ {
		if n > 1 {
			ctx = extend(ctx, history[len(history)-(n-1)])
		}
		x, ok := m.contexts[n-1][ctx]
		if !ok {
			// An unseen history at this order is unseen at every higher
			// one: the lower order's estimate stands.
			break
		}
		c := m.counts[n-1][gramKey(ctx, w)]
		d := m.discount[n-1]
		var kept float64
		switch {
		case c == 1:
			kept = float64(c) - d[0]
		case c == 2:
			kept = float64(c) - d[1]
		case c >= 3:
			kept = float64(c) - d[2]
		}
		gamma := d[0]*float64(x.n1) + d[1]*float64(x.n2) + d[2]*float64(x.n3)
		p = (kept + gamma*p) / float64(x.total)
	}
	return p
}

// Score is the natural-log probability of a row and how many symbols it
// predicted (its characters and the end symbol).
func (m *Model) Score(text string) (logProb float64, symbols int) {
	hist := []rune{bos}
	for _, r := range text {
		logProb += math.Log(m.prob(hist[max(0, len(hist)-(m.order-1)):], r))
		hist = append(hist, r)
		symbols++
	}
	logProb += math.Log(m.prob(hist[max(0, len(hist)-(m.order-1)):], eos))
	return logProb, symbols + 1
}

// Perplexity is exp of the mean negative log probability per symbol of a
// row, the end symbol counted as one: about how many characters the model
// hesitates between at each step. Fluent in-domain text scores low,
// gibberish and unseen boilerplate high.
func (m *Model) Perplexity(text string) float64 {
	lp, n := m.Score(text)
	return math.Exp(-lp / float64(n))
}
