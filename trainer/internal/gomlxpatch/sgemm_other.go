//go:build !amd64

package gomlxpatch

// sgemmKernel6x16 is the portable micro-kernel where there is no assembly
// one. The fast DotGeneral is off there (gemmSIMD is false); tests run it.
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, add bool) {
	sgemmKernel6x16Go(kc, a, b, c, ldc, add)
}
