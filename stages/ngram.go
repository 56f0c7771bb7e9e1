package stages

// evalGrams indexes every n-character window of the canonical eval
// questions as a 64-bit rolling hash, and eval questions shorter than n
// whole. The builder drops any training row that shares a window; the
// leakage checks verify the result independently with exact strings.
//
// It is read-only once the eval sets are indexed, so kinds built at the
// same time share it.
type evalGrams struct {
	n      int
	grams  map[uint64]struct{}
	shorts map[string]struct{} // canonical eval questions shorter than n
	pow    uint64              // base^(n-1)
	// seen has a bit set for every window hash in grams: most windows of
	// training text miss it, and a bit test is far cheaper than a map probe.
	seen []uint64
}

const (
	gramBase = 1_000_003
	seenBits = 19 // 512 Ki bits: 64 KiB, cache-resident, for tens of thousands of eval windows
)

func newEvalGrams(n int) *evalGrams {
	g := &evalGrams{n: n, grams: map[uint64]struct{}{}, shorts: map[string]struct{}{}, pow: 1,
		seen: make([]uint64, 1<<seenBits/64)}
	for i := 1; i < n; i++ {
		g.pow *= gramBase
	}
	return g
}

// seenBit is where hash h sits in seen.
func seenBit(h uint64) uint64 { return (h * 0x9e3779b97f4a7c15) >> (64 - seenBits) }

// add indexes one eval question.
func (g *evalGrams) add(question string) {
	c := canonical(question)
	if c == "" {
		return
	}
	if n := g.windows(question, func(h uint64) bool {
		g.grams[h] = struct{}{}
		b := seenBit(h)
		g.seen[b/64] |= 1 << (b % 64)
		return true
	}); n < g.n {
		g.shorts[c] = struct{}{}
	}
}

// windows calls fn with the hash of every n-rune window of the canonical
// form of s until fn
// returns false, and returns how many canonical runes it read. It folds
// rune by rune, so scanning a row allocates nothing.
func (g *evalGrams) windows(s string, fn func(uint64) bool) int {
	var small [32]rune
	ring := small[:]
	if g.n > len(small) {
		ring = make([]rune, g.n)
	}
	var h uint64
	i, slot := 0, 0
	for _, r := range s {
		r, ok := fold(r)
		if !ok {
			continue
		}
		if i >= g.n {
			h -= uint64(ring[slot]) * g.pow
		}
		ring[slot] = r
		if slot++; slot == g.n {
			slot = 0
		}
		h = h*gramBase + uint64(r)
		i++
		if i >= g.n && !fn(h) {
			return i
		}
	}
	return i
}

// hits reports whether text shares an n-character window with an eval
// question.
func (g *evalGrams) hits(text string) bool {
	if len(g.grams) == 0 {
		return false
	}
	found := false
	g.windows(text, func(h uint64) bool {
		b := seenBit(h)
		if g.seen[b/64]&(1<<(b%64)) == 0 {
			return true
		}
		_, found = g.grams[h]
		return !found
	})
	return found
}

// isShortQuestion reports whether a training question is, canonically, an
// eval question too short to have a window.
func (g *evalGrams) isShortQuestion(q string) bool {
	if len(g.shorts) == 0 {
		return false
	}
	if !g.short(q) {
		return false
	}
	_, ok := g.shorts[canonical(q)]
	return ok
}

// short reports whether q's canonical form is shorter than a window.
func (g *evalGrams) short(q string) bool {
	n := 0
	for _, r := range q {
		if _, ok := fold(r); ok {
			if n++; n >= g.n {
				return false
			}
		}
	}
	return true
}
