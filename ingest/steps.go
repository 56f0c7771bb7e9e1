package ingest

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/chimed/chimed/schemas"
)

// Step is one rewrite of a mapped value (Mapping.Steps), for text that
// reached the raw file with a prompt template baked in ("<s>问：\n…\n答：\n"),
// markup-like section tags ("<篇名>", "<目录>") or hard line wraps. Give
// exactly one of Strip, Replace (with With) and Unwrap.
type Step struct {
	// Strip removes every match of a regular expression (Go RE2 syntax:
	// '^<s>问：\s*', '</?(篇名|目录)>').
	Strip string `yaml:"strip"`
	// Replace replaces every match of a regular expression with With, in
	// which $1 or ${name} stand for the match's groups.
	Replace string `yaml:"replace"`
	With    string `yaml:"with"`
	// Unwrap re-joins lines wrapped inside a sentence: a line ending in a
	// CJK character (or ，、 or an opening bracket) rather than 。！？；：…
	// or a closing quote or bracket, nearly as wide as the text's widest
	// line (¾ of it: headings and paragraph ends are shorter), followed by
	// a line that continues it, which is no blank line (paragraph break),
	// no indented line and no list item ("1.", "（一）", "- ", "①").
	Unwrap bool `yaml:"unwrap"`
}

// stepTargets are the Steps keys other than a kind's columns.
const (
	stepsTurns   = "turns"   // every turn's content
	stepsOptions = "options" // every exam option's text
)

// textStep is a compiled Step.
type textStep struct {
	re     *regexp.Regexp
	with   string
	unwrap bool
}

// compileSteps checks Mapping.Steps against the kind; errors name the key.
func compileSteps(steps map[string][]Step, kind schemas.Kind) (map[string][]textStep, error) {
	targets := slices.Clone(columnsOf[kind])
	switch kind {
	case schemas.KindQA, schemas.KindDialogue, schemas.KindPreference:
		targets = append(targets, stepsTurns)
	case schemas.KindExam:
		targets = append(targets, stepsOptions)
	}
	out := map[string][]textStep{}
	for _, target := range sortedKeys(steps) {
		if !slices.Contains(targets, target) {
			return nil, fmt.Errorf("steps.%s: %s records have no %q to rewrite (they have: %s)", target, kind, target, strings.Join(targets, ", "))
		}
		for i, st := range steps[target] {
			at := fmt.Sprintf("steps.%s[%d]", target, i)
			given := 0
			for _, set := range []bool{st.Strip != "", st.Replace != "", st.Unwrap} {
				if set {
					given++
				}
			}
			if given != 1 {
				return nil, fmt.Errorf("%s: give exactly one of strip, replace and unwrap", at)
			}
			if st.With != "" && st.Replace == "" {
				return nil, fmt.Errorf("%s.with: with belongs to replace", at)
			}
			ts := textStep{unwrap: st.Unwrap, with: st.With}
			if pat := st.Strip + st.Replace; pat != "" {
				key := map[bool]string{true: "strip", false: "replace"}[st.Strip != ""]
				re, err := regexp.Compile(pat)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", at, key, err)
				}
				ts.re = re
			}
			out[target] = append(out[target], ts)
		}
	}
	return out, nil
}

// rewrite runs steps over s; a rewritten value is trimmed of the white
// space that a stripped template leaves around it.
func rewrite(s string, steps []textStep) string {
	if len(steps) == 0 {
		return s
	}
	for _, st := range steps {
		switch {
		case st.unwrap:
			s = unwrapLines(s)
		default:
			s = st.re.ReplaceAllString(s, st.with)
		}
	}
	return strings.TrimSpace(s)
}

// rewriteTurns runs the turns steps over every turn; a turn they leave
// empty is no turn, like an empty utterance in the raw record.
func rewriteTurns(turns []schemas.Turn, steps []textStep) []schemas.Turn {
	if len(steps) == 0 {
		return turns
	}
	out := turns[:0]
	for _, t := range turns {
		if t.Content = rewrite(t.Content, steps); t.Content != "" {
			out = append(out, t)
		}
	}
	return out
}

// rewriteOptions runs the options steps over every option's text; an
// option they leave empty is an error, since its letter may be the answer.
func rewriteOptions(opts []examOption, steps []textStep) error {
	for i := range opts {
		if opts[i].Text = rewrite(opts[i].Text, steps); opts[i].Text == "" && len(steps) > 0 {
			return fmt.Errorf("options: steps left option %s empty", opts[i].Label)
		}
	}
	return nil
}

// listItem matches a line that starts a list item or a numbered heading.
var listItem = regexp.MustCompile(`^(?:[-*•·●○◆▪■□]\s|[0-9]+[.．、)）]|[(（][0-9一二三四五六七八九十]+[)）]|[一二三四五六七八九十百]+[、.．]|[①-⑳⑴-⒇]|[A-Za-z][.．、)）]|第[0-9一二三四五六七八九十百]+[章节篇条部分])`)

// unwrapLines re-joins lines that a fixed-width wrap cut inside a sentence
// (see Step.Unwrap); "\r\n" line ends are handled, blank lines kept.
func unwrapLines(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	widths := make([]int, len(lines))
	widest := 0
	for i, l := range lines {
		widths[i] = displayWidth(strings.TrimRight(l, " \t\r"))
		widest = max(widest, widths[i])
	}
	out := make([]byte, 0, len(s))
	out = append(out, lines[0]...)
	for i := 1; i < len(lines); i++ {
		if wrapsInto(lines[i-1], widths[i-1], widest, lines[i]) {
			out = bytes.TrimRight(out, " \t\r") // the break goes with the line's trailing blanks
		} else {
			out = append(out, '\n')
		}
		out = append(out, lines[i]...)
	}
	return string(out)
}

// wrapsInto says whether line was cut inside a sentence that next goes on with.
func wrapsInto(line string, w, widest int, next string) bool {
	l := strings.TrimRight(line, " \t\r")
	if l == "" || w*4 < widest*3 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(l)
	if !unicode.Is(unicode.Han, last) && !strings.ContainsRune("，、（《“「『【", last) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(next)
	if next == "" || unicode.IsSpace(first) || strings.ContainsRune("<>#|", first) {
		return false
	}
	return !listItem.MatchString(next)
}

// displayWidth counts East Asian wide and full-width characters as two
// columns, as a fixed-width wrap does.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
