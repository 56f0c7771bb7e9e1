package trainer

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/trainer/internal/gomlxpatch"
)

// BenchmarkTrainStep times DCPT training steps of each preset on random
// tokens (b.N steps after an untimed one that compiles, which ns/op
// includes; s/step and tokens/s do not); `chimed train --bench` runs the
// same on the ref preset.
func BenchmarkTrainStep(b *testing.B) {
	for _, preset := range []string{"tiny", "small", "ref"} {
		b.Run(preset, func(b *testing.B) {
			res, err := benchPreset(preset, Config{}, b.N, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.PerStep.Seconds(), "s/step")
			b.ReportMetric(res.TokensSec, "tokens/s")
			b.ReportMetric(res.CPUSecondsPerStep, "CPU-s/step")
		})
	}
}

// keepLossPresets are the presets TestFastKernelsKeepLoss trains, 4 steps
// each.
var keepLossPresets = []string{"tiny", "small"}

// TestFastKernelsKeepLoss trains the same steps with the patched
// executors and, in a child process where CHIMED_DOT and CHIMED_OPS keep
// simplego's own, without: the loss curves must agree to float
// tolerance, step after step.
func TestFastKernelsKeepLoss(t *testing.T) {
	if out := os.Getenv("CHIMED_KEEPLOSS_OUT"); out != "" { // the child
		if s := gomlxpatch.Apply(); s.Dot || s.Ops {
			t.Fatalf("the patch is on in the child: %+v", s)
		}
		losses := map[string][]float64{}
		for _, preset := range keepLossPresets {
			res, err := benchPreset(preset, Config{}, 4, nil)
			if err != nil {
				t.Fatal(err)
			}
			losses[preset] = res.Losses
		}
		data, err := json.Marshal(losses)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s := gomlxpatch.Apply(); !s.Dot || !s.Ops {
		t.Skipf("the patch is not in use here: %s", s.Reason)
	}
	out := filepath.Join(t.TempDir(), "losses.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFastKernelsKeepLoss$")
	cmd.Env = append(os.Environ(), "CHIMED_KEEPLOSS_OUT="+out, gomlxpatch.EnvDot+"=simplego", gomlxpatch.EnvOps+"=simplego")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child with simplego's executors: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var stock map[string][]float64
	if err := json.Unmarshal(data, &stock); err != nil {
		t.Fatal(err)
	}
	for _, preset := range keepLossPresets {
		fast, err := benchPreset(preset, Config{}, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(stock[preset]) != len(fast.Losses) {
			t.Fatalf("%s: %d losses from the child, %d here", preset, len(stock[preset]), len(fast.Losses))
		}
		for i, w := range stock[preset] {
			if g := fast.Losses[i]; math.Abs(g-w) > 1e-4*math.Abs(w) {
				t.Errorf("%s step %d: loss %.6f patched, %.6f with simplego's executors", preset, i, g, w)
			}
		}
		t.Logf("%s: losses %.5f (patched) vs %.5f (simplego)", preset, fast.Losses, stock[preset])
	}
	if strings.Contains(DotKernel(), "scalar") {
		t.Errorf("DotKernel() = %q with the patch on", DotKernel())
	}
}

// TestTorchRefNamesBLAS runs bench/torch_ref.py --blas, which names the
// library torch's sgemm_ binds to, as it is and with the reference BLAS
// put first on the library path (OpenBLAS's LAPACK stays mapped beside
// it): the second must be named the reference BLAS and not optimised, so
// task bench-train prints no ratio against it. Skipped without
// python3-torch or the reference BLAS.
func TestTorchRefNamesBLAS(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with torch")
	}
	ref, _ := filepath.Glob("/usr/lib/*/blas/libblas.so.3")
	if len(ref) == 0 {
		t.Skip("no reference BLAS installed")
	}
	script := filepath.Join("..", "bench", "torch_ref.py")
	for _, c := range []struct{ libPath, wantName string }{
		{"", ""}, // whatever this machine has: only the lines' form is checked
		{filepath.Dir(ref[0]), "reference BLAS"},
	} {
		cmd := exec.Command("/usr/bin/python3", script, "--blas")
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+c.libPath)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("LD_LIBRARY_PATH=%s: %v\n%s", c.libPath, err, out)
		}
		t.Logf("LD_LIBRARY_PATH=%s: %s", c.libPath, out)
		if !strings.Contains(string(out), "PyTorch BLAS: ") || !strings.Contains(string(out), "optimised=") {
			t.Errorf("no BLAS line: %s", out)
		}
		if c.wantName != "" && (!strings.Contains(string(out), c.wantName) || !strings.Contains(string(out), "optimised=False")) {
			t.Errorf("LD_LIBRARY_PATH=%s: want %s, not optimised: %s", c.libPath, c.wantName, out)
		}
	}
}
