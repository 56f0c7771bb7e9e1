package clean

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// signoffNormaliser trims boilerplate sign-offs from the end of answers
// ("感谢您的咨询，祝您早日康复！", "希望我的回答对您有所帮助。"): online-consultation
// data ends most answers with them, and a model trained on them learns to
// say them.
//
// It never cuts a sentence. The last sentence of the field (quotes and
// brackets kept whole, so "以上是对“头痛怎么办？”这个问题的建议" is one clause)
// is split into clauses at commas, semicolons and spaces, and each clause is
// matched whole against four lists of patterns:
//
//   - closings stand alone as a sign-off: "祝您早日康复", "希望对您有帮助",
//     "感谢您的咨询", "以上意见仅供参考";
//   - invitations are a sign-off that answers a condition: "欢迎随时追问",
//     "如果还有其他问题，请随时向我咨询";
//   - leads are a condition only a sign-off completes: "如有疑问", "不客气";
//   - tails are thanks that only follow a sign-off: "谢谢".
//
// A run of such clauses at the end is removed when it holds a closing or an
// invitation, every lead in it comes before one and every tail after one.
// A whole sentence goes with its terminator, unless it is the field's only
// sentence (a field is never emptied; "谢谢医生！" as a dialogue turn is the
// turn). Clauses at the end of a sentence that also says something else go
// only when the run starts with a closing or a lead, and the comma before
// them becomes "。": "…多吃清淡的食物，期望上述的答案可以协助到你，谢谢。" →
// "…多吃清淡的食物。" An invitation after a content clause stays, because
// the content clause is its condition: "有任何不适，欢迎随时咨询。" keeps
// both. Advice to see a doctor is not a sign-off and always stays:
// "如有不适请及时就医。", "有任何不适或疑问，都可以随时咨询医生。" (the
// invitations only name the answerer, "咨询我"). Bare thanks stay too
// ("谢谢！" after an answer, "好的，谢谢"): in dialogue they are the
// patient's words, not boilerplate.
//
// The lists are configurable; giving any of them replaces all four defaults
// (the ones not given are empty). Each pattern must match a whole clause:
//
//   - use: signoffs
//     with: {patterns: ['感谢您的咨询'], tails: ['谢谢'], fields: [answer, chosen]}
//
// Counter: "signoffs" (sentences or clause runs removed).
type signoffNormaliser struct {
	rules []clauseRule
	// byFirst lists, for each rune a clause can start with, the rules whose
	// pattern can start with it; anyFirst are the rules that can start with
	// any rune. A clause is tried only against byFirst[its first rune] and
	// anyFirst, so most content clauses run no regexp at all.
	byFirst  map[rune][]int
	anyFirst []int
	fields   map[string]bool
}

// clauseRole is what a clause is to a sign-off.
type clauseRole uint8

const (
	roleContent    clauseRole = iota // not a sign-off
	roleClosing                      // a sign-off on its own
	roleInvitation                   // a sign-off that answers a condition
	roleLead                         // a condition only a sign-off completes
	roleTail                         // thanks that only follow a sign-off
)

// clauseRule is one pattern, anchored to match a whole clause.
type clauseRule struct {
	role clauseRole
	re   *regexp.Regexp
}

// signoffLead is the condition of an invitation: "如有疑问", "如果您还有其他问题的话".
const signoffLead = `(?:如果|如|若|假如|要是)?(?:您|你)?(?:还|后续|以后|今后|之后|另外)?(?:有|存在)(?:任何|其他|其它|什么|别的|更多)?的?(?:问题|疑问|疑惑|不明白的地方|不清楚的地方|不懂的地方|需要)(?:的话)?`

// DefaultSignoffs are the closing patterns (see signoffNormaliser) used when
// chimed.yaml names no sign-off patterns. They were written from the last
// sentences of the answers in the public samples the project is tested
// on (Huatuo-26M, Toyhom, MedDialog, DISC-Med, MedicalGPT).
var DefaultSignoffs = []string{
	// 祝您早日康复, 祝患者身体早日恢复健康, 祝您的宝宝健康成长, 祝好
	`祝(?:福|愿)?(?:您|你|患者|大家|宝宝|孩子|您的[^，。！？]{1,6}?|你的[^，。！？]{1,6}?)?们?[^，。！？!?]{0,8}?(?:康复|健康|恢复|愉快|好运|平安|顺利|快乐|安康|成长|如意|好)[哦啊呀啦吧了]?`,
	`(?:您|你)?早日(?:康复|恢复健康|痊愈)[哦啊呀啦吧了]?`,
	// 希望对您有所帮助, 期望上述的答案可以协助到您, 上述的答案期望可以协助到您
	`(?:(?:以上|上述|我)的?(?:答案|回答|建议|解答|意见|回复))?(?:希望|期望|期待|盼望)(?:我的|以上的?|上述的?|这些|本次的?)?(?:问题)?(?:答案|回答|建议|解答|回复|意见|解释|内容)?(?:能|可以|能够|会)?(?:对|给|帮)?(?:您|你|大家|患者)?(?:能|可以)?(?:有所|有|带来|提供)?(?:一些|一点|些许)?(?:帮助|帮到|协助|帮忙|用)(?:到)?(?:您|你|大家)?的?[哦啊呀]?`,
	`(?:希望|期望|盼望)(?:您|你)(?:能|可以)?(?:早日|尽快)(?:康复|恢复健康|好起来)[哦啊呀]?`,
	// 感谢您的咨询, 感谢您的进行咨询, 谢谢你的信任
	`(?:非常|十分)?(?:感谢|谢谢|多谢)(?:您|你)?的?(?:进行)?(?:咨询|提问|信任|支持|来信|耐心|理解|关注|阅读)(?:与|和)?(?:支持|信任)?`,
	// 以上意见仅供参考, 建议以上可以做为参考, 仅供参考
	`(?:建议)?(?:以上|上述|本回答|此回答|我的回答)[^，。！？]{0,10}?(?:仅供参考|供参考|可以做为参考|可以作为参考|仅作参考|作为参考|可做参考)`,
	`仅供参考`,
	// 以上是对“头痛怎么办？”这个问题的建议
	`以上是(?:对|关于)?(?:“[^”]*”(?:这个|该)?(?:问题)?|"[^"]*"(?:这个|该)?(?:问题)?|[^，。！？]{0,30}?(?:这个|该)?问题)的?(?:建议|回答|解答|分析)`,
}

// DefaultSignoffInvitations are the invitation patterns used by default.
var DefaultSignoffInvitations = []string{
	// 欢迎随时追问, 欢迎再次咨询
	`(?:` + signoffLead + `)?欢迎(?:您|你)?(?:随时|再次|继续)?再?(?:向我|找我|来)?(?:咨询|追问|提问|留言)(?:我|我们)?[哦的吧]?`,
	// 请随时向我咨询, 有问题随时可以咨询我, 如果后续有问题可以随时咨询我
	`(?:` + signoffLead + `)?(?:都|也|请|您|你)*(?:可以|能)?(?:随时|再次|继续)都?(?:可以|能)?再?(?:向我|找我|给我|来|与我)?(?:咨询|追问|提问|留言|联系)(?:我|我们)?[哦的吧]?`,
}

// DefaultSignoffLeads are the lead patterns used by default.
var DefaultSignoffLeads = []string{
	signoffLead,
	`(?:不客气|不用客气|不用谢|不谢)[的啦了哦]?`,
}

// DefaultSignoffTails are the tail patterns used by default.
var DefaultSignoffTails = []string{
	`(?:非常|十分|再次)?(?:谢谢|感谢|多谢)(?:您|你|大家)?的?(?:支持|关注|阅读|配合)?[啦了哦]?`,
	`再见|拜拜`,
}

type signoffSettings struct {
	Patterns    []string `yaml:"patterns"`
	Invitations []string `yaml:"invitations"`
	Leads       []string `yaml:"leads"`
	Tails       []string `yaml:"tails"`
	Fields      []string `yaml:"fields"`
}

func init() {
	register("signoffs", textKinds, func(decode func(any) error) (any, error) {
		var s signoffSettings
		if err := decode(&s); err != nil {
			return nil, err
		}
		return newSignoffNormaliser(s)
	})
}

func newSignoffNormaliser(s signoffSettings) (*signoffNormaliser, error) {
	if len(s.Patterns)+len(s.Invitations)+len(s.Leads)+len(s.Tails) == 0 {
		s.Patterns, s.Invitations, s.Leads, s.Tails = DefaultSignoffs, DefaultSignoffInvitations, DefaultSignoffLeads, DefaultSignoffTails
	}
	if len(s.Fields) == 0 {
		s.Fields = []string{"answer", "chosen", "rejected", "turns.content"}
	}
	n := &signoffNormaliser{byFirst: map[rune][]int{}, fields: map[string]bool{}}
	for _, list := range []struct {
		key  string
		role clauseRole
		pats []string
	}{{"patterns", roleClosing, s.Patterns}, {"invitations", roleInvitation, s.Invitations},
		{"leads", roleLead, s.Leads}, {"tails", roleTail, s.Tails}} {
		for i, p := range list.pats {
			re, err := regexp.Compile(`^(?:` + p + `)$`)
			if err != nil {
				return nil, fmt.Errorf("signoffs: %s[%d]: %w", list.key, i, err)
			}
			first, any, err := firstRunes(p)
			if err != nil {
				return nil, fmt.Errorf("signoffs: %s[%d]: %w", list.key, i, err)
			}
			k := len(n.rules)
			n.rules = append(n.rules, clauseRule{role: list.role, re: re})
			if any {
				n.anyFirst = append(n.anyFirst, k)
				continue
			}
			for _, r := range first {
				n.byFirst[r] = append(n.byFirst[r], k)
			}
		}
	}
	for _, f := range s.Fields {
		n.fields[f] = true
	}
	return n, nil
}

// firstRunes lists the runes a match of pattern can start with, or any =
// true when that is not a short list (a class like [^，], or an empty
// match). It walks the compiled program from its start, through the
// instructions that consume no input.
func firstRunes(pattern string) (runes []rune, any bool, err error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false, err
	}
	seen := map[uint32]bool{}
	set := map[rune]bool{}
	const maxRunes = 64
	var walk func(pc uint32) bool // false: any rune
	walk = func(pc uint32) bool {
		if seen[pc] {
			return true
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			return walk(in.Out) && walk(in.Arg)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			return walk(in.Out)
		case syntax.InstFail:
			return true
		case syntax.InstRune1, syntax.InstRune:
			if len(in.Rune) == 1 {
				r := in.Rune[0]
				set[r] = true
				if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
					for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
						set[f] = true
					}
				}
				return len(set) <= maxRunes
			}
			for i := 0; i+1 < len(in.Rune); i += 2 {
				lo, hi := in.Rune[i], in.Rune[i+1]
				if hi-lo >= maxRunes {
					return false
				}
				for r := lo; r <= hi; r++ {
					set[r] = true
				}
			}
			return len(set) <= maxRunes
		}
		return false // InstMatch (an empty match), InstRuneAny, InstRuneAnyNotNL
	}
	if !walk(uint32(prog.Start)) {
		return nil, true, nil
	}
	for r := range set {
		runes = append(runes, r)
	}
	return runes, false, nil
}

// Normalise implements Normaliser.
func (n *signoffNormaliser) Normalise(field, s string, t Tally) string {
	if !n.fields[field] {
		return s
	}
	for {
		out, ok := n.trim(s)
		if !ok {
			return s
		}
		s = out
		t.Add("signoffs", 1)
	}
}

// trim removes the sign-off that ends s, if there is one, and reports
// whether it did.
func (n *signoffNormaliser) trim(s string) (string, bool) {
	end := contentEnd(s)
	start, ok := sentenceStart(s[:end])
	if !ok {
		return s, false
	}
	clauses, ok := splitClauses(s[start:end])
	if !ok || len(clauses) == 0 {
		return s, false
	}
	// The run of sign-off clauses at the end, and the earliest clause it
	// can be removed from.
	roles := make([]clauseRole, len(clauses))
	first := len(clauses)
	for first > 0 {
		c := clauses[first-1]
		if roles[first-1] = n.role(s[start+c.from : start+c.to]); roles[first-1] == roleContent {
			break
		}
		first--
	}
	for i := first; i < len(clauses); i++ {
		if !validSignoffRun(roles[i:]) {
			continue
		}
		if i == 0 {
			if contentEnd(s[:start]) == 0 {
				return s, false // the field's only sentence: it stays
			}
			return strings.TrimRightFunc(s[:start], unicode.IsSpace), true
		}
		if roles[i] != roleClosing && roles[i] != roleLead {
			continue // an invitation after content answers that content
		}
		return s[:start+clauses[i-1].to] + "。", true
	}
	return s, false
}

// role classes one clause.
func (n *signoffNormaliser) role(clause string) clauseRole {
	r, _ := utf8.DecodeRuneInString(clause)
	for _, list := range [2][]int{n.byFirst[r], n.anyFirst} {
		for _, k := range list {
			if n.rules[k].re.MatchString(clause) {
				return n.rules[k].role
			}
		}
	}
	return roleContent
}

// validSignoffRun reports whether roles, the clauses at the end of a
// sentence, are a sign-off: at least one closing or invitation, every lead
// before one and every tail after one.
func validSignoffRun(roles []clauseRole) bool {
	seen := false // a closing or invitation so far
	pendingLead := false
	for _, r := range roles {
		switch r {
		case roleContent:
			return false
		case roleClosing, roleInvitation:
			seen, pendingLead = true, false
		case roleLead:
			pendingLead = true
		case roleTail:
			if !seen {
				return false
			}
		}
	}
	return seen && !pendingLead
}

// contentEnd is the end of s without its trailing spaces, sentence and
// clause punctuation and symbols (an emoji after "祝您健康"): where the last
// clause's text ends.
func contentEnd(s string) int {
	end := len(s)
	for end > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:end])
		if !unicode.IsSpace(r) && !sentenceEnder(r) && !clauseSeparator(r) && r != '、' && !unicode.Is(unicode.So, r) {
			break
		}
		end -= size
	}
	return end
}

// sentenceEnder reports whether r ends a sentence. '.', '~' and '～' end
// one only away from digits (not "0.5g", "1~2片"); sentenceStart checks that.
func sentenceEnder(r rune) bool {
	switch r {
	case '。', '！', '!', '？', '?', '\n', '…', '.', '~', '～':
		return true
	}
	return false
}

// digitSensitive are the sentence ends that are not one next to a digit.
func digitSensitive(r rune) bool { return r == '.' || r == '~' || r == '～' }

// clauseSeparator reports whether r separates clauses of a sentence.
func clauseSeparator(r rune) bool {
	switch r {
	case '，', ',', '；', ';', ' ':
		return true
	}
	return false
}

// openers and closers pair the quotes and brackets a sentence end or a
// clause separator inside of does not count.
var (
	openers = map[rune]bool{'“': true, '‘': true, '「': true, '『': true, '《': true, '（': true, '(': true, '【': true, '[': true}
	closers = map[rune]bool{'”': true, '’': true, '」': true, '』': true, '》': true, '）': true, ')': true, '】': true, ']': true}
)

// sentenceStart is where the last sentence of s starts: just after the last
// sentence end outside quotes and brackets, or 0. ok is false when a quote
// or bracket in that sentence is not closed or not opened: then where the
// sentence starts is not known, and nothing is removed.
func sentenceStart(s string) (start int, ok bool) {
	depth := 0
	inASCII := false // inside "…"
	for i := len(s); i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		switch {
		case r == '"':
			inASCII = !inASCII
		case closers[r]:
			depth++
		case openers[r]:
			if depth == 0 {
				return 0, false
			}
			depth--
		case depth == 0 && !inASCII && sentenceEnder(r) && !(digitSensitive(r) && digitAround(s, i-size, i)):
			return i, true
		}
		i -= size
	}
	return 0, depth == 0 && !inASCII
}

// digitAround reports whether the byte before from or the one at to is an
// ASCII digit: the '.' between them is a decimal point.
func digitAround(s string, from, to int) bool {
	return from > 0 && s[from-1] >= '0' && s[from-1] <= '9' || to < len(s) && s[to] >= '0' && s[to] <= '9'
}

// clauseSpan is one clause's text, without the spaces around it, as byte
// offsets into its sentence.
type clauseSpan struct{ from, to int }

// splitClauses splits a sentence at the clause separators outside quotes
// and brackets. ok is false when they do not balance.
func splitClauses(s string) (clauses []clauseSpan, ok bool) {
	depth := 0
	inASCII := false
	from := 0
	flush := func(to int) {
		a, b := from, to
		for a < b && (s[a] == ' ' || s[a] == '\t') {
			a++
		}
		if a < b {
			clauses = append(clauses, clauseSpan{a, b})
		}
	}
	for i, r := range s {
		switch {
		case r == '"':
			inASCII = !inASCII
		case openers[r]:
			depth++
		case closers[r]:
			if depth == 0 {
				return nil, false
			}
			depth--
		case depth == 0 && !inASCII && clauseSeparator(r):
			flush(i)
			from = i + utf8.RuneLen(r)
		}
	}
	if depth != 0 || inASCII {
		return nil, false
	}
	flush(len(s))
	return clauses, true
}

// tailStart is the byte offset of the last max bytes of s, moved forward to
// a rune boundary.
func tailStart(s string, max int) int {
	if len(s) <= max {
		return 0
	}
	i := len(s) - max
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return i
}
