package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// The fault-injection suite: every step is killed with SIGKILL at seeded
// random moments in a process of its own, run again, and must then leave
// the same bytes as an uninterrupted run and lose nothing by its reports;
// a second writer, a read-only and a full workspace fail cleanly.
// CHIMED_FAULT_SEED picks the kill moments (the seed is logged, so a
// failure reproduces) and CHIMED_FAULT_KILLS how many per step (1).

// faultConfig trains the tiny model for a few steps, so the train step
// has checkpoints to resume from and the suite stays within minutes.
const faultConfig = `
train:
  preset: tiny
  checkpoint_every: 5
  log_every: 5
  dcpt: {steps: 20}
  sft: {steps: 15}
  dpo: {steps: 10}
`

// faultStep is a command the suite kills: args, and the args that finish
// it after a kill (the same unless it resumes).
type faultStep struct {
	name        string
	args, rerun []string
	nothingLost bool // check the reports' counts against the files after it
}

var faultSteps = []faultStep{
	{name: "ingest", args: []string{"ingest"}, nothingLost: true},
	{name: "clean", args: []string{"clean"}, nothingLost: true},
	{name: "build-stages", args: []string{"build-stages"}},
	{name: "stats", args: []string{"stats"}},
	{name: "export-trl", args: []string{"export", "--format", "trl"}},
	{name: "export-llamafactory", args: []string{"export", "--format", "llamafactory"}},
	{name: "export-medicalgpt", args: []string{"export", "--format", "medicalgpt"}},
	{name: "export-hf", args: []string{"export", "--format", "hf"}},
	{name: "train", args: []string{"train", "--stage", "all"}, rerun: []string{"train", "--stage", "all", "--resume"}},
}

// faultSeed is CHIMED_FAULT_SEED, or a fixed seed.
func faultSeed(t *testing.T) uint64 {
	seed := uint64(20261203)
	if s := os.Getenv("CHIMED_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHIMED_FAULT_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("kill moments from CHIMED_FAULT_SEED=%d", seed)
	return seed
}

// chimedCmd is the CLI as a process of its own: this test binary running main.
func chimedCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CHIMED_TEST_RUN_MAIN=1")
	return cmd
}

// mustChimed runs the CLI and fails the test on a non-zero exit.
func mustChimed(t *testing.T, ws string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	if _, stderr, code := chimedExit(t, append([]string{"-q", "-w", ws}, args...)...); code != 0 {
		t.Fatalf("chimed %v: exit %d\n%s", args, code, stderr)
	}
	return time.Since(start)
}

// copyTree copies the folder src to dst (files, folders and symlinks).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// timingFile says whether a workspace-relative path holds wall-clock
// figures, the one thing two identical runs may write differently.
func timingFile(rel string) bool {
	return rel == "reports/eval-timing.json" || (strings.HasPrefix(rel, "runs/") && strings.HasSuffix(rel, "/timing.jsonl"))
}

// treeFiles reads every file of a workspace but .chimed/ and the timing
// files, by slash-separated relative path.
func treeFiles(t *testing.T, ws string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(ws, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".chimed" {
				return filepath.SkipDir
			}
			return nil
		}
		if timingFile(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree reports every file that differs between two workspaces, is
// missing from got, or is in got alone (a temporary file left behind).
func sameTree(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	var bad []string
	for _, f := range slices.Sorted(mapKeys(want)) {
		g, ok := got[f]
		switch {
		case !ok:
			bad = append(bad, "missing "+f)
		case !bytes.Equal(g, want[f]):
			bad = append(bad, "differs "+f)
		}
	}
	for _, f := range slices.Sorted(mapKeys(got)) {
		if _, ok := want[f]; !ok {
			bad = append(bad, "extra "+f)
		}
	}
	if len(bad) > 0 {
		if len(bad) > 20 {
			bad = append(bad[:20], fmt.Sprintf("… %d more", len(bad)-20))
		}
		t.Errorf("%s: %d files differ from the uninterrupted run:\n  %s", what, len(bad), strings.Join(bad, "\n  "))
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// partSource is the source a part file <source>-NNNNN.parquet belongs to.
var partSource = regexp.MustCompile(`^(.+)-\d{5}\.parquet$`)

// rowsBySource counts the Parquet rows under dir (recursively) by the
// source their file is named after.
func rowsBySource(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != dir {
				return filepath.SkipDir
			}
			return err
		}
		m := partSource.FindStringSubmatch(d.Name())
		if m == nil {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out[m[1]] += pf.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkNothingLost checks, per source, the reports' invariants (read =
// records_ok + quarantined; clean's in = kept + Σ removed = ingest's
// written) and that the files hold what the reports count: written rows
// in normalized/, quarantined in quarantine/, kept in clean/, removed in
// removed/. Without reports/clean.json only ingest's part is checked.
func checkNothingLost(t *testing.T, what, ws string) {
	t.Helper()
	var ing struct {
		Sources map[string]struct {
			Read        int64 `json:"read"`
			Written     int64 `json:"written"`
			RecordsOK   int64 `json:"records_ok"`
			Quarantined int64 `json:"quarantined"`
		} `json:"sources"`
	}
	readJSON(t, filepath.Join(ws, "reports", "ingest.json"), &ing)
	if len(ing.Sources) == 0 {
		t.Fatalf("%s: ingest.json names no source", what)
	}
	normalized := rowsBySource(t, filepath.Join(ws, "normalized"))
	quarantine := rowsBySource(t, filepath.Join(ws, "quarantine"))
	for name, s := range ing.Sources {
		if s.Read != s.RecordsOK+s.Quarantined {
			t.Errorf("%s: %s read %d ≠ records_ok %d + quarantined %d", what, name, s.Read, s.RecordsOK, s.Quarantined)
		}
		if normalized[name] != s.Written || quarantine[name] != s.Quarantined {
			t.Errorf("%s: %s: normalized/ holds %d rows, quarantine/ %d; ingest.json says written %d, quarantined %d",
				what, name, normalized[name], quarantine[name], s.Written, s.Quarantined)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "reports", "clean.json")); os.IsNotExist(err) {
		return
	}
	var cl struct {
		Sources map[string]struct {
			In      int64            `json:"in"`
			Kept    int64            `json:"kept"`
			Removed map[string]int64 `json:"removed"`
		} `json:"sources"`
	}
	readJSON(t, filepath.Join(ws, "reports", "clean.json"), &cl)
	clean := rowsBySource(t, filepath.Join(ws, "clean"))
	removed := rowsBySource(t, filepath.Join(ws, "removed"))
	for name, s := range cl.Sources {
		var gone int64
		for _, n := range s.Removed {
			gone += n
		}
		if s.In != s.Kept+gone || s.In != ing.Sources[name].Written {
			t.Errorf("%s: %s: clean in %d ≠ kept %d + removed %d, or ≠ ingest's written %d", what, name, s.In, s.Kept, gone, ing.Sources[name].Written)
		}
		if clean[name] != s.Kept || removed[name] != gone {
			t.Errorf("%s: %s: clean/ holds %d rows, removed/ %d; clean.json says kept %d, removed %d", what, name, clean[name], removed[name], s.Kept, gone)
		}
	}
	if len(cl.Sources) != len(ing.Sources) {
		t.Errorf("%s: clean.json has %d sources, ingest.json %d", what, len(cl.Sources), len(ing.Sources))
	}
}

// faultReference makes the demo workspace and runs every step on it,
// keeping a copy of the workspace before each step and after the last:
// before[i] is the state step i starts from, before[i+1] what it must
// leave. It returns the copies and how long each step took.
func faultReference(t *testing.T) (before []string, took []time.Duration) {
	t.Helper()
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	mustChimed(t, ws, "demo")
	f, err := os.OpenFile(filepath.Join(ws, "chimed.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(faultConfig)
	f.Close()
	for i, s := range faultSteps {
		snap := filepath.Join(root, fmt.Sprintf("before-%d", i))
		copyTree(t, ws, snap)
		before = append(before, snap)
		took = append(took, mustChimed(t, ws, s.args...))
	}
	end := filepath.Join(root, "end")
	copyTree(t, ws, end)
	return append(before, end), took
}

// killAt starts `chimed args` on ws and kills it with SIGKILL after
// delay; it says whether the kill came before the command ended.
func killAt(t *testing.T, ws string, args []string, delay time.Duration) bool {
	t.Helper()
	cmd := chimedCmd(append([]string{"-q", "-w", ws}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chimed %v ended on its own with %v before its kill:\n%s", args, err, stderr.String())
		}
		return false
	case <-time.After(delay):
		cmd.Process.Kill()
		<-done
		return true
	}
}

// TestFaultInjection kills every step at seeded random moments, runs it
// again, and compares the workspace with the uninterrupted run's, byte for
// byte (timing files aside), then checks nothing was lost.
func TestFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every step of the demo several times")
	}
	seed := faultSeed(t)
	kills := 1
	if s := os.Getenv("CHIMED_FAULT_KILLS"); s != "" {
		var err error
		if kills, err = strconv.Atoi(s); err != nil || kills < 1 {
			t.Fatalf("CHIMED_FAULT_KILLS=%q", s)
		}
	}
	before, took := faultReference(t)
	checkNothingLost(t, "uninterrupted run", before[len(before)-1])
	rng := rand.New(rand.NewPCG(seed, 0))
	for i, s := range faultSteps {
		want := treeFiles(t, before[i+1])
		for k := range kills {
			// A moment in the first 90% of the step's uninterrupted time.
			delay := time.Duration(rng.Float64() * 0.9 * float64(took[i]))
			what := fmt.Sprintf("%s killed at %v of %v (kill %d)", s.name, delay.Round(time.Millisecond), took[i].Round(time.Millisecond), k+1)
			ws := filepath.Join(t.TempDir(), "ws")
			copyTree(t, before[i], ws)
			if !killAt(t, ws, s.args, delay) {
				t.Logf("%s: the step ended before its kill", what)
			}
			rerun := s.args
			if s.rerun != nil {
				rerun = s.rerun
			}
			mustChimed(t, ws, rerun...)
			sameTree(t, what, want, treeFiles(t, ws))
			if s.nothingLost {
				checkNothingLost(t, what, ws)
			}
			t.Logf("%s: rerun matches", what)
		}
	}
}
