package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSlurmPlan submits `chimed plan --executor slurm --shards 4` on the
// demo (ingest and clean sharded) to a real Slurm cluster (.ci/slurm-up.sh starts one; SLURM_CONF
// names it) and compares the stage files, manifest and clean output with
// one process's. The plan's sbatch scripts and submit.sh run as written;
// only the binary is this test's, which runs chimed's main.
func TestSlurmPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("submits the demo to Slurm; skipped in -short mode")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Skip("SKIP: sbatch is not on PATH; `CI=true .ci/run` as root installs Slurm and starts a one-node cluster (.ci/slurm-up.sh)")
	}
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil || !regexp.MustCompile(`idle|mix|alloc`).Match(out) {
		t.Skipf("SKIP: no Slurm cluster answers (sinfo: %v: %s); start one with .ci/slurm-up.sh and export the SLURM_CONF it prints", err, strings.TrimSpace(string(out)))
	}
	t.Setenv("CHIMED_TEST_RUN_MAIN", "1") // sbatch passes the environment on to the jobs
	bin, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	raw := t.TempDir()
	chimed(t, "-q", "-w", raw, "demo")
	one := t.TempDir()
	copyTree(t, raw, one)
	for _, step := range []string{"ingest", "clean", "build-stages"} {
		chimed(t, "-q", "-w", one, step)
	}
	ws := t.TempDir()
	copyTree(t, raw, ws)
	out := filepath.Join(t.TempDir(), "plan")
	chimed(t, "-q", "-w", ws, "plan", "--executor", "slurm", "--shards", "4", "--through", "build-stages",
		"--binary", bin, "--out", out)

	start := time.Now()
	sub, err := exec.Command("sh", filepath.Join(out, "submit.sh")).Output()
	if err != nil {
		t.Fatalf("submit.sh: %v", err)
	}
	last := strings.TrimSpace(string(sub))
	state := ""
	for time.Since(start) < 10*time.Minute {
		o, err := exec.Command("scontrol", "-o", "show", "job", last).Output()
		if err != nil {
			t.Fatalf("scontrol show job %s: %v", last, err)
		}
		m := regexp.MustCompile(`JobState=(\S+)`).FindSubmatch(o)
		if m == nil {
			t.Fatalf("scontrol show job %s: no JobState in %s", last, o)
		}
		state = string(m[1])
		if !slices.Contains([]string{"PENDING", "RUNNING", "CONFIGURING", "COMPLETING"}, state) {
			break
		}
		time.Sleep(time.Second)
	}
	logs, _ := filepath.Glob(filepath.Join(out, "logs", "*"))
	if state != "COMPLETED" {
		var tail strings.Builder
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			tail.WriteString(filepath.Base(l) + ": " + lastLines(string(b), 5) + "\n")
		}
		t.Fatalf("the last job (%s) ended %q after %s; logs:\n%s", last, state, time.Since(start).Round(time.Second), tail.String())
	}
	t.Logf("ingest, clean's scan and filter as 4 array tasks each, and 4 single jobs ran on Slurm in %s", time.Since(start).Round(time.Second))
	if len(logs) != 3*4+4 {
		t.Errorf("%d job logs, want 3 arrays of 4 tasks and 4 single jobs: %v", len(logs), logs)
	}
	compared := []string{"stages", "clean", "removed", "reports/ingest.json", "reports/clean.json"}
	want, got := fileSums(t, one, compared...), fileSums(t, ws, compared...)
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if got[p] != want[p] {
			t.Errorf("%s differs from the unsharded run's (or is missing)", p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Slurm run wrote %d files, one process %d", len(got), len(want))
	}
	for i := range 4 {
		if _, err := os.Stat(filepath.Join(ws, ".chimed", "steps", fmt.Sprintf("ingest-shard-%04d-of-0004.json", i))); err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
