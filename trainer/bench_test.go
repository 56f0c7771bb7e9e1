package trainer

import (
	"math"
	"os"
	"strconv"
	"testing"
)

// TestBenchRef times the ref preset when CHIMED_BENCH_STEPS is set (task
// bench-train runs the same through `chimed train --bench`).
func TestBenchRef(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CHIMED_BENCH_STEPS"))
	if n <= 0 {
		t.Skip("set CHIMED_BENCH_STEPS to time the ref preset")
	}
	preset := os.Getenv("CHIMED_BENCH_PRESET")
	if preset == "" {
		preset = "ref"
	}
	res, err := benchPreset(preset, Config{}, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
}

// TestFastKernelsKeepLoss trains the same steps with the replaced
// executors (fastdot.go, fastops.go) and with simplego's own: the loss
// curves must agree to float tolerance, step after step.
func TestFastKernelsKeepLoss(t *testing.T) {
	if on, why := installFastDot(); !on {
		t.Skipf("fast DotGeneral not in use here: %s", why)
	}
	for _, preset := range []string{"tiny", "small"} {
		fast, err := benchPreset(preset, Config{}, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		var stock *BenchResult
		withStockDot(t, func() {
			withStockOps(t, func() { stock, err = benchPreset(preset, Config{}, 4, nil) })
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range stock.Losses {
			if g := fast.Losses[i]; math.Abs(g-w) > 1e-4*math.Abs(w) {
				t.Errorf("%s step %d: loss %.6f with the fast kernels, %.6f with simplego's", preset, i, g, w)
			}
		}
		t.Logf("%s: losses %.5f (fast) vs %.5f (simplego)", preset, fast.Losses, stock.Losses)
	}
}
