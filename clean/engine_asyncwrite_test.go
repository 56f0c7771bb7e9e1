package clean

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// TestAsyncWriterKeepsOrder writes rows across several batches and parts
// and reads them back in the order they were written.
func TestAsyncWriterKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	a := newAsyncWriter(schemas.NewPartWriter[schemas.QA](dir, schemas.PartOptions{RowsPerPart: 700, RowsPerGroup: 100}))
	const n = 3*batchRows + 17
	for i := range n {
		if err := a.Write(schemas.QA{ID: fmt.Sprintf("%016x", i), Source: "s", Question: "问", Answer: "答"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Abort() // after Close, as cleanKind's deferred clean-up does: a no-op
	parts, err := schemas.PartFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2 (700 rows each)", len(parts))
	}
	i := 0
	for _, p := range parts {
		for row, err := range schemas.ReadFile[schemas.QA](p) {
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%016x", i); row.ID != want {
				t.Fatalf("row %d has id %s, want %s", i, row.ID, want)
			}
			i++
		}
	}
	if i != n {
		t.Fatalf("read %d rows, wrote %d", i, n)
	}
}

// TestAsyncWriterReportsError checks that a PartWriter's failure reaches
// the caller (from a later Write or from Close) and that nothing blocks.
func TestAsyncWriterReportsError(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The parts' folder is under a regular file: creating a part fails.
	a := newAsyncWriter(schemas.NewPartWriter[schemas.QA](filepath.Join(blocker, "clean"), schemas.PartOptions{}))
	var err error
	for i := 0; i < 20*batchRows && err == nil; i++ {
		err = a.Write(schemas.QA{ID: fmt.Sprint(i)})
	}
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		t.Fatal("no error from a writer whose folder cannot be created")
	}
	a.Abort()
}
