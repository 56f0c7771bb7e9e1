package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestGemm checks the packed product against a plain triple loop for sizes
// on and off the tile and block edges, for each operand layout (row-major,
// transposed, neither), serial and split.
func TestGemm(t *testing.T) {
	if !gemmSIMD {
		t.Skip("the micro-kernel needs AVX2/FMA")
	}
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
				for _, workers := range []int{1, 2} {
					name := fmt.Sprintf("%dx%dx%d/%s·%s/%d", m, n, k, la.name, lb.name, workers)
					ldc := n + 3 // a row stride wider than the row
					c := randomFloats(r, m*ldc)
					gemm(c, ldc, m, n, k, a, b, workers)
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

func randomFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// TestGemmThroughput logs GFLOP/s of the packed product on the `ref`
// preset's largest shapes (a measurement, not an assertion; run with -v).
func TestGemmThroughput(t *testing.T) {
	if testing.Short() || !gemmSIMD {
		t.Skip("measurement")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{2048, 1024, 256}, {2048, 6000, 256}, {256, 1024, 2048}, {2048, 256, 6000}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := stridedMatrix{randomFloats(r, m*k), k, 1}
		b := stridedMatrix{randomFloats(r, k*n), n, 1}
		c := make([]float32, m*n)
		for _, workers := range []int{1, 2} {
			gemm(c, n, m, n, k, a, b, workers)
			start := time.Now()
			const reps = 3
			for range reps {
				gemm(c, n, m, n, k, a, b, workers)
			}
			gf := 2 * float64(m*n*k) * reps / time.Since(start).Seconds() / 1e9
			t.Logf("[%d×%d]·[%d×%d], %d goroutines: %.1f GFLOP/s", m, k, k, n, workers, gf)
		}
	}
}
