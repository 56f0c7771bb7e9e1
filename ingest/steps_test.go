package ingest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func TestUnwrapLines(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a sentence wrapped twice", "高血压是一种常见的慢性疾病，患者应当注意\n饮食清淡，减少食盐的摄入量，并且坚持适量\n运动。", "高血压是一种常见的慢性疾病，患者应当注意饮食清淡，减少食盐的摄入量，并且坚持适量运动。"},
		{"ends of sentences kept", "高血压是一种常见的慢性疾病，应当注意饮食。\n患者还应坚持运动，并且定期测量血压数值！\n", "高血压是一种常见的慢性疾病，应当注意饮食。\n患者还应坚持运动，并且定期测量血压数值！\n"},
		{"a wrap after a comma", "患者出现头痛、发热、乏力等症状，\n应及时就医。", "患者出现头痛、发热、乏力等症状，应及时就医。"},
		{"blank line is a paragraph break", "第一段的内容写到这里还没有结束\n\n第二段的内容", "第一段的内容写到这里还没有结束\n\n第二段的内容"},
		{"list items kept", "治疗原则包括以下几个方面的内容\n1. 休息\n2、饮食\n（三）运动\n- 心理", "治疗原则包括以下几个方面的内容\n1. 休息\n2、饮食\n（三）运动\n- 心理"},
		{"a wrapped list item joined", "1. 患者应注意休息，避免劳累，保持心情\n舒畅。\n2. 饮食清淡。", "1. 患者应注意休息，避免劳累，保持心情舒畅。\n2. 饮食清淡。"},
		{"a short heading is no wrap", "概述\n高血压是一种常见的慢性疾病，患者应当注意饮食清淡。", "概述\n高血压是一种常见的慢性疾病，患者应当注意饮食清淡。"},
		{"an indented paragraph is no continuation", "高血压是一种常见的慢性疾病患者应当注意\n　　饮食清淡。", "高血压是一种常见的慢性疾病患者应当注意\n　　饮食清淡。"},
		{"a tag line is no continuation", "高血压是一种常见的慢性疾病患者应当注意\n<篇名>饮食", "高血压是一种常见的慢性疾病患者应当注意\n<篇名>饮食"},
		{"CRLF and trailing blanks", "高血压是一种常见的慢性疾病患者应当注意 \r\n饮食清淡。\r\n", "高血压是一种常见的慢性疾病患者应当注意饮食清淡。\r\n"},
		{"closing quote ends it", "他说：“高血压是一种常见的慢性疾病。”\n饮食清淡。", "他说：“高血压是一种常见的慢性疾病。”\n饮食清淡。"},
		{"English is left alone", "Hypertension is a common chronic\ndisease.", "Hypertension is a common chronic\ndisease."},
		{"one line", "没有换行", "没有换行"},
	}
	for _, tt := range tests {
		if got := unwrapLines(tt.in); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		name   string
		src    Source
		record string
		want   schemas.Record
	}{
		{
			name: "a baked-in prompt template stripped",
			src: Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "input", "answer": "output"},
				Steps: map[string][]Step{"question": {{Strip: `^<s>问：|答：\s*$`}}, "answer": {{Strip: `</s>$`}}}}},
			record: `{"input":"<s>问：\n头痛怎么办？\n答：\n","output":"多休息。</s>"}`,
			want:   &schemas.QA{Question: "头痛怎么办？", Answer: "多休息。"},
		},
		{
			name: "section tags replaced, wraps re-joined",
			src: Source{Kind: "text", Map: Mapping{Fields: map[string]string{"title": "title", "text": "text"},
				Steps: map[string][]Step{
					"title": {{Replace: `<篇名>(.*)`, With: "$1"}},
					"text":  {{Strip: `(?m)^<(篇名|目录)>.*$`}, {Unwrap: true}},
				}}},
			record: `{"title":"<篇名>上古天真论","text":"<目录>卷一\n<篇名>上古天真论\n昔在黄帝，生而神灵，弱而能言，幼而徇齐，\n长而敦敏，成而登天。"}`,
			want:   &schemas.Text{Title: "上古天真论", Text: "昔在黄帝，生而神灵，弱而能言，幼而徇齐，长而敦敏，成而登天。"},
		},
		{
			name: "turn steps; a turn left empty is no turn",
			src: Source{Kind: "dialogue", Map: Mapping{Turns: &TurnsMapping{Path: "t"},
				Steps: map[string][]Step{"turns": {{Strip: `\[图片\]`}}}}},
			record: `{"t":"患者：头痛[图片] 医生：多休息 患者：[图片]"}`,
			want:   &schemas.Dialogue{Turns: []schemas.Turn{{Role: "user", Content: "头痛"}, {Role: "assistant", Content: "多休息"}}},
		},
		{
			name: "option steps before the answer is matched",
			src: Source{Kind: "exam", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a"}, Options: &OptionsMapping{Path: "o"},
				Steps: map[string][]Step{"options": {{Strip: `（\d+分）`}}}}},
			record: `{"q":"题","o":["甲（1分）","乙（1分）"],"a":"乙"}`,
			want: &schemas.ExamQuestion{Question: "题", Options: []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}},
				Answer: "B"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := mapOne(t, tt.src, tt.record)
			if err != nil {
				t.Fatal(err)
			}
			if got := stripped(rows[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStepsValidated(t *testing.T) {
	qa := map[string]string{"question": "q", "answer": "a"}
	for _, tt := range []struct {
		kind  schemas.Kind
		steps map[string][]Step
		err   string
	}{
		{"qa", map[string][]Step{"question": {{Strip: "("}}}, "sources[s].map.steps.question[0].strip: error parsing regexp"},
		{"qa", map[string][]Step{"answer": {{}, {Replace: "[", With: "x"}}}, "steps.answer[0]: give exactly one"},
		{"qa", map[string][]Step{"answer": {{Replace: "[", With: "x"}}}, "steps.answer[0].replace"},
		{"qa", map[string][]Step{"answer": {{Strip: "a", Unwrap: true}}}, "exactly one"},
		{"qa", map[string][]Step{"answer": {{Strip: "a", With: "b"}}}, "steps.answer[0].with"},
		{"qa", map[string][]Step{"options": {{Unwrap: true}}}, `steps.options: qa records have no "options"`},
		{"text", map[string][]Step{"turns": {{Unwrap: true}}}, `steps.turns: text records have no "turns"`},
	} {
		s := Source{Name: "s", Kind: tt.kind, Map: Mapping{Steps: tt.steps, Fields: qa}}
		if tt.kind == "text" {
			s.Map.Fields = map[string]string{"text": "t"}
		}
		if _, err := compileMapping(&s); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: error %v, want one containing %q", tt.steps, err, tt.err)
		}
	}
}

// FuzzUnwrapLines: unwrapping only ever removes line breaks and the blanks
// before them, never a character of text.
func FuzzUnwrapLines(f *testing.F) {
	for _, s := range []string{"高血压是一种常见的慢性疾病，患者应当注意\n饮食清淡。", "a\r\n\r\nb", "1. 甲\n2. 乙", "第一章\n　　正文", "\n\n", "乙 \n丙"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := unwrapLines(s)
		if strings.Count(got, "\n") > strings.Count(s, "\n") {
			t.Fatalf("more lines out than in: %q → %q", s, got)
		}
		squeeze := func(x string) string {
			return strings.Map(func(r rune) rune {
				if strings.ContainsRune(" \t\r\n", r) {
					return -1
				}
				return r
			}, x)
		}
		if squeeze(got) != squeeze(s) {
			t.Fatalf("text changed: %q → %q", s, got)
		}
	})
}
