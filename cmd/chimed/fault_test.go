package main

import (
	"bytes"
	"crypto/sha256"
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
	{name: "eval", args: []string{"eval", "--max-n", "40"}},
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

// copyTree copies the folder src to dst (files, folders and symlinks),
// keeping each file's modification time: completion records fingerprint
// files by size and mtime, and a copy must read as the same finished step.
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
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
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
// missing from got, or is in got alone (a temporary file left behind),
// and says whether there was none.
func sameTree(t *testing.T, what string, want, got map[string][]byte) bool {
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
	return len(bad) == 0
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

// TestFaultSuite builds the uninterrupted run once and then injects
// faults into copies of it: kills at random moments of every step, a
// second writer while one runs, a read-only workspace and a full one.
func TestFaultSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every step of the demo several times")
	}
	before, took := faultReference(t)
	checkNothingLost(t, "uninterrupted run", before[len(before)-1])
	t.Run("kills", func(t *testing.T) { faultKills(t, before, took) })
	step := slices.IndexFunc(faultSteps, func(s faultStep) bool { return s.name == "clean" })
	t.Run("second writer", func(t *testing.T) { faultSecondWriter(t, before[step], before[step+1]) })
	t.Run("read-only workspace", func(t *testing.T) { faultReadOnly(t, before[step]) })
	t.Run("full workspace", func(t *testing.T) { faultFull(t, before[0], before[1]) })
}

// faultKills kills every step at seeded random moments, runs it again,
// and compares the workspace with the uninterrupted run's, byte for byte
// (timing files aside), then checks nothing was lost.
func faultKills(t *testing.T, before []string, took []time.Duration) {
	seed := faultSeed(t)
	kills := 1
	if s := os.Getenv("CHIMED_FAULT_KILLS"); s != "" {
		var err error
		if kills, err = strconv.Atoi(s); err != nil || kills < 1 {
			t.Fatalf("CHIMED_FAULT_KILLS=%q", s)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	for i, s := range faultSteps {
		want := treeFiles(t, before[i+1])
		for k := range kills {
			// A moment in the first 75% of the step's uninterrupted time.
			delay := time.Duration(rng.Float64() * 0.75 * float64(took[i]))
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
			if sameTree(t, what, want, treeFiles(t, ws)) {
				t.Logf("%s: rerun matches", what)
			}
			if s.nothingLost {
				checkNothingLost(t, what, ws)
			}
		}
	}
}

// faultSecondWriter starts clean and, while it holds the workspace, runs
// two other writers: each must exit non-zero at once naming clean's pid,
// and clean must still finish with the uninterrupted run's bytes.
func faultSecondWriter(t *testing.T, from, want string) {
	ws := filepath.Join(t.TempDir(), "ws")
	copyTree(t, from, ws)
	cmd := chimedCmd("-q", "-w", ws, "clean")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	holder := fmt.Sprintf("%d clean\n", cmd.Process.Pid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(ws, ".chimed", "lock")); string(b) == holder {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("clean did not take the lock within a minute")
		}
	}
	wantErr := fmt.Sprintf("in use by chimed clean (pid %d", cmd.Process.Pid)
	for _, args := range [][]string{{"ingest"}, {"build-stages"}} {
		start := time.Now()
		_, errOut, code := chimedExit(t, append([]string{"-q", "-w", ws}, args...)...)
		select {
		case <-done:
			t.Skipf("clean ended before %s was refused; the machine is too fast for this check", args[0])
		default:
		}
		if code == 0 || !strings.Contains(errOut, wantErr) {
			t.Errorf("%s beside a running clean: exit %d, stderr %q; want it refused naming %q", args[0], code, errOut, wantErr)
		}
		t.Logf("%s refused in %v", args[0], time.Since(start).Round(time.Millisecond))
	}
	if err := <-done; err != nil {
		t.Fatalf("clean beside refused writers: %v\n%s", err, stderr.String())
	}
	sameTree(t, "clean beside refused writers", treeFiles(t, want), treeFiles(t, ws))
	checkNothingLost(t, "clean beside refused writers", ws)
}

// inNamespace runs script with sh in a new user and mount namespace
// (unshare -rm), where it may mount; the mounts vanish with it. It
// skips the test when the machine does not allow that.
func inNamespace(t *testing.T, script string, args ...string) (stdout string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1): cannot mount a read-only or small workspace here")
	}
	if out, err := exec.Command(unshare, "-rm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs "$0"`, t.TempDir()).CombinedOutput(); err != nil {
		t.Skipf("this machine does not allow mounts in a user namespace (unshare -rm: %v %s)", err, out)
	}
	cmd := exec.Command(unshare, append([]string{"-rm", "sh", "-c", script, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), "CHIMED_TEST_RUN_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("namespace script: %v\n%s%s", err, out.String(), errOut.String())
	}
	return out.String()
}

// faultReadOnly runs clean on a read-only workspace, first with the lock
// folder read-only too, then with .chimed/ writable so that clean gets as
// far as writing its outputs: it must fail, saying so, with no panic, and
// leave the workspace as it was.
func faultReadOnly(t *testing.T, from string) {
	ws := filepath.Join(t.TempDir(), "ws")
	copyTree(t, from, ws)
	lockDir := filepath.Join(t.TempDir(), "lock")
	if err := os.MkdirAll(filepath.Join(ws, ".chimed"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The writable .chimed/ mounted over the read-only one holds its
	// completion records, so clean gets as far as writing its outputs.
	copyTree(t, filepath.Join(ws, ".chimed"), lockDir)
	wantFiles := treeFiles(t, ws)
	out := inNamespace(t, `set -u
W=$1; L=$2; BIN=$3
mount --bind "$W" "$W" && mount -o remount,bind,ro "$W" || exit 90
"$BIN" -q -w "$W" clean >/dev/null 2>"$L.err1"; echo "all=$?"
mount --bind "$L" "$W/.chimed" || exit 91
"$BIN" -q -w "$W" clean >/dev/null 2>"$L.err2"; echo "outputs=$?"
`, ws, lockDir, os.Args[0])
	for i, key := range []string{"all", "outputs"} {
		errOut, _ := os.ReadFile(lockDir + ".err" + strconv.Itoa(i+1))
		if !strings.Contains(out, key+"=") || strings.Contains(out, key+"=0") {
			t.Errorf("clean on a read-only workspace (%s read-only): %q, want a non-zero exit", key, out)
		}
		if !strings.Contains(string(errOut), "read-only file system") || strings.Contains(string(errOut), "panic") {
			t.Errorf("clean on a read-only workspace (%s read-only) said:\n%s", key, errOut)
		}
		t.Logf("%s read-only: %s", key, strings.TrimSpace(string(errOut)))
	}
	sameTree(t, "after clean on a read-only workspace", wantFiles, treeFiles(t, ws))
}

// faultFull runs ingest on a workspace in a tmpfs with room for the raw
// files and half of ingest's outputs: ingest must fail saying the disk is
// full, leave no temporary file, and, once the tmpfs is grown, a rerun
// must give the uninterrupted run's bytes.
func faultFull(t *testing.T, from, want string) {
	size := func(dir string) int64 {
		var n int64
		for _, b := range treeFiles(t, dir) {
			n += int64(len(b))
		}
		return n
	}
	raw, done := size(from), size(want)
	small := (raw + (done-raw)/2) / 1024
	mnt := filepath.Join(t.TempDir(), "ws")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	out := inNamespace(t, `set -u
M=$1; SRC=$2; BIN=$3; SMALL=$4; BIG=$5
mount -t tmpfs -o size=${SMALL}k tmpfs "$M" || exit 90
cp -a "$SRC"/. "$M"/ || exit 91
"$BIN" -q -w "$M" ingest >/dev/null 2>"$M.err1"; echo "first=$?"
(cd "$M" && find . -type f ! -path './.chimed/lock' | sort) > "$M.files1"
mount -o remount,size=${BIG}k "$M" || exit 92
"$BIN" -q -w "$M" ingest >/dev/null 2>"$M.err2"; echo "second=$?"
(cd "$M" && find . -type f ! -path './.chimed/*' -print0 | sort -z | xargs -0 sha256sum) > "$M.sha2"
`, mnt, from, os.Args[0], strconv.FormatInt(small, 10), strconv.FormatInt(4*done/1024+1024, 10))
	errOut, _ := os.ReadFile(mnt + ".err1")
	if !strings.Contains(out, "first=") || strings.Contains(out, "first=0") || !strings.Contains(string(errOut), "no space left on device") || strings.Contains(string(errOut), "panic") {
		t.Errorf("ingest on a full workspace (%d KiB): %q\n%s", small, out, errOut)
	}
	t.Logf("full at %d KiB: %s", small, strings.TrimSpace(string(errOut)))
	files, _ := os.ReadFile(mnt + ".files1")
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		if strings.Contains(f, "/.tmp-") || strings.Contains(f, ".chimed/tmp/") {
			t.Errorf("the failed ingest left %s", f)
		}
	}
	if !strings.Contains(out, "second=0") {
		e2, _ := os.ReadFile(mnt + ".err2")
		t.Fatalf("ingest once there is room: %q\n%s", out, e2)
	}
	sums, _ := os.ReadFile(mnt + ".sha2")
	got := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if ok {
			got[strings.TrimPrefix(name, "./")] = []byte(sum)
		}
	}
	wantSums := map[string][]byte{}
	for f, b := range treeFiles(t, want) {
		wantSums[f] = []byte(fmt.Sprintf("%x", sha256.Sum256(b)))
	}
	sameTree(t, "ingest rerun after a full disk", wantSums, got)
}
