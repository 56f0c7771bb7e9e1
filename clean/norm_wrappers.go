package clean

import (
	"regexp"
	"strings"
)

// wrapperNormaliser strips prompt-template wrappers and speaker prefixes of
// known shapes that scraped QA and dialogue data carry: the "<s>"/"</s>"
// markers, a leading "问：", "病人：", "患者：", "用户：" on questions and prompts,
// a leading "答：", "医生：" on answers, either kind on dialogue turns (the
// role is already in the turn), and a dangling "答：" at the end of a question
// ("<s>问：头痛怎么办？答：" → "头痛怎么办？").
// Counter: "wrappers" (prefixes and markers removed).
type wrapperNormaliser struct{}

func init() {
	register("wrappers", textKinds, func(func(any) error) (any, error) { return wrapperNormaliser{}, nil })
}

var (
	wrapperMarks   = regexp.MustCompile(`</?s>|<\|(?:im_start|im_end|endoftext)\|>|\[/?INST\]`)
	askerPrefix    = regexp.MustCompile(`^(?:问题?|提问|患者|病人|用户|咨询者|Q|Question|User|Human)\s*[:：]\s*`)
	answerPrefix   = regexp.MustCompile(`^(?:答|回答|医生|大夫|助手|A|Answer|Assistant|Doctor)\s*[:：]\s*`)
	danglingAnswer = regexp.MustCompile(`\s*(?:答|回答|医生|A|Answer)\s*[:：]\s*$`)
)

// Normalise implements Normaliser.
func (wrapperNormaliser) Normalise(field, s string, t Tally) string {
	n := 0
	if strings.Contains(s, "<") || strings.Contains(s, "[") {
		if out := wrapperMarks.ReplaceAllString(s, ""); out != s {
			n++
			s = strings.TrimSpace(out)
		}
	}
	// strip removes a leading prefix, unless nothing would be left.
	strip := func(re *regexp.Regexp) {
		if loc := re.FindStringIndex(s); loc != nil && loc[1] < len(s) {
			s = s[loc[1]:]
			n++
		}
	}
	switch field {
	case "question", "prompt":
		strip(askerPrefix)
		// Only the last few bytes can hold a dangling "答：".
		from := tailStart(s, 24)
		if loc := danglingAnswer.FindStringIndex(s[from:]); loc != nil {
			s = s[:from+loc[0]]
			n++
		}
	case "answer", "chosen", "rejected":
		strip(answerPrefix)
	case "turns.content":
		strip(askerPrefix)
		strip(answerPrefix)
	}
	t.Add("wrappers", n)
	return s
}
