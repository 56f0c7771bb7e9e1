package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// ingestFiles writes files into a fresh workspace, ingests them as one
// source and returns the source's counts and its rows as JSON objects
// without id and meta (which name the file and line, and so differ
// between layouts of the same records).
func ingestFiles(t *testing.T, src Source, files map[string][]byte) (Counts, []map[string]any) {
	t.Helper()
	ws := workspace.Dir(t.TempDir())
	src.Name = cmpOrName(src.Name)
	src.Paths = nil
	for name, data := range files {
		p := ws.Path("raw", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		src.Paths = append(src.Paths, "raw/"+name)
	}
	if src.Kind == "" {
		src.Kind = Presets[src.Preset].Kind
	}
	rep, err := Run(context.Background(), ws, []Source{src}, RunOptions{Parallel: 1, KeepGoing: true})
	if err != nil {
		t.Fatalf("ingest %s: %v", src.Preset, err)
	}
	c := rep.Sources[src.Name].Counts
	dir := ws.Normalized(src.Kind)
	var rows []map[string]any
	switch src.Kind {
	case schemas.KindText:
		rows = rowsAsJSON[schemas.Text](t, dir)
	case schemas.KindQA:
		rows = rowsAsJSON[schemas.QA](t, dir)
	case schemas.KindKG:
		rows = rowsAsJSON[schemas.Triple](t, dir)
	case schemas.KindDialogue:
		rows = rowsAsJSON[schemas.Dialogue](t, dir)
	case schemas.KindPreference:
		rows = rowsAsJSON[schemas.PreferencePair](t, dir)
	case schemas.KindExam:
		rows = rowsAsJSON[schemas.ExamQuestion](t, dir)
	}
	return c, rows
}

func cmpOrName(n string) string {
	if n == "" {
		return "src"
	}
	return n
}

func rowsAsJSON[T any](t *testing.T, dir string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for r, err := range schemas.ReadDir[T](dir) {
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "id")
		delete(m, "meta")
		out = append(out, m)
	}
	return out
}

func jsonLines(t *testing.T, recs []any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// prettyArray is the records as LLaMA-Factory ships its demo data: one
// JSON array, indented.
func prettyArray(t *testing.T, recs []any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// objectOfRecords keys each record by its ordinal: {"0": {…}, "1": {…}}.
func objectOfRecords(t *testing.T, recs []any) []byte {
	t.Helper()
	m := map[string]any{}
	for i, r := range recs {
		m[fmt.Sprintf("%03d", i)] = r
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonPresetCases are records of every preset whose layout is JSON-shaped
// (and of CSV presets whose columns read as well from JSON objects), with
// what the first row must hold.
var jsonPresetCases = []struct {
	name, preset string
	recs         []any
	rows         int    // rows the records give
	want         string // in the first row's JSON
}{
	{"medicalgpt-pretrain as {text}", "medicalgpt-pretrain", []any{
		map[string]any{"text": "发热是指体温升高，超出正常范围。"},
		map[string]any{"text": "高血压是常见的慢性病。"},
	}, 2, `"text":"发热是指体温升高，超出正常范围。"`},
	{"medicalgpt-sharegpt", "medicalgpt-sharegpt", []any{
		map[string]any{"conversations": []any{map[string]any{"from": "human", "value": "发烧怎么办？"}, map[string]any{"from": "gpt", "value": "多喝水，必要时就医。"}}},
		map[string]any{"conversations": []any{map[string]any{"from": "system", "value": "你是医生。"}, map[string]any{"from": "human", "value": "头痛怎么办？"}, map[string]any{"from": "gpt", "value": "休息。"}}},
	}, 2, `"question":"发烧怎么办？"`},
	{"medicalgpt-qa-zh", "medicalgpt-qa-zh", []any{
		map[string]any{"问": "感冒吃什么药？", "答": "对症治疗。"},
		map[string]any{"问": "咳嗽怎么办？", "答": "多喝水。"},
	}, 2, `"answer":"对症治疗。"`},
	{"alpaca", "alpaca", []any{
		map[string]any{"instruction": "糖尿病的症状有哪些？", "input": "", "output": "多饮多尿。"},
		map[string]any{"instruction": "请回答", "input": "胃痛怎么办？", "output": "就医。"},
	}, 2, `"question":"糖尿病的症状有哪些？"`},
	{"huatuo26m (Zhongjing)", "huatuo26m", []any{
		map[string]any{"instruction": []any{"失眠怎么办？"}, "output": []any{"规律作息。"}},
		map[string]any{"instruction": []any{"贫血吃什么？"}, "output": []any{"补铁。"}},
	}, 2, `"question":"失眠怎么办？"`},
	{"huatuo26m (HF)", "huatuo26m", []any{
		map[string]any{"questions": "失眠怎么办？", "answers": "规律作息。"},
	}, 1, `"answer":"规律作息。"`},
	{"medicalgpt-reward", "medicalgpt-reward", []any{
		map[string]any{"question": "发烧怎么办？", "response_chosen": "多喝水并观察。", "response_rejected": "不用管。"},
	}, 1, `"chosen":"多喝水并观察。"`},
	{"sharegpt-dpo (MedicalGPT strings)", "sharegpt-dpo", []any{
		map[string]any{"conversations": []any{map[string]any{"from": "human", "value": "头晕怎么办？"}}, "chosen": "休息并测血压。", "rejected": "不知道。"},
		map[string]any{"conversations": []any{map[string]any{"from": "system", "value": "你是医生。"}, map[string]any{"from": "human", "value": "咳嗽怎么办？"}}, "chosen": "多喝水。", "rejected": "随便。"},
	}, 2, `"prompt":"头晕怎么办？"`},
	{"sharegpt-dpo (LLaMA-Factory objects)", "sharegpt-dpo", []any{
		map[string]any{"conversations": []any{map[string]any{"from": "human", "value": "头晕怎么办？"}},
			"chosen": map[string]any{"from": "gpt", "value": "休息并测血压。"}, "rejected": map[string]any{"from": "gpt", "value": "不知道。"}},
	}, 1, `"rejected":"不知道。"`},
	{"qasystem-medicalkg", "qasystem-medicalkg", []any{
		map[string]any{"_id": map[string]any{"$oid": "5bb578b6831b973a137e3ee6"}, "name": "肺泡蛋白质沉积症",
			"symptom": []any{"紫绀", "胸痛"}, "cure_department": []any{"内科", "呼吸内科"}, "desc": "……"},
	}, 4, `"head":"肺泡蛋白质沉积症"`},
	{"cmeie", "cmeie", []any{
		map[string]any{"text": "肺炎常见咳嗽。", "spo_list": []any{map[string]any{"Combined": false, "predicate": "临床表现", "subject": "肺炎",
			"subject_type": "疾病", "object": map[string]any{"@value": "咳嗽"}, "object_type": map[string]any{"@value": "症状"}}}},
	}, 1, `"tail":"咳嗽"`},
	{"meddialog-json", "meddialog-json", []any{
		[]any{"病人：我咳嗽三天了。", "医生：有发热吗？", "病人：没有。", "医生：多喝水。"},
		[]any{"病人：头痛。", "医生：休息。"},
	}, 2, `"content":"我咳嗽三天了。"`},
	{"disc-med", "disc-med", []any{
		map[string]any{"_id": "1", "source": "MedDialog", "conversation": []any{map[string]any{"role": "user", "content": "胃痛。"}, map[string]any{"role": "assistant", "content": "多久了？"}}},
	}, 1, `"content":"胃痛。"`},
	{"cmexam-csv as JSON objects", "cmexam-csv", []any{
		map[string]any{"Question": "夜间阵发性呼吸困难，可见于", "Options": "A 急性左心衰\nB 癔病", "Answer": "A", "Explanation": "左心衰。"},
	}, 1, `"answer":"A"`},
	{"cmmlu as JSON objects", "cmmlu", []any{
		map[string]any{"Question": "女性生殖腺是", "A": "卵巢", "B": "前庭大腺", "C": "前庭球", "D": "乳腺", "Answer": "A"},
	}, 1, `"text":"卵巢"`},
	{"spo-tsv as JSON objects", "spo-tsv", []any{
		map[string]any{"head": "眼睛发红", "relation": "类别", "tail": "症状"},
	}, 1, `"head":"眼睛发红"`},
	{"toyhom-csv as JSON objects", "toyhom-csv", []any{
		map[string]any{"department": "心血管科", "title": "高血压能吃党参吗？", "ask": "我有高血压。", "answer": "可以。"},
	}, 1, `"content":"高血压能吃党参吗？，我有高血压。"`},
}

// TestPresetsSniffJSONLayouts: a preset names the fields, not the format.
// The same records as JSON Lines, as a pretty-printed JSON array (under a
// .json name and under the preset's usual .jsonl name) and, where records
// are objects, as an object of records give the same rows, none
// quarantined.
func TestPresetsSniffJSONLayouts(t *testing.T) {
	for _, tc := range jsonPresetCases {
		t.Run(tc.name, func(t *testing.T) {
			layouts := []struct {
				name string
				file string
				data []byte
			}{
				{"jsonl", "data.jsonl", jsonLines(t, tc.recs)},
				{"pretty array .json", "data.json", prettyArray(t, tc.recs)},
				{"pretty array .jsonl", "data.jsonl", prettyArray(t, tc.recs)},
				{"jsonl in a .txt", "data.txt", jsonLines(t, tc.recs)},
				{"jsonl in a .json", "data.json", jsonLines(t, tc.recs)},
			}
			if _, ok := tc.recs[0].(map[string]any); ok {
				layouts = append(layouts, struct {
					name string
					file string
					data []byte
				}{"object of records", "data.json", objectOfRecords(t, tc.recs)})
			}
			var first []map[string]any
			for i, l := range layouts {
				c, rows := ingestFiles(t, Source{Preset: tc.preset}, map[string][]byte{l.file: l.data})
				if c.Quarantined != 0 || c.Read != int64(len(tc.recs)) || c.Written != int64(tc.rows) {
					t.Fatalf("%s: read %d written %d quarantined %d, want %d %d 0", l.name, c.Read, c.Written, c.Quarantined, len(tc.recs), tc.rows)
				}
				if i == 0 {
					first = rows
					b, _ := json.Marshal(rows[0])
					if !strings.Contains(string(b), tc.want) {
						t.Fatalf("%s: first row %s lacks %s", l.name, b, tc.want)
					}
					continue
				}
				if !reflect.DeepEqual(rows, first) {
					t.Errorf("%s gave other rows than JSON Lines:\n%v\nwant\n%v", l.name, rows, first)
				}
			}
		})
	}
}

// TestPresetsSniffTheirOwnShapes: presets of text, CSV, TSV and XLSX
// layouts still get the reader their real files need, with the reader
// options the preset supplies (split mode, header, lazy quotes), under
// their usual names, under names that say nothing, and in UTF-8 copies of
// GBK data.
func TestPresetsSniffTheirOwnShapes(t *testing.T) {
	for _, tt := range ownShapeCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			c, rows := ingestFiles(t, Source{Preset: tt.preset}, tt.files)
			if c.Read != tt.read || c.Written != tt.rows || c.Quarantined != 0 {
				t.Fatalf("read %d written %d quarantined %d, want %d %d 0", c.Read, c.Written, c.Quarantined, tt.read, tt.rows)
			}
			b, _ := json.Marshal(rows[0])
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("first row %s lacks %s", b, tt.want)
			}
		})
	}
}

// ownShapeCase is raw files in a preset's own (text, CSV, TSV, XLSX)
// shape, the records and rows they hold, and what the first row must hold.
type ownShapeCase struct {
	name   string
	preset string
	files  map[string][]byte
	read   int64
	rows   int64
	want   string
}

func ownShapeCases(t *testing.T) []ownShapeCase {
	cmexamCSV := "\ufeffQuestion,Options,Answer,Explanation,Disease Group\n" +
		"夜间阵发性呼吸困难，可见于,\"A 急性左心衰\nB 癔病\nC 肺炎\",A,左心衰。,心血管\n" +
		"下列属于中枢的是,\"A 额中回\nB 角回\",B,,神经\n"
	toyhomCSV := "department,title,ask,answer\n" +
		"心血管科,高血压患者能吃党参吗？,我有高血压，您好高血压可以吃党参吗？,高血压病人可以口服党参的。\n" +
		"内科,头痛怎么办,头痛三天了 \"很疼\",注意休息。\n"
	toyhomTxt := "高血压患者能吃党参吗？,我有高血压\n高血压病人可以口服党参的。\n注意血压。\n\n头痛怎么办,头痛三天\n注意休息。\n"
	meddialog := "id=1\nhttps://www.haodf.com/a.htm\n\nDescription\n疾病： 咳嗽\n\nDialogue\n病人：\n我咳嗽三天了。\n医生：\n多喝水。\n\n" +
		"id=2\nhttps://www.haodf.com/b.htm\n\nDescription\n疾病： 头痛\n\nDialogue\n病人：\n头痛。\n医生：\n休息。\n"
	return []ownShapeCase{
		{"medicalgpt-pretrain, .txt with commas and a bracket", "medicalgpt-pretrain", map[string][]byte{
			"fever.txt": []byte("发热,是指体温升高。\n\n[注] 本章讲发热。\n高血压,是慢性病。\n"),
		}, 3, 3, `"text":"发热,是指体温升高。"`},
		{"medicalgpt-pretrain, no extension, commas on every line", "medicalgpt-pretrain", map[string][]byte{
			"cpt": []byte("发热,是指体温升高。\n高血压,是慢性病。\n"),
		}, 2, 2, `"text":"发热,是指体温升高。"`},
		{"cmedqa2", "cmedqa2", map[string][]byte{
			"question.csv": []byte("question_id,content\n1,头痛怎么办？\n2,咳嗽怎么办？\n"),
			"answer.csv":   []byte("ans_id,question_id,content\n10,1,休息。\n11,1,就医。\n12,2,多喝水。\n"),
		}, 3, 3, `"question":"头痛怎么办？"`},
		{"cmexam-csv, BOM and quoted newlines", "cmexam-csv", map[string][]byte{"test.csv": []byte(cmexamCSV)}, 2, 2, `"answer":"A"`},
		{"cmexam-csv, no extension", "cmexam-csv", map[string][]byte{"test": []byte(cmexamCSV)}, 2, 2, `"label":"C"`},
		{"cmexam-xlsx", "cmexam-xlsx", map[string][]byte{"val.xlsx": cmexamBook(t)}, 1, 1, `"text":"癔病"`},
		{"cmmlu", "cmmlu", map[string][]byte{
			"anatomy.csv": []byte(",Question,A,B,C,D,Answer\n0,女性生殖腺是,卵巢,前庭大腺,前庭球,乳腺,A\n1,甲状腺的动脉来自,颈内动脉,颈外动脉,锁骨下动脉,颈总动脉,D\n"),
		}, 2, 2, `"question":"女性生殖腺是"`},
		{"spo-tsv, .spo", "spo-tsv", map[string][]byte{
			"Medical.spo": []byte("眼睛发红\t类别\t症状\n小儿狂犬病\t类别\t疾病\n"),
		}, 2, 2, `"head":"眼睛发红"`},
		{"spo-tsv, one line", "spo-tsv", map[string][]byte{"one.spo": []byte("眼睛发红\t类别\t症状\n")}, 1, 1, `"tail":"症状"`},
		{"toyhom-csv, GBK", "toyhom-csv", map[string][]byte{"内科.csv": []byte(gbk(toyhomCSV))}, 2, 2, `"content":"高血压患者能吃党参吗？，我有高血压，您好高血压可以吃党参吗？"`},
		{"toyhom-csv, UTF-8 copy", "toyhom-csv", map[string][]byte{"内科.csv": []byte(toyhomCSV)}, 2, 2, `"content":"高血压病人可以口服党参的。"`},
		{"toyhom-txt, GBK", "toyhom-txt", map[string][]byte{"内科.txt": []byte(gbk(toyhomTxt))}, 2, 2, `"content":"高血压患者能吃党参吗？,我有高血压"`},
		{"toyhom-txt, UTF-8 copy", "toyhom-txt", map[string][]byte{"内科.txt": []byte(toyhomTxt)}, 2, 2, `"content":"高血压病人可以口服党参的。\n注意血压。"`},
		{"meddialog-txt", "meddialog-txt", map[string][]byte{"meddialog.txt": []byte(meddialog)}, 2, 2, `"content":"我咳嗽三天了。"`},
	}
}

// TestEveryPresetIsSniffTested: the two tables above between them hold
// every preset.
func TestEveryPresetIsSniffTested(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range jsonPresetCases {
		tested[tc.preset] = true
	}
	for _, tc := range ownShapeCases(t) {
		tested[tc.preset] = true
	}
	for _, n := range PresetNames() {
		if !tested[n] {
			t.Errorf("preset %s has no sniffing test", n)
		}
	}
}

// TestExplicitFormatStillWins: a source's own format: is obeyed, so a user
// can overrule sniffing (here a CSV read as plain lines).
func TestExplicitFormatStillWins(t *testing.T) {
	c, rows := ingestFiles(t, Source{Preset: "medicalgpt-pretrain", Format: FormatText},
		map[string][]byte{"notes.csv": []byte("a,b\nc,d\n")})
	if c.Read != 2 || len(rows) != 2 || rows[0]["text"] != "a,b" {
		t.Errorf("read %d, rows %v", c.Read, rows)
	}
}

// cmexamBook is a one-question CMExam sheet in the kyre-99 layout (options
// separated by the two characters backslash and n).
func cmexamBook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range [][]any{{"Question", "Options", "Answer", "Explanation"}, {"夜间阵发性呼吸困难，可见于", `A 急性左心衰\nB 癔病`, "A", "左心衰。"}} {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSharedCorpusAsJSONArrays rewrites the real JSON Lines samples as
// pretty-printed JSON arrays, the way LLaMA-Factory ships data, and checks
// each preset reads them into the same rows as the original.
// (QASystemOnMedicalKG's 16k triples take seconds to compare; its layouts
// are in TestPresetsSniffJSONLayouts.)
func TestSharedCorpusAsJSONArrays(t *testing.T) {
	corpus := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("the public samples are not at %s: %v", corpus, err)
	}
	for _, tc := range []struct{ preset, path string }{
		{"sharegpt-dpo", "dpo/MedicalGPT-dpo_zh_500/dpo_zh_500.jsonl"},
		{"medicalgpt-sharegpt", "qa/MedicalGPT-sft/medical_sft_1K_format.jsonl"},
		{"medicalgpt-qa-zh", "qa/MedicalGPT-sft/medical_corpus.txt"},
		{"disc-med", "dialogue/DISC-MedLLM-test-examples/test_examples.jsonl"},
		{"medicalgpt-reward", "dpo/MedicalGPT-reward-medical/test.json"},
		{"cmeie", "kg/CMeIE_via-GPLinker_torch/CMeIE_dev.json"},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpus, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			var recs []any
			for line := range bytes.Lines(data) {
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				var v any
				if err := json.Unmarshal(line, &v); err != nil {
					t.Fatalf("%s is not JSON Lines: %v", tc.path, err)
				}
				recs = append(recs, v)
			}
			name := filepath.Base(tc.path)
			c1, want := ingestFiles(t, Source{Preset: tc.preset}, map[string][]byte{name: data})
			c2, got := ingestFiles(t, Source{Preset: tc.preset}, map[string][]byte{name: prettyArray(t, recs)})
			if c1.Quarantined != 0 || c2.Quarantined != 0 || c2.Read != int64(len(recs)) || c2.Written != c1.Written {
				t.Fatalf("JSON Lines: %+v; JSON array: %+v (%d records)", c1, c2, len(recs))
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("the JSON array gave other rows than the JSON Lines")
			}
		})
	}
}
