package demo

import "math/rand/v2"

// rng is the generator's one source of randomness: a PCG stream seeded from
// --seed, so the same seed writes byte-identical files.
type rng struct{ *rand.Rand }

func newRNG(seed, stream uint64) *rng {
	return &rng{rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15))}
}

// pick returns a random element of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.IntN(len(xs))] }

// some returns between lo and hi distinct elements of xs in random order
// (fewer if xs is shorter).
func some(r *rng, xs []string, lo, hi int) []string {
	n := lo
	if hi > lo {
		n += r.IntN(hi - lo + 1)
	}
	if n > len(xs) {
		n = len(xs)
	}
	perm := r.Perm(len(xs))[:n]
	out := make([]string, n)
	for i, p := range perm {
		out[i] = xs[p]
	}
	return out
}

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return r.Float64() < p }
