package gomlxpatch

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Training on simplego is bound by DotGeneral: its float32 kernel is scalar
// Go, while a step of the `ref` preset multiplies about 58 GFLOP
// (BenchmarkFastDot runs both kernels). fastDot views the operands as
// [batch] m×k and k×n strided matrices (a transposed copy only where the
// axes do not allow a view) and multiplies each pair with the packed GEMM
// of sgemm.go. Everything else (graph building, the other ops, the buffer
// pool) stays simplego's. TestFastDotMatchesStock checks it against the
// stock executor on every layout the model uses and on odd ones (several
// batch and contracting axes, unsorted axes).

// fastDot is the replacement executor. The output is simplego's normalized
// DotGeneral output, [batch, lhsCross, rhsCross] (the builder reshapes it
// afterwards).
func fastDot(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	stockDot := stock[backends.OpTypeDotGeneral]
	if !fastDotOn.Load() || len(inputs) != 2 {
		return stockDot(b, node, inputs, owned)
	}
	lhsShape, err := b.BufferShape(inputs[0])
	if err != nil {
		return nil, err
	}
	rhsShape, err := b.BufferShape(inputs[1])
	if err != nil {
		return nil, err
	}
	if lhsShape.DType != dtypes.Float32 || rhsShape.DType != dtypes.Float32 {
		return stockDot(b, node, inputs, owned)
	}
	p, ok := dotParamsOf(node)
	if !ok {
		return stockDot(b, node, inputs, owned)
	}
	lhsFlat, err := b.BufferData(inputs[0])
	if err != nil {
		return nil, err
	}
	rhsFlat, err := b.BufferData(inputs[1])
	if err != nil {
		return nil, err
	}
	// lhs as [batch] m×k matrices, rhs as [batch] k×n, contracting axes
	// paired in the order given; strided views where the axes allow, else
	// transposed copies.
	lhsCross := otherAxes(lhsShape.Rank(), p.lhsContract, p.lhsBatch)
	rhsCross := otherAxes(rhsShape.Rank(), p.rhsContract, p.rhsBatch)
	lhs, freeL := operandMatrices(lhsFlat.([]float32), lhsShape.Dimensions, p.lhsBatch, lhsCross, p.lhsContract)
	defer freeL()
	rhs, freeR := operandMatrices(rhsFlat.([]float32), rhsShape.Dimensions, p.rhsBatch, p.rhsContract, rhsCross)
	defer freeR()
	if len(lhs.offsets) != p.batch || len(rhs.offsets) != p.batch {
		return nil, fmt.Errorf("fast DotGeneral: sizes disagree: lhs %s, rhs %s, params %+v", lhsShape, rhsShape, p)
	}

	out := b.NewBuffer(shapes.Make(dtypes.Float32, p.batch, p.m, p.n))
	outFlat, err := b.BufferData(out)
	if err != nil {
		return nil, err
	}
	dst := outFlat.([]float32)
	mn := p.m * p.n
	if len(dst) != p.batch*mn {
		return nil, fmt.Errorf("fast DotGeneral: output of %d floats for params %+v", len(dst), p)
	}
	mul := func(i, workers int) {
		gemm(dst[i*mn:(i+1)*mn], p.n, p.m, p.n, p.k, lhs.matrix(i), rhs.matrix(i), workers)
	}
	workers := runtime.GOMAXPROCS(0)
	if p.batch >= 2*workers && p.m*p.n*p.k < 1<<22 {
		// many small products (attention): whole products per goroutine
		splitRange(workers, p.batch, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				mul(i, 1)
			}
		})
		return out, nil
	}
	for i := range p.batch {
		mul(i, workers)
	}
	return out, nil
}

// batchedMatrices are the matrices of one DotGeneral operand: matrix i
// starts at data[offsets[i]], rows rs and columns cs apart.
type batchedMatrices struct {
	data    []float32
	offsets []int
	rs, cs  int
}

func (x batchedMatrices) matrix(i int) stridedMatrix {
	return stridedMatrix{x.data[x.offsets[i]:], x.rs, x.cs}
}

// operandMatrices views src (of the given dimensions) as matrices indexed
// by the batch axes, with the row axes and the column axes each flattened
// in the order given. Where a group's axes are not evenly strided in src
// (they are not adjacent and in order), it falls back to a transposed
// copy, released by the returned function.
func operandMatrices(src []float32, dims, batch, rows, cols []int) (batchedMatrices, func()) {
	strides := make([]int, len(dims))
	s := 1
	for a := len(dims) - 1; a >= 0; a-- {
		strides[a] = s
		s *= dims[a]
	}
	rs, rowsOK := groupStride(dims, strides, rows)
	cs, colsOK := groupStride(dims, strides, cols)
	free := func() {}
	if !rowsOK || !colsOK {
		var t []float32
		t, free = transposed(src, dims, concatAxes(batch, rows, cols))
		src = t
		cs, rs = 1, axesSize(dims, cols)
		s := rs * axesSize(dims, rows)
		for i := len(batch) - 1; i >= 0; i-- {
			strides[batch[i]] = s
			s *= dims[batch[i]]
		}
	}
	// batch offsets, the last batch axis fastest
	offsets := []int{0}
	for _, a := range batch {
		next := make([]int, 0, len(offsets)*dims[a])
		for _, o := range offsets {
			for i := range dims[a] {
				next = append(next, o+i*strides[a])
			}
		}
		offsets = next
	}
	return batchedMatrices{src, offsets, rs, cs}, free
}

// groupStride is the stride of axes flattened into one, if they are evenly
// strided: each axis longer than 1 sits right outside the next one.
func groupStride(dims, strides, axes []int) (int, bool) {
	stride, inner := 1, -1
	for i := len(axes) - 1; i >= 0; i-- {
		a := axes[i]
		if dims[a] == 1 {
			continue
		}
		if inner >= 0 && strides[a] != strides[inner]*dims[inner] {
			return 0, false
		}
		if inner < 0 {
			stride = strides[a]
		}
		inner = a
	}
	return stride, true
}

// otherAxes are the axes of a rank-rank array in neither list, in order:
// a DotGeneral operand's cross axes.
func otherAxes(rank int, a, b []int) []int {
	var out []int
	for ax := range rank {
		if !slices.Contains(a, ax) && !slices.Contains(b, ax) {
			out = append(out, ax)
		}
	}
	return out
}

func axesSize(dims, axes []int) int {
	n := 1
	for _, a := range axes {
		n *= dims[a]
	}
	return n
}

func concatAxes(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// scratch reuses transposition buffers between DotGenerals.
var scratch = sync.Pool{New: func() any { return new([]float32) }}

// transposed returns src (of the given dimensions) with axis perm[i] at
// position i, row-major, and a function that releases the scratch buffer.
// When perm keeps the order of the axes that are longer than 1, src itself
// is returned. Hand-written: a strided copy is all it takes, and no kept
// library transposes an N-d float32 array by permutation.
func transposed(src []float32, dims, perm []int) ([]float32, func()) {
	if keepsOrder(dims, perm) {
		return src, func() {}
	}
	bp := scratch.Get().(*[]float32)
	if cap(*bp) < len(src) {
		*bp = make([]float32, len(src))
	}
	dst := (*bp)[:len(src)]
	transposeInto(dst, src, dims, perm)
	return dst, func() { scratch.Put(bp) }
}

// keepsOrder reports whether permuting the axes changes no element's
// position: the axes that are longer than 1 stay in ascending order.
func keepsOrder(dims, perm []int) bool {
	last := -1
	for _, a := range perm {
		if dims[a] == 1 {
			continue
		}
		if a < last {
			return false
		}
		last = a
	}
	return true
}

// transposeInto writes src permuted by perm into dst.
func transposeInto(dst, src []float32, dims, perm []int) {
	outDims, outStrides := permutedStrides(dims, perm)
	copyStrided(dst, src, outDims, outStrides)
}

// permutedStrides are the dimensions of src permuted by perm and, per
// output axis, the stride of that axis in src.
func permutedStrides(dims, perm []int) (outDims, outStrides []int) {
	rank := len(dims)
	strides := make([]int, rank) // of src
	s := 1
	for a := rank - 1; a >= 0; a-- {
		strides[a] = s
		s *= dims[a]
	}
	outDims = make([]int, rank)
	outStrides = make([]int, rank)
	for i, a := range perm {
		outDims[i] = dims[a]
		outStrides[i] = strides[a]
	}
	return outDims, outStrides
}

// copyStrided fills dst, row-major over outDims, from src where output axis
// i steps outStrides[i] in src, walking dst in order with an odometer; the
// innermost axis is a strided loop.
func copyStrided(dst, src []float32, outDims, outStrides []int) {
	rank := len(outDims)
	if len(dst) == 0 {
		return
	}
	if rank == 0 {
		dst[0] = src[0]
		return
	}
	inner, innerStride := outDims[rank-1], outStrides[rank-1]
	idx := make([]int, rank)
	base, o := 0, 0
	for o < len(dst) {
		j := base
		if innerStride == 1 {
			copy(dst[o:o+inner], src[j:j+inner])
		} else {
			for i := range inner {
				dst[o+i] = src[j]
				j += innerStride
			}
		}
		o += inner
		for ax := rank - 2; ax >= 0; ax-- {
			idx[ax]++
			base += outStrides[ax]
			if idx[ax] < outDims[ax] {
				break
			}
			base -= idx[ax] * outStrides[ax]
			idx[ax] = 0
		}
	}
}
