package trainer

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/chimed/chimed/trainer/internal/gomlxpatch"
)

// simplegoConfig avoids the worker-pool deadlock of simplego's defaults on
// a 2-core machine: ops run one after another, and the patched executors
// (internal/gomlxpatch) split their own work over the cores. ops_parallel
// is a little faster but takes about half as much memory again, and it
// deadlocks whenever simplego's own DotGeneral runs (it waits for a pool
// worker from inside a pool task), as it does where the patch is off.
const simplegoConfig = "ops_sequential"

// DotKernel says which kernel simplego's float32 DotGeneral runs: the
// packed AVX2/FMA GEMM of internal/gomlxpatch, or simplego's own and why.
func DotKernel() string {
	return gomlxpatch.Apply().String()
}

// Backend returns the process's gomlx backend: the pure-Go simplego one,
// registered explicitly (importing backends/default would try XLA first and
// fail where it is not installed), unless GOMLX_BACKEND names another backend
// compiled into the binary.
var Backend = sync.OnceValues(func() (b backends.Backend, err error) {
	gomlxpatch.Apply() // simplego's float32 DotGeneral, elementwise and reduce ops → the faster kernels
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
