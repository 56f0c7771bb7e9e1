package trainer

import "math"

// negInf32 is float32 −∞, where a max starts.
var negInf32 = float32(math.Inf(-1))

// exp32 is e^x in float32, within 2 ulp of the exact value rounded
// (TestExp32), at a fraction of the cost of math.Exp on a float64: x is
// reduced to r = x − k·ln2 with |r| ≤ ln2/2 (ln2 split in two so k·ln2hi
// is exact), e^r is Cephes' degree-6 polynomial for expf, and 2^k is put
// into the exponent bits. Hand-written: no kept Go module has a float32
// exp that is both fast and right at the ends (vek's gives NaN near the
// overflow point and garbage below −88).
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		// beyond these e^x rounds to +Inf or to 0
		maxArg = 88.72284
		minArg = -103.97209
	)
	switch {
	case x != x:
		return x
	case x > maxArg:
		return float32(math.Inf(1))
	case x < minArg:
		return 0
	}
	t := x * log2e
	var k int32
	if t >= 0 {
		k = int32(t + 0.5)
	} else {
		k = int32(t - 0.5)
	}
	kf := float32(k)
	r := x - kf*ln2hi
	r -= kf * ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*(r*r) + r + 1
	switch {
	case k > 127:
		return y * pow2(127) * pow2(k-127)
	case k < -126:
		return y * pow2(k+126) * pow2(-126)
	}
	return y * pow2(k)
}

// pow2 is 2^k for k in [−126, 127].
func pow2(k int32) float32 {
	return math.Float32frombits(uint32(k+127) << 23)
}

// logistic32 is 1/(1+e^−x), in the two forms simplego uses so that
// neither overflows.
func logistic32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + exp32(-x))
	}
	e := exp32(x)
	return e / (1 + e)
}
