package gomlxpatch

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// This file is everything the patch knows of simplego's private
// internals, all of it as of gomlx v0.26.0, and the checks that it still
// holds: the executor table (reached with go:linkname, as it is
// unexported), the layout of Node, and the parameters DotGeneral, Reduce*,
// BroadcastInDim and Transpose nodes carry. check runs every one of them before the
// table is touched.

// gomlxModule and gomlxVersion are the module and the version whose
// internals this file mirrors.
const (
	gomlxModule  = "github.com/gomlx/gomlx"
	gomlxVersion = "v0.26.0"
)

// executor is simplego's nodeExecutor type.
type executor func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error)

//go:linkname nodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var nodeExecutors [backends.OpTypeLast]executor

// opTypeCount is backends.OpTypeLast in v0.26.0: the executor table's
// length, declared above by the constant of the gomlx compiled in.
const opTypeCount = 105

// stockExecutors are the functions simplego registers for the ops the
// patch replaces, by their linker names.
var stockExecutors = map[backends.OpType]string{
	backends.OpTypeDotGeneral:     "execDotGeneral",
	backends.OpTypeAdd:            "execAdd",
	backends.OpTypeSub:            "execSub",
	backends.OpTypeMul:            "execMul",
	backends.OpTypeDiv:            "execDiv",
	backends.OpTypeExp:            "execExp",
	backends.OpTypeLogistic:       "execLogistic",
	backends.OpTypeSqrt:           "execSqrt",
	backends.OpTypeNeg:            "execNeg",
	backends.OpTypeReduceSum:      "execReduce",
	backends.OpTypeReduceMax:      "execReduce",
	backends.OpTypeBroadcastInDim: "execBroadcastInDim",
	backends.OpTypeTranspose:      "execTranspose",
	backends.OpTypeIdentity:       "execIdentity",
}

// simplegoPkg prefixes the linker name of every function of simplego.
const simplegoPkg = gomlxModule + "/backends/simplego."

// nodeLayout mirrors simplego.Node field for field; checkLayout compares
// the two by name, type and offset.
type nodeLayout struct {
	builderIdx         int
	inputs             []*simplego.Node
	opType             backends.OpType
	shape              shapes.Shape
	builder            *simplego.Builder
	multiOutputsShapes []shapes.Shape
	multiOutputsNodes  []*simplego.Node
	isNodeSelectOutput bool
	selectOutputIdx    int
	data               any
}

// dotLayout mirrors simplego's dotGeneralNodeData, the data of a
// DotGeneral node.
type dotLayout struct {
	lhsContractingAxes, lhsBatchAxes                       []int
	rhsContractingAxes, rhsBatchAxes                       []int
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int
	lhsBlockedShape, rhsBlockedShape, outputBlockedShape   shapes.Shape
}

// dotDataType is the dynamic type of a DotGeneral node's data
// (*dotGeneralNodeData), learnt from a probe node by check.
var dotDataType reflect.Type

// check verifies, touching nothing, that the gomlx in this binary is the
// one this file mirrors: its version where the binary records it (a `go
// test` binary records no dependencies, and then the table and layout
// checks stand alone), the executor table's length and contents, and the
// layout of every struct read through unsafe. It returns why not, or "".
func check(info *debug.BuildInfo, want string) string {
	if why := checkVersion(info, want); why != "" {
		return why
	}
	if why := checkTable(&nodeExecutors); why != "" {
		return why
	}
	if why := checkLayout(reflect.TypeFor[simplego.Node](), reflect.TypeFor[nodeLayout]()); why != "" {
		return why
	}
	return probeNodeData()
}

// checkVersion says why info does not show gomlx at version want, or ""
// when it does or when info lists no dependencies at all.
func checkVersion(info *debug.BuildInfo, want string) string {
	if info == nil {
		return "the binary carries no build information to check gomlx's version by"
	}
	if len(info.Deps) == 0 {
		return ""
	}
	for _, m := range info.Deps {
		if m.Path != gomlxModule {
			continue
		}
		if m.Replace != nil {
			if m.Replace.Version != want {
				return fmt.Sprintf("%s %s is replaced by %s %s, not %s", gomlxModule, m.Version, m.Replace.Path, m.Replace.Version, want)
			}
			return ""
		}
		if m.Version != want {
			return fmt.Sprintf("%s is %s, and the patch knows only %s", gomlxModule, m.Version, want)
		}
		return ""
	}
	return fmt.Sprintf("the binary does not list %s among its modules", gomlxModule)
}

// checkTable says why table is not simplego v0.26.0's executor table, or
// "": it must have opTypeCount entries, every one nil or a function of
// simplego, and the replaced ops must hold the executors named in
// stockExecutors.
func checkTable(table *[backends.OpTypeLast]executor) string {
	if len(table) != opTypeCount {
		return fmt.Sprintf("gomlx has %d op types, the patch knows %d", len(table), opTypeCount)
	}
	set := 0
	for op, ex := range table {
		if ex == nil {
			continue
		}
		set++
		if name := funcName(ex); !strings.HasPrefix(name, simplegoPkg) {
			return fmt.Sprintf("simplego's executor table holds %s for %s, not a simplego function", name, backends.OpType(op))
		}
	}
	if set == 0 {
		return "simplego's executor table is empty"
	}
	for op, want := range stockExecutors {
		if got := funcName(table[op]); got != simplegoPkg+want {
			return fmt.Sprintf("simplego's executor for %s is %q, not %s", op, got, want)
		}
	}
	return ""
}

// funcName is the linker name of ex's code, or "" for nil.
func funcName(ex executor) string {
	if ex == nil {
		return ""
	}
	f := runtime.FuncForPC(reflect.ValueOf(ex).Pointer())
	if f == nil {
		return "an unknown function"
	}
	return f.Name()
}

// checkLayout says why the struct type got differs from want in size or in
// any field's name, type or offset, or "".
func checkLayout(got, want reflect.Type) string {
	if got.Kind() != reflect.Struct {
		return fmt.Sprintf("%s is not laid out as the patch expects: not a struct", got)
	}
	if got.NumField() != want.NumField() || got.Size() != want.Size() {
		return fmt.Sprintf("%s is not laid out as the patch expects (%d fields, %d bytes; want %d, %d)",
			got, got.NumField(), got.Size(), want.NumField(), want.Size())
	}
	for i := range want.NumField() {
		g, w := got.Field(i), want.Field(i)
		if g.Name != w.Name || g.Type != w.Type || g.Offset != w.Offset {
			return fmt.Sprintf("%s field %d is %s %s at %d, the patch expects %s %s at %d",
				got, i, g.Name, g.Type, g.Offset, w.Name, w.Type, w.Offset)
		}
	}
	return ""
}

// probeNodeData builds (and never runs) a DotGeneral, a ReduceSum, a
// BroadcastInDim and a Transpose on a fresh simplego builder and checks
// what each node carries: its op type and shape, and its data: the
// DotGeneral's against dotLayout, the others' a list of the axes asked
// for (the permutation, for Transpose).
func probeNodeData() (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("probing simplego's nodes: %v", r)
		}
	}()
	backend, err := simplego.New("")
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	defer backend.Finalize()
	b := backend.Builder("gomlxpatch-probe")
	x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 2, 3, 4), nil)
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	dot, err := b.DotGeneral(x, []int{2}, []int{0}, x, []int{2}, []int{0})
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	sum, err := b.ReduceSum(x, 1)
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	bcast, err := b.BroadcastInDim(sum, shapes.Make(dtypes.Float32, 2, 5, 4), []int{0, 2})
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	tr, err := b.Transpose(x, 2, 0, 1)
	if err != nil {
		return fmt.Sprintf("probing simplego's nodes: %v", err)
	}
	for _, op := range []backends.Op{dot, sum, bcast, tr} {
		if _, ok := op.(*simplego.Node); !ok {
			return fmt.Sprintf("simplego's builder returns %T, not *simplego.Node", op)
		}
	}
	dn := dot.(*simplego.Node)
	if l := layoutOf(dn); l.opType != backends.OpTypeDotGeneral && len(l.inputs) == 1 {
		dn = l.inputs[0] // the builder returns the product reshaped
	}
	if op := layoutOf(dn).opType; op != backends.OpTypeDotGeneral {
		return fmt.Sprintf("a probe DotGeneral reads as a %s node", op)
	}
	d := layoutOf(dn).data
	dt := reflect.TypeOf(d)
	if dt == nil || dt.Kind() != reflect.Pointer {
		return fmt.Sprintf("a DotGeneral node's data is %v, not a pointer to its parameters", dt)
	}
	if why := checkLayout(dt.Elem(), reflect.TypeFor[dotLayout]()); why != "" {
		return why
	}
	p := (*dotLayout)(reflect.ValueOf(d).UnsafePointer())
	if p.batchSize != 2 || p.lhsCrossSize != 3 || p.rhsCrossSize != 3 || p.contractingSize != 4 {
		return fmt.Sprintf("a probe DotGeneral's sizes read as %d, %d, %d, %d, not 2, 3, 3, 4",
			p.batchSize, p.lhsCrossSize, p.rhsCrossSize, p.contractingSize)
	}
	for _, c := range []struct {
		op    backends.Op
		axes  []int
		shape shapes.Shape
	}{
		{dn, nil, shapes.Make(dtypes.Float32, 2, 3, 3)},
		{sum, []int{1}, shapes.Make(dtypes.Float32, 2, 4)},
		{bcast, []int{0, 2}, shapes.Make(dtypes.Float32, 2, 5, 4)},
		{tr, []int{2, 0, 1}, shapes.Make(dtypes.Float32, 4, 2, 3)},
	} {
		n := c.op.(*simplego.Node)
		if got, ok := nodeAxes(n); c.axes != nil && (!ok || !slices.Equal(got, c.axes)) {
			return fmt.Sprintf("a probe %s node's data is %v, not its axes %v", layoutOf(n).opType, layoutOf(n).data, c.axes)
		}
		if got := nodeShape(n); !got.Equal(c.shape) {
			return fmt.Sprintf("a probe %s node's shape reads as %s, not %s", layoutOf(n).opType, got, c.shape)
		}
	}
	dotDataType = dt
	return ""
}

// layoutOf is node seen through nodeLayout, which check has verified.
func layoutOf(node *simplego.Node) *nodeLayout {
	return (*nodeLayout)(unsafe.Pointer(node))
}

// nodeShape is a node's output shape.
func nodeShape(node *simplego.Node) shapes.Shape {
	return layoutOf(node).shape
}

// nodeAxes is a node's parameters when they are a list of axes (the
// reduced axes of a Reduce, the target axes of a BroadcastInDim, the
// permutation of a Transpose).
func nodeAxes(node *simplego.Node) ([]int, bool) {
	axes, ok := layoutOf(node).data.([]int)
	return axes, ok
}

// dotParams are one DotGeneral's axes and normalized sizes.
type dotParams struct {
	lhsContract, lhsBatch, rhsContract, rhsBatch []int
	batch, m, n, k                               int
}

// dotParamsOf reads a DotGeneral node's parameters, if they are of the
// type check verified. They are read in place and nothing is kept, so no
// compiled graph outlives its executable on the patch's account.
func dotParamsOf(node *simplego.Node) (dotParams, bool) {
	d := layoutOf(node).data
	if dotDataType == nil || reflect.TypeOf(d) != dotDataType {
		return dotParams{}, false
	}
	p := (*dotLayout)(reflect.ValueOf(d).UnsafePointer())
	return dotParams{
		lhsContract: p.lhsContractingAxes, lhsBatch: p.lhsBatchAxes,
		rhsContract: p.rhsContractingAxes, rhsBatch: p.rhsBatchAxes,
		batch: p.batchSize, m: p.lhsCrossSize, n: p.rhsCrossSize, k: p.contractingSize,
	}, true
}
