// Package gomlxpatch replaces some of gomlx simplego's float32 executors
// with faster ones: DotGeneral with a packed, register-tiled GEMM
// (fastdot.go, sgemm.go) and Add, Sub, Mul, Div, Exp, Logistic, Sqrt,
// Neg, ReduceSum, ReduceMax, BroadcastInDim, Transpose and Identity with
// contiguous runs split over the cores (fastops.go).
//
// gomlx v0.26.0 has no public way to plug in a kernel, so the patch
// writes into simplego's unexported executor table and reads the
// parameters of simplego's nodes through their private layout. All of
// that lives in simplego.go, and Apply checks all of it first (the gomlx
// version from the build information, the table's length and contents,
// every mirrored struct's field names, types and offsets, the data of
// probe nodes); on any mismatch it leaves simplego's own executors in
// place and says why.
package gomlxpatch

import (
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
)

// Status says which of simplego's executors the patch replaced, and why
// any are left as they were.
type Status struct {
	Dot    bool   // float32 DotGeneral runs the packed GEMM
	Ops    bool   // float32 elementwise, reduce and broadcast ops run as split loops
	Reason string // why Dot or Ops is off; "" when both are on
}

// Env variables that keep simplego's own executors: set to "simplego",
// CHIMED_DOT keeps its DotGeneral and CHIMED_OPS its other ops.
const (
	EnvDot = "CHIMED_DOT"
	EnvOps = "CHIMED_OPS"
)

// Apply patches simplego's executor table, once per process, and returns
// what it did. Call it before running any graph on simplego.
var Apply = sync.OnceValue(func() Status {
	info, _ := debug.ReadBuildInfo()
	return apply(info, gomlxVersion, os.Getenv)
})

// fastDotOn and fastOpsOn switch the installed replacements at run time,
// so tests can compare them with the stock executors in one process.
var fastDotOn, fastOpsOn atomic.Bool

// stock are simplego's own executors of the replaced ops.
var stock [backends.OpTypeLast]executor

// apply checks, then installs what the environment does not turn off.
// Nothing is written to the table unless every check passes.
func apply(info *debug.BuildInfo, version string, getenv func(string) string) Status {
	dot, ops := getenv(EnvDot) != "simplego", getenv(EnvOps) != "simplego"
	var why []string
	if !dot {
		why = append(why, EnvDot+"=simplego")
	} else if !gemmSIMD {
		dot = false
		why = append(why, "this CPU lacks AVX2/FMA, which the GEMM micro-kernel needs")
	}
	if !ops {
		why = append(why, EnvOps+"=simplego")
	}
	if !dot && !ops {
		return Status{Reason: strings.Join(why, "; ")}
	}
	if bad := check(info, version); bad != "" {
		return Status{Reason: bad}
	}
	for op := range stockExecutors {
		stock[op] = nodeExecutors[op]
	}
	if dot {
		nodeExecutors[backends.OpTypeDotGeneral] = fastDot
		fastDotOn.Store(true)
	}
	if ops {
		for op, ex := range opsExecutors() {
			nodeExecutors[op] = ex
		}
		fastOpsOn.Store(true)
	}
	return Status{Dot: dot, Ops: ops, Reason: strings.Join(why, "; ")}
}

// Installed says whether Apply has put any replacement into simplego's
// executor table in this process.
func Installed() bool { return fastDotOn.Load() || fastOpsOn.Load() }

// String says what runs simplego's float32 DotGeneral.
func (s Status) String() string {
	if s.Dot {
		return "packed AVX2/FMA GEMM"
	}
	return "simplego's scalar kernel (" + s.Reason + ")"
}
