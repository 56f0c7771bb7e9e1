package trainer

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// simplegoConfig avoids the worker-pool deadlock measured with simplego's
// defaults on a 2-core machine: ops run one after another, and the
// replaced executors (fastdot.go, fastops.go) split their own work over
// the cores. ops_parallel measured 0.77 against 0.98 s a `ref` step, but
// with 820 against 560 MiB peak RSS, and it still deadlocks whenever
// simplego's own DotGeneral runs (it waits for a pool worker from inside a
// pool task), as it does where the fast one is off.
const simplegoConfig = "ops_sequential"

// DotKernel says which kernel simplego's float32 DotGeneral runs: the
// packed AVX2/FMA GEMM (fastdot.go, sgemm.go), or simplego's own and why.
func DotKernel() string {
	if on, why := installFastDot(); !on {
		return "simplego's scalar kernel (" + why + ")"
	}
	return "packed AVX2/FMA GEMM"
}

// Backend returns the process's gomlx backend: the pure-Go simplego one,
// registered explicitly (importing backends/default would try XLA first and
// fail where it is not installed), unless GOMLX_BACKEND names another backend
// compiled into the binary.
var Backend = sync.OnceValues(func() (b backends.Backend, err error) {
	installFastDot() // simplego's float32 DotGeneral → the packed GEMM (fastdot.go)
	installFastOps() // its float32 elementwise and reduce ops → run loops over the cores (fastops.go)
	if cfg, ok := os.LookupEnv(backends.ConfigEnvVar); ok && cfg != "" {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s=%q: %v", backends.ConfigEnvVar, cfg, r)
			}
		}()
		return backends.NewWithConfig(cfg)
	}
	return simplego.New(simplegoConfig)
})
