package trainer

import (
	"fmt"
	"iter"
	"os"
	"strconv"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// replicateDCPT writes the rows of src times over to dst, each copy with its
// own ids, so the memory benchmark can grow DCPT data without new text.
func replicateDCPT(src, dst string, times int) (int64, error) {
	rows := func(yield func(schemas.DCPTRow) bool) {
		for c := range times {
			for r, err := range schemas.ReadFile[schemas.DCPTRow](src) {
				if err != nil {
					return
				}
				r.ID = fmt.Sprintf("%s#%d", r.ID, c)
				if !yield(r) {
					return
				}
			}
		}
	}
	n, err := schemas.WriteFile(dst, iter.Seq[schemas.DCPTRow](rows))
	if err != nil {
		return n, err
	}
	// ReadFile errors end rows early; a short copy is a failure, not a smaller benchmark.
	var one int64
	for _, err := range schemas.ReadFile[schemas.DCPTRow](src) {
		if err != nil {
			return n, err
		}
		one++
	}
	if n != one*int64(times) {
		return n, fmt.Errorf("replicate %s: wrote %d rows, want %d", src, n, one*int64(times))
	}
	return n, nil
}

func TestReplicateDCPT(t *testing.T) {
	ws := fixtureWorkspace(t)
	src := ws.StageFile(schemas.StageDCPT, "train")
	dst := t.TempDir() + "/x3.parquet"
	n, err := replicateDCPT(src, dst, 3)
	if err != nil || n != 3*120 {
		t.Fatalf("replicate: %d rows, %v", n, err)
	}
	seen := map[string]bool{}
	for r, err := range schemas.ReadFile[schemas.DCPTRow](dst) {
		if err != nil || seen[r.ID] {
			t.Fatalf("row %q: %v (duplicate id: %v)", r.ID, err, seen[r.ID])
		}
		seen[r.ID] = true
	}
}

// TestHelperReplicateDCPT builds the 10× workspace of the memory benchmark:
// CHIMED_REPLICATE="src.parquet dst.parquet times".
func TestHelperReplicateDCPT(t *testing.T) {
	var src, dst, times string
	if _, err := fmt.Sscan(os.Getenv("CHIMED_REPLICATE"), &src, &dst, &times); err != nil {
		t.Skip("helper for the DCPT memory benchmark")
	}
	k, err := strconv.Atoi(times)
	if err != nil {
		t.Fatal(err)
	}
	n, err := replicateDCPT(src, dst, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d rows", dst, n)
}
