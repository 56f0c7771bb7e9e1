package stages

// evalGrams indexes every n-character window of the canonical eval
// questions as a 64-bit rolling hash, and eval questions shorter than n
// whole. The builder drops any training row that shares a window; CheckLeakage
// verifies the result independently with exact strings.
type evalGrams struct {
	n      int
	grams  map[uint64]struct{}
	shorts map[string]struct{} // canonical eval questions shorter than n
	pow    uint64              // base^(n-1)
}

const gramBase = 1_000_003

func newEvalGrams(n int) *evalGrams {
	g := &evalGrams{n: n, grams: map[uint64]struct{}{}, shorts: map[string]struct{}{}, pow: 1}
	for i := 1; i < n; i++ {
		g.pow *= gramBase
	}
	return g
}

// add indexes one eval question.
func (g *evalGrams) add(question string) {
	c := canonical(question)
	rs := []rune(c)
	if len(rs) == 0 {
		return
	}
	if len(rs) < g.n {
		g.shorts[c] = struct{}{}
		return
	}
	g.windows(rs, func(h uint64) bool { g.grams[h] = struct{}{}; return true })
}

// windows calls fn with the hash of every n-rune window of rs until fn
// returns false.
func (g *evalGrams) windows(rs []rune, fn func(uint64) bool) {
	if len(rs) < g.n {
		return
	}
	var h uint64
	for i, r := range rs {
		if i >= g.n {
			h -= uint64(rs[i-g.n]) * g.pow
		}
		h = h*gramBase + uint64(r)
		if i >= g.n-1 && !fn(h) {
			return
		}
	}
}

// hits reports whether text shares an n-character window with an eval
// question.
func (g *evalGrams) hits(text string) bool {
	if len(g.grams) == 0 {
		return false
	}
	found := false
	g.windows([]rune(canonical(text)), func(h uint64) bool {
		_, found = g.grams[h]
		return !found
	})
	return found
}

// isShortQuestion reports whether a training question is, canonically, an
// eval question too short to have a window.
func (g *evalGrams) isShortQuestion(q string) bool {
	_, ok := g.shorts[canonical(q)]
	return ok
}
