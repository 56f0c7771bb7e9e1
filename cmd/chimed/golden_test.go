package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateOutputs = flag.Bool("update-outputs", false, "rewrite testdata/demo-outputs.sha256 from this run")

// TestDemoOutputsUnchanged runs `chimed demo` and `chimed run --no-train`
// and compares the sha256 of every file they write (the workspace's own
// bookkeeping in .chimed/ aside) with testdata/demo-outputs.sha256. A
// refactor that should change nothing must leave this list as it is; a
// change meant to alter outputs updates it with -update-outputs, and the
// diff of the list shows which files moved. Training is left out: its
// float sums may differ between CPUs, and TestTwoRunsSameBytes checks it
// on one machine.
func TestDemoOutputsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("demo run skipped in -short mode")
	}
	ws := t.TempDir()
	chimed(t, "-q", "-w", ws, "demo")
	chimed(t, "-q", "-w", ws, "run", "--no-train")
	got := outputHashes(t, ws)
	golden := filepath.Join("testdata", "demo-outputs.sha256")
	if *updateOutputs {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-outputs to write it)", err)
	}
	if got == string(want) {
		return
	}
	wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(got, "\n")
	for _, l := range gotLines {
		if !slices.Contains(wantLines, l) {
			t.Errorf("new or changed: %s", l)
		}
	}
	for _, l := range wantLines {
		if !slices.Contains(gotLines, l) {
			t.Errorf("gone or changed: %s", l)
		}
	}
	t.Log("if the change is meant, rerun with -update-outputs and commit the list")
}

// outputHashes lists "sha256  path" for every file under ws but .chimed/,
// sorted by path, as sha256sum prints it.
func outputHashes(t *testing.T, ws string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(ws, p)
		if d.IsDir() {
			if rel == ".chimed" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		lines = append(lines, fmt.Sprintf("%s  %s", hex.EncodeToString(sum[:]), filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return strings.Join(lines, "\n") + "\n"
}
