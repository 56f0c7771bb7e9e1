package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run the real main, exit status and all, in a
// subprocess of the test binary (see chimedExit).
func TestMain(m *testing.M) {
	if os.Getenv("CHIMED_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	if ws := os.Getenv("CHIMED_TEST_HOLD_LOCK"); ws != "" {
		holdLock(ws)
	}
	os.Exit(m.Run())
}

// chimedExit runs the CLI as a user does, in a process of its own, and
// returns its stdout, stderr and exit status.
func chimedExit(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CHIMED_TEST_RUN_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("chimed %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// looseWorkspace writes chimed.yaml and raw files into a new workspace.
func looseWorkspace(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	ws := t.TempDir()
	files["chimed.yaml"] = config
	for name, body := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

const goodQA = `{"instruction":"头痛怎么办？","input":"","output":"注意休息，必要时就医检查。"}
{"instruction":"发烧怎么办？","input":"","output":"多喝水，体温过高时服用退烧药。"}
`

// TestIngestFailsLoudly: a source whose every record is quarantined (here
// JSON with a NUL where a value should be) makes ingest exit non-zero with
// the source, the count and the first three errors, escaped; the report is
// written all the same; --keep-going reports it and exits 0.
func TestIngestFailsLoudly(t *testing.T) {
	ws := looseWorkspace(t, `version: 1
sources:
  - {name: faq, kind: qa, preset: alpaca, paths: [raw/faq.jsonl]}
  - {name: broken-dpo, kind: preference, preset: sharegpt-dpo, paths: [raw/dpo.jsonl]}
`, map[string]string{
		"raw/faq.jsonl": goodQA,
		"raw/dpo.jsonl": strings.Repeat("{\"conversations\":\x00}\n", 4),
	})

	_, stderr, code := chimedExit(t, "-q", "-w", ws, "ingest")
	if code == 0 {
		t.Fatalf("ingest of a source with every record quarantined exited 0:\n%s", stderr)
	}
	for _, want := range []string{"sources[broken-dpo]", "4 of 4 records quarantined (100%)", "more than max_quarantine 5%",
		"raw/dpo.jsonl:1 (row 0", "raw/dpo.jsonl:2 (row 1", "raw/dpo.jsonl:3 (row 2", `invalid character '\x00'`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "raw/dpo.jsonl:4") {
		t.Errorf("stderr quotes more than the first three errors:\n%s", stderr)
	}
	if strings.ContainsRune(stderr, 0) {
		t.Errorf("stderr carries a raw NUL: %q", stderr)
	}
	if strings.Contains(stderr, "sources[faq]") {
		t.Errorf("the healthy source is blamed:\n%s", stderr)
	}
	var rep struct {
		Sources map[string]struct {
			Read, Quarantined int
			Warnings          []string
		}
	}
	readJSON(t, filepath.Join(ws, "reports", "ingest.json"), &rep)
	if rep.Sources["broken-dpo"].Quarantined != 4 || rep.Sources["faq"].Read != 2 {
		t.Errorf("report %+v", rep)
	}

	stdout, stderr, code := chimedExit(t, "-w", ws, "ingest", "--keep-going")
	if code != 0 {
		t.Fatalf("ingest --keep-going exited %d:\n%s", code, stderr)
	}
	for _, want := range []string{"source=broken-dpo", "quarantined=4", "records=4", "raw/dpo.jsonl:1 (row 0"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--keep-going stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "broken-dpo") {
		t.Errorf("no per-source table:\n%s", stdout)
	}
	readJSON(t, filepath.Join(ws, "reports", "ingest.json"), &rep)
	if w := rep.Sources["broken-dpo"].Warnings; len(w) != 1 || !strings.Contains(w[0], "4 of 4 records quarantined") {
		t.Errorf("report warnings %q", w)
	}

	// chimed run stops at ingest, unless it passes --keep-going on.
	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "run", "--no-train"); code == 0 || !strings.Contains(stderr, "ingest: ") || !strings.Contains(stderr, "sources[broken-dpo]") {
		t.Errorf("run exited %d:\n%s", code, stderr)
	}
	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "run", "--no-train", "--keep-going"); code != 0 || !strings.Contains(stderr, "source=broken-dpo") {
		t.Errorf("run --keep-going exited %d:\n%s", code, stderr)
	}
	// What --keep-going let through is not up to date for a run without it.
	if _, stderr, code := chimedExit(t, "-q", "-w", ws, "run", "--no-train"); code == 0 || !strings.Contains(stderr, "sources[broken-dpo]") {
		t.Errorf("a run after run --keep-going exited %d:\n%s", code, stderr)
	}
}

// TestConfigWithoutSources: nothing to do is a mistake to say, not a
// run that makes nothing.
func TestConfigWithoutSources(t *testing.T) {
	ws := looseWorkspace(t, "version: 1\nseed: 1\n", map[string]string{})
	for _, step := range []string{"ingest", "run"} {
		_, stderr, code := chimedExit(t, "-q", "-w", ws, step)
		if code == 0 || !strings.Contains(stderr, "sources: none listed") || !strings.Contains(stderr, "chimed.yaml") {
			t.Errorf("%s on a config without sources exited %d:\n%s", step, code, stderr)
		}
	}
}

// TestEmptyEvalSetsFail: an eval source with no rows is an error at the
// step that empties it: ingest (every record quarantined, even with
// --keep-going), clean (every row filtered) or build-stages (a kind no
// eval set takes).
func TestEmptyEvalSetsFail(t *testing.T) {
	train := "  - {name: faq, kind: qa, preset: alpaca, paths: [raw/faq.jsonl]}\n"
	tests := []struct {
		name   string
		source string
		files  map[string]string
		steps  []string // run in order; the last must fail
		want   string
	}{
		{"quarantined at ingest", "  - {name: exam, kind: exam, role: eval, preset: cmexam-csv, paths: [raw/exam.csv], max_quarantine: 100%}\n",
			map[string]string{"raw/exam.csv": "Question,Options,Answer\n题一,A 甲,Z\n题二,A 甲,Z\n"},
			[]string{"ingest --keep-going"}, "sources[exam]: role eval, but all 2 of its records were quarantined"},
		{"filtered at clean", "  - {name: heldout, kind: qa, role: eval, paths: [raw/heldout.tsv], map: {fields: {question: 问题, answer: 回答}}}\n",
			map[string]string{"raw/heldout.tsv": "问题\t回答\n头痛发热三天了，体温最高三十九度，请问需要吃什么药？\t好\n"},
			[]string{"ingest", "clean"}, "sources[heldout]: role eval, but clean removed all 1 of its rows"},
		{"no eval set at build-stages", "  - {name: notes, kind: text, role: eval, preset: medicalgpt-pretrain, paths: [raw/notes.txt]}\n",
			map[string]string{"raw/notes.txt": "高血压是以体循环动脉血压增高为主要特征的临床综合征，常伴有心、脑、肾等器官的功能或器质性损害。\n"},
			[]string{"ingest", "clean", "build-stages"}, "sources[notes]: role eval, but eval sets take exam, qa and dialogue sources, not text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["raw/faq.jsonl"] = goodQA
			ws := looseWorkspace(t, "version: 1\nsources:\n"+train+tt.source, tt.files)
			for i, step := range tt.steps {
				args := append([]string{"-q", "-w", ws}, strings.Fields(step)...)
				_, stderr, code := chimedExit(t, args...)
				if i < len(tt.steps)-1 {
					if code != 0 {
						t.Fatalf("%s exited %d:\n%s", step, code, stderr)
					}
					continue
				}
				if code == 0 || !strings.Contains(stderr, tt.want) {
					t.Errorf("%s exited %d, want non-zero with %q:\n%s", step, code, tt.want, stderr)
				}
			}
		})
	}
}
