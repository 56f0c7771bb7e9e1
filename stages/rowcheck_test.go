package stages

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// facts is rowFacts from fixed maps.
type facts struct {
	clusters map[string]string
	names    map[string][2]string
}

func (f facts) cluster(rec string) string { return f.clusters[rec] }
func (f facts) entities(recs []string) []string {
	var out []string
	for _, r := range recs {
		out = append(out, f.names[r][0], f.names[r][1])
	}
	return out
}

// TestRowCheck feeds the check folded into the build one row at a time
// and expects it to find what CheckLeakage finds in the files.
func TestRowCheck(t *testing.T) {
	const short = "糖尿病的诊断标准是什么？"
	kgNames := map[string][2]string{
		"k1": {"带状疱疹", "单侧带状分布的簇集水疱"},
		"k2": {"水痘", "男性，79岁，突发胸骨后压榨性疼痛两小时，最可能的诊断"},
	}
	f := facts{clusters: map[string]string{"r-near-eval": "c-eval", "r2": "c2"}, names: kgNames}
	lin := func(group string, recs ...string) LineageRow {
		return LineageRow{ID: "row", Group: group, Records: recs}
	}
	user := func(s string) []schemas.Turn {
		return []schemas.Turn{{Role: schemas.RoleUser, Content: s}, {Role: schemas.RoleAssistant, Content: "好的"}}
	}
	cases := []struct {
		name  string
		split int
		row   any
		lin   LineageRow
		want  string
	}{
		{"clean text", 0, schemas.DCPTRow{Kind: "text", Text: "高血压是常见病。"}, lin("g1", "r1"), ""},
		{"an eval window in text", 0, schemas.DCPTRow{Kind: "text", Text: "前文。胸骨后压榨性疼痛两小时，最可能"}, lin("g1", "r1"), "with an eval question"},
		{"an eval window across spaces and case", 0, schemas.DCPTRow{Kind: "qa", Text: "胸骨后 压榨性疼痛\n两小时，最可能"}, lin("g1", "r1"), "with an eval question"},
		{"a short eval question asked", 0, schemas.SFTRow{Kind: "qa", Messages: user("请回答\n " + short)}, lin("g1", "r1"), "asks the eval question"},
		{"a short eval question answered is no question", 0, schemas.SFTRow{Kind: "qa", Messages: []schemas.Turn{{Role: schemas.RoleUser, Content: "问"}, {Role: schemas.RoleAssistant, Content: short}}}, lin("g1", "r1"), ""},
		{"an eval window in a DPO rejected answer", 0, schemas.DPORow{Kind: "preference", Prompt: "问", Chosen: "好", Rejected: "突发胸骨后压榨性疼痛两小时"}, lin("g1", "r1"), "with an eval question"},
		{"a knowledge-graph listing of names is no leak", 0, schemas.DCPTRow{Kind: "kg", Text: "带状疱疹的症状有单侧带状分布的簇集水疱。"}, lin("kg1", "k1"), ""},
		{"a long knowledge-graph tail that copies the question", 0, schemas.DCPTRow{Kind: "kg", Text: "水痘的症状有男性，79岁，突发胸骨后压榨性疼痛两小时，最可能的诊断。"}, lin("kg2", "k2"), "with an eval question"},
		{"an eval record behind a row", 0, schemas.DCPTRow{Kind: "text", Text: "无关"}, lin("g1", "e1"), "eval record e1"},
		{"a record in an eval record's cluster", 0, schemas.DCPTRow{Kind: "text", Text: "无关"}, lin("g1", "r-near-eval"), "shares a near-duplicate cluster"},
		{"a group in a second split", 1, schemas.DCPTRow{Kind: "text", Text: "无关"}, lin("g1", "r3"), `group "g1" is in train and valid`},
		{"a cluster in a second split", 2, schemas.DCPTRow{Kind: "text", Text: "无关"}, lin("g9", "r2"), `cluster "c2" is in train and test`},
	}
	c := newRowCheck(DefaultNGram, &spillBudget{dir: t.TempDir(), limit: 1 << 20})
	c.addEval(evalQuestion, "e1", "c-eval")
	c.addEval(short, "e2", "")
	s := &rowScanner{c: c}
	// One row of group g1 and cluster c2 in train first.
	if err := s.row("f", 0, schemas.DCPTRow{Kind: "text", Text: "无关"}, lin("g1", "r2"), f); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.row("stages/x.parquet", tc.split, tc.row, tc.lin, f)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var le *LeakageError
			if !errors.As(err, &le) || !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a LeakageError saying %q", err, tc.want)
			}
		})
	}
}

// TestTinyMemorySameBytes builds the fixture with every kind at once and a
// memory budget so small that every held row and every split-index entry
// spills to disk, and gets the same bytes as a build in turn with room to
// spare, and no spill file left behind.
func TestTinyMemorySameBytes(t *testing.T) {
	files := func(ws string) map[string]string {
		out := map[string]string{}
		root := filepath.Join(ws, "stages")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			out[rel] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	roomy := fixture(t)
	o := options(roomy, 7)
	o.Workers = 1
	if m := build(t, o); m.Throughput.Spills != 0 {
		t.Errorf("a 1 GiB budget spilled %d times", m.Throughput.Spills)
	}
	tiny := fixture(t)
	o = options(tiny, 7)
	o.Workers, o.Memory = len(trainingKinds), 1
	if m := build(t, o); m.Throughput.Spills == 0 {
		t.Error("a 1-byte budget never spilled")
	}
	a, b := files(string(roomy)), files(string(tiny))
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d files against %d", len(a), len(b))
	}
	for name, body := range a {
		if b[name] != body {
			t.Errorf("%s differs", name)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(string(tiny), ".chimed", "tmp")); len(left) > 0 {
		t.Errorf("%d spill files left in .chimed/tmp", len(left))
	}
}

// TestFoldedCheckScansModelNegatives: without the re-reading check, a kept
// negatives file that asks an eval question still fails the build.
func TestFoldedCheckScansModelNegatives(t *testing.T) {
	ws := fixture(t)
	o := options(ws, 7)
	o.Check = false
	build(t, o)
	write(t, NegativesPath(ws), []schemas.DPORow{{ID: "n1", Source: "huatuo", Kind: "qa", Prompt: evalQuestion, Chosen: "A", Rejected: "B"}})
	_, err := Build(o)
	if !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), "n1") {
		t.Fatalf("err = %v, want a leak naming row n1", err)
	}
}
