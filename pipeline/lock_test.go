package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
)

// TestLock: a second Lock on a held workspace fails at once naming the
// holder's pid and command; after Release the workspace can be taken again.
// flock(2) locks belong to an open file, so two opens in one process
// conflict just as two processes do (cmd/chimed tests the two-process case).
func TestLock(t *testing.T) {
	if _, err := TakeLock(workspace.Dir(t.TempDir()+"/typo"), "clean"); err == nil {
		t.Error("Lock made a missing workspace")
	}
	d := workspace.Dir(t.TempDir())
	first, err := TakeLock(d, "clean")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TakeLock(d, "ingest")
	var held *LockedError
	if !errors.As(err, &held) {
		t.Fatalf("second Lock: %v, want *LockedError", err)
	}
	if held.PID != os.Getpid() || held.Command != "clean" {
		t.Errorf("holder = pid %d %q, want pid %d \"clean\"", held.PID, held.Command, os.Getpid())
	}
	if !strings.Contains(err.Error(), "chimed clean") {
		t.Errorf("error %q does not name the holder's command", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := TakeLock(d, "ingest")
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	defer second.Release()
	b, err := os.ReadFile(LockPath(d))
	if err != nil {
		t.Fatal(err)
	}
	if pid, cmd := parseHolder(b); pid != os.Getpid() || cmd != "ingest" {
		t.Errorf("lock file says pid %d %q, want the new holder", pid, cmd)
	}
}

func TestParseHolder(t *testing.T) {
	tests := []struct {
		in  string
		pid int
		cmd string
	}{
		{"123 clean\n", 123, "clean"},
		{"7 run\nleftover", 7, "run"},
		{"", 0, ""},
		{"x clean\n", 0, ""},
		{"-4 clean\n", 0, ""},
	}
	for _, tt := range tests {
		pid, cmd := parseHolder([]byte(tt.in))
		if pid != tt.pid || cmd != tt.cmd {
			t.Errorf("parseHolder(%q) = %d %q, want %d %q", tt.in, pid, cmd, tt.pid, tt.cmd)
		}
	}
}

// TestLockSweepsTmp: a killed run's temporary files (here a spool in
// .chimed/tmp) are removed by the next command that takes the lock, and
// not by one that finds the workspace held.
func TestLockSweepsTmp(t *testing.T) {
	d := workspace.Dir(t.TempDir())
	if err := os.MkdirAll(d.Tmp(), 0o755); err != nil {
		t.Fatal(err)
	}
	left := d.Tmp() + "/spool-123"
	if err := os.WriteFile(left, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A report and a record a killed step was writing: the CI's kill of
	// export-llamafactory left the first, and its rerun did not remove it.
	report := d.Report(".tmp-export-llamafactory.json-2331485967")
	record := d.Path(".chimed", ".tmp-done-ingest.json-1")
	kept := d.Report("stats.json")
	for _, p := range []string{report, record, kept} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first, err := TakeLock(d, "ingest")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{left, report, record} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the killed run's %s is still there (%v)", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a finished report went: %v", err)
	}
	if err := os.MkdirAll(d.Tmp(), 0o755); err != nil {
		t.Fatal(err)
	}
	mine := d.Tmp() + "/spool-456"
	if err := os.WriteFile(mine, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := TakeLock(d, "clean"); err == nil {
		t.Fatal("second Lock succeeded")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a refused Lock swept the holder's temporary file: %v", err)
	}
	first.Release()
}
