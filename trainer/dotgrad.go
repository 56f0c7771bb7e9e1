package trainer

import (
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // gomlx idiom: graph ops read as a math library
)

// dotGeneral is graph.DotGeneral with a gradient that is itself two
// DotGenerals. gomlx v0.26's own gradient of DotGeneral multiplies the
// broadcast operands, materialising a [batch…, m, n, k] tensor: the stock
// layers ran out of 24 GB on the `ref` preset in its first step.
//
// gomlx offers custom gradients only through IdentityWithCustomGradient, which
// has one input, so the product is wired like this: the value is computed on
// gradient-stopped operands; each operand passes through its own custom
// identity that joins the output through a term of value zero (s − stop(s),
// s a sum of the operand) so the operand stays on the gradient path; and a
// custom identity on the output records the output's adjoint v, which the
// operands' identities — visited later, as reverse mode goes output first —
// turn into ∂L/∂lhs = v·rhsᵀ and ∂L/∂rhs = lhsᵀ·v.
func dotGeneral(lhs *Node, lhsContract, lhsBatch []int, rhs *Node, rhsContract, rhsBatch []int) *Node {
	var v *Node // the output's adjoint, set while the gradient graph is built
	lhsIn := IdentityWithCustomGradient(lhs, func(_, _ *Node) *Node {
		return lhsAdjoint(v, lhs, lhsContract, lhsBatch, StopGradient(rhs), rhsContract, rhsBatch)
	})
	rhsIn := IdentityWithCustomGradient(rhs, func(_, _ *Node) *Node {
		return rhsAdjoint(v, StopGradient(lhs), lhsContract, lhsBatch, rhs, rhsContract, rhsBatch)
	})
	y := DotGeneral(StopGradient(lhs), lhsContract, lhsBatch, StopGradient(rhs), rhsContract, rhsBatch)
	y = Add(y, Add(zeroOnPath(lhsIn), zeroOnPath(rhsIn)))
	return IdentityWithCustomGradient(y, func(_, adjoint *Node) *Node {
		v = adjoint
		return adjoint
	})
}

// zeroOnPath is a scalar 0 whose gradient reaches x. It reads one element
// of x rather than summing x: any dependence puts x on the gradient path,
// and a sum cost a pass over every operand of every product (a twentieth
// of a `ref` step). The gradient it sends x is never computed: x's custom
// identity replaces it.
func zeroOnPath(x *Node) *Node {
	first := Gather(Reshape(x, x.Shape().Size()), Zeros(x.Graph(), shapes.Make(dtypes.Int32, 1)))
	return Sub(first, StopGradient(first))
}

// lhsAdjoint contracts v's rhs-cross axes with rhs's cross axes, giving
// [batch…, lhsCross…, rhs's contracting axes in ascending order…], and puts
// the axes back in lhs's order.
func lhsAdjoint(v, lhs *Node, lhsContract, lhsBatch []int, rhs *Node, rhsContract, rhsBatch []int) *Node {
	lhsCross := crossAxes(lhs.Rank(), lhsContract, lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), rhsContract, rhsBatch)
	nb, nlc := len(lhsBatch), len(lhsCross)
	g := DotGeneral(v, axesRange(nb+nlc, len(rhsCross)), axesRange(0, nb), rhs, rhsCross, rhsBatch)
	perm := make([]int, lhs.Rank()) // perm[i] = axis of g that becomes lhs axis i
	for i, a := range lhsBatch {
		perm[a] = i
	}
	for i, a := range lhsCross {
		perm[a] = nb + i
	}
	for i, ra := range slices.Sorted(slices.Values(rhsContract)) {
		perm[lhsContract[slices.Index(rhsContract, ra)]] = nb + nlc + i
	}
	return transposeIfNeeded(g, perm)
}

// rhsAdjoint contracts lhs's cross axes with v's lhs-cross axes, giving
// [batch…, lhs's contracting axes in ascending order…, rhsCross…], and puts
// the axes back in rhs's order.
func rhsAdjoint(v, lhs *Node, lhsContract, lhsBatch []int, rhs *Node, rhsContract, rhsBatch []int) *Node {
	lhsCross := crossAxes(lhs.Rank(), lhsContract, lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), rhsContract, rhsBatch)
	nb := len(lhsBatch)
	g := DotGeneral(lhs, lhsCross, lhsBatch, v, axesRange(nb, len(lhsCross)), axesRange(0, nb))
	perm := make([]int, rhs.Rank())
	for i, a := range rhsBatch {
		perm[a] = i
	}
	for i, la := range slices.Sorted(slices.Values(lhsContract)) {
		perm[rhsContract[slices.Index(lhsContract, la)]] = nb + i
	}
	for i, a := range rhsCross {
		perm[a] = nb + len(lhsContract) + i
	}
	return transposeIfNeeded(g, perm)
}

// transposeIfNeeded puts axis perm[i] of x at position i.
func transposeIfNeeded(x *Node, perm []int) *Node {
	for i, p := range perm {
		if i != p {
			return TransposeAllAxes(x, perm...)
		}
	}
	return x
}

func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

func axesRange(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
