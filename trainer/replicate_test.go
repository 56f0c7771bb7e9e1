package trainer

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/schemas"
)

// replicateDCPT writes the rows of src times over to dst, each copy with its
// own ids, so the memory benchmark can grow DCPT data without new text. Row
// groups hold 8192 rows, as the stage files build-stages writes.
func replicateDCPT(src, dst string, times int) (n int64, err error) {
	f, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	pw := parquet.NewGenericWriter[schemas.DCPTRow](f, append(schemas.WriterOptions(), parquet.MaxRowsPerRowGroup(8192))...)
	for c := range times {
		for r, err := range schemas.ReadFile[schemas.DCPTRow](src) {
			if err != nil {
				return n, err
			}
			r.ID = fmt.Sprintf("%s#%d", r.ID, c)
			if _, err := pw.Write([]schemas.DCPTRow{r}); err != nil {
				return n, fmt.Errorf("write %s: %w", dst, err)
			}
			n++
		}
	}
	if err := pw.Close(); err != nil {
		return n, fmt.Errorf("write %s: %w", dst, err)
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
