package trainer

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/chimed/chimed/trainer/internal/gomlxpatch"
)

// TestChooseBackend reads GOMLX_BACKEND settings: only simplego's get the
// patched kernels, and simplego without options runs its ops in sequence.
func TestChooseBackend(t *testing.T) {
	for _, c := range []struct {
		env, name, config string
		simplego, xla     bool
	}{
		{"", "go", "go:ops_sequential", true, false},
		{"go", "go", "go", true, false},
		{"go:ops_parallel", "go", "go:ops_parallel", true, false},
		{"xla:cuda", "xla", "xla:cuda", false, true},
		{"xla:cpu", "xla", "xla:cpu", false, true},
		{"stablehlo:/opt/pjrt/pjrt_c_api_cuda_plugin.so", "stablehlo", "stablehlo:/opt/pjrt/pjrt_c_api_cuda_plugin.so", false, true},
		{"nosuch", "nosuch", "nosuch", false, false},
	} {
		got := chooseBackend(func(k string) string { return map[string]string{backends.ConfigEnvVar: c.env}[k] })
		if got.name != c.name || got.config != c.config || got.simplego() != c.simplego || got.xla() != c.xla {
			t.Errorf("GOMLX_BACKEND=%q: %+v (simplego %v, xla %v), want %s %s (%v, %v)",
				c.env, got, got.simplego(), got.xla(), c.name, c.config, c.simplego, c.xla)
		}
	}
}

// TestOtherBackendGetsNoPatch runs, in a process of its own, with
// GOMLX_BACKEND naming XLA's CUDA plugin (absent here) and a backend that
// does not exist: Backend fails with an error naming GOMLX_BACKEND and what
// to do, simplego's executor table is left as it was, and the kernel
// report says the simplego kernels are off.
func TestOtherBackendGetsNoPatch(t *testing.T) {
	for _, c := range []struct {
		env  string
		says []string
	}{
		{"xla:cuda", []string{`GOMLX_BACKEND="xla:cuda"`, "PJRT plugin", "PJRT_PLUGIN_LIBRARY_PATH", "unset GOMLX_BACKEND"}},
		{"nosuch", []string{`GOMLX_BACKEND="nosuch"`, "name a backend built in", "unset GOMLX_BACKEND"}},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOtherBackend$", "-test.v")
		cmd.Env = append(os.Environ(), "CHIMED_BACKEND_CHILD=1", backends.ConfigEnvVar+"="+c.env, "PJRT_PLUGIN_LIBRARY_PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), "SKIP") {
			t.Logf("GOMLX_BACKEND=%s: %s", c.env, out)
			continue
		}
		if err != nil {
			t.Fatalf("GOMLX_BACKEND=%s: %v\n%s", c.env, err, out)
		}
		for _, s := range c.says {
			if !strings.Contains(string(out), s) {
				t.Errorf("GOMLX_BACKEND=%s: the error does not say %q:\n%s", c.env, s, out)
			}
		}
	}
}

// TestHelperOtherBackend is TestOtherBackendGetsNoPatch's child.
func TestHelperOtherBackend(t *testing.T) {
	if os.Getenv("CHIMED_BACKEND_CHILD") == "" {
		t.Skip("run by TestOtherBackendGetsNoPatch")
	}
	b, err := Backend()
	if err == nil {
		b.Finalize()
		t.Skipf("%s=%s works on this machine", backends.ConfigEnvVar, os.Getenv(backends.ConfigEnvVar))
	}
	t.Logf("Backend: %v", err)
	if gomlxpatch.Installed() {
		t.Fatal("the simplego kernels were patched in for another backend")
	}
	if k := DotKernel(); !strings.Contains(k, "simplego kernels are off") {
		t.Fatalf("DotKernel = %q, want it to say the simplego kernels are off", k)
	}
}
