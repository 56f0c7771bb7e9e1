package trainer

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/backends/xla"

	"github.com/chimed/chimed/trainer/internal/gomlxpatch"
)

// simplegoConfig avoids the worker-pool deadlock of simplego's defaults on
// a 2-core machine: ops run one after another, and the patched executors
// (internal/gomlxpatch) split their own work over the cores. ops_parallel
// is a little faster but takes about half as much memory again, and it
// deadlocks whenever simplego's own DotGeneral runs (it waits for a pool
// worker from inside a pool task), as it does where the patch is off.
const simplegoConfig = "ops_sequential"

// backendChoice is the backend GOMLX_BACKEND names: its gomlx name ("go"
// for simplego, "xla" and its aliases for XLA) and the whole setting.
type backendChoice struct {
	name, config string
}

// chooseBackend reads GOMLX_BACKEND: unset or empty is simplego with
// simplegoConfig.
func chooseBackend(getenv func(string) string) backendChoice {
	cfg := getenv(backends.ConfigEnvVar)
	if cfg == "" {
		return backendChoice{simplego.BackendName, simplego.BackendName + ":" + simplegoConfig}
	}
	name, _, _ := strings.Cut(cfg, ":")
	return backendChoice{name, cfg}
}

// simplego says whether the choice runs on simplego, the one backend the
// patched kernels are for.
func (c backendChoice) simplego() bool { return c.name == simplego.BackendName }

// xla says whether the choice names XLA, by any of its aliases.
func (c backendChoice) xla() bool {
	switch c.name {
	case xla.BackendName, "stablehlo", "shlo", "hlo":
		return true
	}
	return false
}

// DotKernel says which kernel the float32 DotGeneral runs: the packed
// AVX2/FMA GEMM of internal/gomlxpatch, simplego's own and why, or, on
// another backend, that backend's, the patch being off.
func DotKernel() string {
	if c := chooseBackend(os.Getenv); !c.simplego() {
		return fmt.Sprintf("the %s backend's own (%s=%q; the simplego kernels are off)", c.name, backends.ConfigEnvVar, c.config)
	}
	return gomlxpatch.Apply().String()
}

// Backend returns the process's gomlx backend. Unless GOMLX_BACKEND says
// otherwise it is simplego, pure Go, registered explicitly (importing
// backends/default would try XLA first), with its float32 executors
// patched. GOMLX_BACKEND=xla:cuda (xla:cpu, or xla:/path/to/plugin.so)
// runs the same graphs on XLA through a PJRT plugin the user installed,
// and then simplego and the patch are not touched.
var Backend = sync.OnceValues(func() (backends.Backend, error) {
	return newBackend(chooseBackend(os.Getenv))
})

// newBackend makes the backend c names. XLA's plugin auto-install is off:
// a training command should not download a GPU runtime from PyPI. A
// missing plugin is an error naming GOMLX_BACKEND and what to do.
func newBackend(c backendChoice) (b backends.Backend, err error) {
	if c.simplego() {
		gomlxpatch.Apply() // simplego's float32 DotGeneral, elementwise and reduce ops → the faster kernels
		_, opts, _ := strings.Cut(c.config, ":")
		if opts == "" {
			opts = simplegoConfig
		}
		return simplego.New(opts)
	}
	xla.EnableAutoInstall(false)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
		if err == nil {
			return
		}
		todo := "name a backend built in (go, xla)"
		if c.xla() {
			todo = "install that PJRT plugin (PJRT_PLUGIN_LIBRARY_PATH names its folder)"
		}
		err = fmt.Errorf("%s=%q: %w; %s, or unset %s to train on the CPU with the built-in simplego backend",
			backends.ConfigEnvVar, c.config, err, todo, backends.ConfigEnvVar)
	}()
	return backends.NewWithConfig(c.config)
}
