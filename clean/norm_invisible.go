package clean

import (
	"github.com/chimed/chimed/internal/runeclass"
	"strings"
	"unicode"
	"unicode/utf8"
)

// invisibleNormaliser drops zero-width characters (U+200B–U+200D, U+2060,
// U+FEFF inside text), other format characters and control characters except
// tab and line feed, and turns CR LF and lone CR into LF. Invalid UTF-8 bytes
// become U+FFFD so every later step sees valid text.
// Counter: "invisible" (characters dropped or replaced).
type invisibleNormaliser struct{}

func init() {
	register("invisible", allKinds, func(func(any) error) (any, error) { return invisibleNormaliser{}, nil })
}

func invisible(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff || r == 0x00ad:
		return true
	case r >= 0x2070 && r < 0xfeff:
		return false // no format characters here (CJK, full-width forms): skip the table lookup
	}
	return unicode.Is(unicode.Cf, r)
}

// invisibleClean reports whether s holds nothing Normalise rewrites.
func invisibleClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := runeclass.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 || invisible(r) {
			return false
		}
		i += size
	}
	return true
}

// invisibleRunes are the runes Normalise drops or replaces (invisible).
var invisibleRunes = NewRuneClass(invisible)

// CanSkip implements Skipper: a value of valid UTF-8 with no invisible
// rune is what invisibleClean accepts.
func (invisibleNormaliser) CanSkip(p *Profile) bool {
	return !p.Invalid && p.Classes&invisibleRunes == 0
}

// Normalise implements Normaliser.

func (invisibleNormaliser) Normalise(_, s string, t Tally) string {
	if invisibleClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r':
			n++
			if i+1 < len(s) && s[i+1] == '\n' {
				// CR LF: drop the CR, the LF follows.
			} else {
				b.WriteByte('\n')
			}
		case r == utf8.RuneError && size == 1:
			n++
			b.WriteRune(utf8.RuneError)
		case invisible(r):
			n++
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	t.Add("invisible", n)
	return b.String()
}
