package gomlxpatch

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// A float32 matrix product C = A·B blocked and packed the way GotoBLAS and
// BLIS do it: B is packed in kc×nc blocks of 16-column panels, A in mc×kc
// blocks of 6-row panels, and a 6×16 register-tiled micro-kernel
// (sgemm_amd64.s) runs over them with both panels in cache. It is
// hand-written because no kept Go module has a packed SIMD sgemm (gonum's
// is blocked but uses 4-wide axpy kernels; gomlx's own packed GEMM arrived
// after v0.26), and cgo to a system BLAS would make the build need one.
//
// Operands are strided views, so the transposed operands of gradients and
// the head-split operands of attention are packed straight from where they
// are, with no transposed copy.

// gemmSIMD says whether this CPU runs the micro-kernel of sgemm_amd64.s.
var gemmSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

const (
	gemmMR = 6    // micro-tile rows (A panel height)
	gemmNR = 16   // micro-tile columns (B panel width: two 8-float registers)
	gemmKC = 256  // depth of a packed block: a B panel is 16 KiB, held in L1
	gemmMC = 96   // rows of a packed A block: 96 KiB, held in L2
	gemmNC = 3072 // columns of a packed B block: 3 MiB, held in L3
)

// stridedMatrix is a read-only matrix view: element (i, j) is
// data[i*rs+j*cs].
type stridedMatrix struct {
	data   []float32
	rs, cs int
}

// at is the view from element (i, j) on.
func (x stridedMatrix) at(i, j int) stridedMatrix {
	return stridedMatrix{x.data[i*x.rs+j*x.cs:], x.rs, x.cs}
}

// gemmBuffers are one worker's packing buffers.
type gemmBuffers struct {
	a, b []float32
	tile [gemmMR * gemmNR]float32
}

var gemmPool = sync.Pool{New: func() any {
	return &gemmBuffers{a: make([]float32, gemmMC*gemmKC), b: make([]float32, gemmKC*gemmNC)}
}}

// microKernel is the type of sgemmKernel6x16 and of its portable form.
type microKernel func(kc int, a, b, c *float32, ldc int, add bool)

// gemm sets c (m×n, row-major, row stride ldc) to a (m×k) · b (k×n), split
// over up to workers goroutines by rows or columns, whichever is longer.
func gemm(c []float32, ldc, m, n, k int, a, b stridedMatrix, workers int) {
	gemmWith(sgemmKernel6x16, c, ldc, m, n, k, a, b, workers)
}

// gemmWith is gemm on the micro-kernel kern.
func gemmWith(kern microKernel, c []float32, ldc, m, n, k int, a, b stridedMatrix, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	// Below about 2 MFLOP a second goroutine costs more than it saves.
	if workers > 1 && m*n*k >= 1<<20 {
		if n >= m && n >= 2*gemmNR {
			splitRange(workers, n, gemmNR, func(j0, j1 int) {
				gemmSerial(kern, c[j0:], ldc, m, j1-j0, k, a, b.at(0, j0))
			})
			return
		}
		if m >= 2*gemmMR {
			splitRange(workers, m, gemmMR, func(i0, i1 int) {
				gemmSerial(kern, c[i0*ldc:], ldc, i1-i0, n, k, a.at(i0, 0), b)
			})
			return
		}
	}
	gemmSerial(kern, c, ldc, m, n, k, a, b)
}

// splitRange runs f over [0, size) cut into up to workers ranges, each a
// multiple of unit long but the last; the calling goroutine takes the first.
func splitRange(workers, size, unit int, f func(lo, hi int)) {
	units := (size + unit - 1) / unit
	workers = min(workers, units)
	bound := func(w int) int { return min(size, units*w/workers*unit) }
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(bound(w), bound(w+1))
		}()
	}
	f(0, bound(1))
	wg.Wait()
}

// gemmSerial is gemmWith on the calling goroutine.
func gemmSerial(kern microKernel, c []float32, ldc, m, n, k int, a, b stridedMatrix) {
	buf := gemmPool.Get().(*gemmBuffers)
	defer gemmPool.Put(buf)
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			add := pc > 0
			packB(buf.b, b.at(pc, jc), kc, nc)
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packA(buf.a, a.at(ic, pc), mc, kc)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bp := &buf.b[jr*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						ap := &buf.a[ir*kc]
						at := (ic+ir)*ldc + jc + jr
						if mr == gemmMR && nr == gemmNR {
							kern(kc, ap, bp, &c[at], ldc, add)
							continue
						}
						// an edge tile: multiply into the scratch tile,
						// then keep the rows and columns that exist
						kern(kc, ap, bp, &buf.tile[0], gemmNR, false)
						for r := range mr {
							row := c[at+r*ldc : at+r*ldc+nr]
							t := buf.tile[r*gemmNR : r*gemmNR+nr]
							if add {
								for j := range row {
									row[j] += t[j]
								}
							} else {
								copy(row, t)
							}
						}
					}
				}
			}
		}
	}
}

// packB lays the kc×nc block of b out as 16-column panels, each kc rows of
// 16 floats, the last panel padded with zeros.
func packB(dst []float32, b stridedMatrix, kc, nc int) {
	for jr := 0; jr < nc; jr += gemmNR {
		nr := min(gemmNR, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*gemmNR]
		switch {
		case b.cs == 1 && nr == gemmNR: // rows of b are contiguous
			for p := range kc {
				// a fixed-size array copy: inline moves, not a memmove call per row
				*(*[gemmNR]float32)(panel[p*gemmNR:]) = [gemmNR]float32(b.data[p*b.rs+jr:])
			}
		case b.cs == 1:
			for p := range kc {
				row := panel[p*gemmNR : (p+1)*gemmNR]
				src := b.data[p*b.rs+jr:]
				copy(row, src[:nr])
				clear(row[nr:])
			}
		case b.rs == 1: // columns of b are contiguous (a transposed operand)
			if nr < gemmNR {
				clear(panel)
			}
			for j := range nr {
				src := b.data[(jr+j)*b.cs:][:kc]
				for p, v := range src {
					panel[p*gemmNR+j] = v
				}
			}
		default:
			for p := range kc {
				row := panel[p*gemmNR : (p+1)*gemmNR]
				for j := range nr {
					row[j] = b.data[p*b.rs+(jr+j)*b.cs]
				}
				clear(row[nr:])
			}
		}
	}
}

// packA lays the mc×kc block of a out as 6-row panels, each kc columns of 6
// floats, the last panel padded with zeros.
func packA(dst []float32, a stridedMatrix, mc, kc int) {
	for ir := 0; ir < mc; ir += gemmMR {
		mr := min(gemmMR, mc-ir)
		panel := dst[ir*kc : ir*kc+kc*gemmMR]
		if mr < gemmMR {
			clear(panel)
		}
		switch {
		case a.cs == 1 && mr == gemmMR: // rows of a are contiguous
			packA6(panel, a.data[ir*a.rs:], a.rs, kc)
		case a.cs == 1:
			for r := range mr {
				src := a.data[(ir+r)*a.rs:][:kc]
				for p, v := range src {
					panel[p*gemmMR+r] = v
				}
			}
		case a.rs == 1 && mr == gemmMR: // columns of a are contiguous (a transposed operand)
			for p := range kc {
				*(*[gemmMR]float32)(panel[p*gemmMR:]) = [gemmMR]float32(a.data[p*a.cs+ir:])
			}
		case a.rs == 1:
			for p := range kc {
				copy(panel[p*gemmMR:p*gemmMR+mr], a.data[p*a.cs+ir:][:mr])
			}
		default:
			for p := range kc {
				for r := range mr {
					panel[p*gemmMR+r] = a.data[(ir+r)*a.rs+p*a.cs]
				}
			}
		}
	}
}

// packA6 packs six contiguous rows of kc floats, rs apart, into panel:
// column by column, so the panel is written in order and each row read
// in order.
func packA6(panel, a []float32, rs, kc int) {
	r0, r1, r2 := a[:kc], a[rs:rs+kc], a[2*rs:2*rs+kc]
	r3, r4, r5 := a[3*rs:3*rs+kc], a[4*rs:4*rs+kc], a[5*rs:5*rs+kc]
	panel = panel[:kc*gemmMR]
	for p := range kc {
		col := panel[p*gemmMR : p*gemmMR+gemmMR : p*gemmMR+gemmMR]
		col[0], col[1], col[2] = r0[p], r1[p], r2[p]
		col[3], col[4], col[5] = r3[p], r4[p], r5[p]
	}
}
