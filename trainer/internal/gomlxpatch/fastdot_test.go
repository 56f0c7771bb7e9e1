package gomlxpatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// withStockDot runs f with simplego's own DotGeneral executor.
func withStockDot(t *testing.T, f func()) {
	t.Helper()
	was := fastDotOn.Swap(false)
	defer fastDotOn.Store(was)
	f()
}

// TestFastDotMatchesStock multiplies the same operands with the packed GEMM and
// with simplego's, on the layouts the model and its gradients use and on
// awkward ones: several batch axes, contracting axes out of order, batch
// axes after cross axes, length-1 axes, and sizes that are not multiples of
// any SIMD width.
func TestFastDotMatchesStock(t *testing.T) {
	backend, err := testBackend()
	if err != nil {
		t.Fatal(err)
	}
	if s := Apply(); !s.Dot {
		t.Skipf("fast DotGeneral not in use here: %s", s.Reason)
	}
	cases := []struct {
		name           string
		lhs, rhs       []int
		lc, lb, rc, rb []int
	}{
		{"dense", []int{3, 17, 33}, []int{33, 19}, []int{2}, nil, []int{0}, nil},
		{"dense-grad-lhs", []int{3, 17, 19}, []int{33, 19}, []int{2}, nil, []int{1}, nil},
		{"dense-grad-rhs", []int{3, 17, 33}, []int{3, 17, 19}, []int{0, 1}, nil, []int{0, 1}, nil},
		{"scores", []int{2, 9, 3, 8}, []int{2, 11, 3, 8}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
		{"values", []int{2, 3, 9, 11}, []int{2, 11, 3, 8}, []int{3}, []int{0, 1}, []int{1}, []int{0, 2}},
		{"transposed-contract", []int{4, 3}, []int{5, 4}, []int{0}, nil, []int{1}, nil},
		{"two-contract-unsorted-rhs", []int{3, 2, 4}, []int{4, 6, 2}, []int{1, 2}, nil, []int{2, 0}, nil},
		{"two-contract-unsorted-lhs", []int{3, 2, 4}, []int{4, 6, 2}, []int{2, 1}, nil, []int{0, 2}, nil},
		{"batch-last", []int{5, 7, 2}, []int{7, 2, 6}, []int{1}, []int{2}, []int{0}, []int{1}},
		{"unit-axes", []int{1, 6, 1, 5}, []int{5, 1, 4}, []int{3}, nil, []int{0}, nil},
		{"vector", []int{6, 5}, []int{5}, []int{1}, nil, []int{0}, nil},
		{"outer", []int{4}, []int{3}, nil, nil, nil, nil},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lhs, rhs := randomTensor(r, c.lhs...), randomTensor(r, c.rhs...)
			dot := func(l, r *Node) *Node { return DotGeneral(l, c.lc, c.lb, r, c.rc, c.rb) }
			got := MustExecOnce(backend, dot, lhs, rhs)
			var want *tensors.Tensor
			withStockDot(t, func() { want = MustExecOnce(backend, dot, lhs, rhs) })
			if !want.Shape().Equal(got.Shape()) {
				t.Fatalf("shape %s, want %s", got.Shape(), want.Shape())
			}
			w, g := tensors.MustCopyFlatData[float32](want), tensors.MustCopyFlatData[float32](got)
			for j := range w {
				if math.Abs(float64(w[j]-g[j])) > 1e-4*(1+math.Abs(float64(w[j]))) {
					t.Fatalf("[%d] = %g, want %g", j, g[j], w[j])
				}
			}
		})
	}
}

// TestTransposeInto checks the strided copy against a direct index
// computation for every permutation of a rank-4 array.
func TestTransposeInto(t *testing.T) {
	dims := []int{2, 3, 1, 4}
	src := make([]float32, 24)
	for i := range src {
		src[i] = float32(i)
	}
	for _, perm := range permutations([]int{0, 1, 2, 3}) {
		got, free := transposed(src, dims, perm)
		var want []float32
		var idx [4]int
		for idx[0] = range dims[perm[0]] {
			for idx[1] = range dims[perm[1]] {
				for idx[2] = range dims[perm[2]] {
					for idx[3] = range dims[perm[3]] {
						var at [4]int
						for i, a := range perm {
							at[a] = idx[i]
						}
						want = append(want, src[((at[0]*3+at[1])*1+at[2])*4+at[3]])
					}
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("perm %v: got %v, want %v", perm, got, want)
		}
		free()
	}
}

func permutations(xs []int) [][]int {
	if len(xs) <= 1 {
		return [][]int{slices.Clone(xs)}
	}
	var out [][]int
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{xs[i]}, p...))
		}
	}
	return out
}

// BenchmarkFastDot times DotGeneral with the packed GEMM and with
// simplego's kernel on the `ref` preset's largest products, in GFLOP/s.
func BenchmarkFastDot(b *testing.B) {
	backend, err := testBackend()
	if err != nil {
		b.Fatal(err)
	}
	if s := Apply(); !s.Dot {
		b.Skipf("fast DotGeneral not in use here: %s", s.Reason)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{2048, 256, 1024}, {2048, 256, 6000}, {256, 2048, 1024}} {
		m, k, n := sz[0], sz[1], sz[2]
		x, w := randomTensor(r, m, k), randomTensor(r, k, n)
		exec := MustNewExec(backend, func(x, w *Node) *Node { return DotGeneral(x, []int{1}, nil, w, []int{0}, nil) })
		for _, kernel := range []string{"packed", "simplego"} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, kernel), func(b *testing.B) {
				was := fastDotOn.Swap(kernel == "packed")
				defer fastDotOn.Store(was)
				exec.MustExec(x, w) // compile and warm up
				b.ResetTimer()
				for b.Loop() {
					exec.MustExec(x, w)
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
