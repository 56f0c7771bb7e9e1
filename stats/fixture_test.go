package stats

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/kg"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// writeFixture fills workspace ws with a small instance of every input
// stats reads, with numbers the tests can check by hand.
func writeFixture(t testing.TB, ws workspace.Dir) {
	t.Helper()
	must := func(_ int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put := func(rel, body string) {
		t.Helper()
		p := ws.Path(filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeStepReports(t, ws)
	put("chimed.yaml", `version: 1
sources:
  - name: textbook
    kind: text
    paths: ["raw/a.txt"]
    license: cc-by-4.0
    url: https://example.org/textbook
  - name: dlg
    kind: dialogue
    preset: toyhom-csv
    paths: ["raw/d.csv"]
`)
	// clean/qa: faq-root leads a near-duplicate cluster with a kept member
	// (hq-member) and a removed one (hq-near); hq-other is alone.
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindQA), "faq-00000.parquet"), slices.Values([]schemas.QA{
		{ID: "faq-root", Source: "faq", Question: "高血压吃什么药？", Answer: "遵医嘱服用降压药。", Category: "心内科", Cluster: "faq-root"},
	})))
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindQA), "huatuo-00000.parquet"), slices.Values([]schemas.QA{
		{ID: "hq-member", Source: "huatuo", Question: "高血压该吃什么药呢？", Answer: "请遵医嘱服用降压药。", Cluster: "faq-root"},
		{ID: "hq-other", Source: "huatuo", Question: "骨折怎么办？", Answer: "固定后就医。", Category: "骨科", Cluster: "hq-other"},
	})))
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindExam), "cmexam-test-00000.parquet"), slices.Values([]schemas.ExamQuestion{
		{ID: "e-eval", Source: "cmexam-test", Question: "糖尿病的典型症状是？", Options: []schemas.Option{{Label: "A", Text: "多饮"}}, Answer: "A",
			Meta: `{"Clinical Department":"内分泌科"}`, Cluster: "e-eval"},
	})))
	qaJSON := func(id, src, q, a string) string {
		b, err := json.Marshal(schemas.QA{ID: id, Source: src, Question: q, Answer: a})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	must(schemas.WriteFile(filepath.Join(ws.Removed(), "huatuo-00000.parquet"), slices.Values([]schemas.RemovedRow{
		{ID: "hq-dup", Source: "huatuo", Kind: "qa", Reason: "duplicate", Detail: "faq-root",
			Record: qaJSON("hq-dup", "huatuo", "高血压吃什么药？请回电13812345678", "遵医嘱服用降压药。")},
		{ID: "hq-near", Source: "huatuo", Kind: "qa", Reason: "near_duplicate", Detail: "faq-root",
			Record: qaJSON("hq-near", "huatuo", "高血压应吃什么药？", "遵医嘱服用降压药物。")},
		{ID: "hq-ghost", Source: "huatuo", Kind: "qa", Reason: "duplicate", Detail: "gone",
			Record: qaJSON("hq-ghost", "huatuo", "问", "答")},
	})))
	must(schemas.WriteFile(filepath.Join(ws.Removed(), "textbook-00000.parquet"), slices.Values([]schemas.RemovedRow{
		{ID: "t-dup", Source: "textbook", Kind: "text", Reason: "duplicate", Detail: "t1", Record: `{"id":"t-dup","source":"textbook","text":"糖尿病"}`},
		{ID: "t-leak", Source: "textbook", Kind: "text", Reason: "contaminated", Detail: "e-eval", Record: `{"id":"t-leak","source":"textbook","text":"糖尿病的典型症状是多饮"}`},
		{ID: "t-short", Source: "textbook", Kind: "text", Reason: "too_short", Detail: "text", Record: `not json`},
	})))
	must(schemas.WriteFile(filepath.Join(ws.Quarantine(), "part-00000.parquet"), slices.Values([]schemas.QuarantineRow{
		{Source: "textbook", Kind: "text", File: "raw/a.txt", Line: 3, Error: "bad"},
		{Source: "textbook", Kind: "text", File: "raw/a.txt", Line: 9, Error: "bad"},
		{Source: "textbook", Kind: "text", File: "raw/b.csv", Line: 2, Error: "bad"},
	})))
	texts := []schemas.Text{{ID: "t1", Source: "textbook", Text: "糖尿病"}, {ID: "t2", Source: "textbook", Text: "高血压"}}
	must(schemas.WriteFile(filepath.Join(ws.Normalized(schemas.KindText), "part-00000.parquet"), slices.Values(texts)))
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindText), "part-00000.parquet"), slices.Values(texts[:1])))
	dlg := []schemas.Dialogue{
		{ID: "d1", Source: "dlg", Turns: []schemas.Turn{{Role: "user", Content: "头痛"}, {Role: "assistant", Content: "休息"}}},
		{ID: "d2", Source: "dlg", Turns: []schemas.Turn{{Role: "user", Content: "咳嗽"}, {Role: "assistant", Content: "多喝水"},
			{Role: "user", Content: "发烧呢"}, {Role: "assistant", Content: "就医"}}},
	}
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindDialogue), "part-00000.parquet"), slices.Values(dlg)))
	// clean/preference: enough rows that some train the perplexity
	// reference model and the rest are scored; pref-noise is gibberish.
	must(schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindPreference), "part-00000.parquet"), slices.Values(preferenceRows())))

	writeStageFixture(t, ws)
}

// writeStageFixture writes the stage files: dcpt has 3 train rows from two
// sources, 1 valid, and no test file; sft and dpo a row per split; one row
// per eval set.
func writeStageFixture(t testing.TB, ws workspace.Dir) {
	t.Helper()
	must := func(_ int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(schemas.WriteFile(ws.StageFile(schemas.StageDCPT, "train"), slices.Values([]schemas.DCPTRow{
		{ID: "a", Source: "textbook", Kind: "text", Text: "糖尿病是一组以高血糖为特征的代谢性疾病。"},
		{ID: "b", Source: "textbook", Kind: "text", Text: "高血压是常见的慢性病。"},
		{ID: "c", Source: "kg", Kind: "kg", Text: "感冒的症状有发热、咳嗽。"},
	})))
	must(schemas.WriteFile(ws.StageFile(schemas.StageDCPT, "valid"), slices.Values([]schemas.DCPTRow{
		{ID: "d", Source: "kg", Kind: "kg", Text: "肺炎需要就医。"},
	})))
	for _, split := range schemas.Splits {
		must(schemas.WriteFile(ws.StageFile(schemas.StageSFT, split), slices.Values([]schemas.SFTRow{
			{ID: "s-" + split, Source: "dlg", Kind: "dialogue", Messages: []schemas.Turn{
				{Role: "system", Content: "你是医生。"}, {Role: "user", Content: "头痛怎么办？"}, {Role: "assistant", Content: "多休息，必要时就医。"}}},
		})))
		must(schemas.WriteFile(ws.StageFile(schemas.StageDPO, split), slices.Values([]schemas.DPORow{
			{ID: "p-" + split, Source: "exam", Kind: "exam", Prompt: "高血压的标准？", Chosen: "140/90", Rejected: "120/80"},
		})))
	}
	// adapt: one exam chat in train, empty valid and test.
	for _, split := range schemas.Splits {
		var rows []schemas.SFTRow
		if split == "train" {
			rows = append(rows, schemas.SFTRow{ID: "x-train", Source: "cmexam-train", Kind: "exam", Messages: []schemas.Turn{
				{Role: "user", Content: "以下是一道医学考试单项选择题，请选出正确答案并给出解析。\n高血压的首选检查是\nA. 血压测量\nB. 胃镜"},
				{Role: "assistant", Content: "答案：A. 血压测量"}}})
		}
		must(schemas.WriteFile(ws.StageFile(schemas.StageAdapt, split), slices.Values(rows)))
	}
	must(schemas.WriteFile(ws.EvalFile("exam"), slices.Values([]schemas.ExamQuestion{
		{ID: "e1", Source: "cmexam", Question: "下列哪项是糖尿病的症状？", Options: []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "脱发"}}, Answer: "A"},
	})))
	must(schemas.WriteFile(ws.EvalFile("qa"), slices.Values([]schemas.EvalQA{
		{ID: "q1", Source: "held", Question: "感冒怎么办？", Answer: "多喝水，注意休息。"},
	})))
}

// writeStepReports writes the step reports stats reads back (ingest.json,
// clean.json, the stage manifest and the kg statistics) with the types and
// writers of the steps that own them, so a field the page uses cannot drift
// away from what the step writes.
func writeStepReports(t testing.TB, ws workspace.Dir) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ingest.WriteReport(ws.Report("ingest.json"), &ingest.Report{Sources: map[string]*ingest.SourceReport{
		"textbook": {Kind: "text", Counts: ingest.Counts{Read: 12, Written: 10, Quarantined: 2, Bytes: 4096, RecordsOK: 10, MetaCapped: 1, Files: 2}},
		"dlg":      {Kind: "dialogue", Counts: ingest.Counts{Read: 5, Written: 5, Bytes: 1024, RecordsOK: 5, Files: 1}},
		"faq": {Kind: "qa", Counts: ingest.Counts{Read: 1, Written: 1, Bytes: 256, RecordsOK: 1, Files: 2,
			Lookup: &ingest.LookupCounts{Read: 2, Used: 1, Quarantined: 1}}},
	}}))
	must(atomicfile.WriteJSON(ws.Report("clean.json"), &clean.Report{
		Sources: map[string]*clean.SourceCounts{
			"textbook": {In: 10, Kept: 7, Removed: map[string]int64{"duplicate": 2, "too_short": 1}},
			"dlg":      {In: 5, Kept: 4, Removed: map[string]int64{"near_duplicate": 1}},
		},
		Totals:   &clean.SourceCounts{In: 15, Kept: 11, Removed: map[string]int64{"duplicate": 2, "near_duplicate": 1, "too_short": 1}},
		Rewrites: clean.Rewrites{Normalise: map[string]int64{"width": 3}, PII: map[string]int64{"phone": 4, "email": 1}},
		NearDedup: &clean.NearStats{Shingle: "char", NGram: 5, Bands: 16, Rows: 8, Threshold: 0.8, ClusterThreshold: 0.7, IndexBytesPerRow: 128,
			Indexed: 15, Candidates: 3, Duplicates: 1, Clustered: 2},
	}))
	must(atomicfile.WriteJSON(stages.ManifestPath(ws), &stages.Manifest{
		Version: "0.1.0-test", Seed: 7, ConfigSHA256: "abc", LeakageCheck: "passed", Tokens: "chars",
		Files: []stages.FileEntry{{Path: "stages/dcpt/train.parquet", Rows: 3, Bytes: 900, SHA256: "0123456789abcdef0123"}},
		Sources: map[string]*stages.SourceCount{"textbook": {Kind: schemas.KindText, In: 7, Used: 6, Unused: map[string]int64{"cap": 1},
			Rows: map[string]int64{"dcpt/train": 3}}},
		Totals: stages.SourceCount{In: 7, Used: 6, Unused: map[string]int64{"cap": 1}},
		Stages: map[schemas.Stage]map[string]*stages.SplitCount{
			schemas.StageDCPT: {"train": {Rows: 3, Tokens: 30}, "valid": {Rows: 2}},
			schemas.StageSFT:  {"train": {Rows: 1}},
		},
		Eval:    map[string]int64{"exam": 1, "qa": 1},
		KGStats: "stages/kg_stats.json",
	}))
	must(atomicfile.WriteJSON(stages.KGStatsPath(ws), &kg.Stats{In: 6, Triples: 5, Entities: 4, Heads: 2, Relations: 2,
		Dropped:      map[string]int{"kg_self_loop": 1},
		TopRelations: []kg.NameCount{{Name: "症状", Count: 3}, {Name: "并发症", Count: 2}},
		Degree:       []kg.Bucket{{Label: "1", Min: 1, Max: 1, Entities: 2}, {Label: "2", Min: 2, Max: 2, Entities: 2}},
	}))
}

// bigStage writes a dcpt train file of n rows, for sampling tests.
func bigStage(t testing.TB, ws workspace.Dir, n int) {
	t.Helper()
	rows := make([]schemas.DCPTRow, n)
	for i := range rows {
		rows[i] = schemas.DCPTRow{ID: fmt.Sprintf("row-%d", i), Source: []string{"a", "b"}[i%2], Kind: "text",
			Text: "糖尿病患者应当控制饮食并规律运动。"}
	}
	if _, err := schemas.WriteFile(ws.StageFile(schemas.StageDCPT, "train"), slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
}

// preferenceRows are fluent medical preference pairs and one of noise.
func preferenceRows() []schemas.PreferencePair {
	prompts := []string{"高血压患者饮食要注意什么？", "糖尿病患者可以吃水果吗？", "感冒发热应该怎么办？", "冠心病患者能运动吗？",
		"慢性胃炎患者饮食要注意什么？", "咳嗽伴有发热应该怎么办？", "高血脂患者饮食要注意什么？", "痛风患者可以喝酒吗？"}
	var rows []schemas.PreferencePair
	for i, p := range prompts {
		rows = append(rows, schemas.PreferencePair{ID: fmt.Sprintf("pref-%d", i), Source: "pref", Prompt: p,
			Chosen: "应低盐低脂饮食，规律服用药物，定期复查，遵医嘱治疗。", Rejected: "随便吃，不用管。"})
	}
	return append(rows, schemas.PreferencePair{ID: "pref-noise", Source: "pref", Prompt: "xq#7 ÿþ zz;; 囧囧 @@@ 13812345678",
		Chosen: "kkk ~~ 乂乂 ^^^ qwerty", Rejected: "..."})
}
