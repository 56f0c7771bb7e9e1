package clean

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// wrapperNormaliser strips prompt-template wrappers and speaker prefixes of
// known shapes that scraped QA and dialogue data carry: the "<s>"/"</s>"
// markers, a leading "问：", "病人：", "患者：", "用户：" on questions and prompts,
// a leading "答：", "医生：" on answers, either kind on dialogue turns (the
// role is already in the turn), and a dangling "答：" at the end of a question
// ("<s>问：头痛怎么办？答：" → "头痛怎么办？").
//
// A dangling label goes only where it stands apart from the question: after
// a sentence end or a line break, or, for the answer words 答, 回答 and
// Answer, after a space. "请问医生：" and "缺乏维生素A：" end in words of
// the question, and stay whole.
// Counter: "wrappers" (prefixes and markers removed).
type wrapperNormaliser struct{}

func init() {
	register("wrappers", textKinds, func(func(any) error) (any, error) { return wrapperNormaliser{}, nil })
}

// The speaker words of the prefixes. A prefix regexp can only match a
// value that starts with one of its words, which strings.HasPrefix tells
// far sooner than the regexp does (it ran on every question, answer and
// turn: a tenth of clean's normalising time on the 1GB demo).
var (
	askerWords  = []string{"问题", "问", "提问", "患者", "病人", "用户", "咨询者", "Q", "Question", "User", "Human"}
	answerWords = []string{"答", "回答", "医生", "大夫", "助手", "A", "Answer", "Assistant", "Doctor"}
)

var (
	wrapperMarks   = regexp.MustCompile(`</?s>|<\|(?:im_start|im_end|endoftext)\|>|\[/?INST\]`)
	askerPrefix    = speakerPrefix(askerWords)
	answerPrefix   = speakerPrefix(answerWords)
	danglingAnswer = regexp.MustCompile(`(\s*)(答|回答|医生|A|Answer)\s*[:：]\s*$`)
)

// danglingApart reports whether a dangling answer label (word, after the
// spaces space) stands apart from the question before it, so removing it
// cuts no word of the question: before ends a sentence or the label starts
// a line, or a space sets an answer word apart. before must hold text.
func danglingApart(before, space, word string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	switch {
	case strings.TrimSpace(before) == "":
		return false
	case strings.ContainsRune(space, '\n') || strings.ContainsRune("？?。！!…", r):
		return true
	}
	return space != "" && (word == "答" || word == "回答" || word == "Answer")
}

// prefixRule is a speaker-prefix regexp and the words one of which starts
// every value it matches.
type prefixRule struct {
	re    *regexp.Regexp
	words []string
}

// speakerPrefix matches one of words at the start, a colon (either width)
// and the spaces around it. Words are tried in order, so list a longer
// word before its own prefix ("问题" before "问").
func speakerPrefix(words []string) prefixRule {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = regexp.QuoteMeta(w)
	}
	return prefixRule{re: regexp.MustCompile(`^(?:` + strings.Join(quoted, "|") + `)\s*[:：]\s*`), words: words}
}

// find is the regexp's match at the start of s, or nil.
func (p prefixRule) find(s string) []int {
	for _, w := range p.words {
		if strings.HasPrefix(s, w) {
			return p.re.FindStringIndex(s)
		}
	}
	return nil
}

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
	strip := func(p prefixRule) {
		if loc := p.find(s); loc != nil && loc[1] < len(s) {
			s = s[loc[1]:]
			n++
		}
	}
	switch field {
	case "question", "prompt":
		strip(askerPrefix)
		// Only the last few bytes can hold a dangling "答：", and only a
		// value that ends in a colon before its trailing spaces: the
		// unanchored regexp, tried from every position of the tail, was 3%
		// of clean's CPU on the 1GB demo, where few questions end so.
		if t := strings.TrimRightFunc(s, unicode.IsSpace); strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：") {
			from := tailStart(s, 24)
			if loc := danglingAnswer.FindStringSubmatchIndex(s[from:]); loc != nil &&
				danglingApart(s[:from+loc[0]], s[from+loc[2]:from+loc[3]], s[from+loc[4]:from+loc[5]]) {
				s = s[:from+loc[0]]
				n++
			}
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
