package gomlxpatch

import "unsafe"

// sgemmKernel6x16Go is the micro-kernel in portable Go, with the contract
// of sgemmKernel6x16: c[0:6, 0:16] (row stride ldc) = a·b, plus c's old
// values when add. It is the kernel where there is no assembly one, and
// tests hold the assembly one to it on every machine.
func sgemmKernel6x16Go(kc int, a, b, c *float32, ldc int, add bool) {
	ap := unsafe.Slice(a, kc*gemmMR)
	bp := unsafe.Slice(b, kc*gemmNR)
	cp := unsafe.Slice(c, (gemmMR-1)*ldc+gemmNR)
	var acc [gemmMR][gemmNR]float32
	for p := range kc {
		arow := (*[gemmMR]float32)(ap[p*gemmMR:])
		brow := (*[gemmNR]float32)(bp[p*gemmNR:])
		for r, av := range arow {
			row := &acc[r]
			for j, bv := range brow {
				row[j] += av * bv
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
