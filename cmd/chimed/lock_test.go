package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/pipeline"
)

// holdLock is a process of its own that holds ws's lock as `chimed clean`
// would, says so on stdout and waits to be killed.
func holdLock(ws string) {
	if _, err := pipeline.TakeLock(workspace.Dir(ws), "clean"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("locked")
	select {}
}

// TestSecondWriterRefused: while one process holds the workspace, every
// writing command of a second one exits non-zero at once naming the
// holder's pid and command; after the holder is killed with SIGKILL (no
// clean-up of its own) the lock is free again.
func TestSecondWriterRefused(t *testing.T) {
	ws := looseWorkspace(t, `version: 1
sources:
  - {name: faq, kind: qa, preset: alpaca, paths: [raw/faq.jsonl]}
`, map[string]string{"raw/faq.jsonl": goodQA})

	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "CHIMED_TEST_HOLD_LOCK="+ws)
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("lock holder said %q, %v", line, err)
	}

	want := fmt.Sprintf("in use by chimed clean (pid %d", holder.Process.Pid)
	for _, args := range [][]string{
		{"ingest"}, {"clean"}, {"build-stages"}, {"stats"}, {"export", "--format", "trl"},
		{"train"}, {"dpo-negatives"}, {"eval"}, {"run"}, {"demo"},
	} {
		_, stderr, code := chimedExit(t, append([]string{"-q", "-w", ws}, args...)...)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("%s while the workspace is held: exit %d, stderr %q, want it to name %q", args[0], code, stderr, want)
		}
	}
	if _, err := os.Stat(ws + "/normalized"); err == nil {
		t.Error("ingest wrote normalized/ without the lock")
	}

	holder.Process.Kill()
	holder.Wait()
	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "ingest"); code != 0 {
		t.Fatalf("ingest after the holder was killed: exit %d\n%s", code, stderr)
	}
}
