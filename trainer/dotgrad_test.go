package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func randomTensor(r *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// TestDotGeneralGradient checks the custom gradient against gomlx's own on
// the axis layouts the model uses and a few awkward ones.
func TestDotGeneralGradient(t *testing.T) {
	backend, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name           string
		lhs, rhs       []int
		lc, lb, rc, rb []int
	}{
		{"dense", []int{2, 3, 4}, []int{4, 5}, []int{2}, nil, []int{0}, nil},
		{"scores", []int{2, 3, 2, 4}, []int{2, 5, 2, 4}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
		{"values", []int{2, 2, 3, 5}, []int{2, 5, 2, 4}, []int{3}, []int{0, 1}, []int{1}, []int{0, 2}},
		{"transposed-contract", []int{4, 3}, []int{5, 4}, []int{0}, nil, []int{1}, nil},
		{"two-contract", []int{3, 2, 4}, []int{4, 6, 2}, []int{1, 2}, nil, []int{2, 0}, nil},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lhs, rhs := randomTensor(r, c.lhs...), randomTensor(r, c.rhs...)
			grads := func(dot func(l, r *Node) *Node) func(l, r *Node) []*Node {
				return func(l, r *Node) []*Node {
					y := dot(l, r)
					w := Sin(Iota(l.Graph(), y.Shape(), -1)) // fixed, non-uniform weights
					loss := ReduceAllSum(Mul(y, AddScalar(w, 0.5)))
					return append([]*Node{y}, Gradient(loss, l, r)...)
				}
			}
			want := MustExecOnceN(backend, grads(func(l, r *Node) *Node { return DotGeneral(l, c.lc, c.lb, r, c.rc, c.rb) }), lhs, rhs)
			got := MustExecOnceN(backend, grads(func(l, r *Node) *Node { return dotGeneral(l, c.lc, c.lb, r, c.rc, c.rb) }), lhs, rhs)
			for i, name := range []string{"value", "∂lhs", "∂rhs"} {
				w, g := tensors.MustCopyFlatData[float32](want[i]), tensors.MustCopyFlatData[float32](got[i])
				if !want[i].Shape().Equal(got[i].Shape()) {
					t.Fatalf("%s: shape %s, want %s", name, got[i].Shape(), want[i].Shape())
				}
				for j := range w {
					if math.Abs(float64(w[j]-g[j])) > 1e-4*(1+math.Abs(float64(w[j]))) {
						t.Fatalf("%s[%d] = %g, want %g", name, j, g[j], w[j])
					}
				}
			}
		})
	}
}
