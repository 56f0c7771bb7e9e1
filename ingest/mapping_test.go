package ingest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// rawOf builds a Raw from JSON text, as a reader would yield it.
func rawOf(t testing.TB, js string) Raw {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		m = map[string]any{"_value": v}
	}
	return Raw{Loc: Location{File: "raw/x.jsonl", Line: 3, Row: 2, Offset: 100}, Fields: m, Text: js}
}

func mapOne(t *testing.T, s Source, js string) ([]schemas.Record, error) {
	t.Helper()
	if s.Name == "" {
		s.Name = "src"
	}
	src, err := ApplyPreset(s)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := compileMapping(&src)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawOf(t, js)
	return mp.mapRecord(&raw, nil)
}

func metaOf(t *testing.T, r schemas.Record) map[string]any {
	t.Helper()
	var js string
	switch x := r.(type) {
	case *schemas.Text:
		js = x.Meta
	case *schemas.QA:
		js = x.Meta
	case *schemas.Triple:
		js = x.Meta
	case *schemas.Dialogue:
		js = x.Meta
	case *schemas.PreferencePair:
		js = x.Meta
	case *schemas.ExamQuestion:
		js = x.Meta
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("meta %q: %v", js, err)
	}
	return m
}

func TestMapPresets(t *testing.T) {
	tests := []struct {
		name   string
		src    Source
		record string
		want   []schemas.Record // ids and meta are checked separately
		meta   map[string]any   // keys that must be in the first row's meta
	}{
		{
			name: "alpaca", src: Source{Kind: "qa", Preset: "alpaca"},
			record: `{"instruction":"头痛怎么办？","input":"","output":"多休息。"}`,
			want:   []schemas.Record{&schemas.QA{Question: "头痛怎么办？", Answer: "多休息。"}},
		},
		{
			name: "alpaca with input", src: Source{Kind: "qa", Preset: "alpaca"},
			record: `{"instruction":"解释","input":"高血压","output":"血压高。"}`,
			want:   []schemas.Record{&schemas.QA{Question: "解释\n高血压", Answer: "血压高。"}},
		},
		{
			name: "huatuo26m lists", src: Source{Kind: "qa", Preset: "huatuo26m"},
			record: `{"id":"","instruction":["问题"],"input":"","output":["回答"]}`,
			want:   []schemas.Record{&schemas.QA{Question: "问题", Answer: "回答"}},
			meta:   map[string]any{"id": "", "input": "", "_file": "raw/x.jsonl", "_row": 2.0, "_line": 3.0},
		},
		{
			name: "huatuo26m HF keys", src: Source{Kind: "qa", Preset: "huatuo26m"},
			record: `{"questions":"问题","answers":"回答"}`,
			want:   []schemas.Record{&schemas.QA{Question: "问题", Answer: "回答"}},
		},
		{
			name: "medicalgpt-qa-zh", src: Source{Kind: "qa", Preset: "medicalgpt-qa-zh"},
			record: `{"问":"肛门病变可能是什么疾病的症状?","答":"食管克罗恩病"}`,
			want:   []schemas.Record{&schemas.QA{Question: "肛门病变可能是什么疾病的症状?", Answer: "食管克罗恩病"}},
		},
		{
			name: "sharegpt qa", src: Source{Kind: "qa", Preset: "medicalgpt-sharegpt"},
			record: `{"conversations":[{"from":"human","value":"问"},{"from":"gpt","value":"答"}]}`,
			want:   []schemas.Record{&schemas.QA{Question: "问", Answer: "答"}},
		},
		{
			name: "sharegpt qa with system", src: Source{Kind: "qa", Preset: "medicalgpt-sharegpt"},
			record: `{"conversations":[{"from":"system","value":"你是医生"},{"from":"human","value":"问"},{"from":"gpt","value":"答"}]}`,
			want:   []schemas.Record{&schemas.QA{Question: "问", Answer: "答"}},
			meta:   map[string]any{"system": "你是医生"},
		},
		{
			name: "reward", src: Source{Kind: "preference", Preset: "medicalgpt-reward"},
			record: `{"question":"q","response_chosen":"c","response_rejected":"r"}`,
			want:   []schemas.Record{&schemas.PreferencePair{Prompt: "q", Chosen: "c", Rejected: "r"}},
		},
		{
			name: "sharegpt-dpo", src: Source{Kind: "preference", Preset: "sharegpt-dpo"},
			record: `{"conversations":[{"from":"system","value":"sys"},{"from":"human","value":"p"}],"chosen":"c","rejected":"r"}`,
			want:   []schemas.Record{&schemas.PreferencePair{Prompt: "p", Chosen: "c", Rejected: "r"}},
			meta:   map[string]any{"system": "sys"},
		},
		{
			name: "sharegpt-dpo llama-factory objects", src: Source{Kind: "preference", Preset: "sharegpt-dpo"},
			record: `{"conversations":[{"from":"human","value":"p"}],"chosen":{"from":"gpt","value":"c"},"rejected":{"from":"gpt","value":"r"}}`,
			want:   []schemas.Record{&schemas.PreferencePair{Prompt: "p", Chosen: "c", Rejected: "r"}},
		},
		{
			name: "cmexam csv", src: Source{Kind: "exam", Preset: "cmexam-csv"},
			record: `{"Question":"上消化道出血取决于","Options":"A 原发病\nB 出血部位\nC 出血量","Answer":"C","Explanation":"出血量（C对）","Disease Group":"不符合"}`,
			want: []schemas.Record{&schemas.ExamQuestion{Question: "上消化道出血取决于",
				Options: []schemas.Option{{Label: "A", Text: "原发病"}, {Label: "B", Text: "出血部位"}, {Label: "C", Text: "出血量"}},
				Answer:  "C", Explanation: "出血量（C对）"}},
			meta: map[string]any{"Disease Group": "不符合"},
		},
		{
			name: "cmexam xlsx literal backslash-n, multi answer", src: Source{Kind: "exam", Preset: "cmexam-xlsx"},
			record: `{"Question":"q","Options":"A 甲\\nB 乙\\nC 丙\\nD 丁","Answer":"ABD","Explanation":""}`,
			want: []schemas.Record{&schemas.ExamQuestion{Question: "q",
				Options: []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}, {Label: "C", Text: "丙"}, {Label: "D", Text: "丁"}},
				Answer:  "ABD"}},
		},
		{
			name: "cmmlu", src: Source{Kind: "exam", Preset: "cmmlu"},
			record: `{"":"0","Question":"女性生殖腺是","A":"卵巢","B":"前庭大腺","C":"前庭球","D":"乳腺","Answer":"A"}`,
			want: []schemas.Record{&schemas.ExamQuestion{Question: "女性生殖腺是",
				Options: []schemas.Option{{Label: "A", Text: "卵巢"}, {Label: "B", Text: "前庭大腺"}, {Label: "C", Text: "前庭球"}, {Label: "D", Text: "乳腺"}},
				Answer:  "A"}},
			meta: map[string]any{"": "0"},
		},
		{
			name: "cmeie", src: Source{Kind: "kg", Preset: "cmeie"},
			record: `{"text":"胆囊炎@…","spo_list":[{"Combined":true,"predicate":"手术治疗","subject":"胆囊炎","subject_type":"疾病","object":{"@value":"腹腔镜胆囊切除术"},"object_type":{"@value":"手术治疗"}},{"Combined":false,"predicate":"同义词","subject":"胆囊炎","subject_type":"疾病","object":{"@value":"胆囊感染"},"object_type":{"@value":"疾病"}}]}`,
			want: []schemas.Record{
				&schemas.Triple{Head: "胆囊炎", Relation: "手术治疗", Tail: "腹腔镜胆囊切除术", HeadType: "疾病", TailType: "手术治疗"},
				&schemas.Triple{Head: "胆囊炎", Relation: "同义词", Tail: "胆囊感染", HeadType: "疾病", TailType: "疾病"},
			},
			meta: map[string]any{"text": "胆囊炎@…", "Combined": true, "_each": 0.0},
		},
		{
			name: "qasystem", src: Source{Kind: "kg", Preset: "qasystem-medicalkg"},
			record: `{"_id":{"$oid":"5bb5"},"name":"百日咳","desc":"急性呼吸道传染病","symptom":["咳嗽","","鸡鸣样吸气"],"cure_department":["儿科","小儿内科"],"drug_detail":["同仁堂(阿莫西林)"],"check":"血常规"}`,
			want: []schemas.Record{
				&schemas.Triple{Head: "百日咳", Relation: "has_symptom", Tail: "咳嗽", HeadType: "Disease", TailType: "Symptom"},
				&schemas.Triple{Head: "百日咳", Relation: "has_symptom", Tail: "鸡鸣样吸气", HeadType: "Disease", TailType: "Symptom"},
				&schemas.Triple{Head: "百日咳", Relation: "belongs_to", Tail: "小儿内科", HeadType: "Disease", TailType: "Department"},
				&schemas.Triple{Head: "小儿内科", Relation: "belongs_to", Tail: "儿科", HeadType: "Department", TailType: "Department"},
				&schemas.Triple{Head: "百日咳", Relation: "need_check", Tail: "血常规", HeadType: "Disease", TailType: "Check"},
				&schemas.Triple{Head: "同仁堂", Relation: "drugs_of", Tail: "阿莫西林", HeadType: "Producer", TailType: "Drug"},
			},
			meta: map[string]any{"desc": "急性呼吸道传染病"},
		},
		{
			name: "spo-tsv", src: Source{Kind: "kg", Preset: "spo-tsv"},
			record: `{"head":"眼睛发红","relation":"类别","tail":"症状"}`,
			want:   []schemas.Record{&schemas.Triple{Head: "眼睛发红", Relation: "类别", Tail: "症状"}},
		},
		{
			name: "toyhom csv", src: Source{Kind: "dialogue", Preset: "toyhom-csv"},
			record: `{"department":"心血管科","title":"高血压能吃党参吗？","ask":"我有高血压","answer":"可以。"}`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "高血压能吃党参吗？，我有高血压"}, {Role: "assistant", Content: "可以。"}}}},
			meta: map[string]any{"department": "心血管科"},
		},
		{
			name: "toyhom csv ask repeats title", src: Source{Kind: "dialogue", Preset: "toyhom-csv"},
			record: `{"department":"内科","title":"头痛","ask":"头痛三天了","answer":"休息。"}`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "头痛三天了"}, {Role: "assistant", Content: "休息。"}}}},
		},
		{
			name: "toyhom txt", src: Source{Kind: "dialogue", Preset: "toyhom-txt"},
			record: `{"text":"头痛,头痛三天\n休息。","head":"头痛,头痛三天","body":"休息。"}`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "头痛,头痛三天"}, {Role: "assistant", Content: "休息。"}}}},
		},
		{
			name: "meddialog txt", src: Source{Kind: "dialogue", Preset: "meddialog-txt"},
			record: `{"id":"2","url":"https://x","description":{"疾病":"肺炎"},"dialogue":["预约医生： 王","病人：咳嗽","医生：\n多喝水"]}`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "咳嗽"}, {Role: "assistant", Content: "多喝水"}}}},
			meta: map[string]any{"description": map[string]any{"疾病": "肺炎"}, "skipped_turns": []any{"预约医生： 王"}},
		},
		{
			name: "meddialog json", src: Source{Kind: "dialogue", Preset: "meddialog-json"},
			record: `["病人：你好","医生：您好"]`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "你好"}, {Role: "assistant", Content: "您好"}}}},
		},
		{
			name: "disc-med", src: Source{Kind: "dialogue", Preset: "disc-med"},
			record: `{"_id":"01-1","source":"meddial","conversation":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			want: []schemas.Record{&schemas.Dialogue{Turns: []schemas.Turn{
				{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}}},
			meta: map[string]any{"_id": "01-1", "source": "meddial"},
		},
		{
			name: "pretrain", src: Source{Kind: "text", Preset: "medicalgpt-pretrain"},
			record: `{"text":"传染病是指…","head":"传染病是指…","body":""}`,
			want:   []schemas.Record{&schemas.Text{Text: "传染病是指…"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapOne(t, tt.src, tt.record)
			if err != nil {
				t.Fatalf("map: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows, want %d: %+v", len(got), len(tt.want), got)
			}
			ids := map[string]bool{}
			for i, r := range got {
				if r.RecordID() == "" || ids[r.RecordID()] {
					t.Errorf("row %d: id %q empty or repeated", i, r.RecordID())
				}
				ids[r.RecordID()] = true
				if r.RecordSource() != "src" {
					t.Errorf("row %d: source %q", i, r.RecordSource())
				}
				if !reflect.DeepEqual(stripped(r), tt.want[i]) {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, stripped(r), tt.want[i])
				}
			}
			meta := metaOf(t, got[0])
			for k, v := range tt.meta {
				if !reflect.DeepEqual(meta[k], v) {
					t.Errorf("meta[%q] = %#v, want %#v (meta %v)", k, meta[k], v, meta)
				}
			}
			if meta["_file"] != "raw/x.jsonl" || meta["_row"] != 2.0 || meta["_line"] != 3.0 {
				t.Errorf("provenance missing from meta %v", meta)
			}
		})
	}
}

// stripped clears the fields TestMapPresets checks separately.
func stripped(r schemas.Record) schemas.Record {
	switch x := r.(type) {
	case *schemas.Text:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	case *schemas.QA:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	case *schemas.Triple:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	case *schemas.Dialogue:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	case *schemas.PreferencePair:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	case *schemas.ExamQuestion:
		c := *x
		c.ID, c.Source, c.Meta = "", "", ""
		return &c
	}
	return r
}

func TestMapRecordErrors(t *testing.T) {
	tests := []struct {
		name   string
		src    Source
		record string
		err    string
	}{
		{"qa missing answer", Source{Kind: "qa", Preset: "alpaca"}, `{"instruction":"q","output":""}`, "answer (output)"},
		{"qa blank question", Source{Kind: "qa", Preset: "medicalgpt-qa-zh"}, `{"问":"  ","答":"a"}`, "question (问)"},
		{"multi-turn qa", Source{Kind: "qa", Preset: "medicalgpt-sharegpt"}, `{"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":"b"},{"from":"human","value":"c"}]}`, "use kind: dialogue"},
		{"unknown role", Source{Kind: "dialogue", Preset: "disc-med"}, `{"conversation":[{"role":"bot","content":"a"}]}`, `role "bot"`},
		{"unknown sharegpt role", Source{Kind: "qa", Preset: "medicalgpt-sharegpt"}, `{"conversations":[{"from":"robot","value":"a"}]}`, `role "robot" is not in turns.roles`},
		{"no turns", Source{Kind: "dialogue", Preset: "meddialog-txt"}, `{"id":"1","dialogue":[]}`, "no turns"},
		{"turns not a list", Source{Kind: "dialogue", Preset: "disc-med"}, `{"conversation":"hi"}`, "no speaker marker"},
		{"turns neither list nor string", Source{Kind: "dialogue", Preset: "disc-med"}, `{"conversation":{"a":1}}`, "not a list or a string"},
		{"no speaker prefix", Source{Kind: "dialogue", Preset: "meddialog-json"}, `["护士：你好"]`, "no speaker"},
		{"empty fixed turn", Source{Kind: "dialogue", Preset: "toyhom-csv"}, `{"title":"t","ask":"a","answer":""}`, "turns.fixed[1]"},
		{"kg missing tail", Source{Kind: "kg", Preset: "spo-tsv"}, `{"head":"h","relation":"r","tail":""}`, "tail"},
		{"cmeie element broken", Source{Kind: "kg", Preset: "cmeie"}, `{"spo_list":[{"subject":"a","predicate":"p","object":{"@value":"b"}},{"subject":"a","predicate":"p"}]}`, "spo_list[1]"},
		{"cmeie no list", Source{Kind: "kg", Preset: "cmeie"}, `{"text":"x"}`, "spo_list is missing"},
		{"drug_detail without producer", Source{Kind: "kg", Preset: "qasystem-medicalkg"}, `{"name":"病","drug_detail":["某药"]}`, "does not match"},
		{"kg record with no triple", Source{Kind: "kg", Preset: "qasystem-medicalkg"}, `{"name":"病"}`, "no rows"},
		{"exam answer not an option", Source{Kind: "exam", Preset: "cmexam-csv"}, `{"Question":"q","Options":"A 甲\nB 乙","Answer":"E"}`, `"E" is not an option label`},
		{"exam one option", Source{Kind: "exam", Preset: "cmexam-csv"}, `{"Question":"q","Options":"A 甲","Answer":"A"}`, "at least 2"},
		{"exam unlabelled cell", Source{Kind: "exam", Preset: "cmexam-csv"}, `{"Question":"q","Options":"甲\n乙","Answer":"A"}`, "label"},
		{"exam duplicate label", Source{Kind: "exam", Preset: "cmexam-csv"}, `{"Question":"q","Options":"A 甲\nA 乙","Answer":"A"}`, "twice"},
		{"preference missing rejected", Source{Kind: "preference", Preset: "medicalgpt-reward"}, `{"question":"q","response_chosen":"c"}`, "rejected"},
		{"dpo prompt not user", Source{Kind: "preference", Preset: "sharegpt-dpo"}, `{"conversations":[{"from":"gpt","value":"x"}],"chosen":"c","rejected":"r"}`, "end with a user turn"},
		{"object where text expected", Source{Kind: "qa", Preset: "medicalgpt-qa-zh"}, `{"问":{"a":1},"答":"a"}`, "is not text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := mapOne(t, tt.src, tt.record)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want one containing %q", err, tt.err)
			}
			if len(rows) != 0 {
				t.Errorf("a failed record gave %d rows", len(rows))
			}
		})
	}
}

func TestCompileMappingErrors(t *testing.T) {
	tests := []struct {
		name string
		src  Source
		err  string
	}{
		{"unknown column", Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a", "title": "t"}}}, `map.fields.title: qa records have no column "title"`},
		{"missing required", Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q"}}}, `need "answer"`},
		{"bad expression", Source{Kind: "text", Map: Mapping{Fields: map[string]string{"text": "a +"}}}, "map.fields.text"},
		{"dialogue without turns", Source{Kind: "dialogue"}, "map.turns"},
		{"bad role", Source{Kind: "dialogue", Map: Mapping{Turns: &TurnsMapping{Path: "c", Roles: map[string]string{"x": "doctor"}}}}, "roles.x"},
		{"exam without options", Source{Kind: "exam", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a"}}}, "map.options"},
		{"options on qa", Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a"}, Options: &OptionsMapping{Path: "o"}}}, "qa records have no options"},
		{"bad pattern", Source{Kind: "kg", Map: Mapping{Fields: map[string]string{"head": "h"}, Relations: []RelationMapping{{Field: "x", Relation: "r", Pattern: "("}}}}, "relations[0].pattern"},
		{"pattern without groups", Source{Kind: "kg", Map: Mapping{Fields: map[string]string{"head": "h"}, Relations: []RelationMapping{{Field: "x", Relation: "r", Pattern: "a"}}}}, "no (?P<head>"},
		{"each not a path", Source{Kind: "kg", Map: Mapping{Each: "'x'", Fields: map[string]string{"head": "h", "relation": "r", "tail": "t"}}}, "map.each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Name = "s"
			_, err := compileMapping(&tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "sources[s]") {
				t.Fatalf("error = %v, want one naming sources[s] and containing %q", err, tt.err)
			}
		})
	}
}

func TestApplyPresetOverrides(t *testing.T) {
	s, err := ApplyPreset(Source{Name: "a", Kind: "exam", Preset: "cmexam-xlsx", Paths: []string{"x.xlsx"},
		Map: Mapping{Fields: map[string]string{"explanation": "'none'"}, Options: &OptionsMapping{Path: "Options", Separator: "\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Map.Options.Separator != "\n" || s.Map.Fields["question"] != "Question" || s.Map.Fields["explanation"] != "'none'" || s.Format != "" || s.Paths[0] != "x.xlsx" {
		t.Errorf("override merged wrongly: %+v", s)
	}
	if Presets["cmexam-xlsx"].Map.Fields["explanation"] != "Explanation" || Presets["cmexam-xlsx"].Map.Options.Separator != `\n` {
		t.Error("ApplyPreset changed the preset itself")
	}
	if _, err := ApplyPreset(Source{Name: "a", Kind: "qa", Preset: "cmmlu"}); err == nil || !strings.Contains(err.Error(), "makes exam records") {
		t.Errorf("kind mismatch: %v", err)
	}
	if _, err := ApplyPreset(Source{Name: "a", Kind: "qa", Preset: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown preset") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestEveryPresetCompiles(t *testing.T) {
	for _, name := range PresetNames() {
		p := Presets[name]
		s, err := ApplyPreset(Source{Name: "x", Kind: p.Kind, Preset: name, Paths: []string{"x"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := compileMapping(&s); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestIDsStable(t *testing.T) {
	a, _ := mapOne(t, Source{Kind: "kg", Preset: "cmeie"}, `{"spo_list":[{"subject":"a","predicate":"p","object":{"@value":"b"}}]}`)
	b, _ := mapOne(t, Source{Kind: "kg", Preset: "cmeie"}, `{"spo_list":[{"subject":"a","predicate":"p","object":{"@value":"b"}}]}`)
	if a[0].RecordID() != b[0].RecordID() || a[0].RecordID() != schemas.StableIDAt("src", "raw/x.jsonl", 2, 0) {
		t.Errorf("ids %s %s", a[0].RecordID(), b[0].RecordID())
	}
	q, _ := mapOne(t, Source{Kind: "qa", Preset: "alpaca"}, `{"instruction":"q","output":"a"}`)
	if q[0].RecordID() != schemas.StableIDAt("src", "raw/x.jsonl", 2, -1) {
		t.Errorf("one-row record id %s", q[0].RecordID())
	}
}

func FuzzParseOptionCell(f *testing.F) {
	for _, s := range []string{"A 原发病\nB 出血部位", `A 甲\nB 乙`, "A. x\n续行\nB、y", "", "\n\n", "甲"} {
		f.Add(s, "\n")
		f.Add(s, `\n`)
	}
	f.Fuzz(func(t *testing.T, cell, sep string) {
		if sep == "" {
			sep = "\n"
		}
		opts, err := parseOptionCell(cell, sep)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, o := range opts {
			if len(o.Label) != 1 || seen[o.Label] {
				t.Fatalf("bad labels %+v", opts)
			}
			seen[o.Label] = true
		}
		if len(opts) > 0 {
			_, _ = resolveAnswer(opts[0].Label, opts, "")
		}
	})
}

// FuzzMapRecord runs every preset's mapping over arbitrary JSON records: a
// record either maps to complete rows or fails with an error, never a panic.
func FuzzMapRecord(f *testing.F) {
	for _, s := range []string{
		`{"instruction":"q","output":"a"}`,
		`{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}],"chosen":"c","rejected":"r"}`,
		`{"spo_list":[{"subject":"a","predicate":"p","object":{"@value":"b"}}]}`,
		`{"name":"病","symptom":["咳"],"cure_department":["内科","呼吸内科"],"drug_detail":["厂(药)"]}`,
		`{"Question":"q","Options":"A 甲\nB 乙","Answer":"AB","A":"x","B":"y"}`,
		`["病人：你好","医生：您好"]`,
		`{"dialogue":["预约医生： x","病人：a"],"conversation":[{"role":"user","content":"a"}]}`,
		`{"question":"q","opa":"甲","opb":"乙","opc":"丙","opd":"丁","cop":3,"answer":"opb"}`,
		`{"question":"q","option":{"A":"甲","B":"乙","E":""},"answer":"AB"}`,
		`{"question":"q","option":"A. 甲 B. 乙 (C)丙","answer":"C. 丙"}`,
		`{"system":"s","history":[["a","b"],["c"]],"instruction":"i","input":"","output":"o"}`,
		`{"input":"前言 <user>: a <bot>: b 患者：c 医生:d","output":"e"}`,
		`{"info":{"desc":"d","other":{"x":[1,2]}},"food":{"good_diet_text":"g"}}`,
		`{"text":"<s>问：\n头痛怎么办，\n应该\n\n1. 休息\n答：\n","history":["你好","您好"]}`,
	} {
		f.Add(s, uint8(0))
	}
	names := PresetNames()
	var sources []Source
	for _, n := range names {
		s, err := ApplyPreset(Source{Name: "f", Kind: Presets[n].Kind, Preset: n, Paths: []string{"x"}})
		if err != nil {
			f.Fatal(err)
		}
		sources = append(sources, s)
	}
	// Mappings with the keys no preset uses.
	for _, a := range answerModes {
		sources = append(sources, Source{Kind: "exam", Map: Mapping{AnswerIs: a,
			Fields: map[string]string{"question": "question", "answer": "answer | cop"}, Options: &OptionsMapping{Columns: []string{"opa", "opb", "opc", "opd"}}}})
	}
	sources = append(sources,
		Source{Kind: "exam", Map: Mapping{Fields: map[string]string{"question": "question", "answer": "answer"}, Options: &OptionsMapping{Path: "option"},
			Steps: map[string][]Step{"options": {{Strip: `^\s*\d+`}}}}},
		Source{Kind: "dialogue", Map: Mapping{Turns: alpacaHistory}},
		Source{Kind: "dialogue", Map: Mapping{Turns: &TurnsMapping{Path: "input", Fixed: []FixedTurn{{Role: "assistant", Content: "output"}}}}},
		Source{Kind: "dialogue", Map: Mapping{Turns: &TurnsMapping{Path: "history", Alternate: "user", Preamble: "system"}}},
		Source{Kind: "qa", MaxMetaBytes: 64, Map: Mapping{Fields: map[string]string{"question": "info.desc", "answer": "food.good_diet_text"}}},
		Source{Kind: "text", Map: Mapping{Fields: map[string]string{"text": "text"},
			Steps: map[string][]Step{"text": {{Strip: `^<s>问：|答：\s*$`}, {Replace: `(\d)\.`, With: "$1、"}, {Unwrap: true}}}}},
	)
	mappers := make([]*mapper, len(sources))
	for i := range sources {
		sources[i].Name = "f"
		var err error
		if mappers[i], err = compileMapping(&sources[i]); err != nil {
			f.Fatal(err)
		}
		if i >= len(names) {
			names = append(names, fmt.Sprintf("custom %d", i-len(PresetNames())))
		}
	}
	f.Fuzz(func(t *testing.T, js string, which uint8) {
		var v any
		if json.Unmarshal([]byte(js), &v) != nil {
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			m = map[string]any{"_value": v}
		}
		mp := mappers[int(which)%len(mappers)]
		raw := Raw{Loc: Location{File: "f", Row: 1}, Fields: m}
		rows, err := mp.mapRecord(&raw, nil)
		if err != nil {
			if len(rows) != 0 {
				t.Fatalf("%s: error %v with %d rows", names[int(which)%len(mappers)], err, len(rows))
			}
			return
		}
		for _, r := range rows {
			if r.RecordID() == "" {
				t.Fatalf("row without id: %+v", r)
			}
			if meta := metaOf(t, r); meta["_file"] != "f" {
				t.Fatalf("meta without provenance: %v", meta)
			}
			if q, ok := r.(*schemas.ExamQuestion); ok {
				for _, l := range q.Answer {
					if !slices.ContainsFunc(q.Options, func(o schemas.Option) bool { return o.Label == string(l) }) {
						t.Fatalf("answer %q names no option of %+v", q.Answer, q.Options)
					}
				}
			}
		}
	})
}

// TestTextViewsStayOutOfMeta: a text record's text, head and body are
// views of one text, so a mapping that reads one of them leaves the
// others out of meta; fields of the same names in a JSON record are raw
// fields of their own and stay.
func TestTextViewsStayOutOfMeta(t *testing.T) {
	for _, tt := range []struct {
		preset string
		text   string
		views  bool
		want   []string // of text, head and body, the keys meta must have
	}{
		{"medicalgpt-pretrain", "传染病是指…", true, nil},
		{"toyhom-txt", "头痛,头痛三天\n休息。", true, nil},
		{"medicalgpt-pretrain", "传染病是指…\n第二行", false, []string{"head", "body"}},
	} {
		src, err := ApplyPreset(Source{Name: "src", Preset: tt.preset})
		if err != nil {
			t.Fatal(err)
		}
		mp, err := compileMapping(&src)
		if err != nil {
			t.Fatal(err)
		}
		raw := Raw{Loc: Location{File: "raw/x.txt", Line: 1}, Fields: textFields(tt.text), Text: tt.text}
		if tt.views {
			raw.Views = textViews
		}
		got, err := mp.mapRecord(&raw, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %d rows, %v", tt.preset, len(got), err)
		}
		meta := metaOf(t, got[0])
		for _, k := range textViews {
			if _, ok := meta[k]; ok != slices.Contains(tt.want, k) {
				t.Errorf("%s (views %v): meta %v, want of %v only %v", tt.preset, tt.views, meta, textViews, tt.want)
			}
		}
	}
}
