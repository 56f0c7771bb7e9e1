package gomlxpatch

import "math"

// negInf32 is float32 −∞, where a max starts.
var negInf32 = float32(math.Inf(-1))

// The constants of exp32 and of its eight-lane form (fastmath_amd64.s).
const (
	expLog2e = 1.44269504088896341
	expLn2hi = 0.693359375 // ln 2 in two parts: k·expLn2hi is exact
	expLn2lo = -2.12194440e-4
	// beyond these e^x rounds to +Inf or to 0
	expMaxArg = 88.72284
	expMinArg = -103.97209
	// Cephes' expf polynomial for (e^r − 1 − r)/r², |r| ≤ ln2/2
	expC0 = 1.9875691500e-4
	expC1 = 1.3981999507e-3
	expC2 = 8.3334519073e-3
	expC3 = 4.1665795894e-2
	expC4 = 1.6666665459e-1
	expC5 = 5.0000001201e-1
)

// exp32 is e^x in float32, within 2 ulp of the exact value rounded
// (TestExp32), at a fraction of the cost of math.Exp on a float64: x is
// reduced to r = x − k·ln2 with |r| ≤ ln2/2, e^r is Cephes' degree-6
// polynomial for expf, and 2^k is put into the exponent bits in two
// halves (so a subnormal result needs no special case). Hand-written: no
// kept Go module has a float32 exp that is both fast and right at the
// ends (vek's gives NaN near the overflow point and garbage below −88).
// Where the CPU has AVX2, expInto runs the same steps eight lanes at a
// time in assembly; this scalar form is for other CPUs.
func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expMaxArg:
		return float32(math.Inf(1))
	case x < expMinArg:
		return 0
	}
	k := float32(math.RoundToEven(float64(x * expLog2e)))
	r := x - k*expLn2hi
	r -= k * expLn2lo
	p := float32(expC0)
	p = p*r + expC1
	p = p*r + expC2
	p = p*r + expC3
	p = p*r + expC4
	p = p*r + expC5
	y := p*(r*r) + r + 1
	ki := int32(k)
	k1 := ki >> 1
	return y * pow2(k1) * pow2(ki-k1)
}

// pow2 is 2^k for k in [−126, 127].
func pow2(k int32) float32 {
	return math.Float32frombits(uint32(k+127) << 23)
}

// logistic32 is 1/(1+e^−x), in the two forms simplego uses so that
// neither overflows: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) below.
func logistic32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + exp32(-x))
	}
	e := exp32(x)
	return e / (1 + e)
}
