package gomlxpatch

import "math"

// expConsts are exp8AVX2's constants, each eight times, in the order its
// offsets read them.
var expConsts = func() (c [expConstCount][8]float32) {
	vals := [expConstCount]float32{
		expMaxArg, expMinArg, expLog2e, expLn2hi, expLn2lo,
		expC0, expC1, expC2, expC3, expC4, expC5, 1,
		math.Float32frombits(127), // the exponent bias, as int32 lanes
		float32(math.Inf(1)),
		math.Float32frombits(1 << 31), // the sign bit
	}
	for i, v := range vals {
		for j := range c[i] {
			c[i][j] = v
		}
	}
	return c
}()

const expConstCount = 15

// exp8AVX2 sets dst[i] = e^src[i] for i < n, a multiple of 8
// (fastmath_amd64.s).
//
//go:noescape
func exp8AVX2(dst, src *float32, n int, c *[expConstCount][8]float32)

// logistic8AVX2 sets dst[i] = 1/(1+e^−src[i]) for i < n, a multiple of 8
// (fastmath_amd64.s).
//
//go:noescape
func logistic8AVX2(dst, src *float32, n int, c *[expConstCount][8]float32)

// expInto sets dst[i] = e^src[i]; dst may be src.
func expInto(dst, src []float32) { by8(dst, src, exp8AVX2, exp32) }

// logisticInto sets dst[i] = 1/(1+e^−src[i]), in the two forms simplego
// uses so that neither overflows: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) below
// (−0 takes the second, which gives the same ½); dst may be src.
func logisticInto(dst, src []float32) { by8(dst, src, logistic8AVX2, logistic32) }

// by8 runs an eight-lane kernel over src, the tail through the same
// kernel (for the same bits) by way of a buffer; on a CPU without AVX2 and
// FMA, scalar (the same function in Go) runs instead.
func by8(dst, src []float32, kernel func(dst, src *float32, n int, c *[expConstCount][8]float32), scalar func(float32) float32) {
	if !gemmSIMD {
		for i, v := range src {
			dst[i] = scalar(v)
		}
		return
	}
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		kernel(&dst[0], &src[0], n, &expConsts)
	}
	if n < len(src) {
		var buf [8]float32
		copy(buf[:], src[n:])
		kernel(&buf[0], &buf[0], 8, &expConsts)
		copy(dst[n:], buf[:])
	}
}
