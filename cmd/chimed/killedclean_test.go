package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKilledCleanNotMisread kills `chimed clean` with SIGKILL while a kind's
// staging file is being written. What it leaves (clean/ parts of some
// sources, clean/.staging/…/stage.bin, no reports/clean.json) must not be
// read as clean output: build-stages refuses it naming the step to run,
// and the next clean sweeps the staging folder and finishes.
func TestKilledCleanNotMisread(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and cleans the demo workspace")
	}
	ws := t.TempDir()
	for _, args := range [][]string{{"demo"}, {"ingest"}} {
		if _, stderr, code := chimedExit(t, append([]string{"-q", "-w", ws}, args...)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", args[0], code, stderr)
		}
	}
	staging := filepath.Join(ws, "clean", ".staging")
	cmd := exec.Command(os.Args[0], "-q", "-w", ws, "clean")
	cmd.Env = append(os.Environ(), "CHIMED_TEST_RUN_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	killed := false
	for deadline := time.Now().Add(time.Minute); !killed && time.Now().Before(deadline); {
		select {
		case err := <-exited:
			t.Skipf("clean finished (%v) before a staging file was seen; nothing to kill", err)
		default:
		}
		if stageFileUnder(staging) {
			cmd.Process.Kill()
			<-exited
			killed = true
		}
		time.Sleep(time.Millisecond)
	}
	if !killed {
		t.Fatal("no staging file within a minute")
	}
	if !stageFileUnder(staging) {
		t.Fatal("the kill left no staging file: the test did not reach the state it checks")
	}
	if _, err := os.Stat(filepath.Join(ws, "reports", "clean.json")); err == nil {
		t.Fatal("a killed clean left reports/clean.json")
	}

	_, stderr, code := chimedExit(t, "-q", "-w", ws, "build-stages")
	if code == 0 || !strings.Contains(stderr, "reports/clean.json is missing (run `chimed clean` first)") {
		t.Errorf("build-stages after a killed clean: exit %d\n%s", code, stderr)
	}

	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "clean"); code != 0 {
		t.Fatalf("clean after a kill: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(staging); err == nil {
		t.Error("clean left clean/.staging behind")
	}
	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "build-stages"); code != 0 {
		t.Errorf("build-stages after a finished clean: exit %d\n%s", code, stderr)
	}
}

// stageFileUnder says whether any file exists under dir.
func stageFileUnder(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
