// Package runeclass answers, with one table load, the questions clean's and
// dedup's per-rune loops ask of the unicode package, and lets each clean
// component add a class of its own (Define), so one pass over a value can
// tell every component whether it has anything to do.
//
// unicode answers IsLetter, IsDigit, IsPunct, IsSymbol, IsSpace and Is(Han)
// by binary search of its range tables. The loops have fast paths for ASCII
// and CJK ideographs, but every Chinese text is full of the punctuation
// (、。“”《》) that falls through to those searches; on the 1GB demo they
// were 7% of clean's CPU. A table of the answers for every rune below
// U+10000, made once from the same range tables, answers with one load.
// Hand-written: the unicode packages offer no such table.
package runeclass

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Class is a set of rune classes, one bit each.
type Class uint16

// The classes every table has.
const (
	LetterDigit Class = 1 << iota // unicode.IsLetter or unicode.IsDigit
	PunctSymbol                   // unicode.IsPunct or unicode.IsSymbol
	Space                         // unicode.IsSpace
	Han                           // unicode.Is(unicode.Han)
	Cased                         // unicode.ToLower changes it
	firstDefined
)

// defined are the classes Define added, by bit position above firstDefined.
var (
	definedMu sync.Mutex
	defined   []func(rune) bool
	built     bool
)

// Define adds a class: the runes for which in returns true. It is called
// from package init functions, before the table is first used, and panics
// otherwise or when the bits run out (a programming error, not input).
func Define(in func(rune) bool) Class {
	definedMu.Lock()
	defer definedMu.Unlock()
	if built {
		panic("runeclass: Define after the table was built")
	}
	bit := firstDefined << len(defined)
	if bit == 0 {
		panic(fmt.Sprintf("runeclass: more than %d classes", 16))
	}
	defined = append(defined, in)
	return bit
}

// Table holds the classes of every rune below U+10000.
type Table struct {
	c [0x10000]Class
	// ideograph is the classes of every rune of U+4E00–U+9FFF when they
	// all have the same (uniform), so loops can skip the load for them.
	ideograph Class
	uniform   bool
}

// Get is the table, made on first use (about 10 ms), so commands that
// clean nothing do not pay for it. Callers fetch it once per value,
// outside their loop.
var Get = sync.OnceValue(func() *Table {
	definedMu.Lock()
	built = true
	definedMu.Unlock()
	t := &Table{}
	for r := range rune(len(t.c)) {
		t.c[r] = classify(r)
	}
	t.ideograph, t.uniform = t.c[0x4e00], true
	for r := rune(0x4e00); r <= 0x9fff; r++ {
		if t.c[r] != t.ideograph {
			t.uniform = false
		}
	}
	return t
})

func classify(r rune) Class {
	var c Class
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		c |= LetterDigit
	}
	if unicode.IsPunct(r) || unicode.IsSymbol(r) {
		c |= PunctSymbol
	}
	if unicode.IsSpace(r) {
		c |= Space
	}
	if unicode.Is(unicode.Han, r) {
		c |= Han
	}
	if unicode.ToLower(r) != r {
		c |= Cased
	}
	for i, in := range defined {
		if in(r) {
			c |= firstDefined << i
		}
	}
	return c
}

// Of is r's classes.
func (t *Table) Of(r rune) Class {
	if uint32(r) < uint32(len(t.c)) {
		return t.c[r]
	}
	return classify(r)
}

// Ideographs is the classes of every CJK ideograph U+4E00–U+9FFF, and
// whether they all have the same; if not, ask Of.
func (t *Table) Ideographs() (Class, bool) { return t.ideograph, t.uniform }

// DecodeRune is utf8.DecodeRuneInString with the three-byte forms of
// U+1000–U+CFFF and U+E000–U+FFFF (every CJK ideograph, CJK punctuation and
// full-width form) decoded inline: the standard decoder takes its slow path
// for every non-ASCII rune, which cost a twentieth of clean's CPU on
// Chinese text. Lead bytes E0 and ED are left to it (overlong forms and
// surrogates).
func DecodeRune(s string) (rune, int) {
	if len(s) >= 3 {
		if c := s[0]; c >= 0xe1 && c <= 0xef && c != 0xed && s[1]&0xc0 == 0x80 && s[2]&0xc0 == 0x80 {
			return rune(c&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
		}
	}
	return utf8.DecodeRuneInString(s)
}

// NFKCStable reports whether s holds only runes that dedup's folding folds
// by hand exactly as NFKC would: ASCII, CJK ideographs, full-width ASCII,
// the ideographic space and common CJK and general punctuation. Every such
// value is NFC as well. Other text goes through golang.org/x/text's NFKC
// (slower: it allocates). Hand-written fast path; the tests check it
// against norm.NFKC and norm.NFC.
func NFKCStable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := DecodeRune(s[i:])
		i += size
		if !StableRune(r) {
			return false
		}
	}
	return true
}

// StableRune is NFKCStable for one non-ASCII rune.
func StableRune(r rune) bool {
	switch {
	case r >= 0x4e00 && r <= 0x9fff, r >= 0xff01 && r <= 0xff5e, r >= 0x3001 && r <= 0x3011:
	case r == 0x3000, r == 0x2018, r == 0x2019, r == 0x201c, r == 0x201d, r == 0x2014, r == 0x2026, r == 0x00b7:
	default:
		return false
	}
	return true
}
