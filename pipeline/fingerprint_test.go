package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFingerprintChangesWithFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "clean")
	os.MkdirAll(dir, 0o755)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.parquet", "one")
	fp1, err := Fingerprint(root, dir, filepath.Join(root, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	write(".tmp-b.parquet-123", "partial") // temporary files never count
	if fp, _ := Fingerprint(root, dir); fp != fp1 {
		t.Fatal("a temporary file changed the fingerprint")
	}
	write("a.parquet", "two!")
	if fp, _ := Fingerprint(root, dir); fp == fp1 {
		t.Fatal("a changed file kept the fingerprint")
	}
	fp2, _ := Fingerprint(root, dir)
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "a.parquet"), future, future)
	if fp, _ := Fingerprint(root, dir); fp == fp2 {
		t.Fatal("a touched file kept the fingerprint")
	}
}
