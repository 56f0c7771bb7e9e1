package evaluate

import (
	"fmt"
	"iter"
	"slices"
	"testing"
)

func ids(n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("row-%03d", i), nil) {
				return
			}
		}
	}
}

func TestSample(t *testing.T) {
	self := func(s string) string { return s }
	small, total, err := Sample(ids(200), 10, 42, self)
	if err != nil || total != 200 || len(small) != 10 {
		t.Fatalf("Sample = %d rows of %d, %v; want 10 of 200", len(small), total, err)
	}
	again, _, _ := Sample(ids(200), 10, 42, self)
	if !slices.Equal(small, again) {
		t.Fatalf("same seed, different samples")
	}
	big, _, _ := Sample(ids(200), 50, 42, self)
	if !slices.Equal(big[:10], small) {
		t.Fatalf("a larger sample does not start with the smaller one:\n%v\n%v", big[:10], small)
	}
	other, _, _ := Sample(ids(200), 10, 43, self)
	if slices.Equal(other, small) {
		t.Fatalf("another seed gave the same sample")
	}
	all, total, _ := Sample(ids(7), -1, 42, self)
	if len(all) != 7 || total != 7 {
		t.Fatalf("no cap kept %d of %d", len(all), total)
	}
	_, _, err = Sample(func(yield func(string, error) bool) { yield("", fmt.Errorf("x.parquet: row 3: broken")) }, 5, 1, self)
	if err == nil {
		t.Fatal("a read error was swallowed")
	}
}
