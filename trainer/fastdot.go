package trainer

import (
	"fmt"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/viterin/vek"
	"github.com/viterin/vek/vek32"
)

// Training on simplego is bound by DotGeneral: its float32 kernel is scalar
// Go and peaks near 5 GFLOP/s on this 2-core machine (TestFastDotThroughput
// prints both), while a step of the `ref` preset multiplies about 58 GFLOP.
// gomlx v0.26 has no public way to plug in another kernel, so this file
// replaces simplego's float32 DotGeneral executor with one that lays the
// operands out as row-major [batch, m, k] × [batch, k, n] and multiplies each
// pair with vek's AVX2/FMA kernel (github.com/viterin/vek, 35–42 GFLOP/s
// here). Everything else (graph building, the other ops, the buffer pool)
// stays simplego's.
//
// The hook is narrow and checked: simplego's executor table is reached with
// go:linkname (it is unexported), and the DotGeneral parameters are read
// from the node by reflection, by field name. If the pinned gomlx version
// ever changes either, fastDotUsable reports why and the stock executor
// stays in place. The replacement runs only where vek itself uses SIMD
// (its pure-Go fallback is slower than simplego's kernel), only for
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
	if !vek.Info().Acceleration {
		return false, "this CPU lacks AVX2/FMA, so vek would fall back to plain Go"
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
	// lhs as [batch, m, k]; rhs as [batch, k, n], contracting axes paired in
	// the order given.
	lhsPerm := concatAxes(p.lhsBatch, crossAxes(lhsShape.Rank(), p.lhsContract, p.lhsBatch), p.lhsContract)
	rhsPerm := concatAxes(p.rhsBatch, p.rhsContract, crossAxes(rhsShape.Rank(), p.rhsContract, p.rhsBatch))
	lhs, freeL := transposed(lhsFlat.([]float32), lhsShape.Dimensions, lhsPerm)
	defer freeL()
	rhs, freeR := transposed(rhsFlat.([]float32), rhsShape.Dimensions, rhsPerm)
	defer freeR()

	out := b.NewBuffer(shapes.Make(dtypes.Float32, p.batch, p.m, p.n))
	outFlat, err := b.BufferData(out)
	if err != nil {
		return nil, err
	}
	dst := outFlat.([]float32)
	mk, kn, mn := p.m*p.k, p.k*p.n, p.m*p.n
	if len(lhs) != p.batch*mk || len(rhs) != p.batch*kn || len(dst) != p.batch*mn {
		return nil, fmt.Errorf("fast DotGeneral: sizes disagree: lhs %s, rhs %s, params %+v", lhsShape, rhsShape, *p)
	}
	for i := range p.batch {
		// vek multiplies an m×k by a k×n row-major matrix into m×n, over
		// the machine's cores when the product is large enough.
		vek32.MatMul_Into(dst[i*mn:(i+1)*mn], lhs[i*mk:(i+1)*mk], rhs[i*kn:(i+1)*kn], p.k)
	}
	return out, nil
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
