package evaluate

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// The exam prompt is the template SFT trained on (stages.ExamPrompt, used
// here rather than copied), so every stage's model sees the same text: the user's turn of
// the model's own chat template is, CMExam style,
//
//	以下是一道医学考试单项选择题，请选出正确答案并给出解析。   (or the 多项选择题 line)
//	<question>
//	A. <option A>
//	B. <option B>
//	…
//
// and the assistant's turn begins "答案：". The instruction names the
// question type as CMExam's data does; the schema has no type column, so the
// type is read from the gold answer's length, exactly as the SFT template
// does. The RAG variant puts "参考资料：\n<passage>\n…" before the first line.
var (
	singleInstruction = stages.ExamInstruction(&schemas.ExamQuestion{Answer: "A"})
	multiInstruction  = stages.ExamInstruction(&schemas.ExamQuestion{Answer: "AB"})
)

const (
	answerLead = "答案："
	ragLead    = "参考资料："
)

// AnswerEnd ends the labels of a multiple-choice answer in the SFT template
// ("答案：ABD\nA. …"); likelihood scoring needs it, since without an end "A"
// always outscores "AB".
const AnswerEnd = "\n"

// isMulti says whether a question is multiple choice (more than one gold label).
func isMulti(q *schemas.ExamQuestion) bool { return len([]rune(strings.TrimSpace(q.Answer))) > 1 }

// ExamBlock renders a question and its options as the user's message, with
// retrieved passages first when there are any.
func ExamBlock(q *schemas.ExamQuestion, passages []string) string {
	return examBlock(q, passages, true)
}

// examBlock is ExamBlock, optionally without the instruction line (the RAG
// variant drops it when the context has no room for passages beside it).
func examBlock(q *schemas.ExamQuestion, passages []string, instruction bool) string {
	var b strings.Builder
	if len(passages) > 0 {
		b.WriteString(ragLead + "\n")
		for _, p := range passages {
			b.WriteString(p + "\n")
		}
	}
	if instruction {
		b.WriteString(stages.ExamInstruction(q) + "\n")
	}
	b.WriteString(stages.ExamBody(q))
	return b.String()
}

func userTurn(content string) []schemas.Turn {
	return []schemas.Turn{{Role: schemas.RoleUser, Content: content}}
}

// labelsOf returns the question's option labels in option order.
func labelsOf(q *schemas.ExamQuestion) []string {
	ls := make([]string, len(q.Options))
	for i, o := range q.Options {
		ls[i] = strings.ToUpper(strings.TrimSpace(o.Label))
	}
	return ls
}

// NormalizeAnswer turns an answer into its canonical label set: upper case,
// only labels the question has, each once, in option order ("dBa" → "ABD").
func NormalizeAnswer(answer string, labels []string) string {
	up := strings.ToUpper(answer)
	var b strings.Builder
	for _, l := range labels {
		if l != "" && strings.Contains(up, l) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// answerRe finds "答案：X", "答案是 A、C", "正确答案为AB" in generated text.
var answerRe = regexp.MustCompile(`答案[ \t]*(?:是|为|应为)?[ \t]*[:：]?[ \t]*([A-Za-z](?:[ \t]*[、,，和及与/]?[ \t]*[A-Za-z])*)`)

// leadingRe accepts a bare answer at the very start ("B", "AC。").
var leadingRe = regexp.MustCompile(`^\s*([A-Z]{1,8})(?:[^A-Za-z]|$)`)

// statedRe finds the template's single-choice answer, an option's text and
// then its label in brackets on the answer's line ("答案：胰岛素（C）").
var statedRe = regexp.MustCompile(`答案[ \t]*[:：][^\n（(]*[（(][ \t]*([A-Za-z])[ \t]*[）)]`)

// ParseAnswer reads the label set a model wrote: the template's
// "答案：<option>（X）", else the first "答案：X" (any of 是/为 and either
// colon, labels optionally separated by 、,，), else a bare run of capital
// labels at the very start. A run holding a letter that is no option label
// ("答案：F", "Because…") is no answer; "" means none was found.
func ParseAnswer(generated string, labels []string) string {
	m := statedRe.FindStringSubmatch(generated)
	if m == nil {
		m = answerRe.FindStringSubmatch(generated)
	}
	if m == nil {
		m = leadingRe.FindStringSubmatch(generated)
	}
	if m == nil {
		return ""
	}
	for _, r := range strings.ToUpper(m[1]) {
		if r >= 'A' && r <= 'Z' && !slices.Contains(labels, string(r)) {
			return ""
		}
	}
	return NormalizeAnswer(m[1], labels)
}

// genExamTokens is the generation budget for exam answers: at least
// floor, and room for the longest answer as the exam template states it
// ("答案：<option text>（X）"), counted in characters, which no tokenizer
// cuts into fewer pieces than bytes but rarely into more than characters.
// A fixed cap would cut every stated answer before its label, so the
// generated reading would score 0 whatever the model knows.
func genExamTokens(cases []*examCase, floor int) int {
	n := floor
	for _, c := range cases {
		for k, o := range c.q.Options {
			stated := answerLead + strings.TrimSpace(o.Text) + stages.ExamLabelOpen + c.labels[k] + stages.ExamLabelClose
			n = max(n, utf8.RuneCountInString(stated)+1)
		}
	}
	return n
}

// examCase is one question prepared for scoring.
type examCase struct {
	q      *schemas.ExamQuestion
	labels []string
	gold   string
	user   string // ExamBlock without passages
	ragCtx []string
}

// likelihoodAnswers picks each question's label set by option likelihood
// after "<chat prompt>答案：". A single-choice question takes the label
// with the highest log-probability. A multiple-choice question takes a
// greedy search over answer strings: step one scores every label; each later
// step scores the chosen labels followed by each later label (in option
// order) against the chosen labels followed by AnswerEnd, and stops when
// AnswerEnd wins or no label is left. That costs about 1.5·k scored
// continuations instead of the 2^k − 1 of scoring every subset, and "ABD"
// can still win.
func likelihoodAnswers(s *scorer, prompts []string, labels [][]string, multi []bool) ([]string, error) {
	type state struct {
		chosen string
		next   int // index of the first label that may still be added
		done   bool
	}
	st := make([]state, len(prompts))
	for {
		var ps, cs []string
		var owner []int
		for i := range st {
			if st[i].done {
				continue
			}
			for _, l := range labels[i][st[i].next:] {
				ps, cs, owner = append(ps, prompts[i]), append(cs, st[i].chosen+l), append(owner, i)
			}
			if st[i].chosen != "" && multi[i] {
				ps, cs, owner = append(ps, prompts[i]), append(cs, st[i].chosen+AnswerEnd), append(owner, i)
			}
		}
		if len(ps) == 0 {
			break
		}
		lp, _, err := s.logProb(ps, cs)
		if err != nil {
			return nil, err
		}
		best := map[int]int{}
		for j, i := range owner {
			if b, ok := best[i]; !ok || lp[j] > lp[b] {
				best[i] = j
			}
		}
		for i, j := range best {
			c := cs[j]
			if strings.HasSuffix(c, AnswerEnd) {
				st[i].done = true
				continue
			}
			last := c[len(st[i].chosen):]
			st[i].chosen = c
			st[i].next = slices.Index(labels[i], last) + 1
			if !multi[i] || st[i].next >= len(labels[i]) {
				st[i].done = true
			}
		}
	}
	out := make([]string, len(st))
	for i := range st {
		out[i] = st[i].chosen
	}
	return out, nil
}

// statedAnswers reads each question's answer as the exam template writes
// it (stages.ExamAnswer). A single-choice answer states an option's text and
// then its label, "答案：胰岛素（C）": each of the question's five complete
// answers is scored after "<prompt>" and the likeliest one gives the label,
// as decoding held to the answers the template allows would. A
// multiple-choice answer gives its labels first and is read by
// likelihoodAnswers. prompts end with "答案：".
func statedAnswers(s *scorer, prompts []string, cases []*examCase) ([]string, error) {
	out := make([]string, len(cases))
	var mi []int
	var mp []string
	var ml [][]string
	var ps, cs []string
	var single []int
	for i, c := range cases {
		if isMulti(c.q) {
			mi, mp, ml = append(mi, i), append(mp, prompts[i]), append(ml, c.labels)
			continue
		}
		single = append(single, i)
		for k, o := range c.q.Options {
			ps = append(ps, prompts[i])
			cs = append(cs, strings.TrimSpace(o.Text)+stages.ExamLabelOpen+c.labels[k]+stages.ExamLabelClose)
		}
	}
	lp, _, err := s.logProb(ps, cs)
	if err != nil {
		return nil, err
	}
	j := 0
	for _, i := range single {
		c := cases[i]
		best := 0
		for k := range c.q.Options {
			if lp[j+k] > lp[j+best] {
				best = k
			}
		}
		out[i] = c.labels[best]
		j += len(c.q.Options)
	}
	if len(mi) > 0 {
		multi := make([]bool, len(mi))
		for k := range multi {
			multi[k] = true
		}
		got, err := likelihoodAnswers(s, mp, ml, multi)
		if err != nil {
			return nil, err
		}
		for k, i := range mi {
			out[i] = got[k]
		}
	}
	return out, nil
}

// verifyAnswers is the Verification-of-Choice variant (after AntGLM-Med,
// where the model checks every option before answering). For each option
// the user's turn is the exam block followed by
// "请逐一核对选项：选项X（<text>）是否正确？" and the assistant's turn starts
// "选项X". A single-choice answer is the option whose verdict "正确" is most
// likely. A multiple-choice question also scores "错误": its answer is every
// option whose margin log p(正确) − log p(错误) is positive, or the
// largest-margin option when none is.
func verifyAnswers(s *scorer, m Model, cases []*examCase) ([]string, error) {
	var ps, cs []string
	for _, c := range cases {
		for i, o := range c.q.Options {
			user := c.user + "\n请逐一核对选项：选项" + c.labels[i] + "（" + strings.TrimSpace(o.Text) + "）是否正确？"
			p := m.ChatPrompt(userTurn(user)) + "选项" + c.labels[i]
			ps, cs = append(ps, p), append(cs, "正确")
			if isMulti(c.q) {
				ps, cs = append(ps, p), append(cs, "错误")
			}
		}
	}
	lp, _, err := s.logProb(ps, cs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(cases))
	j := 0
	for ci, c := range cases {
		multi := isMulti(c.q)
		var set strings.Builder
		bestL, bestScore := "", 0.0
		for i := range c.q.Options {
			score := lp[j]
			j++
			if multi {
				score -= lp[j]
				j++
				if score > 0 {
					set.WriteString(c.labels[i])
				}
			}
			if bestL == "" || score > bestScore {
				bestL, bestScore = c.labels[i], score
			}
		}
		out[ci] = set.String()
		if out[ci] == "" {
			out[ci] = bestL
		}
	}
	return out, nil
}
