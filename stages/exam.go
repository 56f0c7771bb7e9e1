package stages

import (
	"strings"

	"github.com/chimed/chimed/schemas"
)

// Reasons an exam question gives no row.
const (
	ReasonExamBadAnswer = "exam_bad_answer" // no options, or an answer label that is not an option
)

// ExamPrompt renders a question CMExam-style, as the SFT and DPO stages ask
// it: an instruction naming single or multiple choice, the stem, then one
// "A. …" line per option. Evaluation asks its exam questions the same way.
func ExamPrompt(q *schemas.ExamQuestion) string {
	return ExamInstruction(q) + "\n" + ExamBody(q)
}

// ExamInstruction is ExamPrompt's first line. The question type is read from
// the gold answer's length, since the schema has no type column.
func ExamInstruction(q *schemas.ExamQuestion) string {
	if len([]rune(strings.TrimSpace(q.Answer))) > 1 {
		return "以下是一道医学考试多项选择题，请选出所有正确答案并给出解析。"
	}
	return "以下是一道医学考试单项选择题，请选出正确答案并给出解析。"
}

// ExamBody is ExamPrompt without the instruction: the stem and the options.
func ExamBody(q *schemas.ExamQuestion) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(q.Question))
	for _, o := range q.Options {
		b.WriteString("\n" + o.Label + ". " + strings.TrimSpace(o.Text))
	}
	return b.String()
}

// examOptions maps labels to option texts and checks the answer: every
// answer label must be an option.
func examOptions(q *schemas.ExamQuestion) (map[string]string, bool) {
	opts := make(map[string]string, len(q.Options))
	for _, o := range q.Options {
		opts[o.Label] = strings.TrimSpace(o.Text)
	}
	if len(opts) < 2 || q.Answer == "" || strings.TrimSpace(q.Question) == "" {
		return nil, false
	}
	for _, l := range q.Answer {
		if _, ok := opts[string(l)]; !ok {
			return nil, false
		}
	}
	return opts, true
}

// ExamLabelOpen and ExamLabelClose enclose the label after the option's
// text in a single-choice answer: "答案：胰岛素（C）".
const (
	ExamLabelOpen  = "（"
	ExamLabelClose = "）"
)

// examAnswer renders the answer labels with their option texts and, when
// there is one, the explanation. A single-choice answer states the option's
// text first and its label after it ("答案：胰岛素（C）\n解析：…"): the
// answer then begins with what the model knows, the option's text, rather
// than with a letter it must first map to an option, which the small
// models here do not learn. A multiple-choice answer gives the labels, then
// each option ("答案：AC\nA. …\nC. …").
func examAnswer(labels string, opts map[string]string, explanation string) string {
	var b strings.Builder
	b.WriteString("答案：")
	if len([]rune(labels)) == 1 {
		b.WriteString(opts[labels] + ExamLabelOpen + labels + ExamLabelClose)
	} else {
		b.WriteString(labels)
		for _, l := range labels {
			b.WriteString("\n" + string(l) + ". " + opts[string(l)])
		}
	}
	if e := strings.TrimSpace(explanation); e != "" {
		b.WriteString("\n解析：" + e)
	}
	return b.String()
}

// wrongExplanations are plausible-sounding but wrong reasons for a wrong
// option; {o} is the option text, {l} its label. An empty template gives a
// rejected answer without explanation.
var wrongExplanations = []string{
	"根据题干描述，{o}最符合该情况，故选{l}。",
	"题干所述表现与{o}的特点一致，因此答案为{l}。",
	"结合临床经验，{o}是最常见的情况，故选{l}。",
	"",
}

// ExamAnswer renders the answer to q with the given labels the way the SFT
// stage writes it ("答案：胰岛素（C）\n解析：…"), with q's explanation when
// labels are q's answer.
func ExamAnswer(q *schemas.ExamQuestion, labels string) string {
	opts := make(map[string]string, len(q.Options))
	for _, o := range q.Options {
		opts[o.Label] = strings.TrimSpace(o.Text)
	}
	expl := ""
	if labels == q.Answer {
		expl = q.Explanation
	}
	return examAnswer(labels, opts, expl)
}

// examPair makes the exam-derived DPO pair: chosen is the correct answer
// with its explanation; rejected is one wrong option, picked by hashing the
// question id, with a plausible wrong explanation or none. ok is false when
// every option is correct.
func examPair(q *schemas.ExamQuestion, opts map[string]string) (chosen, rejected string, ok bool) {
	var wrong []string
	for _, o := range q.Options {
		if !strings.Contains(q.Answer, o.Label) {
			wrong = append(wrong, o.Label)
		}
	}
	if len(wrong) == 0 {
		return "", "", false
	}
	l := wrong[int(unit(nil, q.ID+"\x1fwrong")*float64(len(wrong)))]
	tmpl := wrongExplanations[int(unit(nil, q.ID+"\x1fexplain")*float64(len(wrongExplanations)))]
	expl := strings.NewReplacer("{o}", opts[l], "{l}", l).Replace(tmpl)
	return examAnswer(q.Answer, opts, q.Explanation), examAnswer(l, opts, expl), true
}
