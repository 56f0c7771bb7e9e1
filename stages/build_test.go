package stages

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/kg"
	"github.com/chimed/chimed/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

// evalQuestion is held out; a training QA that repeats a 13-character piece
// of it must be dropped.
const evalQuestion = "患者男性六十五岁，突发胸骨后压榨性疼痛两小时，最可能的诊断是"

func write[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if _, err := schemas.WriteFile(path, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
}

// fixture writes a small clean/ folder of every kind, with train and eval
// sources, a near-duplicate cluster, broken rows and an eval leak.
func fixture(t *testing.T) workspace.Dir {
	t.Helper()
	ws := workspace.Dir(t.TempDir())
	var texts []schemas.Text
	for i := range 40 {
		texts = append(texts, schemas.Text{ID: fmt.Sprintf("t%02d", i), Source: "books", Title: fmt.Sprintf("第%d章", i),
			Text: fmt.Sprintf("高血压是以体循环动脉血压增高为主要特征的临床综合征，第%d段。", i), Meta: "{}"})
	}
	texts = append(texts, schemas.Text{ID: "t-empty", Source: "books", Text: "  ", Meta: "{}"})
	write(t, filepath.Join(ws.Clean(schemas.KindText), "part-00000.parquet"), texts)

	var qas []schemas.QA
	for i := range 30 {
		c := ""
		if i%10 == 0 {
			c = "cluster-a" // four near-duplicates that must share a split
		}
		qas = append(qas, schemas.QA{ID: fmt.Sprintf("q%02d", i), Source: "huatuo", Question: fmt.Sprintf("感冒第%d天发烧怎么办？", i),
			Answer: "多喝水，注意休息，必要时服用退烧药。", Meta: "{}", Cluster: c})
	}
	qas = append(qas,
		schemas.QA{ID: "q-leak", Source: "huatuo", Question: "请问：突发胸骨后压榨性疼痛两小时怎么回事", Answer: "可能是心梗。", Meta: "{}"},
		schemas.QA{ID: "q-empty", Source: "huatuo", Question: "没有答案的问题", Answer: "", Meta: "{}"},
		schemas.QA{ID: "e-qa1", Source: "evalqa", Question: "糖尿病的诊断标准是什么？", Answer: "空腹血糖≥7.0mmol/L。", Meta: "{}"},
		schemas.QA{ID: "q-short-leak", Source: "huatuo", Question: " 糖尿病的诊断标准是什么？", Answer: "另一个回答", Meta: "{}"},
	)
	write(t, filepath.Join(ws.Clean(schemas.KindQA), "part-00000.parquet"), qas)

	var triples []schemas.Triple
	for i, x := range [][3]string{
		{"糖尿病", "symptom", "多饮"}, {"糖尿病", "症状", "多尿"}, {"糖尿病", "cure_department", "内分泌科"},
		{"糖尿病", "has_symptom", "多饮"}, {"高血压", "acompany", "脑卒中"}, {"高血压", "check", "血压测量..."},
		{"感冒", "感冒", "感冒"}, {"感冒", "common_drug", "感冒灵"},
	} {
		triples = append(triples, schemas.Triple{ID: fmt.Sprintf("k%d", i), Source: "medkg", Head: x[0], Relation: x[1], Tail: x[2], Meta: "{}"})
	}
	write(t, filepath.Join(ws.Clean(schemas.KindKG), "part-00000.parquet"), triples)

	write(t, filepath.Join(ws.Clean(schemas.KindDialogue), "part-00000.parquet"), []schemas.Dialogue{
		{ID: "d1", Source: "meddialog", Meta: "{}", Turns: []schemas.Turn{{Role: "病人", Content: "孩子咳嗽三天"}, {Role: "医生", Content: "发烧吗"},
			{Role: "病人", Content: "不发烧"}, {Role: "病人", Content: "有痰"}, {Role: "医生", Content: "可以先观察"}}},
		{ID: "d2", Source: "meddialog", Meta: "{}", Turns: []schemas.Turn{{Role: "医生", Content: "你好"}}},
	})

	opts := []schemas.Option{{Label: "A", Text: "急性心肌梗死"}, {Label: "B", Text: "肺栓塞"}, {Label: "C", Text: "主动脉夹层"}, {Label: "D", Text: "气胸"}}
	write(t, filepath.Join(ws.Clean(schemas.KindExam), "part-00000.parquet"), []schemas.ExamQuestion{
		{ID: "x1", Source: "cmexam", Question: "治疗1型糖尿病首选的药物是", Answer: "C", Explanation: "1型糖尿病胰岛素绝对缺乏。", Meta: "{}",
			Options: []schemas.Option{{Label: "A", Text: "二甲双胍"}, {Label: "B", Text: "格列本脲"}, {Label: "C", Text: "胰岛素"}, {Label: "D", Text: "阿卡波糖"}}},
		{ID: "x2", Source: "cmexam", Question: "下列属于糖尿病慢性并发症的是", Answer: "ABD", Meta: "{}",
			Options: []schemas.Option{{Label: "A", Text: "糖尿病肾病"}, {Label: "B", Text: "视网膜病变"}, {Label: "C", Text: "酮症酸中毒"}, {Label: "D", Text: "周围神经病变"}}},
		{ID: "x-bad", Source: "cmexam", Question: "答案不在选项里", Answer: "E", Meta: "{}", Options: opts},
		{ID: "e1", Source: "cmexam-eval", Question: evalQuestion, Answer: "A", Explanation: "典型心梗表现。", Meta: "{}", Options: opts},
	})
	write(t, filepath.Join(ws.Clean(schemas.KindPreference), "part-00000.parquet"), []schemas.PreferencePair{
		{ID: "p1", Source: "reward", Prompt: "头痛怎么办", Chosen: "先明确病因，必要时就医。", Rejected: "忍着。", Meta: "{}"},
		{ID: "p2", Source: "reward", Prompt: "失眠怎么办", Chosen: "同样", Rejected: "同样", Meta: "{}"},
	})
	return ws
}

func options(ws workspace.Dir, seed uint64) Options {
	return Options{
		Workspace: ws, Seed: seed, Version: "test", ConfigHash: "cafe",
		EvalSources: map[string]bool{"cmexam-eval": true, "evalqa": true},
		Config:      Config{DCPT: StageConfig{QAAsText: true}}, Check: true,
	}
}

func build(t *testing.T, opts Options) *Manifest {
	t.Helper()
	m, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildCountsAddUp(t *testing.T) {
	ws := fixture(t)
	m := build(t, options(ws, 7))
	want := map[string]struct {
		in, used int64
		unused   map[string]int64
	}{
		"books":       {41, 40, map[string]int64{ReasonEmpty: 1}},
		"huatuo":      {33, 30, map[string]int64{ReasonEvalOverlap: 2, ReasonEmpty: 1}},
		"evalqa":      {1, 1, map[string]int64{}},
		"medkg":       {8, 5, map[string]int64{kg.ReasonDuplicate: 1, kg.ReasonTruncated: 1, kg.ReasonSelfLoop: 1}},
		"meddialog":   {2, 1, map[string]int64{"dialogue_no_exchange": 1}},
		"cmexam":      {3, 2, map[string]int64{ReasonExamBadAnswer: 1}},
		"cmexam-eval": {1, 1, map[string]int64{}},
		"reward":      {2, 1, map[string]int64{ReasonIdentical: 1}},
	}
	if got := slices.Sorted(maps.Keys(m.Sources)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("sources %v", got)
	}
	for name, w := range want {
		s := m.Sources[name]
		if s.In != w.in || s.Used != w.used || !maps.Equal(s.Unused, w.unused) {
			t.Errorf("%s: in %d used %d unused %v, want %d %d %v", name, s.In, s.Used, s.Unused, w.in, w.used, w.unused)
		}
		if s.In != s.Used+sum(s.Unused) {
			t.Errorf("%s: counts do not add up", name)
		}
	}
	// Rows per file in the manifest equal the files' own row counts.
	rows := map[string]int64{}
	for _, s := range m.Sources {
		for k, v := range s.Rows {
			rows[k] += v
		}
	}
	for _, f := range m.Files {
		n, err := schemas.CountRows(filepath.Join(string(ws), f.Path))
		if strings.HasSuffix(f.Path, ".json") {
			continue
		}
		if err != nil || n != f.Rows {
			t.Errorf("%s: %d rows on disk, manifest says %d (%v)", f.Path, n, f.Rows, err)
		}
		key := strings.TrimSuffix(strings.TrimPrefix(f.Path, "stages/"), ".parquet")
		if !strings.HasPrefix(f.Path, "stages/lineage/") && rows[key] != f.Rows {
			t.Errorf("%s: sources give %d rows, file has %d", f.Path, rows[key], f.Rows)
		}
	}
	if m.Eval["exam"] != 1 || m.Eval["qa"] != 1 || m.LeakageCheck != "passed" {
		t.Errorf("eval %v, check %s", m.Eval, m.LeakageCheck)
	}
	if _, err := os.Stat(KGStatsPath(ws)); err != nil {
		t.Error(err)
	}
}

func digests(m *Manifest) map[string]string {
	out := map[string]string{}
	for _, f := range m.Files {
		out[f.Path] = f.SHA256
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a := build(t, options(fixture(t), 7))
	b := build(t, options(fixture(t), 7))
	if !maps.Equal(digests(a), digests(b)) {
		t.Fatalf("two runs differ:\n%v\n%v", digests(a), digests(b))
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Error("manifests differ")
	}
}

// stageIDs maps every row id of a stage to its split.
func stageIDs(t *testing.T, ws workspace.Dir, st schemas.Stage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, split := range schemas.Splits {
		for r, err := range schemas.ReadFile[LineageRow](LineagePath(ws, string(st)+"/"+split)) {
			if err != nil {
				t.Fatal(err)
			}
			out[r.ID] = split
		}
	}
	return out
}

func TestSeedChangesOnlySplit(t *testing.T) {
	wa, wb := fixture(t), fixture(t)
	a, b := build(t, options(wa, 1)), build(t, options(wb, 2))
	moved := 0
	for _, st := range schemas.Stages {
		ia, ib := stageIDs(t, wa, st), stageIDs(t, wb, st)
		if !slices.Equal(slices.Sorted(maps.Keys(ia)), slices.Sorted(maps.Keys(ib))) {
			t.Errorf("%s: a different seed changed which rows are used", st)
		}
		for id, s := range ia {
			if ib[id] != s {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Error("a different seed moved no row to another split")
	}
	for name, s := range a.Sources {
		if s.Used != b.Sources[name].Used || !maps.Equal(s.Unused, b.Sources[name].Unused) {
			t.Errorf("%s: seed changed what is used", name)
		}
	}
}

func TestClusterStaysInOneSplit(t *testing.T) {
	ws := fixture(t)
	build(t, options(ws, 3))
	ids := stageIDs(t, ws, schemas.StageSFT)
	split := ids["q00"]
	for _, id := range []string{"q10", "q20"} {
		if ids[id] != split {
			t.Errorf("cluster-a: q00 in %s, %s in %s", split, id, ids[id])
		}
	}
}

func TestLimits(t *testing.T) {
	zero, half, two := 0.0, 0.5, 2.0
	cases := []struct {
		name   string
		cfg    Config
		source string
		stage  schemas.Stage
		check  func(t *testing.T, s *SourceCount, rows int64)
	}{
		{"cap", Config{SFT: StageConfig{Sources: map[string]SourceLimit{"huatuo": {Cap: 5}}}}, "huatuo", schemas.StageSFT,
			func(t *testing.T, s *SourceCount, rows int64) {
				if rows != 5 || s.Unused[ReasonOverCap] != 25 {
					t.Errorf("rows %d unused %v", rows, s.Unused)
				}
			}},
		{"weight zero", Config{DCPT: StageConfig{Sources: map[string]SourceLimit{"books": {Weight: &zero}}}}, "books", schemas.StageDCPT,
			func(t *testing.T, s *SourceCount, rows int64) {
				if rows != 0 || s.Unused[ReasonWeightZero] != 40 {
					t.Errorf("rows %d unused %v", rows, s.Unused)
				}
			}},
		{"weight half", Config{DCPT: StageConfig{Sources: map[string]SourceLimit{"books": {Weight: &half}}}}, "books", schemas.StageDCPT,
			func(t *testing.T, s *SourceCount, rows int64) {
				if rows < 10 || rows > 30 || rows+s.Unused[ReasonSampledOut] != 40 {
					t.Errorf("rows %d unused %v", rows, s.Unused)
				}
			}},
		{"weight two", Config{DCPT: StageConfig{Sources: map[string]SourceLimit{"books": {Weight: &two}}}}, "books", schemas.StageDCPT,
			func(t *testing.T, s *SourceCount, rows int64) {
				if rows != 80 || s.Used != 40 {
					t.Errorf("rows %d used %d", rows, s.Used)
				}
			}},
		{"budget", Config{DCPT: StageConfig{Budget: 300}}, "books", schemas.StageDCPT,
			func(t *testing.T, s *SourceCount, rows int64) {
				if rows == 0 || rows >= 40 || s.Unused[ReasonOverBudget] != 40-rows {
					t.Errorf("rows %d unused %v", rows, s.Unused)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := fixture(t)
			opts := options(ws, 1)
			opts.Config = c.cfg
			m := build(t, opts)
			s := m.Sources[c.source]
			var rows int64
			for _, split := range schemas.Splits {
				rows += s.Rows[string(c.stage)+"/"+split]
			}
			c.check(t, s, rows)
			if s.In != s.Used+sum(s.Unused) {
				t.Errorf("counts do not add up: %+v", s)
			}
			if c.name == "budget" {
				var tok int64
				for _, sp := range m.Stages[schemas.StageDCPT] {
					tok += sp.Tokens
				}
				if tok > 300 {
					t.Errorf("dcpt has %d tokens over a budget of 300", tok)
				}
			}
		})
	}
}

// TestCheckLeakageFindsPlantedLeaks tampers with a good build and expects
// the independent check to notice each kind of leak.
func TestCheckLeakageFindsPlantedLeaks(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, ws workspace.Dir)
		want   string
	}{
		{"eval n-gram in dcpt", func(t *testing.T, ws workspace.Dir) {
			rows := readAll[schemas.DCPTRow](t, ws.StageFile(schemas.StageDCPT, "train"))
			rows[0].Text += "胸骨后压榨性疼痛两小时，最可能"
			write(t, ws.StageFile(schemas.StageDCPT, "train"), rows)
		}, "eval question"},
		{"short eval question in sft", func(t *testing.T, ws workspace.Dir) {
			rows := readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageSFT, "train"))
			rows[0].Messages[0].Content = "糖尿病的诊断标准是什么？"
			write(t, ws.StageFile(schemas.StageSFT, "train"), rows)
		}, "asks the eval question"},
		{"group in two splits", func(t *testing.T, ws workspace.Dir) {
			a := readAll[LineageRow](t, LineagePath(ws, "sft/train"))
			b := readAll[LineageRow](t, LineagePath(ws, "sft/test"))
			if len(b) == 0 {
				t.Skip("no test rows")
			}
			b[0].Group = a[0].Group
			write(t, LineagePath(ws, "sft/test"), b)
		}, "is in train and test"},
		{"lineage out of step", func(t *testing.T, ws workspace.Dir) {
			a := readAll[LineageRow](t, LineagePath(ws, "dcpt/train"))
			write(t, LineagePath(ws, "dcpt/train"), a[1:])
		}, "does not match"},
		{"eval n-gram in a knowledge-graph paragraph's template text", func(t *testing.T, ws workspace.Dir) {
			rows := readAll[schemas.DCPTRow](t, ws.StageFile(schemas.StageDCPT, "train"))
			i := slices.IndexFunc(rows, func(r schemas.DCPTRow) bool { return r.Kind == string(schemas.KindKG) })
			if i < 0 {
				t.Fatal("no kg row in dcpt/train")
			}
			rows[i].Text += "胸骨后压榨性疼痛两小时，最可能"
			write(t, ws.StageFile(schemas.StageDCPT, "train"), rows)
		}, "eval question"},
		{"eval question in adapt", func(t *testing.T, ws workspace.Dir) {
			for _, split := range schemas.Splits {
				rows := readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageAdapt, split))
				if len(rows) > 0 {
					rows[0].Messages[0].Content += "\n" + evalQuestion
					write(t, ws.StageFile(schemas.StageAdapt, split), rows)
					return
				}
			}
			t.Fatal("no adapt row")
		}, "eval question"},
		{"model negative leaks", func(t *testing.T, ws workspace.Dir) {
			write(t, NegativesPath(ws), []schemas.DPORow{{ID: "n", Prompt: evalQuestion, Chosen: "A", Rejected: "B"}})
		}, "eval question"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := fixture(t)
			build(t, options(ws, 5))
			if _, err := CheckLeakage(ws, DefaultNGram); err != nil {
				t.Fatalf("clean build fails the check: %v", err)
			}
			c.tamper(t, ws)
			_, err := CheckLeakage(ws, DefaultNGram)
			var le *LeakageError
			if !errors.As(err, &le) || !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a LeakageError mentioning %q", err, c.want)
			}
		})
	}
}

func readAll[T any](t *testing.T, path string) []T {
	t.Helper()
	var out []T
	for r, err := range schemas.ReadFile[T](path) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestStageGolden pins every stage row of the fixture, so template or
// ordering changes show up in review.
func TestStageGolden(t *testing.T) {
	ws := fixture(t)
	build(t, options(ws, 7))
	var b strings.Builder
	dump := func(name string, v any) {
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", name, j)
	}
	for _, split := range schemas.Splits {
		for _, r := range readAll[schemas.DCPTRow](t, ws.StageFile(schemas.StageDCPT, split)) {
			if r.Kind != "text" {
				dump("dcpt/"+split, r)
			}
		}
		for _, r := range readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageSFT, split)) {
			if r.Kind != "qa" {
				dump("sft/"+split, r)
			}
		}
		for _, r := range readAll[schemas.DPORow](t, ws.StageFile(schemas.StageDPO, split)) {
			dump("dpo/"+split, r)
		}
		for _, r := range readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageAdapt, split)) {
			dump("adapt/"+split, r)
		}
	}
	for _, r := range readAll[schemas.EvalQA](t, ws.EvalFile("qa")) {
		dump("eval/qa", r)
	}
	golden := filepath.Join("testdata", "stages.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestConfigValidate(t *testing.T) {
	neg := -1.0
	for _, c := range []struct {
		cfg Config
		bad string
	}{
		{Config{}, ""},
		{Config{Splits: SplitFractions{0.8, 0.1, 0.1}}, ""},
		{Config{Splits: SplitFractions{0.8, 0.1, 0.2}}, "splits"},
		{Config{Tokens: "bpe"}, "tokens"},
		{Config{NGram: 3}, "ngram"},
		{Config{SFT: StageConfig{Budget: -1}}, "sft.budget"},
		{Config{SFT: StageConfig{QAAsText: true}}, "sft.qa_as_text"},
		{Config{DCPT: StageConfig{NoExamPairs: true}}, "dcpt.no_exam_pairs"},
		{Config{DPO: StageConfig{Sources: map[string]SourceLimit{"r": {Weight: &neg}}}}, "dpo.sources[r].weight"},
		{Config{DPO: StageConfig{Sources: map[string]SourceLimit{"r": {Cap: -2}}}}, "dpo.sources[r].cap"},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.bad == "") || (err != nil && !strings.Contains(err.Error(), c.bad)) {
			t.Errorf("%+v: err = %v, want mention of %q", c.cfg, err, c.bad)
		}
	}
}

func TestSplitFractions(t *testing.T) {
	a := NewSplitAssigner(42, SplitFractions{})
	var n [3]int
	for i := range 20000 {
		n[a.Split(fmt.Sprint("key", i))]++
	}
	if n[0] < 17600 || n[0] > 18400 || n[1] < 800 || n[1] > 1200 || n[2] < 800 || n[2] > 1200 {
		t.Errorf("split counts %v for 0.9/0.05/0.05 of 20000", n)
	}
	only := NewSplitAssigner(1, SplitFractions{Train: 1})
	for i := range 1000 {
		if only.Split(fmt.Sprint(i)) != 0 {
			t.Fatal("train-only fractions gave a non-train split")
		}
	}
}

func TestExamAnswerMatchesStage(t *testing.T) {
	q := &schemas.ExamQuestion{ID: "x", Question: "问", Answer: "B", Explanation: "因为",
		Options: []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}}}
	if got := ExamAnswer(q, "B"); got != "答案：乙（B）\n解析：因为" {
		t.Errorf("ExamAnswer = %q", got)
	}
	if got := ExamAnswer(q, "A"); got != "答案：甲（A）" {
		t.Errorf("ExamAnswer(wrong) = %q", got)
	}
	if got := ExamPrompt(q); got != "以下是一道医学考试单项选择题，请选出正确答案并给出解析。\n问\nA. 甲\nB. 乙" {
		t.Errorf("ExamPrompt = %q", got)
	}
}

func TestBuildNeedsClean(t *testing.T) {
	_, err := Build(Options{Workspace: workspace.Dir(t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "chimed clean") {
		t.Errorf("err = %v", err)
	}
}

// TestModelNegativesSlot: the trainer's stages/dpo/negatives.parquet stays
// (and is listed) while the SFT train split it came from is unchanged, and
// is removed when a new seed reshuffles that split.
func TestModelNegativesSlot(t *testing.T) {
	ws := fixture(t)
	build(t, options(ws, 7))
	write(t, NegativesPath(ws), []schemas.DPORow{{ID: "n1", Source: "huatuo", Kind: "qa", Prompt: "感冒第1天发烧怎么办？", Chosen: "多喝水", Rejected: "不用管"}})
	m := build(t, options(ws, 7))
	if _, ok := digests(m)["stages/dpo/negatives.parquet"]; !ok {
		t.Fatal("negatives made from the same SFT train split are not in the manifest")
	}
	build(t, options(ws, 8))
	if _, err := os.Stat(NegativesPath(ws)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("negatives from another SFT train split survived a reshuffle: %v", err)
	}
}

// TestManifestGolden pins the fixture's manifest: counts, files and
// checksums (any change to stage bytes shows up here in review).
func TestManifestGolden(t *testing.T) {
	ws := fixture(t)
	build(t, options(ws, 7))
	got, err := os.ReadFile(ManifestPath(ws))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "manifest.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("manifest differs from %s (run with -update after checking why):\n%s", golden, got)
	}
}

// TestKGKnowledgeRecipe checks what DCPT gets from the knowledge graph by
// default (up to kg.DefaultRenderings paragraphs per head and every KG→QA
// question wording, each once, as "问：…\n答：…" text) and that turning both off leaves one paragraph a head;
// either way every triple is still counted once.
func TestKGKnowledgeRecipe(t *testing.T) {
	count := func(opts Options) (paragraphs, qa map[string]int, m *Manifest) {
		m = build(t, opts)
		paragraphs, qa = map[string]int{}, map[string]int{}
		for _, split := range schemas.Splits {
			for _, r := range readAll[schemas.DCPTRow](t, opts.Workspace.StageFile(schemas.StageDCPT, split)) {
				if r.Kind != string(schemas.KindKG) {
					continue
				}
				if q, _, ok := strings.Cut(r.Text, "\n答："); ok && strings.HasPrefix(q, "问：") {
					qa[strings.TrimPrefix(q, "问：")]++
					continue
				}
				head, _, _ := strings.Cut(r.Text, "的")
				paragraphs[head]++
			}
		}
		return paragraphs, qa, m
	}
	opts := options(fixture(t), 7)
	paras, qa, m := count(opts)
	if len(paras) == 0 || len(qa) == 0 {
		t.Fatalf("no KG paragraphs (%v) or QA text (%v) in DCPT", paras, qa)
	}
	total := 0
	for _, n := range paras {
		total += n
	}
	for q, n := range qa {
		if n != 1 {
			t.Errorf("question %q in DCPT %d times", q, n)
		}
	}
	medkg := m.Sources["medkg"]
	if medkg.In != medkg.Used+sum(medkg.Unused) || medkg.Used != 5 {
		t.Errorf("medkg: in %d used %d unused %v", medkg.In, medkg.Used, medkg.Unused)
	}

	off := options(fixture(t), 7)
	off.KG = kg.Config{Renderings: 1, NoDCPTQA: true}
	paras1, qa1, m1 := count(off)
	total1 := 0
	for _, n := range paras1 {
		total1 += n
	}
	// Several renderings, each distinct: more than one a head, at most
	// DefaultRenderings.
	if len(qa1) != 0 || total1 < 2 || total <= total1 || total > total1*kg.DefaultRenderings {
		t.Errorf("%d paragraphs by default, %d with one rendering and %d QA texts", total, total1, len(qa1))
	}
	if m1.Sources["medkg"].Used != medkg.Used {
		t.Errorf("the recipe changed how many triples are used: %d vs %d", m1.Sources["medkg"].Used, medkg.Used)
	}
}

// TestDecontaminationKeepsKnowledge builds a knowledge exam the way CMExam
// asks (a question that lists a disease's symptoms) beside the knowledge
// graph that states them: the facts reach DCPT and SFT, and the independent
// check passes, while a tail that copies the question is still a leak.
func TestDecontaminationKeepsKnowledge(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	const question = "某男性，79岁，主诉低热、神经痛、单侧带状分布的簇集水疱已有半年，按临床表现判断最可能患的是"
	opts := []schemas.Option{{Label: "A", Text: "带状疱疹"}, {Label: "B", Text: "湿疹"}, {Label: "C", Text: "痛风"}, {Label: "D", Text: "龋齿"}}
	write(t, filepath.Join(ws.Clean(schemas.KindExam), "part-00000.parquet"), []schemas.ExamQuestion{
		{ID: "e1", Source: "exam-eval", Question: question, Answer: "A", Options: opts, Meta: "{}"},
	})
	var triples []schemas.Triple
	for i, x := range [][3]string{
		{"带状疱疹", "症状", "低热"}, {"带状疱疹", "症状", "神经痛"}, {"带状疱疹", "症状", "单侧带状分布的簇集水疱"},
		{"带状疱疹", "就诊科室", "皮肤科"}, {"带状疱疹", "常用药物", "阿昔洛韦"},
		// A tail that is the question's own wording is contamination; a
		// long name the question says is not.
		{"水痘", "症状", "男性，79岁，主诉低热、神经痛、单侧带状分布的簇集水疱已有半年"}, {"水痘", "就诊科室", "皮肤科"},
		{"某男性，79岁，主诉低热病毒性神经根炎", "就诊科室", "皮肤科"},
	} {
		triples = append(triples, schemas.Triple{ID: fmt.Sprintf("k%d", i), Source: "kg", Head: x[0], Relation: x[1], Tail: x[2], Meta: "{}"})
	}
	write(t, filepath.Join(ws.Clean(schemas.KindKG), "part-00000.parquet"), triples)
	m := build(t, Options{Workspace: ws, Seed: 1, Version: "test", ConfigHash: "cafe",
		EvalSources: map[string]bool{"exam-eval": true}, Check: true})
	src := m.Sources["kg"]
	if src.Used != 6 || src.Unused[ReasonEvalOverlap] != 2 {
		t.Fatalf("kg: used %d, unused %v; want the 5 带状疱疹 facts and the long-named head used, the 2 水痘 triples dropped", src.Used, src.Unused)
	}
	var dcpt strings.Builder
	for _, split := range schemas.Splits {
		for _, r := range readAll[schemas.DCPTRow](t, ws.StageFile(schemas.StageDCPT, split)) {
			dcpt.WriteString(r.Text)
		}
	}
	if !strings.Contains(dcpt.String(), "低热、神经痛、单侧带状分布的簇集水疱") || strings.Contains(dcpt.String(), "水痘") {
		t.Errorf("dcpt text: %s", dcpt.String())
	}
	if m.LeakageCheck != "passed" {
		t.Errorf("leakage check %q", m.LeakageCheck)
	}
}

// TestAdaptTakesTrainingExams: the adapt stage holds every usable exam
// question of a training source, as the same chat SFT holds, and none of an
// eval source's.
func TestAdaptTakesTrainingExams(t *testing.T) {
	ws := fixture(t)
	m := build(t, options(ws, 7))
	sft := map[string][]schemas.Turn{}
	adapt := map[string][]schemas.Turn{}
	for _, split := range schemas.Splits {
		for _, r := range readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageSFT, split)) {
			if r.Kind == string(schemas.KindExam) {
				sft[r.ID] = r.Messages
			}
		}
		for _, r := range readAll[schemas.SFTRow](t, ws.StageFile(schemas.StageAdapt, split)) {
			if r.Kind != string(schemas.KindExam) || r.Source != "cmexam" {
				t.Errorf("adapt row %s from %s/%s", r.ID, r.Source, r.Kind)
			}
			adapt[r.ID] = r.Messages
		}
	}
	if len(adapt) != 2 || !reflect.DeepEqual(adapt, sft) {
		t.Errorf("adapt %v\nsft exam rows %v", adapt, sft)
	}
	if got := m.Sources["cmexam"].Rows["adapt/train"] + m.Sources["cmexam"].Rows["adapt/valid"] + m.Sources["cmexam"].Rows["adapt/test"]; got != 2 {
		t.Errorf("manifest counts %d adapt rows of cmexam", got)
	}
	if _, ok := m.Stages[schemas.StageAdapt]; !ok {
		t.Error("manifest has no adapt stage")
	}
}
