package clean

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

func TestNormalisers(t *testing.T) {
	signoffs, err := newSignoffNormaliser(signoffSettings{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		n     Normaliser
		field string
		in    string
		want  string
		count string
		times int64
	}{
		{"entities", htmlNormaliser{}, "text", "&ldquo;发热&rdquo;&amp;咳嗽&quot;", "\u201c发热\u201d&咳嗽\"", "html", 4},
		{"numeric entity", htmlNormaliser{}, "text", "血压&#x3c;140&#12290;", "血压<140。", "html", 2},
		{"br tag", htmlNormaliser{}, "text", "第一行<br>第二行<br/>第三行", "第一行\n第二行\n第三行", "html", 2},
		{"inline tag", htmlNormaliser{}, "text", "<b>注意</b>休息", "注意休息", "html", 2},
		{"not a tag", htmlNormaliser{}, "text", "血压<140/90，a<b", "血压<140/90，a<b", "", 0},
		{"unknown entity", htmlNormaliser{}, "text", "&foo;", "&foo;", "", 0},
		{"zero width", invisibleNormaliser{}, "text", "头\u200b痛\ufeff", "头痛", "invisible", 2},
		{"crlf", invisibleNormaliser{}, "text", "一\r\n二\r三", "一\n二\n三", "invisible", 2},
		{"control", invisibleNormaliser{}, "text", "a\x00b\x07c", "abc", "invisible", 2},
		{"bad utf8", invisibleNormaliser{}, "text", "a\xffb", "a\ufffdb", "invisible", 1},
		{"clean text", invisibleNormaliser{}, "text", "普通文本\n\t", "普通文本\n\t", "", 0},
		{"fullwidth alnum", widthNormaliser{}, "text", "ＣＴ检查１０ｍｇ", "CT检查10mg", "width", 6},
		{"keeps chinese punctuation", widthNormaliser{}, "text", "你好，请问：（发热）。！？；", "你好，请问：（发热）。！？；", "", 0},
		{"nfc", unicodeNormaliser{}, "text", "e\u0301", "\u00e9", "unicode", 1},
		{"nfc keeps compatibility chars", unicodeNormaliser{}, "text", "①㎎℃，", "①㎎℃，", "", 0},
		{"ideographic space", whitespaceNormaliser{}, "text", "\u3000\u3000头痛\u00a0\u00a0发热  ", "头痛 发热", "whitespace", 1},
		{"blank lines", whitespaceNormaliser{}, "text", "一 \n\n\n\n 二", "一\n\n二", "whitespace", 1},
		{"tidy", whitespaceNormaliser{}, "text", "一 二\n三\n\n四", "一 二\n三\n\n四", "", 0},
		{"wrapper s", wrapperNormaliser{}, "question", "<s>问：头痛怎么办？答：", "头痛怎么办？", "wrappers", 3},
		{"dangling answer, ascii colon and spaces", wrapperNormaliser{}, "question", "头痛怎么办？ Answer: \n", "头痛怎么办？", "wrappers", 1},
		{"dangling answer after prefix", wrapperNormaliser{}, "prompt", "问：发热三天 回答：", "发热三天", "wrappers", 2},
		{"colon not after an answer word stays", wrapperNormaliser{}, "question", "请问：", "请问：", "", 0},
		{"doctor label after a question mark", wrapperNormaliser{}, "question", "头痛怎么办？医生：", "头痛怎么办？", "wrappers", 1},
		{"A label on its own line", wrapperNormaliser{}, "question", "头痛怎么办？\nA:", "头痛怎么办？", "wrappers", 1},
		{"doctor addressed in the question stays", wrapperNormaliser{}, "question", "头痛怎么办，请问医生：", "头痛怎么办，请问医生：", "", 0},
		{"doctor addressed after a space stays", wrapperNormaliser{}, "question", "头痛怎么办 请问 医生：", "头痛怎么办 请问 医生：", "", 0},
		{"vitamin A stays", wrapperNormaliser{}, "question", "缺乏维生素A：", "缺乏维生素A：", "", 0},
		{"a lone label stays", wrapperNormaliser{}, "question", "答：", "答：", "", 0},
		{"dangling answer before ideographic space stays", wrapperNormaliser{}, "question", "头痛？答：\u3000", "头痛？答：\u3000", "", 0},
		{"patient prefix", wrapperNormaliser{}, "turns.content", "病人：我头痛", "我头痛", "wrappers", 1},
		{"doctor prefix", wrapperNormaliser{}, "answer", "医生：多休息", "多休息", "wrappers", 1},
		{"prefix only stays", wrapperNormaliser{}, "answer", "答：", "答：", "", 0},
		{"text field untouched", wrapperNormaliser{}, "text", "问：什么是高血压", "问：什么是高血压", "", 0},
		{"signoff", signoffs, "answer", "多喝水，注意休息。感谢您的咨询，祝您早日康复！", "多喝水，注意休息。", "signoffs", 1},
		{"two signoffs", signoffs, "answer", "按时服药。希望我的回答对您有所帮助。祝您身体健康！", "按时服药。", "signoffs", 2},
		{"signoff in middle stays", signoffs, "answer", "感谢您的咨询。您的情况需要复查血常规。", "感谢您的咨询。您的情况需要复查血常规。", "", 0},
		{"signoff not in question", signoffs, "question", "感谢您的咨询", "感谢您的咨询", "", 0},
	}
	for _, c := range cases {
		tally := Tally{}
		got := c.n.Normalise(c.field, c.in, tally)
		if got != c.want {
			t.Errorf("%s: %q → %q, want %q", c.name, c.in, got, c.want)
		}
		if c.count != "" && tally[c.count] != c.times || c.count == "" && len(tally) != 0 {
			t.Errorf("%s: tally %v, want %s=%d", c.name, tally, c.count, c.times)
		}
	}
}

func TestSignoffSettings(t *testing.T) {
	n, err := newSignoffNormaliser(signoffSettings{Patterns: []string{"此致敬礼"}, Fields: []string{"text"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Normalise("text", "正文。此致敬礼", Tally{}); got != "正文。" {
		t.Errorf("got %q", got)
	}
	if _, err := newSignoffNormaliser(signoffSettings{Patterns: []string{"("}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

// FuzzNormalise runs every default normaliser in order on arbitrary input:
// no panic, valid UTF-8 out, and a second pass changes nothing.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"<s>问：头痛？答：", "&ldquo;ＣＴ&rdquo;\u200b\r\n", "\u3000a  b\n\n\nc", "感谢您的咨询！", "e\u0301", "\xff"} {
		f.Add("answer", s)
	}
	steps, err := buildSteps(DefaultSteps())
	if err != nil {
		f.Fatal(err)
	}
	ns := steps[schemas.KindQA].normalisers
	run := func(field, s string) string {
		for _, n := range ns {
			s = n.Normalise(field, s, Tally{})
		}
		return s
	}
	f.Fuzz(func(t *testing.T, field, s string) {
		out := run(field, s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		_ = run(field, out) // must not panic; exact idempotence is not promised (a trim can expose a new sign-off)
	})
}

// TestDanglingAnswerMatchesRegexp holds the colon test in front of the
// dangling-answer regexp to the regexp alone on the tail (and the same
// danglingApart rule).
func TestDanglingAnswerMatchesRegexp(t *testing.T) {
	parts := []string{"答", "回答", "医生", "A", "Answer", "：", ":", " ", "\t", "\n", "\u3000", "头痛", "？", "怎么办", "x", "\xe7", "？答：", "。\n医生:"}
	r := rand.New(rand.NewPCG(10, 11))
	hits := 0
	for i := range 5000 {
		var b strings.Builder
		for range 1 + r.IntN(7) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := b.String()
		want := s
		from := tailStart(s, 24)
		if loc := danglingAnswer.FindStringSubmatchIndex(s[from:]); loc != nil &&
			danglingApart(s[:from+loc[0]], s[from+loc[2]:from+loc[3]], s[from+loc[4]:from+loc[5]]) {
			want = s[:from+loc[0]]
			hits++
		}
		// The field is "question" without a speaker prefix to strip first.
		if strings.HasPrefix(s, "问") || strings.HasPrefix(s, "Q") {
			continue
		}
		if got := (wrapperNormaliser{}).Normalise("question", s, Tally{}); got != want {
			t.Fatalf("case %d %q: %q, the regexp %q", i, s, got, want)
		}
	}
	if hits < 100 {
		t.Fatalf("only %d of the cases end in a dangling answer", hits)
	}
}

// TestSpeakerPrefixMatchesRegexp holds the word-filtered prefix rules to
// the single regular expressions they were written from.
func TestSpeakerPrefixMatchesRegexp(t *testing.T) {
	oldAsker := regexp.MustCompile(`^(?:问题?|提问|患者|病人|用户|咨询者|Q|Question|User|Human)\s*[:：]\s*`)
	oldAnswer := regexp.MustCompile(`^(?:答|回答|医生|大夫|助手|A|Answer|Assistant|Doctor)\s*[:：]\s*`)
	parts := []string{"问", "问题", "提问", "患者", "病人", "用户", "咨询者", "Q", "Question", "User", "Human", "答", "回答", "医生",
		"大夫", "助手", "A", "Answer", "Assistant", "Doctor", "：", ":", " ", "\t", "头痛", "怎么办", "u", "Que"}
	r := rand.New(rand.NewPCG(8, 9))
	for i := range 5000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := b.String()
		for _, c := range []struct {
			rule prefixRule
			re   *regexp.Regexp
		}{{askerPrefix, oldAsker}, {answerPrefix, oldAnswer}} {
			if got, want := c.rule.find(s), c.re.FindStringIndex(s); !slices.Equal(got, want) {
				t.Fatalf("case %d %q: %v, the regexp %v", i, s, got, want)
			}
		}
	}
}
