package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// stagesCLI runs the CLI in-process.
func stagesCLI(t *testing.T, args ...string) string {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("chimed %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func shas(m *stages.Manifest) map[string]string {
	out := map[string]string{}
	for _, f := range m.Files {
		out[f.Path] = f.SHA256
	}
	return out
}

// TestBuildStagesOnDemo runs demo → ingest → clean → build-stages and checks
// the issue #4 acceptance: counts add up from clean to stages per source,
// two runs give byte-identical files, a different seed changes only the
// split, and the independent leakage check passes.
func TestBuildStagesOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ws := t.TempDir()
	stagesCLI(t, "-q", "-w", ws, "demo")
	stagesCLI(t, "-q", "-w", ws, "ingest")
	stagesCLI(t, "-q", "-w", ws, "clean")
	if out := stagesCLI(t, "-q", "-w", ws, "build-stages"); strings.Contains(out, "map[") || !strings.Contains(out, "unused ") {
		t.Errorf("build-stages prints Go map syntax or no unused counts:\n%s", out)
	}
	dir := workspace.Dir(ws)
	first, err := stages.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.LeakageCheck != "passed" {
		t.Errorf("leakage check %q", first.LeakageCheck)
	}

	var clean struct {
		Sources map[string]struct {
			Kept int64 `json:"kept"`
		} `json:"sources"`
	}
	b, err := os.ReadFile(dir.Report("clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &clean); err != nil {
		t.Fatal(err)
	}
	for name, c := range clean.Sources {
		s := first.Sources[name]
		if s == nil {
			t.Errorf("%s: not in the manifest", name)
			continue
		}
		var unused int64
		for _, n := range s.Unused {
			unused += n
		}
		if s.In != c.Kept || s.In != s.Used+unused {
			t.Errorf("%s: clean kept %d; stages in %d = used %d + unused %d?", name, c.Kept, s.In, s.Used, unused)
		}
	}
	for _, st := range []string{"dcpt", "sft", "dpo"} {
		if first.Stages[schemas.Stage(st)]["train"].Rows == 0 {
			t.Errorf("%s/train is empty", st)
		}
	}
	if first.Eval["exam"] == 0 || first.Eval["qa"] == 0 {
		t.Errorf("eval sets %v", first.Eval)
	}

	stagesCLI(t, "-q", "-w", ws, "build-stages")
	second, _ := stages.ReadManifest(dir)
	if !maps.Equal(shas(first), shas(second)) {
		t.Error("a second run changed the stage files")
	}

	stagesCLI(t, "-q", "-w", ws, "build-stages", "--seed", "4242")
	third, _ := stages.ReadManifest(dir)
	if maps.Equal(shas(first), shas(third)) {
		t.Error("a different seed gave the same files")
	}
	for name, s := range first.Sources {
		if o := third.Sources[name]; o.Used != s.Used || !maps.Equal(o.Unused, s.Unused) {
			t.Errorf("%s: a different seed changed what is used (%d/%v → %d/%v)", name, s.Used, s.Unused, o.Used, o.Unused)
		}
	}
	for _, st := range []string{"dcpt", "sft", "dpo"} {
		var a, b int64
		for _, split := range []string{"train", "valid", "test"} {
			a += first.Stages[schemas.Stage(st)][split].Rows
			b += third.Stages[schemas.Stage(st)][split].Rows
		}
		if a != b {
			t.Errorf("%s: %d rows with one seed, %d with another", st, a, b)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "stages", "kg_stats.json")); err != nil {
		t.Error(err)
	}
}
