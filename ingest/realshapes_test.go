package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// realShapeFiles are raw files in the layouts public medical datasets ship,
// rebuilt from their documentation: each is mapped from chimed.yaml alone
// and checked against the raw file decoded here with encoding/json.
var realShapeFiles = map[string]string{
	// MedMCQA (HF release): one JSON object a line, opa..opd, cop 0..3.
	"raw/medmcqa/dev.jsonl": `{"question":"Which of the following is not true for myelinated nerve fibers:","exp":"Local anesthesia is effective only when the nerve is not covered by myelin sheath.","cop":3,"opa":"Impulse through myelinated fibers is slower than non-myelinated fibers","opb":"Membrane currents are generated at nodes of Ranvier","opc":"Saltatory conduction of impulses is seen","opd":"Local anesthesia is effective only when the nerve is not covered by myelin sheath","subject_name":"Physiology","topic_name":null,"id":"45258d3d-b974-44dd-a161-c3fccbdadd88","choice_type":"multi"}
{"question":"Which vitamin is supplied from only animal source:","exp":"Ans. (c) Vitamin B12","cop":2,"opa":"Vitamin C","opb":"Vitamin B7","opc":"Vitamin B12","opd":"Vitamin D","subject_name":"Biochemistry","topic_name":"Vitamins and Minerals","id":"b8d1e0c5-6a37-4a3e-a0f6-1a1f4c1b1c5f","choice_type":"single"}
{"question":"All of the following are surgical options for morbid obesity except -","exp":null,"cop":0,"opa":"Adjustable gastric banding","opb":"Biliopancreatic diversion","opc":"Duodenal Switch","opd":"Roux en Y Duodenal By pass","subject_name":"Surgery","topic_name":"Surgical Treatment of Obesity","id":"2c8c7e5a-7b6a-4f5e-8f39-0a8b2a2f7f0d","choice_type":"single"}
`,
	// The same layout with the answer naming the option's column, and a
	// fifth column some rows leave empty.
	"raw/medmcqa-cols/train.jsonl": `{"question":"下列哪项不是糖尿病的典型症状","opa":"多饮","opb":"消瘦加重伴低热","opc":"多尿","opd":"多食","ope":"","answer":"opb","subject":"内科"}
{"question":"治疗室性心动过速首选","opa":"利多卡因","opb":"维拉帕米","opc":"地高辛","opd":"阿托品","ope":"普萘洛尔","answer":"opa","subject":"内科"}
{"question":"急性阑尾炎最常见的体征是","opa":"腹肌紧张","opb":"右下腹固定压痛","opc":"结肠充气试验阳性","opd":"腰大肌试验阳性","ope":"闭孔内肌试验阳性","answer":"OPB","subject":"外科"}
`,
	// CMB-Exam: a pretty-printed JSON array, options an object, multi-answer rows.
	"raw/cmb/CMB-val-merge.json": `[
    {
        "exam_type": "医师考试",
        "exam_class": "执业医师",
        "exam_subject": "口腔执业医师",
        "question": "患者，男，50岁。牙龈出血半年，检查见牙石（++），牙龈红肿，最可能的诊断是",
        "answer": "B",
        "question_type": "单项选择题",
        "option": {
            "A": "牙龈增生",
            "B": "慢性龈炎",
            "C": "侵袭性牙周炎",
            "D": "坏死性龈炎",
            "E": "药物性牙龈肥大"
        }
    },
    {
        "exam_type": "护理考试",
        "exam_class": "护师",
        "exam_subject": "护师",
        "question": "下列属于心肺复苏有效指征的是",
        "answer": "ABD",
        "question_type": "多项选择题",
        "option": {
            "A": "大动脉出现搏动",
            "B": "面色转为红润",
            "C": "瞳孔散大",
            "D": "自主呼吸恢复",
            "E": ""
        }
    }
]
`,
	// MedicalGPT / LLaMA-Factory alpaca with history.
	"raw/alpaca-history/sft.json": `[
  {"instruction": "那我需要做什么检查？", "input": "", "output": "建议先做血常规和胸部X线检查。", "system": "你是一名呼吸科医生。",
   "history": [["我咳嗽一周了，还有点发烧。", "咳嗽有痰吗？体温最高多少度？"], ["有黄痰，最高38.5度。", "考虑下呼吸道感染的可能。"]]},
  {"instruction": "高血压患者饮食要注意什么？", "input": "我今年60岁。", "output": "低盐低脂，每天食盐不超过5克。", "history": []},
  {"instruction": "孩子发烧39度怎么办", "input": "", "output": "可以先用退热药，并及时就医。"}
]
`,
	// Earlier turns flattened into one string with <user>/<bot> tags, the
	// last exchange apart.
	"raw/flat-tags/train.jsonl": `{"id":1,"input":"<user>: 医生您好，我最近总是失眠。 <bot>: 失眠多久了？有没有服用什么药物？ <user>: 大概两个月了，没有吃药。","output":"建议先调整作息，睡前避免使用手机，必要时到睡眠专科就诊。"}
{"id":2,"input":"以下是一段医患对话。<user>:我右下腹疼。<bot>:疼了多长时间？<user>:从昨晚开始，还吐了一次。","output":"需要警惕急性阑尾炎，请尽快到急诊就诊。"}
`,
	// A whole consultation as one string with 患者/医生 markers.
	"raw/flat-zh/dialog.jsonl": `{"dialog_id":"d1","text":"患者：宝宝三个月，大便发绿正常吗？医生：大便发绿多数是正常的，和饮食有关。患者:需要吃药吗？ 医生：一般不需要，注意观察精神和吃奶情况。"}
{"dialog_id":"d2","text":"患者：我血压150/95，需要吃药吗？\n医生：先复测几次。\n医生：如果仍然偏高，再考虑药物治疗。\n患者：好的，谢谢医生。"}
`,
	// A disease knowledge base with nested objects, read in part.
	"raw/nested/medical.json": `{"name":"肺炎","info":{"desc":"肺炎是指终末气道、肺泡和肺间质的炎症。","other":"可由病原微生物、理化因素引起。","category":["疾病百科","内科","呼吸内科"]},"food":{"good_diet_text":"宜吃清淡易消化的食物。","bad_diet":["辣椒","酒"]},"cure_way":["药物治疗","支持性治疗"]}
{"name":"胃炎","info":{"desc":"胃炎是胃黏膜的炎症。","category":["疾病百科","消化内科"]},"food":{"good_diet_text":"宜少食多餐。"}}
`,
}

const realShapesYAML = `version: 1
sources:
  - name: medmcqa
    kind: exam
    paths: ["raw/medmcqa/*.jsonl"]
    map:
      fields: {question: question, answer: cop, explanation: exp}
      options: {columns: [opa, opb, opc, opd]}
      answer_is: index0
  - name: medmcqa-cols
    kind: exam
    paths: ["raw/medmcqa-cols/*.jsonl"]
    map:
      fields: {question: question, answer: answer}
      options: {columns: [opa, opb, opc, opd, ope]}
  - name: cmb
    kind: exam
    paths: ["raw/cmb/*.json"]
    map:
      fields: {question: question, answer: answer}
      options: {path: option}
  - name: alpaca-history
    kind: dialogue
    paths: ["raw/alpaca-history/*.json"]
    map:
      turns:
        system: system
        path: history
        fixed:
          - {role: user, content: "instruction + '\n' + input"}
          - {role: assistant, content: output}
  - name: flat-tags
    kind: dialogue
    paths: ["raw/flat-tags/*.jsonl"]
    map:
      turns:
        path: input
        fixed: [{role: assistant, content: output}]
  - name: flat-zh
    kind: dialogue
    paths: ["raw/flat-zh/*.jsonl"]
    map:
      turns: {path: text}
  - name: nested
    kind: qa
    paths: ["raw/nested/*.json"]
    map:
      fields: {question: "name + '是什么病？'", answer: info.desc, category: "info.category[-1]"}
`

// TestRealShapes ingests the real-world shapes through chimed.yaml and
// ingest.Run and checks every option, answer, turn and meta field against
// the raw files, decoded here independently; no record may be quarantined.
func TestRealShapes(t *testing.T) {
	dir := t.TempDir()
	for name, body := range realShapeFiles {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(realShapesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace.Dir(dir)
	rep, err := ingest.Run(context.Background(), ws, cfg.Sources, ingest.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Sources {
		raws := rawRecords(t, dir, s.Paths[0])
		c := rep.Sources[s.Name]
		if c == nil {
			t.Fatalf("%s: not in the report", s.Name)
		}
		if c.Read != int64(len(raws)) || c.Quarantined != 0 || c.Read != c.RecordsOK+c.Quarantined || c.Written != c.RecordsOK || c.MetaCapped != 0 {
			t.Errorf("%s: %d raw records, report %+v", s.Name, len(raws), c.Counts)
		}
	}
	for _, q := range quarantineRows(t, ws) {
		t.Errorf("quarantined: %s %s row %d: %s", q.Source, q.File, q.Row, q.Error)
	}

	t.Run("MedMCQA cop from 0", func(t *testing.T) {
		rows := rowsOf[schemas.ExamQuestion](t, ws, schemas.KindExam, "medmcqa")
		raws := rawRecords(t, dir, "raw/medmcqa/*.jsonl")
		checkLen(t, rows, raws)
		for i, r := range raws {
			cop := int(r["cop"].(float64))
			wantOpts := columnOptions(r, "opa", "opb", "opc", "opd")
			exp, _ := r["exp"].(string)
			checkExam(t, rows[i], r["question"].(string), wantOpts, string(rune('A'+cop)), exp)
			// The answer is the option the raw cop points at.
			if got := rows[i].Options[cop].Text; got != r[[]string{"opa", "opb", "opc", "opd"}[cop]] {
				t.Errorf("row %d: cop %d is %q", i, cop, got)
			}
			meta := metaMap(t, rows[i].Meta)
			for _, k := range []string{"id", "subject_name", "choice_type", "topic_name"} {
				if !reflect.DeepEqual(meta[k], r[k]) {
					t.Errorf("row %d: meta[%s] = %v, want %v", i, k, meta[k], r[k])
				}
			}
		}
	})

	t.Run("answer names the column", func(t *testing.T) {
		rows := rowsOf[schemas.ExamQuestion](t, ws, schemas.KindExam, "medmcqa-cols")
		raws := rawRecords(t, dir, "raw/medmcqa-cols/*.jsonl")
		checkLen(t, rows, raws)
		cols := []string{"opa", "opb", "opc", "opd", "ope"}
		for i, r := range raws {
			col := strings.ToLower(r["answer"].(string))
			want := string(rune('A' + slices.Index(cols, col)))
			checkExam(t, rows[i], r["question"].(string), columnOptions(r, cols...), want, "")
			if meta := metaMap(t, rows[i].Meta); meta["subject"] != r["subject"] {
				t.Errorf("row %d: meta %v lost subject", i, meta)
			}
		}
	})

	t.Run("CMB dict options, multi answer", func(t *testing.T) {
		rows := rowsOf[schemas.ExamQuestion](t, ws, schemas.KindExam, "cmb")
		raws := rawRecords(t, dir, "raw/cmb/*.json")
		checkLen(t, rows, raws)
		for i, r := range raws {
			opt := r["option"].(map[string]any)
			var want []schemas.Option
			for _, l := range []string{"A", "B", "C", "D", "E"} {
				if s, _ := opt[l].(string); s != "" {
					want = append(want, schemas.Option{Label: l, Text: s})
				}
			}
			checkExam(t, rows[i], r["question"].(string), want, r["answer"].(string), "")
			meta := metaMap(t, rows[i].Meta)
			for _, k := range []string{"exam_type", "exam_class", "exam_subject", "question_type"} {
				if meta[k] != r[k] {
					t.Errorf("row %d: meta[%s] = %v, want %v", i, k, meta[k], r[k])
				}
			}
		}
	})

	t.Run("alpaca with history", func(t *testing.T) {
		rows := rowsOf[schemas.Dialogue](t, ws, schemas.KindDialogue, "alpaca-history")
		raws := rawRecords(t, dir, "raw/alpaca-history/*.json")
		checkLen(t, rows, raws)
		for i, r := range raws {
			var want []schemas.Turn
			if s, _ := r["system"].(string); s != "" {
				want = append(want, schemas.Turn{Role: "system", Content: s})
			}
			h, _ := r["history"].([]any)
			for _, p := range h {
				pair := p.([]any)
				want = append(want, schemas.Turn{Role: "user", Content: pair[0].(string)}, schemas.Turn{Role: "assistant", Content: pair[1].(string)})
			}
			q := r["instruction"].(string)
			if in := r["input"].(string); in != "" {
				q += "\n" + in
			}
			want = append(want, schemas.Turn{Role: "user", Content: q}, schemas.Turn{Role: "assistant", Content: r["output"].(string)})
			if !reflect.DeepEqual(rows[i].Turns, want) {
				t.Errorf("row %d turns\n got %q\nwant %q", i, rows[i].Turns, want)
			}
		}
	})

	t.Run("inline <user>/<bot> tags", func(t *testing.T) {
		rows := rowsOf[schemas.Dialogue](t, ws, schemas.KindDialogue, "flat-tags")
		raws := rawRecords(t, dir, "raw/flat-tags/*.jsonl")
		checkLen(t, rows, raws)
		tag := regexp.MustCompile(`<(user|bot)>:`)
		for i, r := range raws {
			in := r["input"].(string)
			want, pre := splitOn(tag, in, map[string]string{"user": "user", "bot": "assistant"})
			want = append(want, schemas.Turn{Role: "assistant", Content: r["output"].(string)})
			if !reflect.DeepEqual(rows[i].Turns, want) {
				t.Errorf("row %d turns\n got %q\nwant %q", i, rows[i].Turns, want)
			}
			// Text before the first tag is no turn, and not lost either.
			meta := metaMap(t, rows[i].Meta)
			skipped, _ := meta["skipped_turns"].([]any)
			if pre != "" && !reflect.DeepEqual(skipped, []any{pre}) || pre == "" && skipped != nil {
				t.Errorf("row %d: preamble %q, meta skipped_turns %v", i, pre, skipped)
			}
			if meta["id"] != r["id"] {
				t.Errorf("row %d: meta %v lost id", i, meta)
			}
			for _, turn := range rows[i].Turns {
				if strings.Contains(turn.Content, "<user>") || strings.Contains(turn.Content, "<bot>") {
					t.Errorf("row %d: a marker reached a turn: %q", i, turn.Content)
				}
			}
		}
	})

	t.Run("inline 患者/医生 markers", func(t *testing.T) {
		rows := rowsOf[schemas.Dialogue](t, ws, schemas.KindDialogue, "flat-zh")
		raws := rawRecords(t, dir, "raw/flat-zh/*.jsonl")
		checkLen(t, rows, raws)
		marker := regexp.MustCompile(`(患者|医生)[：:]`)
		for i, r := range raws {
			want, pre := splitOn(marker, r["text"].(string), map[string]string{"患者": "user", "医生": "assistant"})
			if pre != "" {
				t.Fatalf("row %d: test data has a preamble %q", i, pre)
			}
			if !reflect.DeepEqual(rows[i].Turns, want) {
				t.Errorf("row %d turns\n got %q\nwant %q", i, rows[i].Turns, want)
			}
		}
		// Two 医生 lines in a row are one turn.
		if n := len(rows[1].Turns); n != 3 {
			t.Errorf("d2 gave %d turns, want 3 (the doctor's two lines merged)", n)
		}
	})

	t.Run("nested fields", func(t *testing.T) {
		rows := rowsOf[schemas.QA](t, ws, schemas.KindQA, "nested")
		raws := rawRecords(t, dir, "raw/nested/*.json")
		checkLen(t, rows, raws)
		for i, r := range raws {
			info := r["info"].(map[string]any)
			cat := info["category"].([]any)
			if rows[i].Question != r["name"].(string)+"是什么病？" || rows[i].Answer != info["desc"] || rows[i].Category != cat[len(cat)-1] {
				t.Errorf("row %d: %+v", i, rows[i])
			}
			// Everything not read is in meta, nested as it was: info.desc
			// was read, so info holds the rest of info.
			wantInfo := map[string]any{"category": info["category"]}
			if o, ok := info["other"]; ok {
				wantInfo["other"] = o
			}
			want := map[string]any{"info": wantInfo, "food": r["food"]}
			if cw, ok := r["cure_way"]; ok {
				want["cure_way"] = cw
			}
			meta := metaMap(t, rows[i].Meta)
			for _, k := range []string{"_file", "_row", "_line"} {
				delete(meta, k)
			}
			if !reflect.DeepEqual(meta, want) {
				t.Errorf("row %d meta\n got %v\nwant %v", i, meta, want)
			}
		}
	})
}

// rawRecords decodes the records of the files a glob matches, in the order
// ingest reads them: JSON Lines, or one JSON array.
func rawRecords(t *testing.T, dir, glob string) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: %v", glob, err)
	}
	slices.Sort(files)
	var out []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(strings.TrimSpace(string(b)), "[") {
			var recs []map[string]any
			if err := json.Unmarshal(b, &recs); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, recs...)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, r)
		}
	}
	return out
}

func rowsOf[T any](t *testing.T, ws workspace.Dir, kind schemas.Kind, source string) []T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ws.Normalized(kind), source+"-[0-9][0-9][0-9][0-9][0-9].parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, f := range files {
		for r, err := range schemas.ReadFile[T](f) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
	}
	return out
}

func checkLen[T any](t *testing.T, rows []T, raws []map[string]any) {
	t.Helper()
	if len(rows) != len(raws) {
		t.Fatalf("%d rows for %d raw records", len(rows), len(raws))
	}
}

// columnOptions are the non-empty option columns, lettered by position.
func columnOptions(r map[string]any, cols ...string) []schemas.Option {
	var out []schemas.Option
	for i, c := range cols {
		if s, _ := r[c].(string); s != "" {
			out = append(out, schemas.Option{Label: string(rune('A' + i)), Text: s})
		}
	}
	return out
}

func checkExam(t *testing.T, q schemas.ExamQuestion, question string, opts []schemas.Option, answer, explanation string) {
	t.Helper()
	if q.Question != question || !reflect.DeepEqual(q.Options, opts) || q.Answer != answer || q.Explanation != explanation {
		t.Errorf("got %q %+v answer %q expl %q\nwant %q %+v answer %q expl %q", q.Question, q.Options, q.Answer, q.Explanation, question, opts, answer, explanation)
	}
}

// splitOn cuts s at the matches of a marker pattern whose first group names
// the speaker: the test's own reading of a flattened dialogue, merging
// consecutive turns of one speaker as the README promises.
func splitOn(marker *regexp.Regexp, s string, roles map[string]string) (turns []schemas.Turn, pre string) {
	locs := marker.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return nil, strings.TrimSpace(s)
	}
	pre = strings.TrimSpace(s[:locs[0][0]])
	for k, l := range locs {
		end := len(s)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		role := roles[s[l[2]:l[3]]]
		text := strings.TrimSpace(s[l[1]:end])
		if n := len(turns); n > 0 && turns[n-1].Role == role {
			turns[n-1].Content += "\n" + text
			continue
		}
		turns = append(turns, schemas.Turn{Role: role, Content: text})
	}
	return turns, pre
}

func metaMap(t *testing.T, js string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(fmt.Errorf("meta %q: %w", js, err))
	}
	return m
}
