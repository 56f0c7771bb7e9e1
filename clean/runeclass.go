package clean

import (
	"sync"
	"unicode"
)

// Rune classes: the unicode package's answers the per-rune loops of clean
// need. unicode answers IsLetter, IsDigit, IsPunct, IsSymbol, IsSpace and
// Is(Han) by binary search of its range tables. The loops have fast paths
// for ASCII and CJK ideographs, but every Chinese text is full of the
// punctuation (、。“”《》) that falls through to those searches; on the 1GB
// demo they were 7% of clean's CPU. A table of the answers for every rune
// below U+10000, made once from the same range tables, answers with one
// load. Hand-written: the unicode packages offer no such table.
const (
	classLetterDigit uint8 = 1 << iota // unicode.IsLetter or unicode.IsDigit
	classPunctSymbol                   // unicode.IsPunct or unicode.IsSymbol
	classSpace                         // unicode.IsSpace
	classHan                           // unicode.Is(unicode.Han)
	classCased                         // unicode.ToLower changes it
)

// runeClasses is the table for every rune below U+10000, made on first
// use (about 10 ms), so commands that clean nothing do not pay for it.
// Callers fetch it once per value, outside their loop.
var runeClasses = sync.OnceValue(func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := range rune(len(t)) {
		t[r] = classify(r)
	}
	return &t
})

func classify(r rune) uint8 {
	var c uint8
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		c |= classLetterDigit
	}
	if unicode.IsPunct(r) || unicode.IsSymbol(r) {
		c |= classPunctSymbol
	}
	if unicode.IsSpace(r) {
		c |= classSpace
	}
	if unicode.Is(unicode.Han, r) {
		c |= classHan
	}
	if unicode.ToLower(r) != r {
		c |= classCased
	}
	return c
}

// classOf is r's classes, from t (runeClasses()) below U+10000.
func classOf(t *[0x10000]uint8, r rune) uint8 {
	if uint32(r) < uint32(len(t)) {
		return t[r]
	}
	return classify(r)
}
