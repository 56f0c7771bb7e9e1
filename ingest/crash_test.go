package ingest_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
)

// crashChildEnv names the workspace a re-executed test binary ingests.
const crashChildEnv = "CHIMED_INGEST_CRASH_CHILD"

// crashOptions are the same in the child and the parent: small parts, so
// some are committed before the kill, and one source at a time.
var crashOptions = ingest.RunOptions{RowsPerPart: 500, Parallel: 1}

func ingestWorkspace(t *testing.T, ws string) {
	t.Helper()
	cfg, err := config.Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), workspace.Dir(ws), cfg.Sources, crashOptions); err != nil {
		t.Fatal(err)
	}
}

// TestCrashSafety kills an ingest with SIGKILL half-way, re-runs it and
// checks every output is byte-identical to an uninterrupted run.
func TestCrashSafety(t *testing.T) {
	if ws := os.Getenv(crashChildEnv); ws != "" {
		ingestWorkspace(t, ws) // the child: ingest until killed
		return
	}
	if testing.Short() {
		t.Skip("generates a 12 MB demo workspace and ingests it three times")
	}
	ws := t.TempDir()
	if _, err := demo.Generate(ws, demo.Options{Seed: 7, ScaleBytes: 12 << 20}); err != nil {
		t.Fatal(err)
	}
	ingestWorkspace(t, ws)
	want := outputs(t, ws)
	if len(want) < 10 {
		t.Fatalf("only %d output files; the workspace is too small to test a kill", len(want))
	}

	// Start over in a child process and kill it half-way through the parts.
	for _, d := range []string{"normalized", "quarantine", "reports"} {
		if err := os.RemoveAll(filepath.Join(ws, d)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+ws)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	killed := false
	deadline := time.Now().Add(2 * time.Minute)
	for !killed && time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("the child finished (%v) before it could be killed; stderr:\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if finalNames(outputs(t, ws)) >= len(want)/2 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if !killed {
		t.Fatal("no output appeared within two minutes")
	}
	<-exited
	partial := outputs(t, ws)
	if _, ok := partial["reports/ingest.json"]; ok {
		t.Log("the report was already written when the kill landed; the re-run must still match")
	}
	for name, b := range partial {
		if w, ok := want[name]; ok && !bytes.Equal(w, b) {
			t.Errorf("%s exists under its final name after the kill but differs from the complete run", name)
		}
	}

	ingestWorkspace(t, ws)
	got := outputs(t, ws)
	for name, w := range want {
		if b, ok := got[name]; !ok {
			t.Errorf("%s missing after the re-run", name)
		} else if !bytes.Equal(w, b) {
			t.Errorf("%s differs after the re-run", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s left over after the re-run", name)
		}
	}
	t.Logf("killed with %d of %d outputs in place; re-run matched byte for byte", finalNames(partial), len(want))
}

// finalNames counts the outputs under their final names.
func finalNames(out map[string][]byte) int {
	n := 0
	for name := range out {
		if !strings.Contains(name, "/.tmp-") {
			n++
		}
	}
	return n
}

// outputs reads ingest's outputs (temporary files included, so leftovers show).
func outputs(t *testing.T, ws string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, d := range []string{"normalized", "quarantine", "reports"} {
		err := filepath.WalkDir(filepath.Join(ws, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if e.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if os.IsNotExist(err) { // renamed or removed while we looked
				return nil
			}
			rel, _ := filepath.Rel(ws, p)
			out[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
