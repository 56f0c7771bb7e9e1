package evaluate

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a 95% confidence interval [Lo, Hi].
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Wilson is the 95% Wilson score interval of k successes in n trials: unlike
// the normal approximation it stays inside [0, 1] and is sensible for the
// small n and extreme rates a small model gives.
func Wilson(k, n int) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	p := float64(k) / float64(n)
	nn := float64(n)
	z2 := z95 * z95
	den := 1 + z2/nn
	centre := (p + z2/(2*nn)) / den
	half := z95 * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn)) / den
	return Interval{max(0, centre-half), min(1, centre+half)}
}

// BootstrapResamples is how many resamples Bootstrap draws.
const BootstrapResamples = 1000

// Bootstrap is the 95% percentile bootstrap interval of stat over n items:
// stat receives the resampled item indices. The generator is seeded, so the
// same data always gives the same interval.
func Bootstrap(n int, seed uint64, stat func(idx []int) float64) Interval {
	if n == 0 {
		return Interval{}
	}
	rng := rand.New(rand.NewPCG(seed, 0x63686d65)) // "chme"
	idx := make([]int, n)
	vals := make([]float64, BootstrapResamples)
	for b := range vals {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		vals[b] = stat(idx)
	}
	slices.Sort(vals)
	lo := vals[int(math.Floor(0.025*float64(BootstrapResamples)))]
	hi := vals[int(math.Ceil(0.975*float64(BootstrapResamples)))-1]
	return Interval{lo, hi}
}

// BootstrapMean is Bootstrap of the mean of xs.
func BootstrapMean(xs []float64, seed uint64) Interval {
	return Bootstrap(len(xs), seed, func(idx []int) float64 {
		s := 0.0
		for _, i := range idx {
			s += xs[i]
		}
		return s / float64(len(idx))
	})
}

// mean is the arithmetic mean (0 for none).
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
