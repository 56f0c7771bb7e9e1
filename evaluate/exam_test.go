package evaluate

import (
	"testing"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

var abcde = []string{"A", "B", "C", "D", "E"}

func TestParseAnswer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"答案：C", "C"},
		{"答案:B。解析：……", "B"},
		{"正确答案是 A、C", "AC"},
		{"答案为DBA", "ABD"},
		{"答案：ab", "AB"},
		{"B", "B"},
		{"  AC。因为……", "AC"},
		{"答案：F", ""},                    // not an option
		{"本题考查糖尿病的诊断", ""},              // no answer at all
		{"Because the answer is C", ""}, // English prose is no bare answer
		{"答案：\n解析", ""},
		{"我认为答案：E", "E"},
	}
	for _, tt := range tests {
		if got := ParseAnswer(tt.in, abcde); got != tt.want {
			t.Errorf("ParseAnswer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"答案：C", "正确答案是 A、C", "AC。", "", "答案：\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseAnswer(s, abcde)
		if NormalizeAnswer(got, abcde) != got {
			t.Fatalf("ParseAnswer(%q) = %q is not a normalized label set", s, got)
		}
		if !utf8.ValidString(got) || len(got) > len(abcde) {
			t.Fatalf("ParseAnswer(%q) = %q", s, got)
		}
	})
}

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct {
		in     string
		labels []string
		want   string
	}{
		{"dBa", abcde, "ABD"},
		{"E", []string{"A", "B", "C", "D"}, ""},
		{"A,C", abcde, "AC"},
		{"", abcde, ""},
	}
	for _, tt := range tests {
		if got := NormalizeAnswer(tt.in, tt.labels); got != tt.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExamBlock(t *testing.T) {
	q := &schemas.ExamQuestion{Question: " 糖尿病的典型症状是？", Options: []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽 "}}}
	want := examInstruction + "\n糖尿病的典型症状是？\nA. 多饮\nB. 咳嗽"
	if got := ExamBlock(q, nil); got != want {
		t.Errorf("ExamBlock = %q, want %q", got, want)
	}
	if got := ExamBlock(q, []string{"糖尿病：症状：多饮"}); got != ragLead+"\n糖尿病：症状：多饮\n"+want {
		t.Errorf("ExamBlock with passages = %q", got)
	}
}

// examTrainingText is what a model that learned question q with answer ans
// would have seen.
func examTrainingText(m Model, q *schemas.ExamQuestion, ans string) string {
	return m.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead + ans + AnswerEnd
}

func TestLikelihoodAnswersMultiLabel(t *testing.T) {
	q := &schemas.ExamQuestion{Question: "下列哪些是糖尿病的症状？", Options: []schemas.Option{
		{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}, {Label: "D", Text: "皮疹"}}}
	tmpl := newBigram()
	tests := []struct {
		trained []string // answers the model saw
		want    string
	}{
		{[]string{"AC", "AC"}, "AC"},
		{[]string{"B", "B"}, "B"},
		{[]string{"ACD"}, "ACD"},
		{[]string{"D"}, "D"},
	}
	for _, tt := range tests {
		var texts []string
		for _, a := range tt.trained {
			texts = append(texts, examTrainingText(tmpl, q, a))
		}
		m := newBigram(texts...)
		s := &scorer{m: m, batch: 3}
		got, err := likelihoodAnswers(s, []string{m.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead}, [][]string{labelsOf(q)})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("trained on %v: predicted %q, want %q", tt.trained, got[0], tt.want)
		}
	}
}

func TestVerifyAnswers(t *testing.T) {
	q := &schemas.ExamQuestion{Question: "下列哪些是糖尿病的症状？", Options: []schemas.Option{
		{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}}}
	c := &examCase{q: q, labels: labelsOf(q), gold: "AC", user: ExamBlock(q, nil)}
	// A bigram model only sees the character before "正确"/"错误", the
	// label, so it learns per-label verdicts from these texts.
	good := newBigram("选项A正确", "选项B错误", "选项C正确")
	bad := newBigram("选项A错误", "选项B正确", "选项C错误")
	for _, tt := range []struct {
		m    *bigramLM
		want string
	}{{good, "AC"}, {bad, "B"}} {
		got, err := verifyAnswers(&scorer{m: tt.m, batch: 4}, tt.m, []*examCase{c})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("verification gave %q, want %q", got[0], tt.want)
		}
	}
	// Every verdict negative: the least negative option is the answer.
	none := newBigram("选项A错误", "选项B错误", "选项B正确", "选项C错误", "选项C错误")
	got, _ := verifyAnswers(&scorer{m: none, batch: 4}, none, []*examCase{c})
	if got[0] != "B" {
		t.Errorf("all-negative verification gave %q, want B", got[0])
	}
}
