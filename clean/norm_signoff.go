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
	// starts is a bitset of the byte pairs a prefix in anchored starts
	// with (a one-byte prefix sets every pair it starts), so find scans the
	// tail once, testing one bit per byte, and tries the patterns only
	// where a prefix can begin. One strings.Index per pattern stopped at
	// nearly every Chinese character, whose first UTF-8 bytes are shared
	// by thousands of others: 5% of clean's CPU on the 1GB demo.
	starts [1 << 16 / 64]uint64
	fields map[string]bool
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
		if len(prefix) == 1 {
			for b := range 256 {
				n.setStart(prefix[0], byte(b))
			}
		} else {
			n.setStart(prefix[0], prefix[1])
		}
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
	for i := 0; i < len(tail); {
		// A prefix starts at a rune, never at a continuation byte, so a
		// well-formed three-byte rune (most of Chinese text) is stepped over
		// whole: a third of the tests.
		c, next, step := tail[i], byte(0), 1 // next is 0 past the end: only a one-byte prefix starts there
		if i+1 < len(tail) {
			next = tail[i+1]
			if c >= 0xe0 && c < 0xf0 && i+2 < len(tail) && next&0xc0 == 0x80 && tail[i+2]&0xc0 == 0x80 {
				step = 3
			}
		}
		if n.mayStart(c, next) {
			// The first place a pattern matches is the earliest sign-off.
			for _, p := range n.anchored {
				if strings.HasPrefix(tail[i:], p.prefix) && p.re.MatchString(tail[i:]) {
					return i
				}
			}
		}
		i += step
	}
	return -1
}

func (n *signoffNormaliser) setStart(a, b byte) {
	k := int(a)<<8 | int(b)
	n.starts[k/64] |= 1 << (k % 64)
}

func (n *signoffNormaliser) mayStart(a, b byte) bool {
	k := int(a)<<8 | int(b)
	return n.starts[k/64]&(1<<(k%64)) != 0
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
