package clean

import (
	"github.com/chimed/chimed/internal/runeclass"
	"golang.org/x/text/unicode/norm"
)

// unicodeNormaliser puts stored text into Unicode NFC (golang.org/x/text's
// norm.NFC): canonical composition only, which merges decomposed accents and
// equivalent sequences without changing what a character means.
//
// NFKC is deliberately not used on stored text: it folds the full-width
// Chinese punctuation we keep ("，" → ",", "：" → ":", "（" → "("), and
// "①" → "1", "㎎" → "mg", "℃" → "°C". NFKC (plus lower-casing) is used only
// inside dedup keys, shingles and decontamination n-grams (package dedup),
// where folding those variants together is exactly what is wanted.
// Counter: "unicode" (fields changed).
type unicodeNormaliser struct{}

func init() {
	register("unicode", allKinds, func(func(any) error) (any, error) { return unicodeNormaliser{}, nil })
}

// unstableRunes are the non-ASCII runes runeclass.NFKCStable refuses.
var unstableRunes = NewRuneClass(func(r rune) bool { return r >= 0x80 && !runeclass.StableRune(r) })

// CanSkip implements Skipper: a value of NFKC-stable runes is NFC as it
// is; otherwise Normalise looks closer.
func (unicodeNormaliser) CanSkip(p *Profile) bool { return p.Classes&unstableRunes == 0 }

// Normalise implements Normaliser.

func (unicodeNormaliser) Normalise(_, s string, t Tally) string {
	// nfkcStable's runes (ASCII, CJK ideographs, full-width forms, common
	// punctuation) all have NFC_Quick_Check=Yes and combining class 0, so a
	// value of only those is NFC; most Chinese text is, and the byte scan
	// costs a fraction of norm's check.
	if runeclass.NFKCStable(s) || norm.NFC.IsNormalString(s) {
		return s
	}
	t.Add("unicode", 1)
	return norm.NFC.String(s)
}
