package clean

import (
	"strings"

	"github.com/chimed/chimed/schemas"
)

// examAnswerFilter removes exam questions whose answer is empty or names a
// label that is not among the options ("E" with options A–D): such a row
// would teach, or grade, a wrong answer.
// Reason: "bad_answer_label"; the detail is the answer.
type examAnswerFilter struct{}

func init() {
	register("exam_answer", []schemas.Kind{schemas.KindExam}, func(func(any) error) (any, error) {
		return examAnswerFilter{}, nil
	})
}

// Check implements Filter.
func (examAnswerFilter) Check(r schemas.Record) (string, string) {
	e, ok := r.(*schemas.ExamQuestion)
	if !ok {
		return "", ""
	}
	answer := strings.TrimSpace(e.Answer)
	if answer == "" {
		return "bad_answer_label", ""
	}
	labels := map[string]bool{}
	for _, o := range e.Options {
		labels[strings.ToUpper(strings.TrimSpace(o.Label))] = true
	}
	for _, c := range strings.ToUpper(answer) {
		if c == ',' || c == ' ' || c == '、' {
			continue
		}
		if !labels[string(c)] {
			return "bad_answer_label", e.Answer
		}
	}
	return "", ""
}
