package ingest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// smallWorkspace writes a few raw files with known trouble and returns the
// sources that read them.
func smallWorkspace(t *testing.T) (workspace.Dir, []Source) {
	t.Helper()
	ws := t.TempDir()
	files := map[string]string{
		"raw/qa/a.jsonl": `{"instruction":"头痛怎么办？","input":"","output":"多休息。"}
{"instruction":"broken
{"instruction":"发烧怎么办？","input":"三天","output":""}

{"instruction":"咳嗽怎么办？","input":"","output":"多喝水。"}
`,
		"raw/qa/cmedqa2/question.csv": "question_id,content\n1,胃痛怎么办\n2,没有人回答的问题\n3,腰疼\n",
		"raw/qa/cmedqa2/answer.csv":   "ans_id,question_id,content\n10,1,吃药\n11,1,看医生\n12,9,孤儿答案\n13,3,休息\n",
		"raw/kg/cmeie.jsonl": `{"text":"胆囊炎@…","spo_list":[{"predicate":"手术治疗","subject":"胆囊炎","subject_type":"疾病","object":{"@value":"腹腔镜胆囊切除术"},"object_type":{"@value":"手术治疗"}},{"predicate":"同义词","subject":"胆囊炎","subject_type":"疾病","object":{"@value":"胆囊感染"},"object_type":{"@value":"疾病"}}]}
{"text":"没有三元组","spo_list":[]}
`,
	}
	for name, body := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Half the records are broken on purpose: the sources tolerate it.
	all := Share(1)
	return workspace.Dir(ws), []Source{
		{Name: "alpaca", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/qa/a.jsonl"}, MaxQuarantine: &all},
		{Name: "cmedqa2", Kind: "qa", Preset: "cmedqa2", Paths: []string{"raw/qa/cmedqa2/*.csv"}, MaxQuarantine: &all},
		{Name: "cmeie", Kind: "kg", Preset: "cmeie", Paths: []string{"raw/kg/*.jsonl"}, MaxQuarantine: &all},
	}
}

// snapshot reads every output file of ingest under ws.
func snapshot(t *testing.T, ws workspace.Dir) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, d := range []string{"normalized", "quarantine", "reports"} {
		root := ws.Path(d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(string(ws), p)
			out[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return out
}

func quarantined(t *testing.T, ws workspace.Dir, source string) []schemas.QuarantineRow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ws.Quarantine(), source+"-*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []schemas.QuarantineRow
	for _, f := range files {
		for r, err := range schemas.ReadFile[schemas.QuarantineRow](f) {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func TestRunCountsAndQuarantine(t *testing.T) {
	ws, sources := smallWorkspace(t)
	rep, err := Run(context.Background(), ws, sources, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{
		// 4 records (the blank line is none): 1 broken JSON, 1 empty answer.
		"alpaca": {Read: 4, RecordsOK: 2, Written: 2, Quarantined: 2, Files: 1},
		// 4 answers, one with no question; question 2 is never answered.
		"cmedqa2": {Read: 4, RecordsOK: 3, Written: 3, Quarantined: 1, Files: 2,
			Lookup: &LookupCounts{Read: 3, Used: 2, Quarantined: 1}},
		// 2 sentences: 2 triples from the first, the second has none.
		"cmeie": {Read: 2, RecordsOK: 1, Written: 2, Quarantined: 1, Files: 1},
	}
	for name, w := range want {
		got := rep.Sources[name].Counts
		w.Bytes = got.Bytes
		if got.Bytes <= 0 {
			t.Errorf("%s: bytes %d", name, got.Bytes)
		}
		if got.Read != w.Read || got.RecordsOK != w.RecordsOK || got.Written != w.Written || got.Quarantined != w.Quarantined || got.Files != w.Files {
			t.Errorf("%s: counts %+v, want %+v", name, got, w)
		}
		if (w.Lookup == nil) != (got.Lookup == nil) || (w.Lookup != nil && *w.Lookup != *got.Lookup) {
			t.Errorf("%s: lookup %+v, want %+v", name, got.Lookup, w.Lookup)
		}
		if got.Read != got.RecordsOK+got.Quarantined {
			t.Errorf("%s: read %d != records_ok %d + quarantined %d", name, got.Read, got.RecordsOK, got.Quarantined)
		}
		lq := int64(0)
		if got.Lookup != nil {
			lq = got.Lookup.Quarantined
		}
		if n := int64(len(quarantined(t, ws, name))); n != got.Quarantined+lq {
			t.Errorf("%s: %d quarantine rows, report says %d + %d", name, n, got.Quarantined, lq)
		}
	}
	if rep.Totals.Read != 10 || rep.Totals.Written != 7 || rep.Totals.Quarantined != 4 {
		t.Errorf("totals %+v", rep.Totals)
	}

	q := quarantined(t, ws, "alpaca")
	if q[0].File != "raw/qa/a.jsonl" || q[0].Line != 2 || q[0].Row != 1 || !strings.Contains(q[0].Raw, "broken") {
		t.Errorf("broken JSON quarantined as %+v", q[0])
	}
	if q[1].Line != 3 || q[1].Row != 2 || !strings.Contains(q[1].Error, "answer (output)") || q[1].Source != "alpaca" || q[1].Kind != "qa" {
		t.Errorf("empty answer quarantined as %+v", q[1])
	}
	cq := quarantined(t, ws, "cmedqa2")
	if len(cq) != 2 || !strings.Contains(cq[0].Error, "question_id=9") || !strings.Contains(cq[1].Error, "question_id=2") || cq[1].File != "raw/qa/cmedqa2/question.csv" {
		t.Errorf("cmedqa2 quarantine %+v", cq)
	}

	var qas []schemas.QA
	for r, err := range schemas.ReadFile[schemas.QA](filepath.Join(ws.Normalized("qa"), "cmedqa2-00000.parquet")) {
		if err != nil {
			t.Fatal(err)
		}
		qas = append(qas, r)
	}
	if len(qas) != 3 || qas[0].Question != "胃痛怎么办" || qas[0].Answer != "吃药" || qas[1].Question != "胃痛怎么办" || qas[2].Answer != "休息" {
		t.Errorf("joined qa %+v", qas)
	}
	if !strings.Contains(qas[0].Meta, `"ans_id":"10"`) || !strings.Contains(qas[0].Meta, `"_file":"raw/qa/cmedqa2/answer.csv"`) {
		t.Errorf("meta %s", qas[0].Meta)
	}
	if qas[0].ID != schemas.StableIDAt("cmedqa2", "raw/qa/cmedqa2/answer.csv", 0, -1) {
		t.Errorf("id %s", qas[0].ID)
	}
}

func TestRunDeterministicAndRerunnable(t *testing.T) {
	ws, sources := smallWorkspace(t)
	if _, err := Run(context.Background(), ws, sources, RunOptions{RowsPerPart: 1}); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, ws)
	if len(first) < 8 {
		t.Fatalf("expected several parts with RowsPerPart 1, got %v", fileNames(first))
	}
	// Leftovers of a killed run and of a source no longer configured.
	stale := []string{
		filepath.Join(ws.Normalized("qa"), ".tmp-alpaca-00000.parquet-123"),
		filepath.Join(ws.Normalized("text"), "gone-00000.parquet"),
		filepath.Join(ws.Normalized("qa"), "alpaca-00099.parquet"),
	}
	for _, p := range stale {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(context.Background(), ws, sources, RunOptions{RowsPerPart: 1, Parallel: 1}); err != nil {
		t.Fatal(err)
	}
	second := snapshot(t, ws)
	if !sameFiles(t, first, second) {
		t.Fatal("a second run changed the outputs")
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the re-run", p)
		}
	}

	// A partial run redoes one source and keeps the others and their report.
	if _, err := Run(context.Background(), ws, sources, RunOptions{Only: []string{"cmeie"}, RowsPerPart: 1}); err != nil {
		t.Fatal(err)
	}
	if !sameFiles(t, first, snapshot(t, ws)) {
		t.Fatal("a --source run changed the outputs")
	}
}

func fileNames(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func sameFiles(t *testing.T, a, b map[string][]byte) bool {
	t.Helper()
	same := len(a) == len(b)
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			t.Errorf("%s differs (present: %v)", k, ok)
			same = false
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("%s is new", k)
			same = false
		}
	}
	return same
}

func TestRunConfigErrors(t *testing.T) {
	ws, _ := smallWorkspace(t)
	tests := []struct {
		name    string
		sources []Source
		only    []string
		err     string
	}{
		{"no file matched", []Source{{Name: "x", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/nothing/*.jsonl"}}}, nil, `sources[x].paths: "raw/nothing/*.jsonl" matches no file`},
		{"unknown preset", []Source{{Name: "x", Kind: "qa", Preset: "nope", Paths: []string{"raw/qa/a.jsonl"}}}, nil, "sources[x].preset"},
		{"bad mapping", []Source{{Name: "x", Kind: "qa", Paths: []string{"raw/qa/a.jsonl"}, Map: Mapping{Fields: map[string]string{"question": "q"}}}}, nil, "sources[x].map.fields"},
		{"bad name", []Source{{Name: "a/b", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/qa/a.jsonl"}}}, nil, "sources[a/b].name"},
		{"unknown --source", []Source{{Name: "x", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/qa/a.jsonl"}}}, []string{"y"}, "--source y"},
		{"join lookup matches nothing", []Source{{Name: "x", Kind: "qa", Preset: "cmedqa2", Paths: []string{"raw/qa/cmedqa2/answer.csv"}}}, nil, "map.join.lookup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), ws, tt.sources, RunOptions{Only: tt.only})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want one containing %q", err, tt.err)
			}
			if _, err := os.Stat(ws.Report("ingest.json")); !os.IsNotExist(err) {
				t.Error("a config error still wrote a report")
			}
		})
	}
}

func TestRunCanceledWritesNoReport(t *testing.T) {
	ws, sources := smallWorkspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, ws, sources, RunOptions{}); err == nil {
		t.Fatal("a canceled run reported success")
	}
	if _, err := os.Stat(ws.Report("ingest.json")); !os.IsNotExist(err) {
		t.Error("a canceled run wrote a report")
	}
}
