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
	tail   *regexp.Regexp
	fields map[string]bool
}

// DefaultSignoffs are the sign-off patterns trimmed when chimed.yaml names none.
var DefaultSignoffs = []string{
	`感谢您?的?(?:进行)?(?:咨询|提问|信任|支持|来信)[^。！!\n]*`,
	`谢谢您?的?(?:咨询|提问|信任)[^。！!\n]*`,
	`祝您?(?:早日康复|身体健康|健康|生活愉快|好运)[^。！!\n]*`,
	`希望(?:我的|以上|上述|我)?(?:的)?(?:回答|建议|解答|回复)?(?:对您|能|可以)?(?:有所)?(?:帮助|帮到您)[^。！!\n]*`,
	`(?:欢迎|可以)(?:再次|随时)?(?:咨询|追问|来咨询)[^。！!\n]*`,
	`(?:以上|上述)(?:是|为)?(?:个人)?(?:意见|建议|观点|回答)?[^。！!\n]{0,8}仅供参考[^。！!\n]*`,
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
	re, err := regexp.Compile(`(?:` + strings.Join(s.Patterns, `|`) + `)[\s。！!，,.~～…]*$`)
	if err != nil {
		return nil, fmt.Errorf("signoffs: patterns: %w", err)
	}
	fields := map[string]bool{}
	for _, f := range s.Fields {
		fields[f] = true
	}
	return &signoffNormaliser{tail: re, fields: fields}, nil
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
		loc := n.tail.FindStringIndex(s[from:])
		if loc == nil || loc[0] == loc[1] {
			return s
		}
		s = strings.TrimRight(s[:from+loc[0]], " \t\n，,")
		t.Add("signoffs", 1)
	}
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
