package ingest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func examSource(answerIs string, opts *OptionsMapping) Source {
	return Source{Kind: "exam", Map: Mapping{
		Fields:   map[string]string{"question": "question", "answer": "answer"},
		Options:  opts,
		AnswerIs: answerIs,
	}}
}

var medmcqaColumns = &OptionsMapping{Columns: []string{"opa", "opb", "opc", "opd"}}

func TestExamAnswersAndOptions(t *testing.T) {
	abcd := []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}, {Label: "C", Text: "丙"}, {Label: "D", Text: "丁"}}
	medmcqa := `"question":"q","opa":"甲","opb":"乙","opc":"丙","opd":"丁"`
	tests := []struct {
		name     string
		answerIs string
		opts     *OptionsMapping
		record   string
		options  []schemas.Option
		answer   string
		err      string
	}{
		{"MedMCQA cop from 0", AnswerIndex0, medmcqaColumns, `{` + medmcqa + `,"answer":1}`, abcd, "B", ""},
		{"MedMCQA cop from 1", AnswerIndex1, medmcqaColumns, `{` + medmcqa + `,"answer":1}`, abcd, "A", ""},
		{"index as a CSV float", AnswerIndex0, medmcqaColumns, `{` + medmcqa + `,"answer":"3.0"}`, abcd, "D", ""},
		{"index past the options", AnswerIndex0, medmcqaColumns, `{` + medmcqa + `,"answer":4}`, nil, "", "not among the options"},
		{"index not a number", AnswerIndex1, medmcqaColumns, `{` + medmcqa + `,"answer":"B"}`, nil, "", "not an option number"},
		{"index of an empty column", AnswerIndex0, medmcqaColumns, `{"question":"q","opa":"甲","opb":"","opc":"丙","answer":1}`, nil, "", "option B"},
		{"number not sniffed", "", medmcqaColumns, `{` + medmcqa + `,"answer":2}`, nil, "", "set map.answer_is to index0 or index1"},
		{"column name sniffed", "", medmcqaColumns, `{` + medmcqa + `,"answer":"opb"}`, abcd, "B", ""},
		{"column name explicit, two", AnswerKey, medmcqaColumns, `{` + medmcqa + `,"answer":"opd, OPA"}`, abcd, "AD", ""},
		{"key not a column", AnswerKey, medmcqaColumns, `{` + medmcqa + `,"answer":"ope"}`, nil, "", `"ope" is not an option key`},
		{"text sniffed", "", medmcqaColumns, `{` + medmcqa + `,"answer":" 丙 "}`, abcd, "C", ""},
		{"label and text sniffed", "", medmcqaColumns, `{` + medmcqa + `,"answer":"C. 丙"}`, abcd, "C", ""},
		{"texts explicit", AnswerText, medmcqaColumns, `{` + medmcqa + `,"answer":"丁；甲"}`, abcd, "AD", ""},
		{"text of two options", AnswerText, &OptionsMapping{Path: "o"}, `{"question":"q","o":["同","同"],"answer":"同"}`, nil, "", "options A, B alike"},
		{"label explicit is not a key", AnswerLabel, medmcqaColumns, `{` + medmcqa + `,"answer":"opb"}`, nil, "", `"O" is not an option label`},
		{"nan is nothing", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"A 甲\nB 乙","answer":"nan"}`, nil, "", `"N" is not an option label`},
		{"CMB dict, multi answer", "", &OptionsMapping{Path: "option"}, `{"question":"q","option":{"A":"甲","B":"乙","C":"丙","D":"丁","E":""},"answer":"ABD"}`, abcd, "ABD", ""},
		{"dict with column keys", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":{"opb":"乙","opa":"甲"},"answer":"opb"}`, abcd[:2], "B", ""},
		{"dict keys in natural order", AnswerIndex1, &OptionsMapping{Path: "o"}, `{"question":"q","o":{"option10":"癸","option2":"乙","option1":"甲","option3":"丙","option4":"丁","option5":"戊","option6":"己","option7":"庚","option8":"辛","option9":"壬"},"answer":10}`,
			[]schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}, {Label: "C", Text: "丙"}, {Label: "D", Text: "丁"}, {Label: "E", Text: "戊"}, {Label: "F", Text: "己"}, {Label: "G", Text: "庚"}, {Label: "H", Text: "辛"}, {Label: "I", Text: "壬"}, {Label: "J", Text: "癸"}}, "J", ""},
		{"list of texts, index", AnswerIndex0, &OptionsMapping{Path: "o"}, `{"question":"q","o":["甲","乙","丙","丁"],"answer":[0,2]}`, abcd, "AC", ""},
		{"letter columns", "", &OptionsMapping{Columns: []string{"A", "B", "C", "D"}}, `{"question":"q","A":"甲","B":"乙","C":"丙","D":"丁","answer":"b"}`, abcd, "B", ""},
		{"cell, one a line", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"A.甲\nB、乙\n(C)丙\nD：丁","answer":"A、B、D"}`, abcd, "ABD", ""},
		{"cell, inline dots", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"A. 甲 B. 乙 C. 丙 D. 丁","answer":"D"}`, abcd, "D", ""},
		{"cell, inline brackets", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"(A)甲(B)乙（C）丙(D)丁","answer":"C"}`, abcd, "C", ""},
		{"cell, inline colons and separators", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"A:甲；B:乙；C:丙；D:丁","answer":"a"}`, abcd, "A", ""},
		{"cell, vitamin B is no marker", "", &OptionsMapping{Path: "o"}, `{"question":"q","o":"A.维生素B.缺乏 B.叶酸","answer":"B"}`,
			[]schemas.Option{{Label: "A", Text: "维生素B.缺乏"}, {Label: "B", Text: "叶酸"}}, "B", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := mapOne(t, examSource(tt.answerIs, tt.opts), tt.record)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q := rows[0].(*schemas.ExamQuestion)
			if !reflect.DeepEqual(q.Options, tt.options) || q.Answer != tt.answer {
				t.Errorf("got %+v answer %q, want %+v answer %q", q.Options, q.Answer, tt.options, tt.answer)
			}
		})
	}
}

func TestAnswerIsValidated(t *testing.T) {
	s := examSource("letter", medmcqaColumns)
	s.Name = "s"
	if _, err := compileMapping(&s); err == nil || !strings.Contains(err.Error(), "sources[s].map.answer_is") {
		t.Errorf("error = %v, want one naming sources[s].map.answer_is", err)
	}
	q := Source{Name: "s", Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a"}, AnswerIs: AnswerKey}}
	if _, err := compileMapping(&q); err == nil || !strings.Contains(err.Error(), "map.answer_is") {
		t.Errorf("qa with answer_is: %v", err)
	}
}

func TestInlineOptions(t *testing.T) {
	for _, tt := range []struct {
		cell string
		want []string // texts, labelled A, B, …
	}{
		{"A. 甲 B. 乙", []string{"甲", "乙"}},
		{"a) x; b) y; c) z", []string{"x", "y", "z"}},
		{"（A）甲（B）乙", []string{"甲", "乙"}},
		{"甲 B. 乙", nil},                   // does not start with A
		{"A. B. C.", nil},                 // markers without texts
		{"A. 甲 C. 丙", []string{"甲 C. 丙"}}, // C is no marker before B
		{"", nil},
	} {
		got := inlineOptions(tt.cell)
		var texts []string
		for i, o := range got {
			if o.Label != labelOf(i) {
				t.Errorf("%q: option %d labelled %s", tt.cell, i, o.Label)
			}
			texts = append(texts, o.Text)
		}
		if !reflect.DeepEqual(texts, tt.want) {
			t.Errorf("inlineOptions(%q) = %q, want %q", tt.cell, texts, tt.want)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"option2", "option10", -1}, {"opa", "opb", -1}, {"a01", "a1", 0}, {"b", "a9", 1}, {"x", "x1", -1},
	} {
		if got := naturalCompare(tt.a, tt.b); got != tt.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzResolveAnswer: whatever the answer and options, a resolved answer
// names only options there are, in every mode.
func FuzzResolveAnswer(f *testing.F) {
	for _, s := range []string{"A", "ABD", "opb", "2", "2.0", "nan", "C. 丙", "甲；丁", "A. 甲 B. 乙", "(A)甲(B)乙"} {
		f.Add(s, "A. 甲 B. 乙 C. 丙 D. 丁", uint8(0))
	}
	f.Fuzz(func(t *testing.T, ans, cell string, knob uint8) {
		opts, err := parseOptionCell(cell, "\n")
		if err != nil {
			return
		}
		mode := ""
		if int(knob)%(len(answerModes)+1) > 0 {
			mode = answerModes[int(knob)%(len(answerModes)+1)-1]
		}
		got, err := resolveAnswer(ans, opts, mode)
		if err != nil {
			return
		}
		if got == "" {
			t.Fatalf("%q in mode %q resolved to nothing", ans, mode)
		}
		for _, l := range got {
			if !strings.Contains(optionLabels(opts), string(l)) {
				t.Fatalf("%q in mode %q gave %q, options %s", ans, mode, got, optionLabels(opts))
			}
		}
	})
}
