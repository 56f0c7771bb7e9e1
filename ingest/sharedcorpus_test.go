package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// sharedCorpusCounts are the per-source counts ingesting
// examples/shared-corpus must give; examples/shared-corpus/README.md explains
// every difference from the SOURCE.txt counts.
var sharedCorpusCounts = map[string]struct{ read, written, quarantined int64 }{
	"medicalgpt-pretrain":  {985, 985, 0}, // 996 lines, 11 of them blank
	"huatuo26m-test":       {4998, 4998, 0},
	"huatuo-llama":         {8658, 8658, 0},
	"medicalgpt-sft":       {1000, 1000, 0},
	"medicalgpt-rag":       {87, 87, 0},
	"qasystem-medicalkg":   {308, 15926, 0}, // edges as build_medicalgraph.py counts them
	"cmeie":                {608, 1857, 0},  // 500 + 108 sentences, 1857 spo triples
	"kbert-medical-spo":    {13864, 13864, 0},
	"toyhom-csv":           {6569, 6569, 0},
	"toyhom-txt":           {4048, 4048, 0},
	"covid-meddialog-txt":  {1393, 1319, 74}, // 74 consultations have no Dialogue section
	"covid-meddialog-json": {109, 109, 0},
	"disc-med":             {163, 163, 0},
	"medicalgpt-reward":    {100, 100, 0},
	"medicalgpt-dpo-zh":    {500, 500, 0},
	"cmexam-test10-csv":    {9, 9, 0},
	"cmexam-test10-xlsx":   {9, 9, 0},
	"cmexam-val":           {6811, 6810, 1}, // one Answer cell is "nan"
	"cmmlu-medical":        {1860, 1860, 0}, // 1815 test + 45 dev
}

func TestSharedCorpusExample(t *testing.T) {
	corpus := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("the public samples are not at %s (they sit next to the repository): %v", corpus, err)
	}
	example, err := filepath.Abs(filepath.Join("..", "examples", "shared-corpus"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	// Ingest into a temporary workspace: paths become absolute, relative to
	// the example folder as chimed.yaml means them.
	for i := range cfg.Sources {
		for j, p := range cfg.Sources[i].Paths {
			cfg.Sources[i].Paths[j] = filepath.Join(example, p)
		}
	}
	ws := workspace.Dir(t.TempDir())
	rep, err := ingest.Run(context.Background(), ws, cfg.Sources, ingest.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sources) != len(sharedCorpusCounts) {
		t.Errorf("%d sources ingested, want %d", len(rep.Sources), len(sharedCorpusCounts))
	}
	folders := map[string]bool{}
	for _, s := range cfg.Sources {
		rel := strings.TrimPrefix(s.Paths[0], filepath.Join(example, "../../../shared/corpus")+"/")
		parts := strings.Split(rel, "/")
		folders[parts[0]+"/"+parts[1]] = true
	}
	if len(folders) != 15 {
		t.Errorf("chimed.yaml maps %d corpus folders, want all 15: %v", len(folders), folders)
	}
	for name, want := range sharedCorpusCounts {
		got, ok := rep.Sources[name]
		if !ok {
			t.Errorf("%s: not ingested", name)
			continue
		}
		if got.Read != want.read || got.Written != want.written || got.Quarantined != want.quarantined {
			t.Errorf("%s: read %d written %d quarantined %d, want %d %d %d",
				name, got.Read, got.Written, got.Quarantined, want.read, want.written, want.quarantined)
		}
	}

	// GBK decoded to the right characters.
	toyhom := firstRow[schemas.Dialogue](t, ws.Normalized(schemas.KindDialogue), "toyhom-csv")
	if toyhom.Turns[0].Content != "高血压患者能吃党参吗？，我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？" ||
		!strings.HasPrefix(toyhom.Turns[1].Content, "高血压病人可以口服党参的。") || !strings.Contains(toyhom.Meta, `"department":"心血管科"`) {
		t.Errorf("toyhom-csv first row %+v", toyhom)
	}
	txt := firstRow[schemas.Dialogue](t, ws.Normalized(schemas.KindDialogue), "toyhom-txt")
	if txt.Turns[0].Content != "高血压患者能吃党参吗？,我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？" {
		t.Errorf("toyhom-txt first row %+v", txt)
	}
	// The UTF-8 BOM of test_10.csv is gone: "Question" mapped and no key starts with U+FEFF.
	exam := firstRow[schemas.ExamQuestion](t, ws.Normalized(schemas.KindExam), "cmexam-test10-csv")
	if exam.Question != "对医疗废物的收集，运转，贮存，处置中的疾病防治工作进行定期检测监督检査的部门是" || exam.Answer != "C" || len(exam.Options) != 5 ||
		strings.Contains(exam.Meta, "\ufeff") || !strings.Contains(exam.Meta, `"Disease Group"`) {
		t.Errorf("cmexam-test10-csv first row %+v", exam)
	}
	val := firstRow[schemas.ExamQuestion](t, ws.Normalized(schemas.KindExam), "cmexam-val")
	if val.Question != "上消化道出血可单纯表现为呕血或黑便，也可两者兼有，这取决于" || len(val.Options) != 5 || val.Options[1].Text != "出血部位" || val.Answer != "C" {
		t.Errorf("cmexam-val first row %+v", val)
	}

	// Quarantine holds only genuinely broken records.
	for _, q := range quarantineRows(t, ws) {
		switch {
		case q.Source == "covid-meddialog-txt" && q.Error == "the dialogue has no turns" && len(q.Raw) < ingest.MaxRawText && !strings.Contains(q.Raw, "\nDialogue\n"):
			// No Dialogue section at all (id=1131 has two 医生： lines, but
			// inside its Description section).
		case q.Source == "cmexam-val" && q.Row == 5356 && strings.Contains(q.Error, `answer "nan"`):
		default:
			t.Errorf("unexpected quarantine row: %s %s row %d: %s", q.Source, q.File, q.Row, q.Error)
		}
	}
}

func firstRow[T any](t *testing.T, dir, source string) T {
	t.Helper()
	for r, err := range schemas.ReadFile[T](filepath.Join(dir, source+"-00000.parquet")) {
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Fatalf("%s: no rows", source)
	var zero T
	return zero
}

func quarantineRows(t *testing.T, ws workspace.Dir) []schemas.QuarantineRow {
	t.Helper()
	var out []schemas.QuarantineRow
	for r, err := range schemas.ReadDir[schemas.QuarantineRow](ws.Quarantine()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
