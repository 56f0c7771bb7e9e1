package clean

import (
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// answerRatioFilter removes QA pairs whose answer is much shorter than the
// question: a 300-character case description answered "去医院看看" teaches
// nothing. The answer must be at least min_ratio (default 0.05) of the
// question's length, unless it has at least min_chars (default 20)
// characters anyway.
// Reason: "short_answer".
type answerRatioFilter struct {
	MinRatio float64 `yaml:"min_ratio"`
	MinChars int     `yaml:"min_chars"`
}

func init() {
	register("answer_ratio", []schemas.Kind{schemas.KindQA}, func(decode func(any) error) (any, error) {
		f := &answerRatioFilter{MinRatio: 0.05, MinChars: 20}
		return f, decode(f)
	})
}

// Check implements Filter.
func (f *answerRatioFilter) Check(r schemas.Record) (string, string) {
	qa, ok := r.(*schemas.QA)
	if !ok {
		return "", ""
	}
	a := utf8.RuneCountInString(qa.Answer)
	if a >= f.MinChars {
		return "", ""
	}
	if float64(a) < f.MinRatio*float64(utf8.RuneCountInString(qa.Question)) {
		return "short_answer", ""
	}
	return "", ""
}
