package clean

import (
	"strings"
	"unicode"
)

// whitespaceNormaliser turns every Unicode space (U+3000 ideographic space,
// NBSP, thin spaces, tabs) into an ASCII space, collapses runs of spaces,
// trims spaces at both ends of each line, keeps at most one blank line in a
// row, and trims the value. Line breaks are kept: they carry structure
// (paragraphs, dialogue lines) that filters use.
// Counter: "whitespace" (fields changed).
type whitespaceNormaliser struct{}

func init() {
	register("whitespace", allKinds, func(func(any) error) (any, error) { return whitespaceNormaliser{}, nil })
}

// oddSpaces are the spaces other than the ASCII space and line feed:
// Normalise turns each into a space, or drops it.
var oddSpaces = NewRuneClass(func(r rune) bool { return unicode.IsSpace(r) && r != ' ' && r != '\n' })

// CanSkip implements Skipper: a value with no odd space and no space or
// line feed out of place is what isTidy accepts.
func (whitespaceNormaliser) CanSkip(p *Profile) bool {
	return p.Layout == 0 && p.Classes&oddSpaces == 0
}

// Normalise implements Normaliser.

func (whitespaceNormaliser) Normalise(_, s string, t Tally) string {
	out := collapseSpace(s)
	if out != s {
		t.Add("whitespace", 1)
	}
	return out
}

func collapseSpace(s string) string {
	if isTidy(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines := false, 0
	started := false
	for _, r := range s {
		switch {
		case r == '\n':
			pendingSpace = false
			newlines++
		case unicode.IsSpace(r):
			pendingSpace = true
		default:
			if started {
				switch {
				case newlines > 1:
					b.WriteString("\n\n")
				case newlines == 1:
					b.WriteByte('\n')
				case pendingSpace:
					b.WriteByte(' ')
				}
			}
			started = true
			pendingSpace, newlines = false, 0
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isTidy is the fast path: true when s has only single ASCII spaces between
// words, single or double line breaks, and no space at line ends.
func isTidy(s string) bool {
	prev := rune('\n')
	nl := 0
	for _, r := range s {
		switch {
		case r == ' ':
			if prev == ' ' || prev == '\n' {
				return false
			}
		case r == '\n':
			if prev == ' ' {
				return false
			}
			if prev == '\n' {
				nl++
				if nl > 1 {
					return false
				}
			} else {
				nl = 0
			}
		case r < 0x80:
			if r == '\t' || r == '\r' || r == '\v' || r == '\f' {
				return false
			}
		case unicode.IsSpace(r):
			return false
		}
		prev = r
	}
	if s == "" {
		return true
	}
	first := s[0]
	return prev != ' ' && prev != '\n' && first != '\n'
}
