#include "textflag.h"

// EXP8 sets Y4 = e^Y0 in eight lanes: the algorithm of exp32
// (fastmath.go) with the ends by masks instead of branches, and 2^k
// applied in two halves so that subnormal results need no special case.
// R8 points at the constants (expConsts). It uses Y1–Y11 and keeps Y0.
#define EXP8 \
	VCMPPS  $0x1e, 0(R8), Y0, Y9    \ // x > maxArg
	VCMPPS  $0x11, 32(R8), Y0, Y10  \ // x < minArg
	VCMPPS  $3, Y0, Y0, Y11         \ // x is NaN
	VMAXPS  32(R8), Y0, Y1          \
	VMINPS  0(R8), Y1, Y1           \ // x clamped
	VMULPS  64(R8), Y1, Y2          \
	VROUNDPS $0, Y2, Y2             \ // k = round(x·log2e)
	VMOVAPS Y1, Y3                  \
	VFNMADD231PS 96(R8), Y2, Y3     \ // r = x − k·ln2hi
	VFNMADD231PS 128(R8), Y2, Y3    \ // r −= k·ln2lo
	VMOVUPS 160(R8), Y4             \ // p = c0
	VFMADD213PS 192(R8), Y3, Y4     \ // p = p·r + c1
	VFMADD213PS 224(R8), Y3, Y4     \
	VFMADD213PS 256(R8), Y3, Y4     \
	VFMADD213PS 288(R8), Y3, Y4     \
	VFMADD213PS 320(R8), Y3, Y4     \ // … + c5
	VMULPS  Y3, Y3, Y5              \ // r²
	VFMADD213PS Y3, Y5, Y4          \ // p·r² + r
	VADDPS  352(R8), Y4, Y4         \ // + 1
	VCVTPS2DQ Y2, Y6                \ // k as int32
	VPSRAD  $1, Y6, Y7              \ // k1 = k>>1
	VPSUBD  Y7, Y6, Y6              \ // k2 = k − k1
	VPADDD  384(R8), Y7, Y7         \
	VPSLLD  $23, Y7, Y7             \ // 2^k1
	VPADDD  384(R8), Y6, Y6         \
	VPSLLD  $23, Y6, Y6             \ // 2^k2
	VMULPS  Y7, Y4, Y4              \
	VMULPS  Y6, Y4, Y4              \
	VBLENDVPS Y9, 416(R8), Y4, Y4   \ // +Inf above maxArg
	VANDNPS Y4, Y10, Y4             \ // 0 below minArg
	VBLENDVPS Y11, Y0, Y4, Y4         // NaN stays NaN

// func exp8AVX2(dst, src *float32, n int, c *[expConstCount][8]float32)
//
// dst[i] = e^src[i] for i < n, n a multiple of 8. dst may be src.
// Requires AVX2 and FMA3.
TEXT ·exp8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R8
	SHRQ $3, CX
	JZ   expdone

exploop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     exploop

expdone:
	VZEROUPPER
	RET

// func logistic8AVX2(dst, src *float32, n int, c *[expConstCount][8]float32)
//
// dst[i] = 1/(1+e^−x) for x = src[i] ≥ 0 and e^x/(1+e^x) below, for i < n,
// n a multiple of 8: e = e^−|x|, and the numerator is picked by x's sign
// bit. dst may be src. Requires AVX2 and FMA3.
TEXT ·logistic8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R8
	SHRQ $3, CX
	JZ   logdone

logloop:
	VMOVUPS (SI), Y12               // x
	VORPS   448(R8), Y12, Y0        // −|x|: the sign bit set
	EXP8                            // Y4 = e
	VADDPS  352(R8), Y4, Y13        // 1 + e
	VMOVUPS 352(R8), Y15            // 1
	VBLENDVPS Y12, Y4, Y15, Y14     // x's sign bit ? e : 1
	VDIVPS  Y13, Y14, Y14
	VMOVUPS Y14, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     logloop

logdone:
	VZEROUPPER
	RET
