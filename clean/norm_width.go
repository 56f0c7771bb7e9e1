package clean

import (
	"strings"

	"golang.org/x/text/width"
)

// widthNormaliser turns full-width ASCII letters and digits ("ＣＴ", "１０ｍｇ")
// into half-width ones, using golang.org/x/text/width's mapping for each
// such rune. It does not use width.Narrow on the whole string, because that
// also folds the Chinese punctuation the corpus keeps ("，" → ",", "。" → "｡").
// Counter: "width" (runes folded).
type widthNormaliser struct{}

func init() {
	register("width", allKinds, func(func(any) error) (any, error) { return widthNormaliser{}, nil })
}

// fullwidthAlnum reports whether r is a full-width digit or Latin letter.
func fullwidthAlnum(r rune) bool {
	return r >= '０' && r <= '９' || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ'
}

// hasFullwidthAlnum reports whether s holds a rune Normalise narrows.
func hasFullwidthAlnum(s string) bool {
	if strings.IndexByte(s, 0xef) < 0 {
		return false
	}
	for _, r := range s {
		if fullwidthAlnum(r) {
			return true
		}
	}
	return false
}

// fullwidthRunes are the runes Normalise narrows.
var fullwidthRunes = NewRuneClass(fullwidthAlnum)

// CanSkip implements Skipper: no rune to narrow.
func (widthNormaliser) CanSkip(p *Profile) bool { return p.Classes&fullwidthRunes == 0 }

// Normalise implements Normaliser.

func (widthNormaliser) Normalise(_, s string, t Tally) string {
	// Every full-width letter or digit starts with the byte 0xEF.
	if strings.IndexByte(s, 0xef) < 0 {
		return s
	}
	var b strings.Builder
	n := 0
	for i, r := range s {
		if fullwidthAlnum(r) {
			if n == 0 {
				b.Grow(len(s))
				b.WriteString(s[:i])
			}
			n++
			b.WriteRune(width.LookupRune(r).Narrow())
			continue
		}
		if n > 0 {
			b.WriteRune(r)
		}
	}
	if n == 0 {
		return s
	}
	t.Add("width", n)
	return b.String()
}
