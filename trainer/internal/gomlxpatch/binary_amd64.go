package gomlxpatch

// The eight-lane kernels of binary_amd64.s: dst[i] = x[i] op y[i] (VV),
// x[i] op v (VS) and v op y[i] (SV) for i < n, a multiple of 8.

//go:noescape
func addVV8(dst, x, y *float32, n int)

//go:noescape
func addVS8(dst, x *float32, v float32, n int)

//go:noescape
func addSV8(dst *float32, v float32, y *float32, n int)

//go:noescape
func subVV8(dst, x, y *float32, n int)

//go:noescape
func subVS8(dst, x *float32, v float32, n int)

//go:noescape
func subSV8(dst *float32, v float32, y *float32, n int)

//go:noescape
func mulVV8(dst, x, y *float32, n int)

//go:noescape
func mulVS8(dst, x *float32, v float32, n int)

//go:noescape
func mulSV8(dst *float32, v float32, y *float32, n int)

//go:noescape
func divVV8(dst, x, y *float32, n int)

//go:noescape
func divVS8(dst, x *float32, v float32, n int)

//go:noescape
func divSV8(dst *float32, v float32, y *float32, n int)

var (
	kernelsVV = [...]func(dst, x, y *float32, n int){opAdd: addVV8, opSub: subVV8, opMul: mulVV8, opDiv: divVV8}
	kernelsVS = [...]func(dst, x *float32, v float32, n int){opAdd: addVS8, opSub: subVS8, opMul: mulVS8, opDiv: divVS8}
	kernelsSV = [...]func(dst *float32, v float32, y *float32, n int){opAdd: addSV8, opSub: subSV8, opMul: mulSV8, opDiv: divSV8}
)

// binarySIMD runs the first n&^7 elements of binaryRun in eight lanes,
// where the CPU has AVX2, and returns how many it did.
func binarySIMD(op elementOp, dst, x, y []float32, xs, ys, n int) int {
	k := n &^ 7
	if !gemmSIMD || k == 0 || op > opDiv {
		return 0
	}
	_ = dst[k-1]
	switch {
	case xs == 1 && ys == 1:
		_, _ = x[k-1], y[k-1]
		kernelsVV[op](&dst[0], &x[0], &y[0], k)
	case xs == 1:
		_ = x[k-1]
		kernelsVS[op](&dst[0], &x[0], y[0], k)
	case ys == 1:
		_ = y[k-1]
		kernelsSV[op](&dst[0], x[0], &y[0], k)
	default:
		return 0
	}
	return k
}

//go:noescape
func sumLanes8(acc *[8]float32, x *float32, n int)

// sumLanes adds x[i] to acc[i%8] for the first len(x)&^7 elements, in
// order, where the CPU has AVX2, and returns how many it did.
func sumLanes(acc *[8]float32, x []float32) int {
	k := len(x) &^ 7
	if !gemmSIMD || k == 0 {
		return 0
	}
	sumLanes8(acc, &x[0], k)
	return k
}
