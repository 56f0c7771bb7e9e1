package clean

import (
	"unicode/utf8"

	"github.com/chimed/chimed/internal/runeclass"
)

// RuneClass is a set of classes of runes: the built-in ones of
// internal/runeclass (letters and digits, punctuation and symbols, spaces,
// Han, cased letters) and those components define with NewRuneClass.
type RuneClass = runeclass.Class

// NewRuneClass defines a class of runes, the ones for which in is true,
// and returns its bit: a component that can tell from the classes of a
// value's runes that it has nothing to do defines its class in a
// package-level variable, and its CanSkip tests Profile.Classes for it.
// It panics after the first value has been profiled.
func NewRuneClass(in func(rune) bool) RuneClass { return runeclass.Define(in) }

// Layout says where a value's ASCII spaces and line feeds stand, as far
// as the whitespace rules care.
type Layout uint8

// Layout flags.
const (
	// SpaceAfterBreak: a space at the start, after a space or after a line
	// feed.
	SpaceAfterBreak Layout = 1 << iota
	// SpaceBeforeBreak: a space before a line feed.
	SpaceBeforeBreak
	// BlankLines: three line feeds in a row.
	BlankLines
	// BreakAtEdge: a line feed first, or a space or line feed last.
	BreakAtEdge
)

// Profile is what one pass over a text value tells every component, so
// each need not decode it again: its counts, the union of its runes'
// classes and its layout. The engine profiles a value once before the
// first component that reads a profile and again only after a normaliser
// has rewritten it. Each scan cost 1.4–3 ns a byte (BenchmarkComponents).
type Profile struct {
	Runes   int       // utf8.RuneCountInString
	Han     int       // runes of class Han
	Letters int       // runes of class Han or LetterDigit
	Digits  int       // ASCII digits
	Classes RuneClass // every class some rune of the value has
	Invalid bool      // a byte is not UTF-8 (its class is U+FFFD's)
	Layout  Layout
}

// ProfileText makes the Profile of s.
func ProfileText(s string) Profile {
	var p Profile
	t := runeclass.Get()
	ideograph, uniform := t.Ideographs()
	prev, newlines := rune('\n'), 0
	for i := 0; i < len(s); {
		var r rune
		var k RuneClass
		if c := s[i]; c < utf8.RuneSelf {
			r = rune(c)
			i++
			p.Layout |= layoutAt(c, prev, &newlines)
			if c >= '0' && c <= '9' {
				p.Digits++
			}
			k = t.Of(r)
		} else {
			var size int
			r, size = runeclass.DecodeRune(s[i:])
			i += size
			newlines = 0
			switch {
			case r >= 0x4e00 && r <= 0x9fff && uniform: // the common case: no table load
				k = ideograph
			case r == utf8.RuneError && size == 1:
				p.Invalid = true
				k = t.Of(r)
			default:
				k = t.Of(r)
			}
		}
		p.Classes |= k
		if k&(runeclass.Han|runeclass.LetterDigit) != 0 {
			p.Letters++
			if k&runeclass.Han != 0 {
				p.Han++
			}
		}
		p.Runes++
		prev = r
	}
	if s != "" && (prev == ' ' || prev == '\n' || s[0] == '\n') {
		p.Layout |= BreakAtEdge
	}
	return p
}

// layoutAt is the Layout flags an ASCII byte c after rune prev sets;
// newlines counts the line feeds in a row up to c.
func layoutAt(c byte, prev rune, newlines *int) Layout {
	switch c {
	case ' ':
		*newlines = 0
		if prev == ' ' || prev == '\n' {
			return SpaceAfterBreak
		}
	case '\n':
		var l Layout
		if prev == ' ' {
			l = SpaceBeforeBreak
		}
		if *newlines++; *newlines == 3 {
			l |= BlankLines
		}
		return l
	default:
		*newlines = 0
	}
	return 0
}
