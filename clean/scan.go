package clean

import (
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// textScan is what one pass over a text value tells the components that
// would otherwise each decode it again: whether the invisible, unicode,
// width and whitespace normalisers would change it, and the counts the
// length and cjk_ratio filters need. Each of those scans cost 1.4–3 ns a
// byte (BenchmarkComponents); kindSteps.apply scans a value once, and again
// only after a normaliser has rewritten it. Every flag is its component's
// own quick test, computed in the same loop (TestScanMatchesComponents and
// FuzzScanText hold them to it), so the outputs do not change.
type textScan struct {
	runes     int  // utf8.RuneCountInString
	han       int  // cjkFilter's Han characters
	letters   int  // cjkFilter's letters and digits
	invisible bool // !invisibleClean: invisibleNormaliser rewrites it
	unstable  bool // !nfkcStable: unicodeNormaliser must look closer
	fullwidth bool // hasFullwidthAlnum: widthNormaliser rewrites it
	untidy    bool // !isTidy: whitespaceNormaliser must look closer
	maybePII  bool // piiMayMatch: piiMasker must look closer
}

// scanText makes the textScan of s.
func scanText(s string) textScan {
	var sc textScan
	prev, nl := rune('\n'), 0 // isTidy's state
	digits := 0               // piiMayMatch's
	classes := runeClasses()
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		if c < utf8.RuneSelf {
			r = rune(c)
			i++
			switch {
			case c >= '0' && c <= '9':
				sc.letters++
				digits++
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				sc.letters++
				sc.maybePII = true
			case c == '@':
				sc.maybePII = true
			case c == ' ':
				if prev == ' ' || prev == '\n' {
					sc.untidy = true
				}
			case c == '\n':
				if prev == ' ' {
					sc.untidy = true
				}
				if prev == '\n' {
					if nl++; nl > 1 {
						sc.untidy = true
					}
				} else {
					nl = 0
				}
			case c == '\t':
				sc.untidy = true
			case c < 0x20 || c == 0x7f: // \r, \v, \f and the other controls
				sc.invisible = true
				if c == '\r' || c == '\v' || c == '\f' {
					sc.untidy = true
				}
			}
		} else {
			var size int
			r, size = decodeRune(s[i:])
			i += size
			if r >= 0x4e00 && r <= 0x9fff { // the common case: a CJK ideograph
				sc.runes++
				sc.han++
				sc.letters++
				prev = r
				continue
			}
			if r == utf8.RuneError && size == 1 || invisible(r) {
				sc.invisible = true
			}
			if !stableRune(r) {
				sc.unstable = true
			}
			if fullwidthAlnum(r) {
				sc.fullwidth = true
			}
			c := classOf(classes, r)
			if c&classSpace != 0 {
				sc.untidy = true
			}
			switch {
			case c&classHan != 0:
				sc.han++
				sc.letters++
			case c&classLetterDigit != 0:
				sc.letters++
			}
		}
		sc.runes++
		prev = r
	}
	if s != "" && (prev == ' ' || prev == '\n' || s[0] == '\n') {
		sc.untidy = true
	}
	sc.maybePII = sc.maybePII || digits >= 5
	return sc
}

// scanSkipper is a Normaliser that can tell from a value's textScan that it
// would return the value as it is.
type scanSkipper interface {
	unchanged(sc *textScan) bool
}

// scanFilter is a Filter that can decide from a record's text fields
// (TextFields) and the textScans of their final values alone.
type scanFilter interface {
	checkScanned(fields []schemas.Field, scans []textScan) (reason, detail string)
}
