package gomlxpatch

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// testBackend is simplego, patched as Apply decides, with the trainer's
// configuration.
var testBackend = sync.OnceValues(func() (backends.Backend, error) {
	Apply()
	return simplego.New("ops_sequential")
})

func randomTensor(r *rand.Rand, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(randomFloats(r, shapes.Make(dtypes.Float32, dims...).Size()), dims...)
}

func randomFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// TestCheckVersion: only gomlx v0.26.0, as built or as a replacement,
// passes; a binary that lists no modules (a test binary) leaves the
// decision to the table and layout checks.
func TestCheckVersion(t *testing.T) {
	deps := func(ms ...*debug.Module) *debug.BuildInfo { return &debug.BuildInfo{Deps: ms} }
	other := &debug.Module{Path: "golang.org/x/sys", Version: "v0.38.0"}
	cases := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		says string
	}{
		{"pinned", deps(other, &debug.Module{Path: gomlxModule, Version: "v0.26.0"}), true, ""},
		{"newer", deps(&debug.Module{Path: gomlxModule, Version: "v0.27.1"}), false, "is v0.27.1"},
		{"older", deps(&debug.Module{Path: gomlxModule, Version: "v0.25.0"}), false, "is v0.25.0"},
		{"pseudo", deps(&debug.Module{Path: gomlxModule, Version: "v0.26.1-0.20251201000000-abcdef123456"}), false, "the patch knows only v0.26.0"},
		{"replaced-by-dir", deps(&debug.Module{Path: gomlxModule, Version: "v0.26.0", Replace: &debug.Module{Path: "../gomlx"}}), false, "replaced by ../gomlx"},
		{"replaced-by-fork", deps(&debug.Module{Path: gomlxModule, Version: "v0.26.0", Replace: &debug.Module{Path: "example.com/gomlx", Version: "v0.26.2"}}), false, "replaced by"},
		{"replaced-same", deps(&debug.Module{Path: gomlxModule, Version: "v0.25.0", Replace: &debug.Module{Path: "example.com/gomlx", Version: "v0.26.0"}}), true, ""},
		{"absent", deps(other), false, "does not list"},
		{"no-build-info", nil, false, "no build information"},
		{"test-binary", &debug.BuildInfo{}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why := checkVersion(c.info, gomlxVersion)
			if (why == "") != c.ok || !strings.Contains(why, c.says) {
				t.Errorf("checkVersion = %q, want ok %v saying %q", why, c.ok, c.says)
			}
		})
	}
}

// tableNames is the linker name of every executor in the table.
func tableNames() []string {
	var out []string
	for _, ex := range nodeExecutors {
		out = append(out, funcName(ex))
	}
	return out
}

// TestApplyRefuses: a wrong gomlx version, or the environment, leaves the
// executor table as it was.
func TestApplyRefuses(t *testing.T) {
	wrong := &debug.BuildInfo{Deps: []*debug.Module{{Path: gomlxModule, Version: "v0.27.0"}}}
	none := func(string) string { return "" }
	both := func(k string) string { return map[string]string{EnvDot: "simplego", EnvOps: "simplego"}[k] }
	cases := []struct {
		name    string
		info    *debug.BuildInfo
		version string
		getenv  func(string) string
		says    string
	}{
		{"built-with-another-version", wrong, gomlxVersion, none, "v0.27.0"},
		{"patch-for-another-version", &debug.BuildInfo{Deps: []*debug.Module{{Path: gomlxModule, Version: "v0.26.0"}}}, "v0.25.0", none, "knows only v0.25.0"},
		{"both-off-by-env", nil, gomlxVersion, both, EnvOps + "=simplego"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := tableNames()
			s := apply(c.info, c.version, c.getenv)
			if s.Dot || s.Ops || !strings.Contains(s.Reason, c.says) {
				t.Errorf("apply = %+v, want off saying %q", s, c.says)
			}
			if after := tableNames(); !reflect.DeepEqual(before, after) {
				t.Errorf("apply changed the executor table")
			}
		})
	}
}

// TestApply: in this process Apply puts the replacements in the table
// (where the CPU has AVX2/FMA and the environment does not say no).
func TestApply(t *testing.T) {
	s := Apply()
	if os.Getenv(EnvDot) != "" || os.Getenv(EnvOps) != "" || !gemmSIMD {
		t.Skipf("patch set by the environment or the CPU here: %+v", s)
	}
	if !s.Dot || !s.Ops || s.Reason != "" {
		t.Fatalf("Apply = %+v, want both on", s)
	}
	for op := range stockExecutors {
		if name := funcName(nodeExecutors[op]); !strings.Contains(name, "gomlxpatch.") {
			t.Errorf("%s runs %s, want the patch's executor", op, name)
		}
		if name := funcName(stock[op]); !strings.HasPrefix(name, simplegoPkg) {
			t.Errorf("stock %s is %s, want simplego's", op, name)
		}
	}
}

// TestApplyEnv runs this test binary again with CHIMED_DOT and CHIMED_OPS
// set: each turns off its part, and the table keeps simplego's executors
// there (TestApplyEnvChild checks from inside).
func TestApplyEnv(t *testing.T) {
	if os.Getenv("GOMLXPATCH_CHILD") != "" {
		t.Skip("in the child")
	}
	for _, c := range []struct{ dot, ops string }{{"simplego", "simplego"}, {"simplego", ""}, {"", "simplego"}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestApplyEnvChild$", "-test.v")
		cmd.Env = append(os.Environ(), "GOMLXPATCH_CHILD=1", EnvDot+"="+c.dot, EnvOps+"="+c.ops)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestApplyEnvChild") {
			t.Errorf("%s=%q %s=%q: %v\n%s", EnvDot, c.dot, EnvOps, c.ops, err, out)
		}
	}
}

// TestApplyEnvChild is TestApplyEnv's child.
func TestApplyEnvChild(t *testing.T) {
	if os.Getenv("GOMLXPATCH_CHILD") == "" {
		t.Skip("run by TestApplyEnv")
	}
	s := Apply()
	wantDot := os.Getenv(EnvDot) != "simplego" && gemmSIMD
	wantOps := os.Getenv(EnvOps) != "simplego"
	if s.Dot != wantDot || s.Ops != wantOps || s.Reason == "" {
		t.Fatalf("Apply = %+v, want Dot %v, Ops %v and a reason", s, wantDot, wantOps)
	}
	for op, name := range stockExecutors {
		patched := wantOps
		if op == backends.OpTypeDotGeneral {
			patched = wantDot
		}
		if got := funcName(nodeExecutors[op]); (got == simplegoPkg+name) == patched {
			t.Errorf("%s runs %s; patched should be %v", op, got, patched)
		}
	}
	t.Log(s)
}

// TestCheckTable: simplego's own table passes; a foreign function, a
// missing executor or an empty table do not.
func TestCheckTable(t *testing.T) {
	good := nodeExecutors
	for op, ex := range stock {
		if ex != nil {
			good[op] = ex // undo Apply
		}
	}
	foreign, missing := good, good
	foreign[backends.OpTypeSin] = fastDot
	missing[backends.OpTypeExp] = nil
	cases := []struct {
		name  string
		table [backends.OpTypeLast]executor
		says  string
	}{
		{"stock", good, ""},
		{"foreign", foreign, "not a simplego function"},
		{"missing", missing, "Exp is \"\""},
		{"empty", [backends.OpTypeLast]executor{}, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why := checkTable(&c.table)
			if (why == "") != (c.says == "") || !strings.Contains(why, c.says) {
				t.Errorf("checkTable = %q, want %q", why, c.says)
			}
		})
	}
}

// TestCheckLayout: the mirrors match simplego's structs; a field renamed,
// retyped or moved does not.
func TestCheckLayout(t *testing.T) {
	type want struct {
		a int
		b []int
		c bool
	}
	cases := []struct {
		name string
		got  reflect.Type
		says string
	}{
		{"node", reflect.TypeFor[simplego.Node](), ""},
		{"same", reflect.TypeFor[struct {
			a int
			b []int
			c bool
		}](), ""},
		{"renamed", reflect.TypeFor[struct {
			a int
			d []int
			c bool
		}](), "field 1 is d"},
		{"retyped", reflect.TypeFor[struct {
			a int
			b []int32
			c bool
		}](), "field 1 is b []int32"},
		{"moved", reflect.TypeFor[struct {
			a int32
			b []int
			c bool
		}](), "field 0 is a int32"},
		{"grown", reflect.TypeFor[struct {
			a int
			b []int
			c bool
			d int
		}](), "4 fields"},
		{"not-a-struct", reflect.TypeFor[int](), "not laid out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := reflect.TypeFor[want]()
			if c.name == "node" {
				w = reflect.TypeFor[nodeLayout]()
			}
			why := checkLayout(c.got, w)
			if (why == "") != (c.says == "") || !strings.Contains(why, c.says) {
				t.Errorf("checkLayout = %q, want %q", why, c.says)
			}
		})
	}
	if why := probeNodeData(); why != "" {
		t.Errorf("probeNodeData: %s", why)
	}
}

// TestNoGraphKept: a DotGeneral graph compiled and run with the patch on
// is collected once its executable is dropped; the patch keeps no node.
func TestNoGraphKept(t *testing.T) {
	if !Apply().Dot {
		t.Skipf("fast DotGeneral off here: %s", Apply().Reason)
	}
	backend, err := testBackend()
	if err != nil {
		t.Fatal(err)
	}
	collected := make(chan struct{}, 1)
	func() {
		b := backend.Builder("no-graph-kept")
		x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 4, 8), nil)
		if err != nil {
			t.Fatal(err)
		}
		dot, err := b.DotGeneral(x, []int{1}, nil, x, []int{1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// every node points at its builder: a node kept keeps it
		runtime.AddCleanup(b.(*simplego.Builder), func(ch chan struct{}) { ch <- struct{}{} }, collected)
		exe, err := b.Compile([]backends.Op{dot}, nil)
		if err != nil {
			t.Fatal(err)
		}
		in, err := backend.BufferFromFlatData(0, randomFloats(rand.New(rand.NewPCG(1, 1)), 32), shapes.Make(dtypes.Float32, 4, 8))
		if err != nil {
			t.Fatal(err)
		}
		out, err := exe.Execute([]backends.Buffer{in}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			_ = backend.BufferFinalize(o)
		}
		exe.Finalize()
	}()
	for range 50 {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the DotGeneral graph outlived its executable")
}
