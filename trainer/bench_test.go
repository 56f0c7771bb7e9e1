package trainer

import (
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
