package gomlxpatch

import (
	"math"
	"runtime"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Once DotGeneral is fast (fastdot.go), most of a `ref` step is simplego's
// float32 elementwise and reduce ops: each is a scalar loop that steps a
// per-element broadcast or reduce iterator, on one core (the backend runs
// ops in sequence), and Exp and Logistic go through float64 math.Exp. This
// file replaces the executors of the ones that cost (Add, Sub, Mul, Div,
// Exp, Logistic, Sqrt, Neg, ReduceSum, ReduceMax, BroadcastInDim,
// Transpose, Identity) for float32: the operands are cut into contiguous
// runs (a broadcast operand is a run of one repeated value), each run is a
// plain loop (eight AVX2 lanes for Add, Sub, Mul, Div and the sums,
// binary_amd64.s), and the runs are split over the cores.
//
// The arithmetic is the same IEEE float32 operation per element as
// simplego's, so Add, Sub, Mul, Div, Sqrt, Neg, the maxima and the moves
// give the same bits. Sums are taken in a different order (eight running
// sums), and Exp and Logistic use a float32 exp (exp32, eight lanes at a
// time where the CPU has AVX2) within 2 ulp of the rounded exact value:
// those agree to float tolerance (TestFastOpsMatchStock).
// Layouts the run plan does not cover, other dtypes and small tensors go
// to the stock executor.

// fastOpsMinSize is the output size below which the stock executor runs:
// there the op costs less than the planning.
const fastOpsMinSize = 2048

// opsExecutors are the replacements of the elementwise, reduce and
// broadcast ops.
func opsExecutors() map[backends.OpType]executor {
	return map[backends.OpType]executor{
		backends.OpTypeAdd:            fastBinary(backends.OpTypeAdd, opAdd),
		backends.OpTypeSub:            fastBinary(backends.OpTypeSub, opSub),
		backends.OpTypeMul:            fastBinary(backends.OpTypeMul, opMul),
		backends.OpTypeDiv:            fastBinary(backends.OpTypeDiv, opDiv),
		backends.OpTypeExp:            fastUnary(backends.OpTypeExp, opExp),
		backends.OpTypeLogistic:       fastUnary(backends.OpTypeLogistic, opLogistic),
		backends.OpTypeSqrt:           fastUnary(backends.OpTypeSqrt, opSqrt),
		backends.OpTypeNeg:            fastUnary(backends.OpTypeNeg, opNeg),
		backends.OpTypeReduceSum:      fastReduce(backends.OpTypeReduceSum, false),
		backends.OpTypeReduceMax:      fastReduce(backends.OpTypeReduceMax, true),
		backends.OpTypeBroadcastInDim: fastBroadcastInDim,
		backends.OpTypeTranspose:      fastTranspose,
		backends.OpTypeIdentity:       fastIdentity,
	}
}

// float32Data is a buffer's data if it is float32.
func float32Data(b *simplego.Backend, buf *simplego.Buffer) (shapes.Shape, []float32, bool) {
	s, err := b.BufferShape(buf)
	if err != nil || s.DType != dtypes.Float32 {
		return s, nil, false
	}
	flat, err := b.BufferData(buf)
	if err != nil {
		return s, nil, false
	}
	f, ok := flat.([]float32)
	return s, f, ok
}

// parallelRange runs f over [0, n) in contiguous ranges, one per core,
// when there are at least elems elements of work (a goroutine costs about
// as much as a few thousand of them).
func parallelRange(n, elems int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n < 2 || elems < 1<<15 {
		f(0, n)
		return
	}
	splitRange(workers, n, 1, f)
}

// runPlan lays an output out as runs: an odometer over the outer groups
// of axes, and a contiguous innermost group. Axes are grouped where every
// operand is broadcast along all of them or along none.
type runPlan struct {
	outer   []int    // sizes of the outer groups, outermost first
	strides [2][]int // each operand's stride per outer group; 0 where broadcast
	run     int      // length of the innermost group
	step    [2]int   // each operand's stride along a run: 1, or 0 where broadcast
}

// planRuns plans out (dimensions) from operands of the same rank, each
// dimension equal to out's or 1.
func planRuns(out []int, ins ...[]int) runPlan {
	type group struct {
		size  int
		bcast [2]bool
	}
	var gs []group
	for a, d := range out {
		if d == 1 {
			continue
		}
		var b [2]bool
		for i, in := range ins {
			b[i] = in[a] == 1
		}
		if n := len(gs); n > 0 && gs[n-1].bcast == b {
			gs[n-1].size *= d
		} else {
			gs = append(gs, group{d, b})
		}
	}
	if len(gs) == 0 {
		gs = []group{{size: 1}}
	}
	last := gs[len(gs)-1]
	p := runPlan{run: last.size}
	for _, g := range gs[:len(gs)-1] {
		p.outer = append(p.outer, g.size)
	}
	p.strides[1] = make([]int, len(p.outer)) // zeros, if there is one operand
	for i := range ins {
		s := 1
		if !last.bcast[i] {
			p.step[i], s = 1, last.size
		}
		p.strides[i] = make([]int, len(p.outer))
		for g := len(p.outer) - 1; g >= 0; g-- {
			if !gs[g].bcast[i] {
				p.strides[i][g] = s
				s *= gs[g].size
			}
		}
	}
	return p
}

// outerCount is the number of runs.
func (p runPlan) outerCount() int {
	n := 1
	for _, s := range p.outer {
		n *= s
	}
	return n
}

// eachRun calls f with the output offset and the operands' offsets of
// runs lo to hi-1, in order.
func (p runPlan) eachRun(lo, hi int, f func(out, in0, in1 int)) {
	idx := make([]int, len(p.outer))
	var off [2]int
	rest := lo
	for g := len(p.outer) - 1; g >= 0; g-- {
		idx[g] = rest % p.outer[g]
		rest /= p.outer[g]
		for i := range off {
			off[i] += idx[g] * p.strides[i][g]
		}
	}
	for r := lo; r < hi; r++ {
		f(r*p.run, off[0], off[1])
		for g := len(p.outer) - 1; g >= 0; g-- {
			idx[g]++
			for i := range off {
				off[i] += p.strides[i][g]
			}
			if idx[g] < p.outer[g] {
				break
			}
			for i := range off {
				off[i] -= idx[g] * p.strides[i][g]
			}
			idx[g] = 0
		}
	}
}

// forRuns runs f over all runs of p, split over the cores; a plan of a
// single run is split within the run. f gets the output range and the
// operands' starting offsets.
func (p runPlan) forRuns(f func(out, in0, in1, n int)) {
	total := p.outerCount() * p.run
	if len(p.outer) == 0 {
		parallelRange(p.run, total, func(lo, hi int) {
			f(lo, lo*p.step[0], lo*p.step[1], hi-lo)
		})
		return
	}
	parallelRange(p.outerCount(), total, func(lo, hi int) {
		p.eachRun(lo, hi, func(out, in0, in1 int) { f(out, in0, in1, p.run) })
	})
}

// elementOp is one of the replaced elementwise ops.
type elementOp int

const (
	opAdd elementOp = iota
	opSub
	opMul
	opDiv
	opExp
	opLogistic
	opSqrt
	opNeg
)

// fastBinary is the executor of a binary elementwise op.
func fastBinary(opType backends.OpType, op elementOp) executor {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		stock := stock[opType]
		if !fastOpsOn.Load() || len(inputs) != 2 {
			return stock(b, node, inputs, owned)
		}
		ls, lhs, ok0 := float32Data(b, inputs[0])
		rs, rhs, ok1 := float32Data(b, inputs[1])
		if !ok0 || !ok1 {
			return stock(b, node, inputs, owned)
		}
		outShape := nodeShape(node)
		out := outShape.Dimensions
		if outShape.Size() < fastOpsMinSize {
			return stock(b, node, inputs, owned)
		}
		ld, ok0 := broadcastDims(ls, out)
		rd, ok1 := broadcastDims(rs, out)
		if !ok0 || !ok1 {
			return stock(b, node, inputs, owned)
		}
		// Reuse an input the executor owns, as simplego does.
		var output *simplego.Buffer
		switch {
		case owned[1] && rs.Equal(outShape):
			output, inputs[1] = inputs[1], nil
		case owned[0] && ls.Equal(outShape):
			output, inputs[0] = inputs[0], nil
		default:
			output = b.NewBuffer(outShape)
		}
		_, dst, _ := float32Data(b, output)
		p := planRuns(out, ld, rd)
		p.forRuns(func(o, i0, i1, n int) {
			binaryRun(op, dst[o:o+n], lhs[i0:], rhs[i1:], p.step[0], p.step[1], n)
		})
		return output, nil
	}
}

// broadcastDims is s's dimensions at out's rank, if s broadcasts to out:
// a scalar (or any single value) as all ones, else each dimension out's
// or 1.
func broadcastDims(s shapes.Shape, out []int) ([]int, bool) {
	if s.Rank() != len(out) {
		if s.Size() != 1 {
			return nil, false
		}
		ones := make([]int, len(out))
		for i := range ones {
			ones[i] = 1
		}
		return ones, true
	}
	for a, d := range s.Dimensions {
		if d != out[a] && d != 1 {
			return nil, false
		}
	}
	return s.Dimensions, true
}

// binaryRun sets dst[i] = x[i·xs] op y[i·ys] for i < n, with xs and ys 1
// (a run of x or y) or 0 (one value of it).
func binaryRun(op elementOp, dst, x, y []float32, xs, ys, n int) {
	if k := binarySIMD(op, dst, x, y, xs, ys, n); k > 0 {
		dst, x, y, n = dst[k:], x[k*xs:], y[k*ys:], n-k
	}
	switch {
	case xs == 1 && ys == 1:
		x, y = x[:n], y[:n]
		switch op {
		case opAdd:
			for i := range dst {
				dst[i] = x[i] + y[i]
			}
		case opSub:
			for i := range dst {
				dst[i] = x[i] - y[i]
			}
		case opMul:
			for i := range dst {
				dst[i] = x[i] * y[i]
			}
		case opDiv:
			for i := range dst {
				dst[i] = x[i] / y[i]
			}
		}
	case xs == 1:
		x, v := x[:n], y[0]
		switch op {
		case opAdd:
			for i := range dst {
				dst[i] = x[i] + v
			}
		case opSub:
			for i := range dst {
				dst[i] = x[i] - v
			}
		case opMul:
			for i := range dst {
				dst[i] = x[i] * v
			}
		case opDiv:
			for i := range dst {
				dst[i] = x[i] / v
			}
		}
	case ys == 1:
		v, y := x[0], y[:n]
		switch op {
		case opAdd:
			for i := range dst {
				dst[i] = v + y[i]
			}
		case opSub:
			for i := range dst {
				dst[i] = v - y[i]
			}
		case opMul:
			for i := range dst {
				dst[i] = v * y[i]
			}
		case opDiv:
			for i := range dst {
				dst[i] = v / y[i]
			}
		}
	default:
		var v float32
		switch op {
		case opAdd:
			v = x[0] + y[0]
		case opSub:
			v = x[0] - y[0]
		case opMul:
			v = x[0] * y[0]
		case opDiv:
			v = x[0] / y[0]
		}
		for i := range dst {
			dst[i] = v
		}
	}
}

// fastUnary is the executor of Exp, Logistic, Sqrt or Neg.
func fastUnary(opType backends.OpType, op elementOp) executor {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		stock := stock[opType]
		if !fastOpsOn.Load() || len(inputs) != 1 {
			return stock(b, node, inputs, owned)
		}
		s, src, ok := float32Data(b, inputs[0])
		if !ok || s.Size() < fastOpsMinSize {
			return stock(b, node, inputs, owned)
		}
		var output *simplego.Buffer
		if owned[0] {
			output, inputs[0] = inputs[0], nil
		} else {
			output = b.NewBuffer(s)
		}
		_, dst, _ := float32Data(b, output)
		parallelRange(len(src), 4*len(src), func(lo, hi int) { unaryInto(op, dst[lo:hi], src[lo:hi]) })
		return output, nil
	}
}

// unaryInto sets dst[i] = op(src[i]); dst may be src. Sqrt and Neg are
// simplego's own expressions, so they keep its bits.
func unaryInto(op elementOp, dst, src []float32) {
	switch op {
	case opExp:
		expInto(dst, src)
	case opLogistic:
		logisticInto(dst, src)
	case opSqrt:
		for i, v := range src {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case opNeg:
		for i, v := range src {
			dst[i] = -v
		}
	}
}

// fastReduce is the executor of ReduceSum or ReduceMax over any axes that
// form one contiguous block of the operand's (longer than 1) axes.
func fastReduce(opType backends.OpType, isMax bool) executor {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		stock := stock[opType]
		if !fastOpsOn.Load() || len(inputs) != 1 {
			return stock(b, node, inputs, owned)
		}
		s, src, ok := float32Data(b, inputs[0])
		axes, okAxes := nodeAxes(node)
		if !ok || !okAxes || len(axes) == 0 || s.Size() < fastOpsMinSize {
			return stock(b, node, inputs, owned)
		}
		outer, mid, inner, ok := reduceBlock(s.Dimensions, axes)
		outShape := nodeShape(node)
		if !ok || outShape.Size() != outer*inner {
			return stock(b, node, inputs, owned)
		}
		output := b.NewBuffer(outShape)
		_, dst, _ := float32Data(b, output)
		reduceInto(dst, src, outer, mid, inner, isMax)
		return output, nil
	}
}

// reduceBlock sees dims as [outer, mid, inner] with the reduced axes the
// middle block, if they are contiguous once axes of length 1 are ignored.
func reduceBlock(dims, axes []int) (outer, mid, inner int, ok bool) {
	reduced := make([]bool, len(dims))
	for _, a := range axes {
		if a < 0 || a >= len(dims) {
			return 0, 0, 0, false
		}
		reduced[a] = true
	}
	outer, mid, inner = 1, 1, 1
	stage := 0 // 0: before the reduced block, 1: in it, 2: after it
	for a, d := range dims {
		if d == 1 {
			continue
		}
		switch {
		case reduced[a] && stage == 2:
			return 0, 0, 0, false
		case reduced[a]:
			stage = 1
			mid *= d
		case stage == 0:
			outer *= d
		default:
			stage = 2
			inner *= d
		}
	}
	return outer, mid, inner, true
}

// reduceInto sets dst[i, j] to the sum (or max) over r of src[i, r, j],
// for src laid out as [outer, mid, inner].
func reduceInto(dst, src []float32, outer, mid, inner int, isMax bool) {
	total := outer * mid * inner
	if inner == 1 {
		if outer == 1 { // everything into one value: partial results per core
			parts := make([]float32, runtime.GOMAXPROCS(0))
			chunk := (mid + len(parts) - 1) / len(parts)
			parallelRange(len(parts), total, func(lo, hi int) {
				for w := lo; w < hi; w++ {
					seg := src[min(mid, w*chunk):min(mid, (w+1)*chunk)]
					parts[w] = reduceRow(seg, isMax)
				}
			})
			dst[0] = reduceRow(parts, isMax)
			return
		}
		parallelRange(outer, total, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = reduceRow(src[i*mid:(i+1)*mid], isMax)
			}
		})
		return
	}
	// Columns: accumulate rows of inner values; cores split the columns,
	// or the outer blocks when there are several.
	cols := func(i, lo, hi int) {
		d := dst[i*inner+lo : i*inner+hi]
		copy(d, src[i*mid*inner+lo:i*mid*inner+hi])
		for r := 1; r < mid; r++ {
			row := src[(i*mid+r)*inner+lo : (i*mid+r)*inner+hi]
			if isMax {
				for j, v := range row {
					d[j] = max(d[j], v)
				}
			} else {
				for j := binarySIMD(opAdd, d, d, row, 1, 1, len(d)); j < len(d); j++ {
					d[j] += row[j]
				}
			}
		}
	}
	if outer >= runtime.GOMAXPROCS(0) {
		parallelRange(outer, total, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				cols(i, 0, inner)
			}
		})
		return
	}
	for i := range outer {
		parallelRange(inner, mid*inner, func(lo, hi int) { cols(i, lo, hi) })
	}
}

// reduceRow is the sum (in eight interleaved partial sums) or the max of x.
func reduceRow(x []float32, isMax bool) float32 {
	if isMax { // eight running maxima: max is exact, so the order is free
		m := [8]float32{negInf32, negInf32, negInf32, negInf32, negInf32, negInf32, negInf32, negInf32}
		i := 0
		for ; i+8 <= len(x); i += 8 {
			v := x[i : i+8 : i+8]
			m[0], m[1], m[2], m[3] = max(m[0], v[0]), max(m[1], v[1]), max(m[2], v[2]), max(m[3], v[3])
			m[4], m[5], m[6], m[7] = max(m[4], v[4]), max(m[5], v[5]), max(m[6], v[6]), max(m[7], v[7])
		}
		for j := 0; i < len(x); i, j = i+1, j+1 {
			m[j] = max(m[j], x[i])
		}
		return max(max(max(m[0], m[1]), max(m[2], m[3])), max(max(m[4], m[5]), max(m[6], m[7])))
	}
	var s [8]float32
	i := sumLanes(&s, x)
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s[0] += v[0]
		s[1] += v[1]
		s[2] += v[2]
		s[3] += v[3]
		s[4] += v[4]
		s[5] += v[5]
		s[6] += v[6]
		s[7] += v[7]
	}
	for j := 0; i < len(x); i, j = i+1, j+1 {
		s[j] += x[i]
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// fastBroadcastInDim is the executor of BroadcastInDim.
func fastBroadcastInDim(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	stock := stock[backends.OpTypeBroadcastInDim]
	if !fastOpsOn.Load() || len(inputs) != 1 {
		return stock(b, node, inputs, owned)
	}
	s, src, ok := float32Data(b, inputs[0])
	axes, okAxes := nodeAxes(node)
	outShape := nodeShape(node)
	if !ok || !okAxes || len(axes) != s.Rank() || outShape.Size() < fastOpsMinSize {
		return stock(b, node, inputs, owned)
	}
	out := outShape.Dimensions
	in := make([]int, len(out))
	for i := range in {
		in[i] = 1
	}
	for i, a := range axes {
		if a < 0 || a >= len(out) || (s.Dimensions[i] != out[a] && s.Dimensions[i] != 1) {
			return stock(b, node, inputs, owned)
		}
		in[a] = s.Dimensions[i]
	}
	output := b.NewBuffer(outShape)
	_, dst, _ := float32Data(b, output)
	p := planRuns(out, in)
	p.forRuns(func(o, i0, _, n int) {
		d := dst[o : o+n]
		if p.step[0] == 1 {
			copy(d, src[i0:i0+n])
			return
		}
		v := src[i0]
		for i := range d {
			d[i] = v
		}
	})
	return output, nil
}

// fastTranspose is the executor of Transpose: a strided copy
// (copyStrided) with the outermost output axis split over the cores. It
// moves values and computes nothing, so it gives simplego's bits.
func fastTranspose(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	stock := stock[backends.OpTypeTranspose]
	if !fastOpsOn.Load() || len(inputs) != 1 {
		return stock(b, node, inputs, owned)
	}
	s, src, ok := float32Data(b, inputs[0])
	perm, okPerm := nodeAxes(node)
	outShape := nodeShape(node)
	if !ok || !okPerm || !isPermutation(perm, s.Rank()) || s.Size() < fastOpsMinSize || outShape.Size() != s.Size() {
		return stock(b, node, inputs, owned)
	}
	output := b.NewBuffer(outShape)
	_, dst, _ := float32Data(b, output)
	outDims, outStrides := permutedStrides(s.Dimensions, perm)
	rows := outDims[0]
	row := len(dst) / rows
	parallelRange(rows, len(dst), func(lo, hi int) {
		dims := append([]int{hi - lo}, outDims[1:]...)
		copyStrided(dst[lo*row:hi*row], src[lo*outStrides[0]:], dims, outStrides)
	})
	return output, nil
}

// isPermutation reports whether perm holds each of 0 … rank-1 once.
func isPermutation(perm []int, rank int) bool {
	if len(perm) != rank || rank == 0 {
		return false
	}
	seen := make([]bool, rank)
	for _, a := range perm {
		if a < 0 || a >= rank || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

// fastIdentity is the executor of Identity: simplego's hands an input it
// owns straight on, and copies one still in use; this copy is split over
// the cores.
func fastIdentity(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	stock := stock[backends.OpTypeIdentity]
	if !fastOpsOn.Load() || len(inputs) != 1 || owned[0] {
		return stock(b, node, inputs, owned)
	}
	s, src, ok := float32Data(b, inputs[0])
	if !ok || s.Size() < fastOpsMinSize || !nodeShape(node).Equal(s) {
		return stock(b, node, inputs, owned)
	}
	output := b.NewBuffer(s)
	_, dst, _ := float32Data(b, output)
	parallelRange(len(src), len(src), func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
	return output, nil
}
