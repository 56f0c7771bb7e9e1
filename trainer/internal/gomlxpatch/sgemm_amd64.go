package gomlxpatch

// sgemmKernel6x16 is the register-tiled micro-kernel of gemm, in
// sgemm_amd64.s: c[0:6, 0:16] (row stride ldc) = a·b, plus c's old values
// when add, for a packed 6-row panel a and a packed 16-column panel b of
// depth kc. It needs AVX2 and FMA3; gemm runs only where gemmSIMD says so.
//
//go:noescape
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, add bool)
