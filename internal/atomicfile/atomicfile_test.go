package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommitAbortSweep(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "sub", "out.json")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{}")
	if _, err := os.Stat(final); !os.IsNotExist(err) {
		t.Fatal("the final name exists before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(final)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("committed file: %v, mode %v", err, st.Mode())
	}
	if err := f.Commit(); err == nil {
		t.Fatal("a second Commit succeeded")
	}

	g, _ := Create(filepath.Join(dir, "aborted.json"))
	g.Abort()
	h, _ := Create(filepath.Join(dir, "killed.json")) // as a killed run leaves it
	h.File.Close()
	if err := Sweep(dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	if len(names) != 1 || names[0] != "out.json" {
		t.Fatalf("left behind: %v", names)
	}
}
