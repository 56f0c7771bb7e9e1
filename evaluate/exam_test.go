package evaluate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
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
		{"答案：胰岛素（C）\n解析：……", "C"},
		{"答案：CT检查（B）", "B"},     // the option's text may begin with letters
		{"答案：胰岛素（F）", ""},       // not an option
		{"答案：A. 胰岛素（口服）", "A"},  // labels first; the bracket holds no label
		{"答案：胰岛素\n解析：见（C）", ""}, // a label on a later line is no answer
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
	opts := []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽 "}}
	single := &schemas.ExamQuestion{Question: " 糖尿病的典型症状是？", Options: opts, Answer: "A"}
	multi := &schemas.ExamQuestion{Question: "糖尿病的典型症状是？", Options: opts, Answer: "AB"}
	body := "\n糖尿病的典型症状是？\nA. 多饮\nB. 咳嗽"
	tests := []struct {
		q        *schemas.ExamQuestion
		passages []string
		want     string
	}{
		{single, nil, singleInstruction + body},
		{multi, nil, multiInstruction + body},
		{single, []string{"糖尿病：症状：多饮", "多饮多尿"}, ragLead + "\n糖尿病：症状：多饮\n多饮多尿\n" + singleInstruction + body},
	}
	for _, tt := range tests {
		if got := ExamBlock(tt.q, tt.passages); got != tt.want {
			t.Errorf("ExamBlock = %q, want %q", got, tt.want)
		}
	}
}

// examTrainingText is what a model that learned question q with answer ans
// would have seen, in the SFT template of stages/exam.go.
func examTrainingText(m Model, q *schemas.ExamQuestion, ans string) string {
	answer := ans + AnswerEnd
	if len(ans) == 1 {
		for _, o := range q.Options {
			if o.Label == ans {
				answer = o.Text + stages.ExamLabelOpen + ans + stages.ExamLabelClose
			}
		}
	}
	return m.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead + answer
}

func TestLikelihoodAnswers(t *testing.T) {
	q := &schemas.ExamQuestion{Question: "下列哪些是糖尿病的症状？", Options: []schemas.Option{
		{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}, {Label: "D", Text: "皮疹"}}}
	tmpl := newBigram()
	tests := []struct {
		trained []string // answers the model saw
		multi   bool
		want    string
	}{
		{[]string{"AC", "AC"}, true, "AC"},
		{[]string{"ACD"}, true, "ACD"},
		{[]string{"BD", "D"}, true, "BD"},
		{[]string{"B", "B"}, false, "B"},
		{[]string{"D"}, false, "D"},
		{[]string{"AC", "AC"}, false, "A"}, // single choice: one label only
	}
	for _, tt := range tests {
		var texts []string
		for _, a := range tt.trained {
			q.Answer = a
			texts = append(texts, tmpl.ChatPrompt(userTurn(ExamBlock(q, nil)))+answerLead+a+AnswerEnd)
		}
		q.Answer = "A"
		if tt.multi {
			q.Answer = "AB"
		}
		m := newBigram(texts...)
		s := &scorer{m: m, batch: 3}
		got, err := likelihoodAnswers(s, []string{m.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead}, [][]string{labelsOf(q)}, []bool{tt.multi})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("trained on %v (multi %v): predicted %q, want %q", tt.trained, tt.multi, got[0], tt.want)
		}
	}
}

// TestStatedAnswers checks the template's reading: a single-choice answer
// is the label of the likeliest complete answer "<option text>（X）"; a
// multiple-choice answer is read label first.
func TestStatedAnswers(t *testing.T) {
	opts := []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}, {Label: "D", Text: "皮疹"}}
	tmpl := newBigram()
	tests := []struct {
		trained []string // answers the model saw, as it wrote them
		answer  string   // the gold answer, which sets single or multiple choice
		want    string
	}{
		{[]string{"咳嗽（B）", "咳嗽（B）"}, "B", "B"},
		{[]string{"皮疹（D）"}, "B", "D"},
		{[]string{"AC\n", "AC\n"}, "AC", "AC"},
	}
	for _, tt := range tests {
		q := &schemas.ExamQuestion{Question: "下列哪项是肺炎的症状？", Options: opts, Answer: tt.answer}
		var texts []string
		for _, a := range tt.trained {
			texts = append(texts, tmpl.ChatPrompt(userTurn(ExamBlock(q, nil)))+answerLead+a)
		}
		m := newBigram(texts...)
		c := &examCase{q: q, labels: labelsOf(q)}
		got, err := statedAnswers(&scorer{m: m, batch: 2}, []string{m.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead}, []*examCase{c})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("trained on %q: answered %q, want %q", tt.trained, got[0], tt.want)
		}
	}
}

func TestFitPassages(t *testing.T) {
	p := []string{"糖尿病的典型症状是多饮多尿多食", "肺炎的常见症状有发热咳嗽"} // 15 and 12 runes
	tests := []struct {
		budget int
		want   []string
	}{
		{1000, p},
		{6 + 16 + 13, p},     // lead line 6, each passage + newline
		{6 + 16 + 12, p[:1]}, // the second would be cut under ragMinRunes
		{6 + 13, []string{"糖尿病的典型症状是多饮多"}}, // cut to 12
		{6 + 12, nil},
		{-5, nil},
	}
	for _, tt := range tests {
		got := fitPassages(p, tt.budget, utf8.RuneCountInString)
		if len(got) != len(tt.want) {
			t.Errorf("fitPassages(budget %d) = %q, want %q", tt.budget, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("fitPassages(budget %d) = %q, want %q", tt.budget, got, tt.want)
			}
		}
	}
}

func TestVerifyAnswers(t *testing.T) {
	q := &schemas.ExamQuestion{Question: "下列哪些是糖尿病的症状？", Options: []schemas.Option{
		{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}, {Label: "C", Text: "多尿"}}}
	q.Answer = "AC"
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
	// Single choice: only the best option, even when others look right.
	q.Answer = "A"
	c.gold, c.user = "A", ExamBlock(q, nil)
	got, _ = verifyAnswers(&scorer{m: good, batch: 4}, good, []*examCase{c})
	if got[0] != "A" {
		t.Errorf("single-choice verification gave %q, want A", got[0])
	}
}

// windowed is a bigram model with a bounded context.
type windowed struct {
	*bigramLM
	n int
}

func (m windowed) ContextTokens() int { return m.n }

func (m windowed) CountTokens(s string) int { return utf8.RuneCountInString(s) }

func TestRAGPromptFitsContext(t *testing.T) {
	q := &schemas.ExamQuestion{Question: "糖尿病的典型症状是？", Answer: "A", Options: []schemas.Option{{Label: "A", Text: "多饮"}, {Label: "B", Text: "咳嗽"}}}
	c := &examCase{q: q, ragCtx: []string{"糖尿病的典型症状是多饮多尿多食和体重下降", "肺炎的常见症状有发热咳嗽"}}
	lm := newBigram()
	plain := utf8.RuneCountInString(lm.ChatPrompt(userTurn(ExamBlock(q, nil))) + answerLead)
	bare := utf8.RuneCountInString(lm.ChatPrompt(userTurn(examBlock(q, nil, false))) + answerLead)
	tests := []struct {
		name        string
		context     int
		ok          bool
		instruction bool
		passages    int
	}{
		{"unbounded", 1 << 20, true, true, 2},
		{"room for one", plain + ragReserve + 6 + 21, true, true, 1},
		{"instruction gives way", bare + ragReserve + 6 + 14, true, false, 1},
		{"no room", bare + ragReserve + 6, false, false, 0},
	}
	for _, tt := range tests {
		p, ok := ragPrompt(windowed{lm, tt.context}, c)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v", tt.name, ok)
			continue
		}
		if !ok {
			continue
		}
		if got := strings.Contains(p, singleInstruction); got != tt.instruction {
			t.Errorf("%s: instruction kept = %v in %q", tt.name, got, p)
		}
		got := 0
		for _, r := range c.ragCtx {
			if strings.Contains(p, string([]rune(r)[:ragMinRunes])) {
				got++
			}
		}
		if got != tt.passages {
			t.Errorf("%s: %d passages in %q, want %d", tt.name, got, p, tt.passages)
		}
		if n := utf8.RuneCountInString(p); n > tt.context-ragReserve {
			t.Errorf("%s: prompt of %d runes does not fit a context of %d", tt.name, n, tt.context)
		}
	}
}

func TestGenExamTokens(t *testing.T) {
	q := func(opts ...string) *examCase {
		c := &examCase{q: &schemas.ExamQuestion{}}
		for i, o := range opts {
			c.q.Options = append(c.q.Options, schemas.Option{Label: string(rune('A' + i)), Text: o})
			c.labels = append(c.labels, string(rune('A'+i)))
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		cases []*examCase
		floor int
		want  int
	}{
		{"no questions keeps the floor", nil, 8, 8},
		// 答案：(3) + 胰岛素(3) + （C）(3) + 1
		{"short options", []*examCase{q("糖", "胰岛素", "水")}, 4, 10},
		{"the floor wins over short answers", []*examCase{q("糖")}, 16, 16},
		{"the longest option of any question", []*examCase{q("糖"), q("急性心肌梗死并发心源性休克", "水")}, 8, 20},
		{"spaces around an option are not counted", []*examCase{q("  水  ")}, 1, 8},
	} {
		if got := genExamTokens(tc.cases, tc.floor); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
