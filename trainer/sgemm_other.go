//go:build !amd64

package trainer

import "unsafe"

// sgemmKernel6x16 is the portable micro-kernel, for builds where there is
// no assembly one. The fast DotGeneral is off there (gemmSIMD is false),
// so only tests would call it.
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, add bool) {
	ap := unsafe.Slice(a, kc*gemmMR)
	bp := unsafe.Slice(b, kc*gemmNR)
	cp := unsafe.Slice(c, (gemmMR-1)*ldc+gemmNR)
	var acc [gemmMR][gemmNR]float32
	for p := range kc {
		for r := range gemmMR {
			av := ap[p*gemmMR+r]
			for j := range gemmNR {
				acc[r][j] += av * bp[p*gemmNR+j]
			}
		}
	}
	for r := range gemmMR {
		for j := range gemmNR {
			if add {
				cp[r*ldc+j] += acc[r][j]
			} else {
				cp[r*ldc+j] = acc[r][j]
			}
		}
	}
}
