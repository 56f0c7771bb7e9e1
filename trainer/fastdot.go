package trainer

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Training on simplego is bound by DotGeneral: its float32 kernel is scalar
// Go and peaks near 5 GFLOP/s on this 2-core machine (TestFastDotThroughput
// prints both), while a step of the `ref` preset multiplies about 58 GFLOP.
// gomlx v0.26 has no public way to plug in another kernel, so this file
// replaces simplego's float32 DotGeneral executor with one that views the
// operands as [batch] m×k and k×n strided matrices (a transposed copy only
// where the axes do not allow a view) and multiplies each pair with the
// packed AVX2/FMA GEMM of sgemm.go (about 80 GFLOP/s per core here, 150 on
// both). Everything else (graph building, the other ops, the buffer pool)
// stays simplego's.
//
// The hook is narrow and checked: simplego's executor table is reached with
// go:linkname (it is unexported), and the DotGeneral parameters are read
// from the node by reflection, by field name. If the pinned gomlx version
// ever changes either, fastDotUsable reports why and the stock executor
// stays in place. The replacement runs only where the CPU has AVX2 and
// FMA3 (the micro-kernel's instructions), only for
// float32, and CHIMED_DOT=simplego turns it off. TestFastDotMatchesStock
// checks it against the stock executor on every layout the model uses and
// on odd ones (several batch and contracting axes, unsorted axes).

// simplegoExecutor is simplego's nodeExecutor type.
type simplegoExecutor func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error)

//go:linkname simplegoNodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var simplegoNodeExecutors [backends.OpTypeLast]simplegoExecutor

// fastDotOn switches the replacement at run time (tests compare the two).
var fastDotOn atomic.Bool

// stockDot is simplego's own DotGeneral executor, the fallback.
var stockDot simplegoExecutor

// installFastDot puts the replacement in simplego's executor table once per
// process and says whether it is in use, or why not.
var installFastDot = sync.OnceValues(func() (bool, string) {
	if os.Getenv("CHIMED_DOT") == "simplego" {
		return false, "CHIMED_DOT=simplego"
	}
	if !gemmSIMD {
		return false, "this CPU lacks AVX2/FMA, which the GEMM micro-kernel needs"
	}
	if why := fastDotUsable(); why != "" {
		return false, why
	}
	stockDot = simplegoNodeExecutors[backends.OpTypeDotGeneral]
	if stockDot == nil {
		return false, "simplego registered no DotGeneral executor"
	}
	simplegoNodeExecutors[backends.OpTypeDotGeneral] = fastDot
	fastDotOn.Store(true)
	return true, ""
})

// dotFields are the fields of simplego's dotGeneralNodeData this file reads.
var dotFields = []struct {
	name string
	kind reflect.Kind
}{
	{"lhsContractingAxes", reflect.Slice}, {"lhsBatchAxes", reflect.Slice},
	{"rhsContractingAxes", reflect.Slice}, {"rhsBatchAxes", reflect.Slice},
	{"batchSize", reflect.Int}, {"lhsCrossSize", reflect.Int},
	{"rhsCrossSize", reflect.Int}, {"contractingSize", reflect.Int},
}

// fastDotUsable checks that simplego's Node still carries its op
// parameters in a field named data. The parameter struct's own fields are
// checked on first use, since its type is unexported (see dotParamsOf).
func fastDotUsable() string {
	f, ok := reflect.TypeFor[simplego.Node]().FieldByName("data")
	if !ok || f.Type.Kind() != reflect.Interface {
		return "simplego.Node has no data field of interface type"
	}
	return ""
}

// dotParams are one DotGeneral's axes and normalized sizes.
type dotParams struct {
	lhsContract, lhsBatch, rhsContract, rhsBatch []int
	batch, m, n, k                               int
}

// paramsCache maps *simplego.Node to *dotParams: reflection runs once per
// node of a compiled graph, not once per step.
var paramsCache sync.Map

// dotParamsOf reads a DotGeneral node's parameters, or says why it cannot.
func dotParamsOf(node *simplego.Node) (*dotParams, error) {
	if p, ok := paramsCache.Load(node); ok {
		return p.(*dotParams), nil
	}
	d := reflect.ValueOf(node).Elem().FieldByName("data")
	if d.Kind() != reflect.Interface || d.IsNil() {
		return nil, fmt.Errorf("DotGeneral node has no parameters")
	}
	v := d.Elem()
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("DotGeneral parameters are a %s, not a pointer to a struct", v.Type())
	}
	v = v.Elem()
	for _, f := range dotFields {
		fv := v.FieldByName(f.name)
		if !fv.IsValid() || fv.Kind() != f.kind || (f.kind == reflect.Slice && fv.Type().Elem().Kind() != reflect.Int) {
			return nil, fmt.Errorf("DotGeneral parameters (%s) lack field %s of kind %s", v.Type(), f.name, f.kind)
		}
	}
	ints := func(name string) []int {
		fv := v.FieldByName(name)
		out := make([]int, fv.Len())
		for i := range out {
			out[i] = int(fv.Index(i).Int())
		}
		return out
	}
	size := func(name string) int { return int(v.FieldByName(name).Int()) }
	p := &dotParams{
		lhsContract: ints("lhsContractingAxes"), lhsBatch: ints("lhsBatchAxes"),
		rhsContract: ints("rhsContractingAxes"), rhsBatch: ints("rhsBatchAxes"),
		batch: size("batchSize"), m: size("lhsCrossSize"), n: size("rhsCrossSize"), k: size("contractingSize"),
	}
	paramsCache.Store(node, p)
	return p, nil
}

// fastDot is the replacement executor. The output is simplego's normalized
// DotGeneral output, [batch, lhsCross, rhsCross] (the builder reshapes it
// afterwards).
func fastDot(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
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
	p, err := dotParamsOf(node)
	if err != nil {
		fastDotOn.Store(false) // the pinned gomlx changed: say so once, then use the stock kernel
		fmt.Fprintf(os.Stderr, "chimed: fast DotGeneral off: %v\n", err)
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
	lhsCross := crossAxes(lhsShape.Rank(), p.lhsContract, p.lhsBatch)
	rhsCross := crossAxes(rhsShape.Rank(), p.rhsContract, p.rhsBatch)
	lhs, freeL := operandMatrices(lhsFlat.([]float32), lhsShape.Dimensions, p.lhsBatch, lhsCross, p.lhsContract)
	defer freeL()
	rhs, freeR := operandMatrices(rhsFlat.([]float32), rhsShape.Dimensions, p.rhsBatch, p.rhsContract, rhsCross)
	defer freeR()
	if len(lhs.offsets) != p.batch || len(rhs.offsets) != p.batch {
		return nil, fmt.Errorf("fast DotGeneral: sizes disagree: lhs %s, rhs %s, params %+v", lhsShape, rhsShape, *p)
	}

	out := b.NewBuffer(shapes.Make(dtypes.Float32, p.batch, p.m, p.n))
	outFlat, err := b.BufferData(out)
	if err != nil {
		return nil, err
	}
	dst := outFlat.([]float32)
	mn := p.m * p.n
	if len(dst) != p.batch*mn {
		return nil, fmt.Errorf("fast DotGeneral: output of %d floats for params %+v", len(dst), *p)
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

// transposeInto writes src permuted by perm into dst, walking dst in order
// with an odometer over the output axes; the innermost axis is a strided
// loop.
func transposeInto(dst, src []float32, dims, perm []int) {
	rank := len(dims)
	strides := make([]int, rank) // of src
	s := 1
	for a := rank - 1; a >= 0; a-- {
		strides[a] = s
		s *= dims[a]
	}
	outDims := make([]int, rank)
	outStrides := make([]int, rank) // src stride of each output axis
	for i, a := range perm {
		outDims[i] = dims[a]
		outStrides[i] = strides[a]
	}
	if len(dst) == 0 {
		return
	}
	inner, innerStride := outDims[rank-1], outStrides[rank-1]
	idx := make([]int, rank)
	base, o := 0, 0
	for o < len(dst) {
		j := base
		for i := range inner {
			dst[o+i] = src[j]
			j += innerStride
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
