package gomlxpatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernels are the micro-kernels this machine runs: the portable one
// everywhere, the assembly one where the CPU has AVX2/FMA.
func kernels() []struct {
	name string
	kern microKernel
} {
	ks := []struct {
		name string
		kern microKernel
	}{{"go", sgemmKernel6x16Go}}
	if gemmSIMD {
		ks = append(ks, struct {
			name string
			kern microKernel
		}{"asm", sgemmKernel6x16})
	}
	return ks
}

// TestMicroKernel holds each micro-kernel to a float64 reference on one
// 6×16 tile, for depths on and off the SIMD widths, row strides wider
// than the tile, overwriting and accumulating; and, where the assembly
// kernel runs, the portable one to it.
func TestMicroKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, kc := range []int{1, 2, 3, 7, 8, 9, 31, 64, 255, 256} {
		for _, ldc := range []int{gemmNR, gemmNR + 1, 37} {
			for _, add := range []bool{false, true} {
				a, b := randomFloats(r, kc*gemmMR), randomFloats(r, kc*gemmNR)
				c0 := randomFloats(r, (gemmMR-1)*ldc+gemmNR)
				want := make([]float64, len(c0))
				for i, v := range c0 {
					want[i] = float64(v) // outside the tile, c must stay as it was
				}
				for i := range gemmMR {
					for j := range gemmNR {
						var s float64
						for p := range kc {
							s += float64(a[p*gemmMR+i]) * float64(b[p*gemmNR+j])
						}
						if add {
							s += float64(c0[i*ldc+j])
						}
						want[i*ldc+j] = s
					}
				}
				got := map[string][]float32{}
				for _, k := range kernels() {
					name := fmt.Sprintf("%s/kc=%d/ldc=%d/add=%v", k.name, kc, ldc, add)
					c := append([]float32(nil), c0...)
					k.kern(kc, &a[0], &b[0], &c[0], ldc, add)
					for i, w := range want {
						if math.Abs(float64(c[i])-w) > 1e-5*(1+math.Abs(w))*math.Sqrt(float64(kc)) {
							t.Fatalf("%s: c[%d] = %g, want %g", name, i, c[i], w)
						}
					}
					got[k.name] = c
				}
				if asm, ok := got["asm"]; ok {
					for i, v := range got["go"] {
						if d := math.Abs(float64(v - asm[i])); d > 1e-5*(1+math.Abs(float64(asm[i])))*math.Sqrt(float64(kc)) {
							t.Fatalf("kc=%d ldc=%d add=%v: c[%d] is %g in Go, %g in assembly", kc, ldc, add, i, v, asm[i])
						}
					}
				}
			}
		}
	}
}

// TestGemm checks the packed product on each micro-kernel against a plain
// triple loop for sizes on and off the tile and block edges, for each
// operand layout (row-major, transposed, neither), serial and split.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sizes := [][3]int{
		{1, 1, 1}, {6, 16, 1}, {5, 15, 3}, {7, 17, 2}, {12, 32, 256}, {13, 33, 257},
		{97, 50, 300}, {200, 70, 520}, {64, 3100, 20}, {130, 40, 64},
	}
	// layout of an r×c operand held in data: the view and its backing size
	layouts := []struct {
		name string
		view func(data []float32, rows, cols int) stridedMatrix
	}{
		{"rowmajor", func(d []float32, _, c int) stridedMatrix { return stridedMatrix{d, c, 1} }},
		{"transposed", func(d []float32, r, _ int) stridedMatrix { return stridedMatrix{d, 1, r} }},
		{"strided", func(d []float32, _, c int) stridedMatrix { return stridedMatrix{d, 2 * c, 2} }},
	}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, la := range layouts {
			for _, lb := range layouts {
				ad := randomFloats(r, 4*m*k)
				bd := randomFloats(r, 4*k*n)
				a, b := la.view(ad, m, k), lb.view(bd, k, n)
				want := make([]float64, m*n)
				for i := range m {
					for j := range n {
						var s float64
						for p := range k {
							s += float64(a.data[i*a.rs+p*a.cs]) * float64(b.data[p*b.rs+j*b.cs])
						}
						want[i*n+j] = s
					}
				}
				for _, kern := range kernels() {
					for _, workers := range []int{1, 2} {
						name := fmt.Sprintf("%s/%dx%dx%d/%s·%s/%d", kern.name, m, n, k, la.name, lb.name, workers)
						ldc := n + 3 // a row stride wider than the row
						c := randomFloats(r, m*ldc)
						gemmWith(kern.kern, c, ldc, m, n, k, a, b, workers)
						for i := range m {
							for j := range n {
								got, w := float64(c[i*ldc+j]), want[i*n+j]
								if math.Abs(got-w) > 1e-4*(1+math.Abs(w))*math.Sqrt(float64(k)) {
									t.Fatalf("%s: c[%d,%d] = %g, want %g", name, i, j, got, w)
								}
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkGemm times the packed product on the `ref` preset's largest
// shapes, on one and two goroutines, in GFLOP/s.
func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{2048, 1024, 256}, {2048, 6000, 256}, {256, 1024, 2048}, {2048, 256, 6000}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := stridedMatrix{randomFloats(r, m*k), k, 1}
		bm := stridedMatrix{randomFloats(r, k*n), n, 1}
		c := make([]float32, m*n)
		for _, kern := range kernels() {
			for _, workers := range []int{1, 2} {
				b.Run(fmt.Sprintf("%dx%dx%d/%s/%d", m, k, n, kern.name, workers), func(b *testing.B) {
					for b.Loop() {
						gemmWith(kern.kern, c, n, m, n, k, a, bm, workers)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
