package clean

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// signoffNormaliser trims boilerplate sign-offs from the end of answers
// ("感谢您的咨询，祝您早日康复！", "希望我的回答对您有所帮助"): online-consultation
// data ends most answers with them, and a model trained on them learns to
// say them. Patterns are configurable; each is matched at the end of the
// field, repeatedly, so a chain of sign-offs goes at once.
//
//   - use: signoffs
//     with: {patterns: ['感谢您的咨询[^。！]*[。！]?'], fields: [answer, chosen]}
//
// Counter: "signoffs" (sign-offs trimmed).
type signoffNormaliser struct {
	tail     *regexp.Regexp // any pattern, anchored at the end
	anchored []signoffPattern
	fields   map[string]bool
}

// signoffPattern is one pattern anchored at both ends, with its literal
// prefix: a sign-off can only start where the prefix occurs, so the
// pattern is tried at those few places instead of at every position.
type signoffPattern struct {
	prefix string
	re     *regexp.Regexp
}

// DefaultSignoffs are the sign-off patterns trimmed when chimed.yaml names none.
var DefaultSignoffs = []string{
	`感谢您?的?(?:进行)?(?:咨询|提问|信任|支持|来信)[^。！!\n]*`,
	`谢谢您?的?(?:咨询|提问|信任)[^。！!\n]*`,
	`祝您?(?:早日康复|身体健康|健康|生活愉快|好运)[^。！!\n]*`,
	`希望(?:我的|以上|上述|我)?(?:的)?(?:回答|建议|解答|回复)?(?:对您|能|可以)?(?:有所)?(?:帮助|帮到您)[^。！!\n]*`,
	`欢迎(?:再次|随时)?(?:咨询|追问|来咨询)[^。！!\n]*`,
	`可以(?:再次|随时)(?:咨询|追问|来咨询)[^。！!\n]*`,
	`以上(?:是|为)?(?:个人)?(?:意见|建议|观点|回答)?[^。！!\n]{0,8}仅供参考[^。！!\n]*`,
	`上述(?:是|为)?(?:个人)?(?:意见|建议|观点|回答)?[^。！!\n]{0,8}仅供参考[^。！!\n]*`,
}

type signoffSettings struct {
	Patterns []string `yaml:"patterns"`
	Fields   []string `yaml:"fields"`
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
	if len(s.Patterns) == 0 {
		s.Patterns = DefaultSignoffs
	}
	if len(s.Fields) == 0 {
		s.Fields = []string{"answer", "chosen", "rejected", "turns.content"}
	}
	for i, p := range s.Patterns {
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("signoffs: patterns[%d]: %w", i, err)
		}
	}
	const end = `[\s。！!，,.~～…]*$`
	re, err := regexp.Compile(`(?:` + strings.Join(s.Patterns, `|`) + `)` + end)
	if err != nil {
		return nil, fmt.Errorf("signoffs: patterns: %w", err)
	}
	n := &signoffNormaliser{tail: re, fields: map[string]bool{}}
	for _, p := range s.Patterns {
		a := regexp.MustCompile(`^(?:` + p + `)` + end)
		prefix, _ := regexp.MustCompile(p).LiteralPrefix()
		if prefix == "" { // no literal to look for: use the slower end-anchored scan
			n.anchored = nil
			break
		}
		n.anchored = append(n.anchored, signoffPattern{prefix: prefix, re: a})
	}
	for _, f := range s.Fields {
		n.fields[f] = true
	}
	return n, nil
}

// Normalise implements Normaliser.
func (n *signoffNormaliser) Normalise(field, s string, t Tally) string {
	if !n.fields[field] {
		return s
	}
	for {
		// Only the tail is searched: an end-anchored pattern is otherwise
		// tried from every position, which is quadratic on long answers.
		from := tailStart(s, signoffTail)
		cut := n.find(s[from:])
		if cut < 0 {
			return s
		}
		s = strings.TrimRight(s[:from+cut], " \t\n，,")
		t.Add("signoffs", 1)
	}
}

// find returns where the sign-off that ends tail starts, or -1.
func (n *signoffNormaliser) find(tail string) int {
	if n.anchored == nil {
		loc := n.tail.FindStringIndex(tail)
		if loc == nil || loc[0] == loc[1] {
			return -1
		}
		return loc[0]
	}
	best := -1
	for _, p := range n.anchored {
		for off := 0; ; {
			i := strings.Index(tail[off:], p.prefix)
			if i < 0 || best >= 0 && off+i >= best {
				break
			}
			if p.re.MatchString(tail[off+i:]) {
				best = off + i
				break
			}
			off += i + len(p.prefix)
		}
	}
	return best
}

// signoffTail is how many bytes at the end of a field are searched for a
// sign-off (about 130 Chinese characters).
const signoffTail = 400

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
