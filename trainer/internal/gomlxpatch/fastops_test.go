package gomlxpatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// withStockOps runs f with simplego's own elementwise and reduce executors.
func withStockOps(t *testing.T, f func()) {
	t.Helper()
	was := fastOpsOn.Swap(false)
	defer fastOpsOn.Store(was)
	f()
}

// TestFastOpsMatchStock runs each replaced op with the replacement and with
// simplego's executor, on the broadcasts and reductions the model uses and
// on odd ones: both operands broadcast, scalar on either side, reductions
// over leading, trailing, middle, all and non-contiguous axes (which go to
// the stock executor), and sizes on either side of the cut-off.
// Elementwise arithmetic, maxima, broadcasts, transposes and copies must
// agree bit for bit;
// sums to float tolerance; Exp and Logistic to 2 ulp.
func TestFastOpsMatchStock(t *testing.T) {
	backend, err := testBackend()
	if err != nil {
		t.Fatal(err)
	}
	if s := Apply(); !s.Ops {
		t.Skipf("fast ops not in use here: %s", s.Reason)
	}
	r := rand.New(rand.NewPCG(9, 10))
	binary := map[string]func(x, y *Node) *Node{"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div}
	pairs := [][2][]int{
		{{6, 70, 50}, {6, 70, 50}},
		{{6, 70, 50}, {1, 1, 50}},
		{{6, 70, 50}, {6, 70, 1}},
		{{1, 70, 50}, {6, 1, 50}},
		{{6, 1, 50}, {1, 70, 1}},
		{{6, 70, 50}, {}},
		{{}, {6, 70, 50}},
		{{4, 8, 60, 60}, {1, 1, 60, 60}},
		{{10, 10}, {10, 1}}, // below the cut-off
	}
	type check struct {
		name string
		in   []*tensors.Tensor
		fn   func(in []*Node) *Node
		ulps float64 // 0: bit for bit; else relative tolerance in float32 ulps
		atol float64 // absolute tolerance, for sums (which can cancel)
	}
	var checks []check
	for name, op := range binary {
		for _, p := range pairs {
			checks = append(checks, check{name: name, in: []*tensors.Tensor{randomTensor(r, p[0]...), randomTensor(r, p[1]...)},
				fn: func(in []*Node) *Node { return op(in[0], in[1]) }})
		}
	}
	wide := randomTensor(r, 6, 70, 50)
	scaled := func(in []*Node) *Node { return MulScalar(in[0], 40) } // e^x from e^−120 to e^120
	checks = append(checks,
		check{name: "Exp", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return Exp(scaled(in)) }, ulps: 2},
		check{name: "Logistic", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return Sigmoid(scaled(in)) }, ulps: 2},
		check{name: "BroadcastPrefix", in: []*tensors.Tensor{randomTensor(r, 70, 50)},
			fn: func(in []*Node) *Node { return BroadcastPrefix(in[0], 6) }},
		check{name: "BroadcastToDims-last", in: []*tensors.Tensor{randomTensor(r, 6, 70, 1)},
			fn: func(in []*Node) *Node { return BroadcastToDims(in[0], 6, 70, 50) }},
		check{name: "BroadcastToDims-middle", in: []*tensors.Tensor{randomTensor(r, 6, 1, 50)},
			fn: func(in []*Node) *Node { return BroadcastToDims(in[0], 6, 70, 50) }},
		check{name: "Sqrt", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return Sqrt(Abs(in[0])) }},
		check{name: "Neg", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return Neg(in[0]) }},
		check{name: "Identity", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return Identity(in[0]) }},
	)
	for _, c := range []struct {
		dims, perm []int
	}{
		{[]int{6, 70, 50}, []int{2, 0, 1}},
		{[]int{6, 70, 50}, []int{1, 0, 2}},
		{[]int{6, 70, 50}, []int{0, 2, 1}},
		{[]int{16, 8, 4, 16}, []int{0, 2, 1, 3}}, // the attention heads' split
		{[]int{1, 70, 50}, []int{2, 1, 0}},
		{[]int{3, 7}, []int{1, 0}}, // below the cut-off
	} {
		checks = append(checks, check{name: fmt.Sprintf("Transpose%v", c.perm), in: []*tensors.Tensor{randomTensor(r, c.dims...)},
			fn: func(in []*Node) *Node { return TransposeAllAxes(in[0], c.perm...) }})
	}
	for _, axes := range [][]int{{2}, {1}, {0}, {0, 1}, {1, 2}, {0, 1, 2}, {0, 2}} {
		checks = append(checks,
			check{name: "ReduceSum", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return ReduceSum(in[0], axes...) }, ulps: 1, atol: 1e-3}, // sums of up to 21000 N(0,1) values
			check{name: "ReduceMax", in: []*tensors.Tensor{wide}, fn: func(in []*Node) *Node { return ReduceMax(in[0], axes...) }})
	}
	for _, c := range checks {
		exec := func() *tensors.Tensor {
			return MustExecOnceN(backend, func(in []*Node) *Node { return c.fn(in) }, anys(c.in)...)[0]
		}
		got := exec()
		var want *tensors.Tensor
		withStockOps(t, func() { want = exec() })
		if !want.Shape().Equal(got.Shape()) {
			t.Fatalf("%s %v: shape %s, want %s", c.name, c.in[0].Shape(), got.Shape(), want.Shape())
		}
		w, g := tensors.MustCopyFlatData[float32](want), tensors.MustCopyFlatData[float32](got)
		for j := range w {
			if !closeULPs(g[j], w[j], c.ulps) && math.Abs(float64(g[j]-w[j])) > c.atol {
				t.Fatalf("%s %v: [%d] = %g, want %g", c.name, c.in[0].Shape(), j, g[j], w[j])
			}
		}
	}
}

func anys(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// closeULPs says whether got is within ulps float32 ulps of want (relative
// to want's magnitude, and at least the smallest normal's ulp), or equal
// bit for bit when ulps is 0.
func closeULPs(got, want float32, ulps float64) bool {
	if ulps == 0 || math.IsNaN(float64(want)) || math.IsInf(float64(want), 0) {
		return math.Float32bits(got) == math.Float32bits(want) || (got != got && want != want)
	}
	ulp := math.Max(math.Abs(float64(want))*0x1p-23, 0x1p-149)
	return math.Abs(float64(got)-float64(want)) <= ulps*ulp
}

// TestExp32 compares exp32 and expInto (the eight-lane kernel where the
// CPU has one) with math.Exp rounded to float32 across the whole range, at
// the ends and on special values, and logisticInto with 1/(1+e^−x); the
// slices have an odd length so the kernel's tail is covered, and the
// second pass runs in place.
func TestExp32(t *testing.T) {
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88.72, 88.7228, 88.72284, 88.73, 100, -87.33, -87.34, -100,
		-103.9, -103.98, -104, -1e9, 1e9, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	const n = 1<<20 + 3
	for i := range n {
		xs = append(xs, -104+193*float32(i)/n)
	}
	check := func(name string, got []float32, want func(float64) float64, ulps float64) {
		t.Helper()
		for i, x := range xs {
			if w := float32(want(float64(x))); !closeULPs(got[i], w, ulps) {
				t.Fatalf("%s(%g) = %g, want %g", name, x, got[i], w)
			}
		}
	}
	scalar := make([]float32, len(xs))
	for i, x := range xs {
		scalar[i] = exp32(x)
	}
	check("exp32", scalar, math.Exp, 2)
	got := make([]float32, len(xs))
	expInto(got, xs)
	check("expInto", got, math.Exp, 2)
	copy(got, xs)
	expInto(got, got)
	check("expInto in place", got, math.Exp, 2)
	logistic := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	logisticInto(got, xs)
	check("logisticInto", got, logistic, 3)
	copy(got, xs)
	logisticInto(got, got)
	check("logisticInto in place", got, logistic, 3)
}

// TestSumsKeepTheirOrder checks the AVX2 sums against the Go loops they
// replace, bit for bit: reduceRow's eight running sums (element i into sum
// i mod 8, in order) and reduceInto's column sums (row after row), for
// lengths on and off a multiple of 8.
func TestSumsKeepTheirOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 1000, 6001} {
		x := randomFloats(r, n)
		var s [8]float32
		for i, v := range x {
			s[i%8] += v
		}
		want := ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
		if got := reduceRow(x, false); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("reduceRow of %d: %g, want %g", n, got, want)
		}
	}
	for _, inner := range []int{2, 5, 8, 13, 256} { // inner 1 is reduceRow
		const outer, mid = 3, 40
		src := randomFloats(r, outer*mid*inner)
		got := make([]float32, outer*inner)
		reduceInto(got, src, outer, mid, inner, false)
		for i := range outer {
			for j := range inner {
				want := src[i*mid*inner+j]
				for k := 1; k < mid; k++ {
					want += src[(i*mid+k)*inner+j]
				}
				if g := got[i*inner+j]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("column sum [%d, %d] of %dx%dx%d: %g, want %g", i, j, outer, mid, inner, g, want)
				}
			}
		}
	}
}
