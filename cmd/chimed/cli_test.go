package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process and returns its error and output.
func runCLI(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestStrayArguments: every command takes flags only, so a stray word
// (a typo, a path without -w) is an error, not silently ignored.
func TestStrayArguments(t *testing.T) {
	ws := t.TempDir()
	for _, c := range newRootCmd().Commands() {
		name := c.Name()
		if name == "help" || name == "completion" {
			continue
		}
		args := []string{"-q", "-w", ws, name, "extra"}
		if name == "export" {
			args = append(args, "--format", "trl")
		}
		_, err := runCLI(args...)
		if err == nil || !strings.Contains(err.Error(), `unknown command "extra"`) && !strings.Contains(err.Error(), "accepts 0 arg") {
			t.Errorf("chimed %s: err = %v, want a stray-argument error", strings.Join(args[3:], " "), err)
		}
	}
}

// TestUnfinishedWorkspace: a command run before the step that makes its
// input fails with one line naming what is missing and what to run.
func TestUnfinishedWorkspace(t *testing.T) {
	empty := t.TempDir()
	if _, err := runCLI("-q", "-w", empty, "stats"); err == nil ||
		!strings.Contains(err.Error(), "reports/ingest.json is missing (run `chimed ingest` first)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("stats on an empty folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "reports")); err == nil {
		t.Error("stats on an empty folder wrote reports/")
	}

	ws := t.TempDir()
	if _, err := runCLI("-q", "-w", ws, "demo"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"clean"}, "reports/ingest.json is missing (run `chimed ingest` first)"},
		{[]string{"build-stages"}, "(run `chimed clean` first)"},
		{[]string{"stats"}, "reports/ingest.json is missing (run `chimed ingest` first)"},
		{[]string{"export", "--format", "trl"}, "(run `chimed build-stages` first)"},
		{[]string{"train"}, "stages/manifest.json is missing (run `chimed build-stages` first)"},
		{[]string{"eval"}, "stages/manifest.json is missing (run `chimed build-stages` first)"},
		{[]string{"dpo-negatives"}, "runs/sft/model.json is missing (run `chimed train --stage sft` first)"},
	}
	for _, tc := range tests {
		_, err := runCLI(append([]string{"-q", "-w", ws}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("chimed %s: err = %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	for _, dir := range []string{"clean", "runs", "stages"} {
		if _, err := os.Stat(filepath.Join(ws, dir)); err == nil {
			t.Errorf("a failed command left %s/ behind", dir)
		}
	}
}
