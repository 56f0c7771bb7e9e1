package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemory(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	for _, tc := range []struct {
		arg  string
		want int64
		bad  bool
	}{
		{arg: "", want: 0},
		{arg: "2GiB", want: 2 << 30},
		{arg: "512MiB", want: 512 << 20},
		{arg: "1.5 GB", want: 1_500_000_000},
		{arg: "10MB", bad: true},
		{arg: "lots", bad: true},
	} {
		a := &app{memoryArg: tc.arg}
		err := a.setMemory()
		if (err != nil) != tc.bad {
			t.Errorf("--memory %q: err %v, want error %v", tc.arg, err, tc.bad)
			continue
		}
		if !tc.bad && a.memory != tc.want {
			t.Errorf("--memory %q = %d, want %d", tc.arg, a.memory, tc.want)
		}
	}
}
